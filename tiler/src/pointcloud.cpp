// Point clouds to a point tileset with voxel-subsampled levels of detail (see pointcloud.h).
#include "twin/tiler/pointcloud.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "twin/crs.h"
#include "twin/fsutil.h"
#include "twin/glb_writer.h"
#include "twin/tileset.h"

namespace twin::tiler {

namespace {

using nlohmann::json;

struct Cloud {
  std::vector<Vec3> enu;  // metres east, north, up about the frame's origin
  std::vector<std::array<uint8_t, 4>> rgba;
};

class Collector : public PointSink {
 public:
  Collector(const ConvertOptions& o, DiagnosticSink& d, const std::string& uri) : o_(o), diag_(d), uri_(uri) {}
  std::vector<Vec3> ecef;
  std::vector<std::array<uint8_t, 4>> rgba;
  uint64_t failed = 0;
  std::string srs, geoid;
  std::map<std::string, std::unique_ptr<CrsTransform>>* crs = nullptr;

  bool accept(PointChunk&& c) override {
    CrsTransform* t = transformFor(c.srs);
    if (!t) return false;
    t->toEcef(c.points.data(), c.points.size());
    for (size_t i = 0; i < c.points.size(); ++i) {
      const Vec3& p = c.points[i];
      double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
      if (!std::isfinite(r) || r < 6.3e6 || r > 6.5e6) {
        ++failed;
        continue;
      }
      ecef.push_back(p);
      if (i < c.colors.size())
        rgba.push_back({c.colors[i][0], c.colors[i][1], c.colors[i][2], 255});
      else
        rgba.push_back({200, 200, 200, 255});
    }
    return !(o_.cancel && o_.cancel->load());
  }

 private:
  const ConvertOptions& o_;
  DiagnosticSink& diag_;
  std::string uri_;

  CrsTransform* transformFor(const std::string& s) {
    auto it = crs->find(s);
    if (it != crs->end()) return it->second.get();
    GeoidOptions g;
    g.gridFile = o_.geoidFile;
    g.dataDir = o_.dataDir;
    auto r = CrsTransform::create(s, g);
    if (!r) {
      for (auto d : r.diagnostics) {
        d.file = uri_;
        diag_.report(d);
      }
      crs->emplace(s, nullptr);
      return nullptr;
    }
    srs = s;
    geoid = (*r.value)->geoidGrid();
    return crs->emplace(s, std::move(*r.value)).first->second.get();
  }
};

struct Node {
  int level = 0;
  std::string key;  // "" root, then octant digits
  std::vector<uint32_t> content;
  std::vector<std::unique_ptr<Node>> children;
  double spacing = 0;  // voxel size of the content (0 for a leaf that keeps everything)
  Vec3 min{INFINITY, INFINITY, INFINITY}, max{-INFINITY, -INFINITY, -INFINITY};  // subtree, ENU
};

constexpr int kGrid = 128;

struct VoxelKey {
  uint64_t k;
  bool operator==(const VoxelKey& o) const { return k == o.k; }
};
struct VoxelHash {
  size_t operator()(const VoxelKey& v) const { return std::hash<uint64_t>()(v.k * 0x9E3779B97F4A7C15ull); }
};

// Splits `idx` over the cube (lo, size) into a node: voxel subsample, rest to octants.
std::unique_ptr<Node> build(const Cloud& c, std::vector<uint32_t>& idx, const Vec3& lo, double size, int level,
                            const std::string& key, uint32_t cap) {
  auto n = std::make_unique<Node>();
  n->level = level;
  n->key = key;
  for (uint32_t i : idx)
    for (int k = 0; k < 3; ++k)
      n->min[k] = std::min(n->min[k], c.enu[i][k]), n->max[k] = std::max(n->max[k], c.enu[i][k]);
  if (idx.size() <= cap || level >= 24) {
    n->content = std::move(idx);
    return n;
  }
  double voxel = size / kGrid;
  n->spacing = voxel;
  std::unordered_set<VoxelKey, VoxelHash> taken;
  taken.reserve(idx.size() / 4);
  std::vector<uint32_t> rest[8];
  for (uint32_t i : idx) {
    const Vec3& p = c.enu[i];
    uint64_t vx = uint64_t(std::clamp(int64_t((p[0] - lo[0]) / voxel), int64_t(0), int64_t(kGrid - 1)));
    uint64_t vy = uint64_t(std::clamp(int64_t((p[1] - lo[1]) / voxel), int64_t(0), int64_t(kGrid - 1)));
    uint64_t vz = uint64_t(std::clamp(int64_t((p[2] - lo[2]) / voxel), int64_t(0), int64_t(kGrid - 1)));
    if (taken.insert({(vx << 20) | (vy << 10) | vz}).second) {
      n->content.push_back(i);
      continue;
    }
    int o = (vx >= kGrid / 2 ? 1 : 0) | (vy >= kGrid / 2 ? 2 : 0) | (vz >= kGrid / 2 ? 4 : 0);
    rest[o].push_back(i);
  }
  idx.clear();
  idx.shrink_to_fit();
  double half = size / 2;
  for (int o = 0; o < 8; ++o) {
    if (rest[o].empty()) continue;
    Vec3 clo{lo[0] + ((o & 1) ? half : 0), lo[1] + ((o & 2) ? half : 0), lo[2] + ((o & 4) ? half : 0)};
    n->children.push_back(build(c, rest[o], clo, half, level + 1, key + char('0' + o), cap));
  }
  return n;
}

using Frame = LocalFrame;

// A glb with one POINTS primitive: positions relative to `center` (ECEF), stored y-up.
std::vector<uint8_t> pointsGlb(const Cloud& c, const std::vector<uint32_t>& ids, const Frame& f, const Vec3& center) {
  std::vector<float> pos;
  pos.reserve(ids.size() * 3);
  float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
  std::vector<uint8_t> col;
  col.reserve(ids.size() * 4);
  for (uint32_t i : ids) {
    Vec3 e = f.toEcef(c.enu[i]);
    float p[3] = {float(e[0] - center[0]), float(e[2] - center[2]), float(-(e[1] - center[1]))};
    for (int k = 0; k < 3; ++k) pos.push_back(p[k]), mn[k] = std::min(mn[k], p[k]), mx[k] = std::max(mx[k], p[k]);
    col.insert(col.end(), c.rgba[i].begin(), c.rgba[i].end());
  }
  std::vector<uint8_t> bin(pos.size() * 4 + col.size());
  std::memcpy(bin.data(), pos.data(), pos.size() * 4);
  std::memcpy(bin.data() + pos.size() * 4, col.data(), col.size());
  while (bin.size() % 4) bin.push_back(0);
  json g;
  g["asset"] = {{"version", "2.0"}, {"generator", "twin"}};
  g["extensionsUsed"] = {"KHR_materials_unlit"};
  g["scene"] = 0;
  g["scenes"] = json::array({{{"nodes", {0}}}});
  g["nodes"] = json::array({{{"mesh", 0}, {"translation", {center[0], center[2], -center[1]}}}});
  g["materials"] = json::array({{{"pbrMetallicRoughness", {{"metallicFactor", 0.0}, {"roughnessFactor", 1.0}}},
                                 {"extensions", {{"KHR_materials_unlit", json::object()}}}}});
  g["meshes"] = json::array(
      {{{"primitives",
         json::array({{{"mode", 0}, {"material", 0}, {"attributes", {{"POSITION", 0}, {"COLOR_0", 1}}}}})}}});
  g["accessors"] = json::array(
      {{{"bufferView", 0},
        {"componentType", 5126},
        {"count", ids.size()},
        {"type", "VEC3"},
        {"min", {mn[0], mn[1], mn[2]}},
        {"max", {mx[0], mx[1], mx[2]}}},
       {{"bufferView", 1}, {"componentType", 5121}, {"normalized", true}, {"count", ids.size()}, {"type", "VEC4"}}});
  g["bufferViews"] =
      json::array({{{"buffer", 0}, {"byteOffset", 0}, {"byteLength", pos.size() * 4}, {"target", 34962}},
                   {{"buffer", 0}, {"byteOffset", pos.size() * 4}, {"byteLength", col.size()}, {"target", 34962}}});
  g["buffers"] = json::array({{{"byteLength", bin.size()}}});
  return glbContainer(g.dump(), std::move(bin));
}

// The node's subtree box: its east-north-up bounds as a 3D Tiles box (at least 1 cm thick).
OrientedBox boxOf(const Node& n, const Frame& f) {
  std::array<Vec3, 8> corners;
  for (int i = 0; i < 8; ++i)
    corners[i] =
        f.toEcef({(i & 1) ? n.max[0] : n.min[0], (i & 2) ? n.max[1] : n.min[1], (i & 4) ? n.max[2] : n.min[2]});
  OrientedBox b = enuBox(f.origin, corners.data(), corners.size(), 0.001);
  for (auto& axis : b.halfAxes) {
    double len = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
    if (len > 0 && len < 0.005)
      for (auto& x : axis) x *= 0.005 / len;
  }
  return b;
}

}  // namespace

ConvertResult convertPointCloud(const std::vector<InputFile>& inputs, const ConvertOptions& o, DiagnosticSink& diag) {
  ConvertResult r;
  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, std::unique_ptr<CrsTransform>> crs;
  ReadOptions ro;
  ro.crsOverride = o.crsOverride;
  ro.formatOptions = o.formatOptions;
  ro.cancel = o.cancel;
  std::vector<Vec3> ecef;
  std::vector<std::array<uint8_t, 4>> rgba;
  uint64_t total = 0, done = 0, failed = 0;
  std::string srs, geoid;
  for (auto& in : inputs) total += in.bytes;
  for (auto& in : inputs) {
    if (!in.format->pointCloud) {
      diag.error("pointcloud-mixed", "not a point cloud: convert point clouds and city objects into separate tilesets",
                 in.uri);
      continue;
    }
    Collector c(o, diag, in.uri);
    c.crs = &crs;
    auto reader = in.format->create();
    reader->readPoints(in.uri, ro, c, diag, r.read);
    failed += c.failed;
    if (!c.srs.empty()) srs = c.srs, geoid = c.geoid;
    ecef.insert(ecef.end(), c.ecef.begin(), c.ecef.end());
    rgba.insert(rgba.end(), c.rgba.begin(), c.rgba.end());
    done += in.bytes;
    r.inputBytes += in.bytes;
    ++r.inputs;
    if (o.progress) o.progress({"reading", done, total, ecef.size()});
    if (o.cancel && o.cancel->load()) return r;
  }
  if (failed)
    diag.warning("coordinate-failed", std::to_string(failed) +
                                          " points could not be placed on the Earth (outside the CRS "
                                          "or geoid grid, or absurd); dropped");
  if (ecef.empty()) {
    diag.error("nothing-converted", "no point could be read; no tileset written");
    return r;
  }
  if (ecef.size() >= (1ull << 32) - 1) {
    diag.error("pointcloud-too-large", "more than 4 billion points: split the input");
    return r;
  }
  // Frame: east-north-up at the cloud's centre on the ellipsoid.
  Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
  for (auto& p : ecef)
    for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
  Vec3 llh = ecefToLonLatHeight({(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2});
  llh[2] = 0;
  Frame f = LocalFrame::at(lonLatHeightToEcef(llh));
  Cloud cloud;
  cloud.enu.reserve(ecef.size());
  Vec3 elo{INFINITY, INFINITY, INFINITY}, ehi{-INFINITY, -INFINITY, -INFINITY};
  for (auto& p : ecef) {
    Vec3 e = f.toEnu(p);
    for (int k = 0; k < 3; ++k) elo[k] = std::min(elo[k], e[k]), ehi[k] = std::max(ehi[k], e[k]);
    cloud.enu.push_back(e);
  }
  std::vector<Vec3>().swap(ecef);
  cloud.rgba = std::move(rgba);
  double size = std::max({ehi[0] - elo[0], ehi[1] - elo[1], ehi[2] - elo[2], 0.01}) * 1.0001;
  std::vector<uint32_t> all(cloud.enu.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  auto root = build(cloud, all, elo, size, 0, "", std::max<uint32_t>(o.maxPointsPerTile, 1000));

  // Write the tiles and the tileset.
  fs::StagedDirectory out(o.outDir);
  std::string err;
  if (!out.begin(err)) {
    diag.error("output-write", err, o.outDir);
    return r;
  }
  uint64_t tilesTotal = 0, written = 0;
  std::function<void(const Node&)> count = [&](const Node& n) {
    tilesTotal += !n.content.empty();
    for (auto& c : n.children) count(*c);
  };
  count(*root);
  bool ok = true;
  std::function<TileNode(const Node&, double)> emit = [&](const Node& n, double parentError) {
    TileNode t;
    t.box = boxOf(n, f);
    t.geometricError = n.children.empty() ? 0.0 : std::min(parentError, n.spacing);
    if (!n.content.empty()) {
      t.contentUri = "tiles/" + (n.key.empty() ? std::string("root") : n.key) + ".glb";
      auto bytes = pointsGlb(cloud, n.content, f, t.box.center);
      if (!fs::writeFileAtomic(out.path() + "/" + t.contentUri, bytes.data(), bytes.size(), err)) {
        if (ok) diag.error("output-write", err, o.outDir);
        ok = false;
      }
      r.outputBytes += bytes.size();
      if (n.key.empty()) r.rootBytes = bytes.size();
      if (n.children.empty()) r.leafBytes += bytes.size();
      r.features += n.content.size();
      ++written;
      if (o.progress && written % 16 == 0) o.progress({"writing tiles", written, tilesTotal, r.features});
    }
    for (auto& c : n.children) t.children.push_back(emit(*c, t.geometricError));
    return t;
  };
  double rootError = root->children.empty() ? 0.0 : root->spacing;
  TileNode rootTile = emit(*root, rootError > 0 ? rootError : 1.0);
  rootTile.refine = "ADD";
  TilesetInfo info;
  if (!srs.empty()) info.sourceCrs = {srs};
  info.geoid = geoid;
  info.objectTypes = {"PointCloud"};
  info.numbers["points"] = double(r.features);
  info.geometricError = std::max(rootError * 2, size / 16);
  if (!fs::writeFileAtomic(out.path() + "/tileset.json", tilesetJson(rootTile, info), err)) {
    diag.error("output-write", err, o.outDir);
    ok = false;
  }
  if (!ok || (o.cancel && o.cancel->load())) return r;
  if (!out.commit(err)) {
    diag.error("output-write", err, o.outDir);
    return r;
  }
  r.tiles = r.tilesWritten = written;
  r.rootError = rootError;
  r.ok = true;
  r.points = true;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace twin::tiler
