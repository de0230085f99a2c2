// The quadtree of a conversion: the spatial split of the sorted tile index, tile URIs and the
// explicit tileset's tree (see quadtree.h).
#include "quadtree.h"

#include <algorithm>
#include <cmath>

namespace twin::tiler {

LonLatExtent featureExtent(const FeatureRef& r) {
  const double radius = 0.5 * double(r.diagonal) * 1.001 + 0.01;
  const double dLat = radius / 110574.0;
  const double poleward = std::min(89.0, std::abs(r.lat) + dLat);
  const double dLon = radius / (111319.0 * std::cos(poleward * M_PI / 180.0));
  return {r.lon - dLon, r.lat - dLat, r.lon + dLon, r.lat + dLat};
}

bool split(QuadNode& node, const RefFile& refs, const ConvertOptions& o, std::string& error) {
  uint64_t bytes = 0;
  float diag = 0;
  uint64_t childStart[5] = {node.end, node.end, node.end, node.end, node.end};
  uint64_t childCount[4] = {0, 0, 0, 0};
  uint64_t own = 0;  // implicit: leading features that cross this node's quadrants
  bool ownDone = !o.implicit;
  const int shift = 2 * (30 - node.level);  // the bits of the quadrant at level + 1
  std::vector<SortedRef> chunk;
  for (uint64_t at = node.begin; at < node.end; at += 65536) {
    uint64_t n = std::min<uint64_t>(65536, node.end - at);
    if (!refs.read(at, n, chunk)) {
      error = "cannot read the tile index";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      const SortedRef& r = chunk[i];
      bytes += r.ref.size;
      diag = std::max(diag, r.ref.diagonal);
      if (!ownDone) {
        if (int(r.ref.level) <= node.level) {
          ++own;
          continue;
        }
        ownDone = true;
      }
      if (shift >= 0) {
        int q = int((r.morton >> shift) & 3);
        if (childCount[q]++ == 0) childStart[q] = at + i;
      }
    }
  }
  node.maxDiagonal = diag;
  const uint64_t count = node.end - node.begin;
  // Leaves stay small enough in extent for float32 positions (2 km: sub-millimetre steps) and for
  // culling, whatever their size in bytes.
  const bool wide = (node.east - node.west) > o.maxLeafDegrees || (node.north - node.south) > o.maxLeafDegrees;
  node.contentEnd = node.end;
  if ((bytes <= o.maxTileBytes && count <= o.maxFeaturesPerTile && !wide) || count <= 1 || node.level >= 24 ||
      own == count)
    return true;
  node.contentEnd = node.begin + own;
  double mx = 0.5 * (node.west + node.east), my = 0.5 * (node.south + node.north);
  QuadNode kids[4];
  for (int i = 0; i < 4; ++i) {
    kids[i].level = node.level + 1;
    kids[i].x = node.x * 2 + (i & 1);
    kids[i].y = node.y * 2 + (i >> 1);
    kids[i].west = (i & 1) ? mx : node.west;
    kids[i].east = (i & 1) ? node.east : mx;
    kids[i].south = (i >> 1) ? my : node.south;
    kids[i].north = (i >> 1) ? node.north : my;
    kids[i].begin = childStart[i];
    kids[i].end = childStart[i] + childCount[i];
  }
  int nonEmpty = 0;
  for (auto& k : kids) nonEmpty += k.end > k.begin;
  if (nonEmpty == 1 && own == 0) {
    // Everything in one quadrant: this node becomes that quadrant (no chain of one-child tiles).
    for (auto& k : kids)
      if (k.end > k.begin) {
        node.level = k.level;
        node.x = k.x;
        node.y = k.y;
        node.west = k.west;
        node.east = k.east;
        node.south = k.south;
        node.north = k.north;
      }
    return split(node, refs, o, error);
  }
  for (auto& k : kids)
    if (k.end > k.begin) {
      node.children.push_back(std::move(k));
      if (!split(node.children.back(), refs, o, error)) return false;
    }
  return true;
}

void collectLeaves(QuadNode& n, std::vector<QuadNode*>& out) {
  if (n.children.empty() || n.contentEnd > n.begin) out.push_back(&n);
  for (auto& c : n.children) collectLeaves(c, out);
}

const char* contentExtension(const ConvertOptions& o) { return o.tilesVersion == "1.0" ? ".b3dm" : ".glb"; }

std::string tileUri(const QuadNode& n, const ConvertOptions& o) {
  const char* ext = contentExtension(o);
  if (n.top) return std::string("tiles/top") + ext;
  return "tiles/" + std::to_string(n.level) + "/" + std::to_string(n.x) + "/" + std::to_string(n.y) + ext;
}

std::string coarsePath(const std::string& spillDir, const QuadNode& n) {
  return spillDir + "/c" +
         (n.top ? std::string("top")
                : std::to_string(n.level) + "-" + std::to_string(n.x) + "-" + std::to_string(n.y)) +
         ".bin";
}

std::string nodeKey(const QuadNode& n) {
  return n.top ? std::string("top") : std::to_string(n.level) + "/" + std::to_string(n.x) + "/" + std::to_string(n.y);
}

TileNode assemble(const QuadNode& q, const ConvertOptions& o) {
  const bool levelsOfDetail = o.levelsOfDetail;
  TileNode t;
  if (q.written) t.contentUri = tileUri(q, o);
  t.geometricError = q.error;
  std::vector<Vec3> corners;
  if (q.boxSet)
    for (auto& p : q.box.corners()) corners.push_back(p);
  for (auto& qc : q.children) {
    TileNode child = assemble(qc, o);
    if (child.contentUri.empty() && child.children.empty()) continue;
    for (auto& p : child.box.corners()) corners.push_back(p);
    t.children.push_back(std::move(child));
  }
  if (q.boxSet && (levelsOfDetail || q.children.empty())) {
    t.box = q.box;  // already holds the children's boxes
  } else {
    Vec3 c{0, 0, 0};
    for (auto& p : corners)
      for (int k = 0; k < 3; ++k) c[k] += p[k] / double(corners.size());
    t.box = enuBox(c, corners.data(), corners.size(), 0.0);
  }
  if (!levelsOfDetail && !q.children.empty()) {
    // Flat tileset: a tile without content draws none of its buildings, an error of the size of
    // the largest of them (its bounding-box diagonal, metres).
    t.geometricError = std::max(1.0, double(q.maxDiagonal));
  }
  return t;
}

void collectParents(QuadNode& n, std::vector<std::vector<QuadNode*>>& byLevel, int depth) {
  if (n.children.empty()) return;
  if (byLevel.size() <= size_t(depth)) byLevel.resize(depth + 1);
  byLevel[depth].push_back(&n);
  for (auto& c : n.children) collectParents(c, byLevel, depth + 1);
}

}  // namespace twin::tiler
