#include "twin/tiler/inspect.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "twin/crs.h"
#include "twin/metadata.h"
#include "twin/tileset.h"
#include "twin/vfs.h"

namespace twin::tiler {

namespace sfs = std::filesystem;

std::string describeTileset(const std::string& pathIn, DiagnosticSink& diag) {
  std::string path = pathIn;
  std::error_code ec;
  if (sfs::is_directory(path, ec)) path = (sfs::path(path) / "tileset.json").string();
  std::vector<uint8_t> bytes;
  std::string err;
  if (!vfs::readAll(path, bytes, err, 1u << 30)) {
    diag.error("tileset-unreadable", err, path);
    return {};
  }
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.contains("root")) {
    diag.error("tileset-invalid", "not a 3D Tiles tileset.json", path);
    return {};
  }
  size_t tiles = 0, contents = 0, maxDepth = 0;
  uint64_t contentBytes = 0, leafBytes = 0;
  sfs::path base = sfs::path(path).parent_path();
  // Bounds from the leaves' boxes (small: their corners stay near the ground, unlike those of a
  // box spanning a region, which the Earth's curvature puts kilometres below or above it).
  double w = 1e9, s = 1e9, e = -1e9, n = -1e9, lo = 1e9, hi = -1e9;
  auto extend = [&](const OrientedBox& b) {
    for (auto& c : b.corners()) {
      Vec3 llh = ecefToLonLatHeight(c);
      w = std::min(w, llh[0]), e = std::max(e, llh[0]);
      s = std::min(s, llh[1]), n = std::max(n, llh[1]);
      lo = std::min(lo, llh[2]), hi = std::max(hi, llh[2]);
    }
  };
  const bool implicit = j["root"].contains("implicitTiling");
  std::string implicitLine;
  if (implicit) {
    // Implicit tiling: the tiles are the files under tiles/, described by the subtrees.
    const auto& it = j["root"]["implicitTiling"];
    size_t subtrees = 0;
    for (auto& f : sfs::recursive_directory_iterator(base / "subtrees", ec))
      if (f.is_regular_file()) ++subtrees;
    for (auto& f : sfs::recursive_directory_iterator(base / "tiles", ec))
      if (f.is_regular_file()) {
        ++contents;
        contentBytes += f.file_size();
      }
    tiles = contents;
    maxDepth = it.value("availableLevels", 0);
    implicitLine = "implicit     " + it.value("subdivisionScheme", std::string("?")) + ", " + std::to_string(subtrees) +
                   " subtrees of " + std::to_string(it.value("subtreeLevels", 0)) + " levels\n";
    if (j["root"]["boundingVolume"].contains("region")) {
      auto r = j["root"]["boundingVolume"]["region"];
      const double deg = 180.0 / M_PI;
      w = r[0].get<double>() * deg, s = r[1].get<double>() * deg, e = r[2].get<double>() * deg,
      n = r[3].get<double>() * deg, lo = r[4], hi = r[5];
    }
  } else {
    std::function<void(const nlohmann::json&, size_t)> walk = [&](const nlohmann::json& t, size_t depth) {
      ++tiles;
      maxDepth = std::max(maxDepth, depth);
      const bool leaf = !t.contains("children") || t["children"].empty();
      if (t.contains("content") && t["content"].contains("uri")) {
        ++contents;
        auto size = sfs::file_size(base / t["content"]["uri"].get<std::string>(), ec);
        if (ec) {
          diag.error("tileset-content-missing", "content " + t["content"]["uri"].get<std::string>() + " is missing",
                     path);
        } else {
          contentBytes += size;
          if (leaf) leafBytes += size;
        }
      }
      if (leaf && t["boundingVolume"].contains("box"))
        extend(OrientedBox::fromArray(t["boundingVolume"]["box"].get<std::array<double, 12>>()));
      if (t.contains("children"))
        for (auto& c : t["children"]) walk(c, depth + 1);
    };
    walk(j["root"], 1);
  }
  std::ostringstream o;
  o << "tileset      " << path << "\n";
  o << "version      " << j["asset"].value("version", "?") << " (" << j["asset"].value("generator", "?") << ")\n";
  o << "tiles        " << tiles << " (" << contents << " with content, " << (implicit ? "levels " : "depth ")
    << maxDepth << ")\n";
  o << implicitLine;
  o << "content      " << contentBytes << " bytes";
  if (!implicit && leafBytes != contentBytes)
    o << " (full detail " << leafBytes << ", overviews " << contentBytes - leafBytes << ")";
  o << "\n";
  o << "geometric error  tileset " << j.value("geometricError", 0.0) << ", root "
    << j["root"].value("geometricError", 0.0) << "\n";
  o << "refine       " << j["root"].value("refine", std::string("?")) << "\n";
  if (w <= e) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "bounds       lon %.6f..%.6f, lat %.6f..%.6f, h %.1f..%.1f m (ellipsoidal)\n", w, e,
                  s, n, lo, hi);
    o << buf;
  }
  if (j["asset"].contains("extras") && j["asset"]["extras"].contains("twin")) {
    auto& x = j["asset"]["extras"]["twin"];
    if (x.contains("sourceCrs")) o << "source CRS   " << x["sourceCrs"].dump() << "\n";
    if (x.contains("geoid"))
      o << "geoid        " << (x["geoid"].is_null() ? "none" : x["geoid"].get<std::string>()) << "\n";
    if (x.contains("features")) o << "features     " << x["features"].get<double>() << "\n";
  }
  return o.str();
}

namespace {
class InfoSink : public ObjectSink {
 public:
  std::map<std::string, uint64_t> types;
  std::map<int, uint64_t> lods;
  std::set<std::string> srs;
  std::set<std::string> textures;
  std::map<std::string, uint64_t> keys;
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  uint64_t polygons = 0;

  bool accept(CityObject&& o) override {
    add(o);
    for (auto& fa : flattenAttributes(o)) keys[fa.key]++;
    return true;
  }
  void add(const CityObject& o) {
    types[o.type]++;
    if (!o.srs.empty()) srs.insert(o.srs);
    for (auto& t : o.textures) textures.insert(t.uri);
    for (auto& g : o.geometries) {
      lods[g.lod]++;
      polygons += g.polygons.size();
      for (auto& p : g.points)
        for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
    }
    for (auto& c : o.children) add(c);
  }
};
}  // namespace

std::string describeFile(const std::string& uri, const FormatInfo& format, DiagnosticSink& diag) {
  InfoSink sink;
  ReadStats stats;
  ReadOptions ro;
  ro.objectTypes = {"*"};  // describe every city object the file holds
  auto reader = format.create();
  bool ok = reader->read(uri, ro, sink, diag, stats);
  std::ostringstream o;
  o << "file         " << uri << (ok ? "" : "  (read with errors)") << "\n";
  o << "format       " << format.id << "\n";
  o << "bytes        " << stats.bytes << "\n";
  for (auto& [t, n] : stats.objectsByType) o << "objects      " << t << ": " << n << "\n";
  for (auto& [t, n] : stats.skippedByType) o << "skipped      " << t << ": " << n << "\n";
  for (auto& s : sink.srs) o << "CRS          " << s << "\n";
  if (sink.lo[0] <= sink.hi[0]) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "bounds       %.9g..%.9g, %.9g..%.9g, %.4g..%.4g (source CRS axis order)\n",
                  sink.lo[0], sink.hi[0], sink.lo[1], sink.hi[1], sink.lo[2], sink.hi[2]);
    o << buf;
  }
  for (auto& [l, n] : sink.lods) o << "LOD" << l << "         " << n << " geometries\n";
  o << "polygons     " << sink.polygons << "\n";
  o << "textures     " << sink.textures.size() << " images\n";
  o << "attributes   " << sink.keys.size() << " distinct keys\n";
  return o.str();
}

}  // namespace twin::tiler
