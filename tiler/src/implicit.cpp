// Implicit tiling: tile and content availability, tile boxes and errors in subtree files (see
// implicit.h).
#include "implicit.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "sort.h"
#include "twin/crs.h"
#include "twin/fsutil.h"

namespace twin::tiler {

namespace {

struct ImplicitTile {
  std::array<double, 12> box{};
  double error = 0;
  bool content = false;
};

struct TileKey {
  int level;
  uint32_t x, y;
  bool operator<(const TileKey& o) const { return level != o.level ? level < o.level : x != o.x ? x < o.x : y < o.y; }
};

// Each tile's box holds its content and its descendants' (the tight boxes of the explicit tree);
// its error is what is missing when its children are not drawn. Returns the tile.
ImplicitTile collectImplicit(const QuadNode& n, int parentLevel, bool levelsOfDetail,
                             std::map<TileKey, ImplicitTile>& tiles) {
  std::vector<Vec3> corners;
  if (n.boxSet)
    for (auto& p : n.box.corners()) corners.push_back(p);
  for (auto& c : n.children) {
    ImplicitTile ct = collectImplicit(c, n.level, levelsOfDetail, tiles);
    for (auto& p : OrientedBox::fromArray(ct.box).corners()) corners.push_back(p);
  }
  ImplicitTile t;
  if (n.boxSet && (levelsOfDetail || n.children.empty())) {
    t.box = n.box.toArray();  // with levels of detail a parent's box already holds its children's
    t.error = n.error;
  } else {
    Vec3 c{0, 0, 0};
    for (auto& p : corners)
      for (int k = 0; k < 3; ++k) c[k] += p[k] / double(corners.size());
    t.box = enuBox(c, corners.data(), corners.size(), 0.0).toArray();
    // Refine ADD: a tile whose children are not drawn misses buildings up to the largest of them.
    t.error = levelsOfDetail ? n.error : std::max(1.0, double(n.maxDiagonal));
  }
  t.content = n.written;
  tiles[{n.level, n.x, n.y}] = t;
  // levels skipped between the parent and this node: available, no content
  for (int l = parentLevel + 1; l < n.level; ++l) {
    TileKey k{l, n.x >> (n.level - l), n.y >> (n.level - l)};
    if (!tiles.count(k)) tiles[k] = ImplicitTile{t.box, t.error, false};
  }
  return t;
}

}  // namespace

std::string implicitTileset(const QuadNode& tree, const std::array<double, 4>& grid, const std::string& refine,
                            const TilesetInfo& info, const std::string& outDir, const ConvertOptions& o,
                            std::string& error) {
  std::map<TileKey, ImplicitTile> tiles;
  collectImplicit(tree, -1, o.levelsOfDetail, tiles);
  int maxLevel = 0;
  for (auto& [k, t] : tiles) maxLevel = std::max(maxLevel, k.level);
  const int subtreeLevels = std::max(1, o.subtreeLevels);
  double hmin = INFINITY, hmax = -INFINITY;
  for (auto& [k, t] : tiles)
    for (auto& c : OrientedBox::fromArray(t.box).corners()) {
      Vec3 llh = ecefToLonLatHeight(c);
      hmin = std::min(hmin, llh[2]);
      hmax = std::max(hmax, llh[2]);
    }
  const double w = grid[0], s = grid[1], e = grid[2], n = grid[3];
  const double rad = M_PI / 180.0;
  // Subtrees: one per available tile at a level that is a multiple of subtreeLevels.
  for (auto& [root, rt] : tiles) {
    if (root.level % subtreeLevels) continue;
    const size_t tileBits = size_t((std::pow(4.0, subtreeLevels) - 1) / 3);
    const size_t childBits = size_t(std::pow(4.0, subtreeLevels));
    std::vector<uint8_t> tileAvail((tileBits + 7) / 8, 0), contentAvail((tileBits + 7) / 8, 0),
        childAvail((childBits + 7) / 8, 0);
    std::vector<std::pair<size_t, const ImplicitTile*>> available;  // bit index, tile
    size_t nTiles = 0, nContent = 0, nChildren = 0;
    for (int l = 0; l <= subtreeLevels; ++l) {
      const uint32_t side = 1u << l;
      auto it = tiles.lower_bound({root.level + l, root.x << l, 0});
      for (; it != tiles.end() && it->first.level == root.level + l; ++it) {
        uint32_t lx = it->first.x - (root.x << l), ly = it->first.y - (root.y << l);
        if (it->first.x < (root.x << l) || lx >= side || it->first.y < (root.y << l) || ly >= side) continue;
        uint64_t m = morton31(lx, ly);
        if (l < subtreeLevels) {
          size_t bit = size_t((std::pow(4.0, l) - 1) / 3) + size_t(m);
          tileAvail[bit / 8] |= uint8_t(1u << (bit % 8));
          ++nTiles;
          available.push_back({bit, &it->second});
          if (it->second.content) {
            contentAvail[bit / 8] |= uint8_t(1u << (bit % 8));
            ++nContent;
          }
        } else {
          childAvail[m / 8] |= uint8_t(1u << (m % 8));
          ++nChildren;
        }
      }
    }
    std::sort(available.begin(), available.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    // Binary: bitstreams, then the metadata columns (8-byte aligned each).
    std::vector<uint8_t> bin;
    nlohmann::json views = nlohmann::json::array();
    auto addView = [&](const void* data, size_t len) {
      while (bin.size() % 8) bin.push_back(0);
      views.push_back({{"buffer", 0}, {"byteOffset", bin.size()}, {"byteLength", len}});
      bin.insert(bin.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
      return int(views.size()) - 1;
    };
    nlohmann::json sj;
    auto availability = [&](const std::vector<uint8_t>& bits, size_t count, size_t total) -> nlohmann::json {
      if (count == 0) return {{"constant", 0}};
      if (count == total) return {{"constant", 1}};
      return {{"bitstream", addView(bits.data(), bits.size())}, {"availableCount", count}};
    };
    sj["tileAvailability"] = availability(tileAvail, nTiles, tileBits);
    sj["contentAvailability"] = nlohmann::json::array({availability(contentAvail, nContent, tileBits)});
    sj["childSubtreeAvailability"] = availability(childAvail, nChildren, childBits);
    std::vector<double> boxes, errors;
    for (auto& [bit, t] : available) {
      boxes.insert(boxes.end(), t->box.begin(), t->box.end());
      errors.push_back(t->error);
    }
    int boxView = addView(boxes.data(), boxes.size() * 8);
    int errView = addView(errors.data(), errors.size() * 8);
    sj["propertyTables"] = nlohmann::json::array(
        {{{"class", "tile"},
          {"count", available.size()},
          {"properties", {{"boundingBox", {{"values", boxView}}}, {"geometricError", {{"values", errView}}}}}}});
    sj["tileMetadata"] = 0;
    while (bin.size() % 8) bin.push_back(0);
    sj["buffers"] = nlohmann::json::array({{{"byteLength", bin.size()}}});
    sj["bufferViews"] = views;
    std::string js = sj.dump();
    while (js.size() % 8) js.push_back(' ');
    std::vector<uint8_t> file;
    auto put = [&](const void* p, size_t len) {
      file.insert(file.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + len);
    };
    put("subt", 4);
    uint32_t version = 1;
    uint64_t jl = js.size(), bl = bin.size();
    put(&version, 4);
    put(&jl, 8);
    put(&bl, 8);
    put(js.data(), js.size());
    put(bin.data(), bin.size());
    std::string path = outDir + "/subtrees/" + std::to_string(root.level) + "/" + std::to_string(root.x) + "/" +
                       std::to_string(root.y) + ".subtree";
    if (!fs::writeFileAtomic(path, file.data(), file.size(), error)) return {};
  }
  ImplicitRoot r;
  r.region = {w * rad, s * rad, e * rad, n * rad, hmin, hmax};
  r.geometricError = tiles.begin()->second.error;  // level 0
  r.refine = refine;
  r.contentUri = std::string("tiles/{level}/{x}/{y}") + contentExtension(o);
  r.subtreeUri = "subtrees/{level}/{x}/{y}.subtree";
  r.subtreeLevels = subtreeLevels;
  r.availableLevels = maxLevel + 1;
  return implicitTilesetJson(r, info);
}

}  // namespace twin::tiler
