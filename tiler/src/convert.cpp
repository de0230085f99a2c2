#include "twin/tiler/convert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "bytes.h"
#include "lod.h"
#include "sort.h"
#include "store.h"
#include "twin/crs.h"
#include "twin/fsutil.h"
#include "twin/glb_writer.h"
#include "twin/hash.h"
#include "twin/mesh.h"
#include "twin/metadata.h"
#include "twin/tiler/pointcloud.h"
#include "twin/tileset.h"
#include "twin/vfs.h"

namespace twin::tiler {

namespace {

// ------------------------------------------------------------------ spill records

struct SpilledFeature {
  std::string id;
  PropertyRow attrs;
  std::vector<MeshGroup> groups;
};

void serialize(const std::string& id, const PropertyRow& attrs, const FeatureMesh& mesh, ByteWriter& w) {
  w.putString(id);
  putRow(w, attrs);
  w.put(uint32_t(mesh.groups.size()));
  for (auto& g : mesh.groups) {
    w.putString(g.texture);
    w.putBytes(g.color.data(), sizeof(float) * 4);
    w.put(uint32_t(g.positions.size()));
    w.putBytes(g.positions.data(), g.positions.size() * sizeof(Vec3));
    w.putBytes(g.normals.data(), g.normals.size() * sizeof(float) * 3);
    w.put(uint8_t(g.uvs.empty() ? 0 : 1));
    if (!g.uvs.empty()) w.putBytes(g.uvs.data(), g.uvs.size() * sizeof(Vec2f));
    w.put(uint32_t(g.indices.size()));
    w.putBytes(g.indices.data(), g.indices.size() * 4);
  }
}

bool deserialize(const uint8_t* p, size_t n, SpilledFeature& f) {
  ByteReader r(p, n);
  f.id = r.getString();
  getRow(r, f.attrs);
  uint32_t ng = r.get<uint32_t>();
  f.groups.assign(ng, {});
  for (auto& g : f.groups) {
    if (!r.ok()) return false;
    g.texture = r.getString();
    r.getBytes(g.color.data(), sizeof(float) * 4);
    uint32_t nv = r.get<uint32_t>();
    if (nv > n) return false;
    g.positions.resize(nv);
    r.getBytes(g.positions.data(), nv * sizeof(Vec3));
    g.normals.resize(nv);
    r.getBytes(g.normals.data(), nv * sizeof(float) * 3);
    if (r.get<uint8_t>()) {
      g.uvs.resize(nv);
      r.getBytes(g.uvs.data(), nv * sizeof(Vec2f));
    }
    uint32_t ni = r.get<uint32_t>();
    if (ni > n) return false;
    g.indices.resize(ni);
    r.getBytes(g.indices.data(), ni * 4);
  }
  return r.ok();
}

// ------------------------------------------------------------------ shared state

struct Shared {
  const ConvertOptions& options;
  DiagnosticSink& diag;
  std::mutex mutex;  // guards everything below
  SchemaBuilder schema;
  std::set<std::string> reportedOnce;
  ReadStats read;
  // per input (index): what its packs' state records
  std::map<uint32_t, uint64_t> inputTriangles, inputDropped;
  std::map<uint32_t, std::set<std::string>> inputCrs;
  std::map<uint32_t, std::string> inputGeoid;
  std::atomic<uint64_t> features{0};
  std::atomic<uint64_t> bytesRead{0};

  Shared(const ConvertOptions& o, DiagnosticSink& d) : options(o), diag(d) {}

  bool once(const std::string& key) {
    std::lock_guard lock(mutex);
    return reportedOnce.insert(key).second;
  }
};

// The converted features of one input file written by one worker: a pack (see store.h).
struct PackOut {
  std::string name;
  int fd = -1;
  uint64_t offset = 0;
  std::vector<FeatureRef> refs;
  std::unordered_map<uint32_t, uint8_t> kinds;  // attribute index -> value kinds seen
  uint64_t triangles = 0;
};

class Worker {
 public:
  Worker(Shared& shared, uint32_t index, std::string packsDir)
      : s_(shared), index_(index), packsDir_(std::move(packsDir)) {}
  ~Worker() {
    for (auto& [i, p] : packs_)
      if (p.fd >= 0) ::close(p.fd);
  }
  bool ok() const { return !writeFailed_; }

  // Closes this worker's packs: writes their index and key files. Returns (input, pack name).
  std::vector<std::pair<uint32_t, std::string>> finish() {
    std::vector<std::pair<uint32_t, std::string>> out;
    {
      std::lock_guard lock(s_.mutex);
      for (auto& [i, c] : inputCrs_) s_.inputCrs[i].insert(c);
      for (auto& [i, g] : inputGeoid_) s_.inputGeoid[i] = g;
    }
    for (auto& [input, p] : packs_) {
      if (p.fd >= 0) ::close(p.fd);
      p.fd = -1;
      std::vector<PackKey> keys;
      {
        std::lock_guard lock(s_.mutex);
        for (auto& [k, bits] : p.kinds) keys.push_back({k, s_.schema.keyName(k), bits});
      }
      std::sort(keys.begin(), keys.end(), [](const PackKey& a, const PackKey& b) { return a.index < b.index; });
      std::string err;
      if (!writePackIndex(packsDir_ + "/" + p.name + ".idx", p.refs, err) ||
          !writePackKeys(packsDir_ + "/" + p.name + ".keys", keys, err)) {
        s_.diag.error("spill-write", err);
        writeFailed_ = true;
      }
      out.push_back({input, p.name});
      std::lock_guard lock(s_.mutex);
      s_.inputTriangles[input] += p.triangles;
    }
    return out;
  }

  void process(CityObject& obj, uint32_t input) {
    input_ = input;
    if (obj.srs.empty()) {
      if (s_.once("crs-missing:" + obj.sourceFile))
        s_.diag.error("crs-missing", "no srsName in the file and no --crs given; its objects are skipped",
                      obj.sourceFile, obj.sourceLine, obj.id);
      drop();
      return;
    }
    CrsTransform* crs = transformFor(obj);
    if (!crs) {
      drop();
      return;
    }
    inputCrs_.insert({input, crs->srs()});
    if (!crs->geoidGrid().empty()) inputGeoid_[input] = crs->geoidGrid();
    size_t failed = 0;
    transformTree(obj, *crs, failed);
    if (failed) {
      s_.diag.warning("coordinate-out-of-range",
                      std::to_string(failed) + " coordinates cannot be placed on the Earth in " + obj.srs +
                          " (absurd values or outside the geoid grid); their polygons are dropped",
                      obj.sourceFile, obj.sourceLine, obj.id);
    }
    buildFeatureMesh(obj, s_.options.lod, mesh_, stats_, s_.diag);
    if (mesh_.empty()) {
      s_.diag.warning(
          "object-no-geometry",
          obj.type + " has no usable geometry" +
              (s_.options.lod >= 0 ? " at LOD " + std::to_string(s_.options.lod) + " or below" : std::string()),
          obj.sourceFile, obj.sourceLine, obj.id);
      drop();
      return;
    }
    // attributes -> schema indices
    auto flat = flattenAttributes(obj);
    attrs_.clear();
    for (auto& fa : flat) {
      uint32_t idx = keyIndex(fa.key, fa.value);
      attrs_.push_back({idx, std::move(fa.value)});
    }
    // A feature far larger than a tile (a relief TIN of a whole mesh sheet, a long road) is cut
    // into pieces of about kPieceMetres on a side, by triangle: each piece is a feature of its own
    // with the same id and attributes plus twin:piece, so tiles stay small and local.
    splitLarge(mesh_, pieces_);
    if (pieces_.empty()) {
      write(obj, mesh_, attrs_, input);
      return;
    }
    for (size_t i = 0; i < pieces_.size(); ++i) {
      PropertyRow row = attrs_;
      PropertyValue piece = int64_t(i + 1);
      row.push_back({keyIndex("twin:piece", piece), piece});
      write(obj, pieces_[i], row, input);
    }
    if (s_.once("feature-split:" + obj.id))
      s_.diag.info("feature-split",
                   obj.type + " spans " + std::to_string(int(diagonalOf(mesh_))) + " m: cut into " +
                       std::to_string(pieces_.size()) + " pieces (twin:piece) so that tiles stay small",
                   obj.sourceFile, obj.sourceLine, obj.id);
  }

  static constexpr double kPieceMetres = 500;
  static constexpr double kSplitAboveMetres = 1500;

  static double diagonalOf(const FeatureMesh& m) {
    return std::sqrt(std::pow(m.max[0] - m.min[0], 2) + std::pow(m.max[1] - m.min[1], 2) +
                     std::pow(m.max[2] - m.min[2], 2));
  }

  // Cuts `mesh` into pieces on a kPieceMetres grid (local east/north at its centre) by triangle
  // centroid; `out` is left empty when the mesh is small enough to stay whole.
  static void splitLarge(const FeatureMesh& mesh, std::vector<FeatureMesh>& out) {
    out.clear();
    if (diagonalOf(mesh) <= kSplitAboveMetres) return;
    Vec3 c{(mesh.min[0] + mesh.max[0]) / 2, (mesh.min[1] + mesh.max[1]) / 2, (mesh.min[2] + mesh.max[2]) / 2};
    Vec3 e, n, u;
    enuFrame(c, e, n, u);
    std::map<std::pair<long, long>, size_t> cellIndex;
    for (size_t gi = 0; gi < mesh.groups.size(); ++gi) {
      const MeshGroup& g = mesh.groups[gi];
      std::map<std::pair<size_t, uint32_t>, uint32_t> remap;  // (piece, old vertex) -> new vertex
      for (size_t t = 0; t + 2 < g.indices.size(); t += 3) {
        Vec3 centroid{0, 0, 0};
        for (int k = 0; k < 3; ++k)
          for (int a = 0; a < 3; ++a) centroid[a] += g.positions[g.indices[t + k]][a] / 3.0;
        Vec3 d{centroid[0] - c[0], centroid[1] - c[1], centroid[2] - c[2]};
        long cx = long(std::floor((d[0] * e[0] + d[1] * e[1] + d[2] * e[2]) / kPieceMetres));
        long cy = long(std::floor((d[0] * n[0] + d[1] * n[1] + d[2] * n[2]) / kPieceMetres));
        auto [it, fresh] = cellIndex.emplace(std::make_pair(cx, cy), out.size());
        if (fresh) {
          out.emplace_back();
          out.back().groups.resize(mesh.groups.size());
          for (size_t k = 0; k < mesh.groups.size(); ++k) {
            out.back().groups[k].texture = mesh.groups[k].texture;
            out.back().groups[k].color = mesh.groups[k].color;
          }
        }
        const size_t pi = it->second;
        MeshGroup& pg = out[pi].groups[gi];
        for (int k = 0; k < 3; ++k) {
          uint32_t old = g.indices[t + k];
          auto [r, added] = remap.emplace(std::make_pair(pi, old), uint32_t(pg.positions.size()));
          if (added) {
            pg.positions.push_back(g.positions[old]);
            pg.normals.push_back(g.normals[old]);
            if (!g.uvs.empty()) pg.uvs.push_back(g.uvs[old]);
          }
          pg.indices.push_back(r->second);
        }
      }
    }
    for (auto& p : out) {
      std::vector<MeshGroup> kept;
      for (auto& g : p.groups)
        if (!g.indices.empty()) kept.push_back(std::move(g));
      p.groups = std::move(kept);
      p.min = {INFINITY, INFINITY, INFINITY};
      p.max = {-INFINITY, -INFINITY, -INFINITY};
      for (auto& g : p.groups)
        for (auto& q : g.positions)
          for (int a = 0; a < 3; ++a) {
            p.min[a] = std::min(p.min[a], q[a]);
            p.max[a] = std::max(p.max[a], q[a]);
          }
    }
  }

  uint32_t keyIndex(const std::string& key, const PropertyValue& value) {
    uint8_t bit = SchemaBuilder::kindBit(value);
    auto it = keyCache_.find(key);
    if (it != keyCache_.end() && (it->second.second & bit)) return it->second.first;
    std::lock_guard lock(s_.mutex);
    uint32_t idx = s_.schema.observe(key, value);
    auto& e = keyCache_[key];
    e.first = idx;
    e.second |= bit;
    return idx;
  }

  void write(const CityObject& obj, const FeatureMesh& mesh, const PropertyRow& attrs, uint32_t input) {
    ByteWriter w;
    serialize(obj.id, attrs, mesh, w);
    PackOut& pack = packFor(input, obj);
    if (pack.fd < 0) return;
    for (auto& [k, v] : attrs) pack.kinds[k] |= SchemaBuilder::kindBit(v);
    FeatureRef ref{};
    ref.input = input;
    ref.offset = pack.offset;
    ref.size = static_cast<uint32_t>(w.buf.size());
    ref.idHash = fnv1a64(obj.id);
    Vec3 c{(mesh.min[0] + mesh.max[0]) / 2, (mesh.min[1] + mesh.max[1]) / 2, (mesh.min[2] + mesh.max[2]) / 2};
    Vec3 llh = ecefToLonLatHeight(c);
    ref.lon = llh[0];
    ref.lat = llh[1];
    ref.diagonal = float(diagonalOf(mesh));
    if (::pwrite(pack.fd, w.buf.data(), w.buf.size(), off_t(pack.offset)) != ssize_t(w.buf.size())) {
      if (!writeFailed_)
        s_.diag.error("spill-write", "cannot write " + packsDir_ + "/" + pack.name + ".bin (disk full?)");
      writeFailed_ = true;
      return;
    }
    pack.offset += w.buf.size();
    pack.triangles += mesh.triangleCount();
    pack.refs.push_back(ref);
    s_.features.fetch_add(1);
  }

 private:
  Shared& s_;
  uint32_t index_;
  std::string packsDir_;
  bool writeFailed_ = false;
  uint32_t input_ = 0;
  std::map<uint32_t, PackOut> packs_;
  std::set<std::pair<uint32_t, std::string>> inputCrs_;
  std::map<uint32_t, std::string> inputGeoid_;
  std::unordered_map<std::string, std::unique_ptr<CrsTransform>> crs_;
  std::unordered_map<std::string, std::pair<uint32_t, uint8_t>> keyCache_;
  FeatureMesh mesh_;
  MeshStats stats_;
  PropertyRow attrs_;
  std::vector<FeatureMesh> pieces_;

  void drop() {
    std::lock_guard lock(s_.mutex);
    s_.inputDropped[input_]++;
  }

  PackOut& packFor(uint32_t input, const CityObject& obj) {
    auto it = packs_.find(input);
    if (it != packs_.end()) return it->second;
    PackOut& p = packs_[input];
    char name[64];
    std::snprintf(name, sizeof name, "%016llx-w%u", static_cast<unsigned long long>(fnv1a64(obj.sourceFile)), index_);
    p.name = name;
    std::string path = packsDir_ + "/" + p.name + ".bin";
    p.fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (p.fd < 0) {
      if (!writeFailed_) s_.diag.error("spill-write", "cannot create " + path);
      writeFailed_ = true;
    }
    return p;
  }

  CrsTransform* transformFor(const CityObject& obj) {
    auto it = crs_.find(obj.srs);
    if (it != crs_.end()) return it->second.get();
    GeoidOptions g;
    g.gridFile = s_.options.geoidFile;
    g.dataDir = s_.options.dataDir;
    auto r = CrsTransform::create(obj.srs, g);
    if (!r) {
      for (auto d : r.diagnostics) {
        if (!s_.once(d.code + ":" + obj.srs + ":" + obj.sourceFile)) continue;
        d.file = obj.sourceFile;
        d.line = obj.sourceLine;
        d.featureId = obj.id;
        d.message += "; objects in this CRS are skipped";
        s_.diag.report(d);
      }
      crs_.emplace(obj.srs, nullptr);
      return nullptr;
    }
    auto& t = **r;
    if (t.heightAssumed() && s_.once("crs-no-vertical:" + obj.srs))
      s_.diag.warning("crs-no-vertical",
                      obj.srs + " has no vertical axis: heights are taken as orthometric and the geoid " +
                          t.geoidGrid() + " is applied",
                      obj.sourceFile, obj.sourceLine, obj.id);
    CrsTransform* raw = r->get();
    crs_.emplace(obj.srs, std::move(*r));
    return raw;
  }

  void transformTree(CityObject& obj, CrsTransform& crs, size_t& failed) {
    int lod = chooseLod(obj, s_.options.lod);
    for (auto& g : obj.geometries) {
      if (g.lod != lod) {
        g = Geometry{};  // not used: free it
        continue;
      }
      failed += crs.toEcef(g.points.data(), g.points.size());
      for (auto& p : g.points) {
        double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        if (std::isfinite(r) && (r < 6.3e6 || r > 6.5e6)) {
          p = {NAN, NAN, NAN};
          ++failed;
        }
      }
    }
    for (auto& c : obj.children) {
      CrsTransform* ccrs = &crs;
      if (!c.srs.empty() && c.srs != obj.srs) ccrs = transformFor(c);
      if (ccrs) transformTree(c, *ccrs, failed);
    }
  }
};

class DirectSink : public ObjectSink {
 public:
  DirectSink(Worker& w, const std::atomic<bool>* cancel) : w_(w), cancel_(cancel) {}
  uint32_t input = 0;
  bool accept(CityObject&& o) override {
    w_.process(o, input);
    return !(cancel_ && cancel_->load());
  }

 private:
  Worker& w_;
  const std::atomic<bool>* cancel_;
};

// Takes objects from several reader threads at once (ReadOptions::parallelism): each thread is
// given a worker of its own on its first call.
class ConcurrentSink : public ObjectSink {
 public:
  ConcurrentSink(std::vector<std::unique_ptr<Worker>>& workers, const std::atomic<bool>* cancel, uint32_t input)
      : workers_(workers), cancel_(cancel), input_(input) {}
  bool accept(CityObject&& o) override {
    Worker* w = workerForThisThread();
    if (!w) return false;
    w->process(o, input_);
    return !(cancel_ && cancel_->load());
  }

 private:
  std::vector<std::unique_ptr<Worker>>& workers_;
  const std::atomic<bool>* cancel_;
  uint32_t input_;
  std::mutex mutex_;
  std::unordered_map<std::thread::id, Worker*> byThread_;
  Worker* workerForThisThread() {
    std::lock_guard lock(mutex_);
    auto id = std::this_thread::get_id();
    auto it = byThread_.find(id);
    if (it != byThread_.end()) return it->second;
    if (byThread_.size() >= workers_.size()) return nullptr;  // more threads than promised
    Worker* w = workers_[byThread_.size()].get();
    byThread_.emplace(id, w);
    return w;
  }
};

// ------------------------------------------------------------------ spatial split

struct QuadNode {
  int level = 0;
  uint32_t x = 0, y = 0;
  double west, south, east, north;
  uint64_t begin = 0, end = 0;  // its features and its descendants': a range of the sorted tile index
  // Its own content is [begin, contentEnd): the whole range for a leaf; for a parent under
  // implicit tiling, the features that cross its children's cells (none otherwise).
  uint64_t contentEnd = 0;
  std::vector<QuadNode> children;
  float maxDiagonal = 0;
  bool top = false;  // the overview parent added above a root that is a single leaf
  // results of writing
  OrientedBox box;
  bool written = false;  // has content
  bool boxSet = false;
  double error = 0;    // geometric error
  uint64_t bytes = 0;  // content bytes
  uint64_t textures = 0;
  uint64_t shown = 0;  // features in the content
};

struct LonLatExtent {
  double west, south, east, north;  // degrees
};

// A feature's longitude/latitude extent, conservatively: its ECEF box lies within a ball of half
// its diagonal about its centre, and a degree of latitude is at least 110,574 m (on the equator),
// one of longitude at least 111,319 m × cos(latitude) at the ball's most poleward latitude.
LonLatExtent featureExtent(const FeatureRef& r) {
  const double radius = 0.5 * double(r.diagonal) * 1.001 + 0.01;
  const double dLat = radius / 110574.0;
  const double poleward = std::min(89.0, std::abs(r.lat) + dLat);
  const double dLon = radius / (111319.0 * std::cos(poleward * M_PI / 180.0));
  return {r.lon - dLon, r.lat - dLat, r.lon + dLon, r.lat + dLat};
}

// Splits `node` (a range of the sorted tile index) into quadrants while it is too large. One
// sequential scan per node gives its size and where each quadrant's range starts (the index is
// sorted by Morton code, so a quadrant is a contiguous range).
//
// Under implicit tiling (o.implicit) every feature carries the deepest level whose cell holds it
// whole (FeatureRef::level) and the index is sorted so that a node's own features come first in
// its range: those that do not fit in one of its quadrants stay in the node (its content), the
// rest go to the quadrants. Every content then lies inside the cell that a client derives for
// its tile from the root region, as the specification requires.
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

// The tiles written at full detail: the leaves, and parents with content of their own (implicit
// tiling: the features that cross their children's cells).
void collectLeaves(QuadNode& n, std::vector<QuadNode*>& out) {
  if (n.children.empty() || n.contentEnd > n.begin) out.push_back(&n);
  for (auto& c : n.children) collectLeaves(c, out);
}

// Content files: glb (3D Tiles 1.1) or b3dm (1.0).
const char* contentExtension(const ConvertOptions& o) { return o.tilesVersion == "1.0" ? ".b3dm" : ".glb"; }

std::string tileUri(const QuadNode& n, const ConvertOptions& o) {
  const char* ext = contentExtension(o);
  if (n.top) return std::string("tiles/top") + ext;
  return "tiles/" + std::to_string(n.level) + "/" + std::to_string(n.x) + "/" + std::to_string(n.y) + ext;
}

// ------------------------------------------------------------------ tile writing

std::string coarsePath(const std::string& spillDir, const QuadNode& n) {
  return spillDir + "/c" +
         (n.top ? std::string("top")
                : std::to_string(n.level) + "-" + std::to_string(n.x) + "-" + std::to_string(n.y)) +
         ".bin";
}

// A pack open for reading in the tile phase.
struct PackIn {
  std::string name;
  uint32_t input = 0;
  int fd = -1;
  std::vector<uint32_t> remap;  // record attribute index -> schema position (UINT32_MAX: none)
};

class TileWriter {
 public:
  TileWriter(const RefFile& refs, const std::vector<PackIn>& packs, const std::vector<PropertyDef>& schema,
             const ConvertOptions& o, const std::string& outDir, const std::string& spillDir, DiagnosticSink& diag,
             Shared& shared)
      : refs_(refs),
        packs_(packs),
        schema_(schema),
        o_(o),
        outDir_(outDir),
        spillDir_(spillDir),
        diag_(diag),
        shared_(shared) {}

  // A leaf: full-detail buildings, with textures. With levels of detail, also the coarse forms of
  // its buildings for the parent.
  bool write(QuadNode& leaf) {
    std::vector<SortedRef> leafRefs;
    if (!refs_.read(leaf.begin, leaf.contentEnd - leaf.begin, leafRefs)) {
      diag_.error("spill-read", "cannot read the tile index");
      return false;
    }
    std::vector<SpilledFeature> feats(leafRefs.size());
    std::vector<uint8_t> buf;
    Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < leafRefs.size(); ++i) {
      const FeatureRef& r = leafRefs[i].ref;
      buf.resize(r.size);
      if (::pread(packs_[r.pack].fd, buf.data(), r.size, off_t(r.offset)) != ssize_t(r.size) ||
          !deserialize(buf.data(), buf.size(), feats[i])) {
        diag_.error("spill-read", "cannot read back a converted building from pack " + packs_[r.pack].name);
        return false;
      }
      const auto& remap = packs_[r.pack].remap;
      PropertyRow row;
      for (auto& kv : feats[i].attrs)
        if (kv.first < remap.size() && remap[kv.first] != UINT32_MAX)
          row.push_back({remap[kv.first], std::move(kv.second)});
      std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      feats[i].attrs = std::move(row);
      for (auto& g : feats[i].groups)
        for (auto& p : g.positions)
          for (int k = 0; k < 3; ++k) {
            lo[k] = std::min(lo[k], p[k]);
            hi[k] = std::max(hi[k], p[k]);
          }
    }
    GlbScene scene;
    scene.center = {std::round((lo[0] + hi[0]) / 2), std::round((lo[1] + hi[1]) / 2), std::round((lo[2] + hi[2]) / 2)};
    scene.copyright = "";
    std::unordered_map<std::string, int> primByKey;
    // Textures of the tile: an atlas of those used within [0, 1], the others alone; none larger
    // than the size limit.
    std::vector<TextureUse> uses;
    std::unordered_map<std::string, size_t> useByUri;
    for (auto& f : feats)
      for (auto& g : f.groups) {
        if (g.texture.empty()) continue;
        auto [it, fresh] = useByUri.emplace(g.texture, uses.size());
        if (fresh) uses.push_back({g.texture, INFINITY, -INFINITY, INFINITY, -INFINITY});
        TextureUse& u = uses[it->second];
        for (auto& uv : g.uvs) {
          u.uMin = std::min(u.uMin, uv[0]);
          u.uMax = std::max(u.uMax, uv[0]);
          u.vMin = std::min(u.vMin, uv[1]);
          u.vMax = std::max(u.vMax, uv[1]);
        }
      }
    std::vector<TexturePlacement> placements;
    std::vector<std::pair<std::string, std::string>> textureErrors;
    TextureSetOptions to;
    to.maxSize = o_.maxTextureSize;
    to.atlas = o_.atlas;
    to.webp = o_.webp;
    scene.images = buildTileTextures(uses, to, placements, textureErrors);
    // Missing images were reported by the readers (with file, line and object); here, images that
    // exist but cannot be decoded.
    for (auto& [uri, err] : textureErrors)
      if (shared_.once("texture:" + uri) && vfs::exists(uri))
        diag_.warning("texture-unreadable", "texture image " + uri + ": " + err + "; surfaces drawn in a plain colour");
    std::vector<Vec3> placed;  // vertex positions as the client will see them, for the box
    for (size_t fi = 0; fi < feats.size(); ++fi) {
      for (auto& g : feats[fi].groups) {
        const TexturePlacement* tp = nullptr;
        std::string key;
        if (!g.texture.empty()) {
          tp = &placements[useByUri.at(g.texture)];
          if (tp->image < 0) {
            tp = nullptr;  // unusable texture: a plain colour
            g.color = defaultColor(SurfaceType::Wall);
          }
        }
        if (tp) {
          key = "t:" + std::to_string(tp->image);
        } else {
          char b[64];
          std::snprintf(b, sizeof b, "c:%.4f,%.4f,%.4f,%.4f", g.color[0], g.color[1], g.color[2], g.color[3]);
          key = b;
        }
        auto it = primByKey.find(key);
        int pi;
        if (it == primByKey.end()) {
          GlbMaterial mat;
          mat.baseColor = tp ? std::array<float, 4>{1, 1, 1, 1} : g.color;
          mat.image = tp ? tp->image : -1;
          pi = static_cast<int>(scene.primitives.size());
          scene.primitives.emplace_back();
          scene.primitives.back().material = static_cast<int>(scene.materials.size());
          scene.materials.push_back(mat);
          primByKey.emplace(key, pi);
        } else {
          pi = it->second;
        }
        GlbPrimitive& prim = scene.primitives[pi];
        bool useUv = scene.materials[prim.material].image >= 0;
        uint32_t base = static_cast<uint32_t>(prim.positions.size() / 3);
        for (size_t v = 0; v < g.positions.size(); ++v) {
          float rel[3];
          Vec3 seen;
          for (int k = 0; k < 3; ++k) {
            rel[k] = float(g.positions[v][k] - scene.center[k]);
            prim.positions.push_back(rel[k]);
            seen[k] = scene.center[k] + double(rel[k]);
          }
          placed.push_back(seen);
          prim.normals.insert(prim.normals.end(), g.normals[v].begin(), g.normals[v].end());
          if (useUv) {
            const Vec2f& uv = g.uvs.empty() ? Vec2f{0, 0} : g.uvs[v];
            prim.uvs.push_back(uv[0] * tp->scaleU + tp->offsetU);
            prim.uvs.push_back(uv[1] * tp->scaleV + tp->offsetV);
          }
          prim.featureIds.push_back(float(fi));
        }
        for (uint32_t idx : g.indices) prim.indices.push_back(base + idx);
      }
    }
    scene.table.schema = &schema_;
    scene.table.className = o_.className;
    scene.table.rowCount = static_cast<uint32_t>(feats.size());
    scene.table.rows.resize(feats.size());
    std::vector<uint8_t> coarse;
    TextureSampler sampler;
    for (size_t fi = 0; fi < feats.size(); ++fi) {
      if (o_.levelsOfDetail) {
        ByteWriter row;
        putRow(row, feats[fi].attrs);
        serializeCoarse(makeCoarse(feats[fi].groups, sampler, std::move(row.buf)), coarse);
      }
      scene.table.rows[fi] = std::move(feats[fi].attrs);
    }
    if (!writeContent(encode(scene, true), leaf)) return false;
    leaf.box = enuBox(scene.center, placed.data(), placed.size(), boxMargin(placed));
    leaf.boxSet = true;
    leaf.textures = scene.images.size();
    leaf.shown = feats.size();
    leaf.error = 0;
    if (o_.levelsOfDetail && !writeCoarse(leaf, coarse)) return false;
    return true;
  }

  // A parent: the buildings of its children merged and simplified (see lod.h) so that its content
  // is at most `parentFraction` of its children's bytes.
  bool writeParent(QuadNode& node, bool isRoot) {
    std::vector<CoarseFeature> input;
    double childError = 0;
    uint64_t childBytes = 0;
    std::vector<Vec3> corners;
    std::vector<uint8_t> buf;
    for (auto& c : node.children) {
      childError = std::max(childError, c.error);
      childBytes += c.bytes;
      if (c.boxSet)
        for (auto& p : c.box.corners()) corners.push_back(p);
      std::string path = coarsePath(spillDir_, c);
      std::string readError;
      if (!vfs::readAll(path, buf, readError)) {
        diag_.error("spill-read", "cannot read back the coarse buildings of a child tile from " + path +
                                      " (a damaged state from an earlier run? convert again with --full)");
        return false;
      }
      const uint8_t* p = buf.data();
      const uint8_t* end = p + buf.size();
      while (p < end) {
        input.emplace_back();
        if (!deserializeCoarse(p, end, input.back())) {
          diag_.error("spill-read", "corrupt coarse building record in " + path +
                                        " (a damaged state from an earlier run? convert again with --full)");
          return false;
        }
      }
    }
    // The content must fit the budget. The smallest target error that fits is found by bisection
    // in log scale between the children's error and the largest building's size (where nothing
    // is left to draw, which always fits), to 5 % (coarser steps would drop whole classes of
    // buildings of similar size at once). It fits when the estimate does and then the written glb
    // does (schema and table overhead are not estimated).
    const double budget = std::min(double(o_.maxTileBytes), double(childBytes) * o_.parentFraction);
    struct Trial {
      std::vector<CoarseFeature> kept;
      std::vector<uint8_t> glb;
      std::vector<Vec3> placed;
      double err = 0;
      bool fits = false;
    };
    // Textured overviews while the atlas leaves room for geometry (at most half the budget).
    OverviewTextures tex = overviewTextures(input);
    const OverviewTextures* texp = !tex.images.empty() && double(tex.bytes) <= budget / 2 ? &tex : nullptr;
    auto attempt = [&](float e) {
      Trial t;
      size_t bytes = texp ? texp->bytes : 0;
      for (auto& f : input) {
        CoarseFeature c = f;
        if (coarsen(c, e) == Representation::Dropped) {
          t.err = std::max(t.err, double(c.diagonal));
          continue;
        }
        t.err = std::max(t.err, double(c.error));
        bytes += estimatedBytes(c);
        t.kept.push_back(std::move(c));
      }
      if (!t.kept.empty() && bytes <= budget) {
        t.glb = parentContent(t.kept, texp, t.placed);
        if (t.glb.empty()) t.kept.clear();  // nothing drawable left
      }
      t.fits = t.kept.empty() || (!t.glb.empty() && t.glb.size() <= budget);
      return t;
    };
    float lo = float(std::max(0.5, childError));
    Trial best = attempt(lo);
    if (!best.fits) {
      // Above the largest building everything is left out, which always fits: bisect (in log
      // scale) between the miss and that to within 5 %.
      float maxDiagonal = 0;
      for (auto& f : input) maxDiagonal = std::max(maxDiagonal, f.diagonal);
      float hi = std::max(lo * 1.05f, maxDiagonal * 1.0001f);
      best = attempt(hi);
      for (int i = 0; i < 24 && hi > lo * 1.05f; ++i) {
        float mid = std::sqrt(lo * hi);
        Trial t = attempt(mid);
        if (t.fits) {
          hi = mid;
          best = std::move(t);
        } else {
          lo = mid;
        }
      }
    }
    std::vector<CoarseFeature>& kept = best.kept;
    std::vector<uint8_t>& glb = best.glb;
    std::vector<Vec3>& placed = best.placed;
    const double err = best.err;
    input.clear();
    input.shrink_to_fit();
    node.error = std::max(err, childError);
    node.shown = kept.size();
    if (!kept.empty()) {
      if (!writeContent(glb, node)) return false;
      for (auto& p : placed) corners.push_back(p);
    }
    if (!corners.empty()) {
      node.box = enuBox(node.children.empty() ? corners[0] : node.children[0].box.center, corners.data(),
                        corners.size(), boxMargin(placed));
      node.boxSet = true;
    }
    if (isRoot) return true;
    std::vector<uint8_t> coarse;
    for (auto& f : kept) serializeCoarse(f, coarse);
    return writeCoarse(node, coarse);
  }

 private:
  // Margin of a tile's box around its vertices: 1 cm, plus the step of 16-bit quantisation
  // (Draco, KHR_mesh_quantization) over the content's extent, where vertices may move by half.
  double boxMargin(const std::vector<Vec3>& pts) const {
    if (!(o_.draco || o_.quantize || o_.meshopt) || pts.empty()) return 0.01;
    double ext = 0;
    for (int k = 0; k < 3; ++k) {
      double lo = INFINITY, hi = -INFINITY;
      for (auto& p : pts) {
        lo = std::min(lo, p[k]);
        hi = std::max(hi, p[k]);
      }
      ext = std::max(ext, hi - lo);
    }
    return 0.01 + ext / 65534.0;
  }

  // An overview's textures: one small atlas of the textures its buildings' meshes use, each
  // downsampled to at most overviewTextureSize pixels (JPEGs decoded at 1/2..1/8 scale), made
  // once per parent and shared by every attempt at a target error.
  struct OverviewTextures {
    std::vector<GlbImage> images;
    std::unordered_map<std::string, TexturePlacement> placements;
    uint64_t bytes = 0;
  };

  OverviewTextures overviewTextures(const std::vector<CoarseFeature>& input) {
    OverviewTextures out;
    if (o_.overviewTextureSize <= 0) return out;
    std::vector<TextureUse> uses;
    std::unordered_map<std::string, size_t> byUri;
    for (auto& f : input) {
      if (f.shape != 0 || f.slots.empty()) continue;
      for (size_t v = 0; v < f.slots.size(); ++v) {
        if (f.slots[v] < 0 || size_t(f.slots[v]) >= f.textures.size()) continue;
        const std::string& uri = f.textures[size_t(f.slots[v])];
        auto [it, fresh] = byUri.emplace(uri, uses.size());
        if (fresh) uses.push_back({uri, INFINITY, -INFINITY, INFINITY, -INFINITY});
        TextureUse& u = uses[it->second];
        u.uMin = std::min(u.uMin, f.uvs[v][0]);
        u.uMax = std::max(u.uMax, f.uvs[v][0]);
        u.vMin = std::min(u.vMin, f.uvs[v][1]);
        u.vMax = std::max(u.vMax, f.uvs[v][1]);
      }
    }
    if (uses.empty()) return out;
    TextureSetOptions to;
    to.maxSize = std::min(o_.maxTextureSize, 2048);
    to.imageMaxSize = o_.overviewTextureSize;
    to.decodeMaxDim = o_.overviewTextureSize;
    to.atlas = true;
    to.webp = o_.webp;
    std::vector<TexturePlacement> placements;
    std::vector<std::pair<std::string, std::string>> errors;  // reported at the leaves already
    out.images = buildTileTextures(uses, to, placements, errors);
    for (size_t i = 0; i < uses.size(); ++i)
      if (placements[i].image >= 0) out.placements[uses[i].uri] = placements[i];
    for (auto& im : out.images) out.bytes += im.data.size();
    return out;
  }

  std::vector<uint8_t> parentContent(const std::vector<CoarseFeature>& kept, const OverviewTextures* tex,
                                     std::vector<Vec3>& placed) {
    GlbScene scene;
    Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
    for (auto& f : kept)
      for (int k = 0; k < 3; ++k) {
        lo[k] = std::min(lo[k], f.origin[k]);
        hi[k] = std::max(hi[k], f.origin[k]);
      }
    for (int k = 0; k < 3; ++k) scene.center[k] = std::round(0.5 * (lo[k] + hi[k]));
    const bool textured = tex && !tex->images.empty();
    scene.primitives.resize(textured ? 2 : 1);
    scene.materials.push_back(GlbMaterial{});  // vertex colours
    if (textured) {
      GlbMaterial m;
      m.image = 0;
      scene.materials.push_back(m);
      scene.primitives[1].material = 1;
    }
    placed.clear();
    scene.table.schema = &schema_;
    scene.table.className = o_.className;
    for (auto& f : kept) {
      // a feature whose every triangle degenerated gets no row (rows = features drawn)
      if (!appendCoarse(f, scene.center, float(scene.table.rows.size()), scene.primitives[0],
                        textured ? &scene.primitives[1] : nullptr, textured ? &tex->placements : nullptr, placed))
        continue;
      ByteReader r(f.row.data(), f.row.size());
      scene.table.rows.emplace_back();
      getRow(r, scene.table.rows.back());
    }
    scene.table.rowCount = uint32_t(scene.table.rows.size());
    if (scene.table.rows.empty()) return {};
    if (textured && !scene.primitives[1].indices.empty()) {
      scene.images = tex->images;
    } else if (textured) {
      scene.primitives.pop_back();  // nothing textured left: no image
      scene.materials.pop_back();
    }
    return encode(scene);
  }

  // A tile's content bytes: glb, or b3dm around a glb with batch ids (3D Tiles 1.0).
  // `fullDetail`: a leaf's, or (implicit tiling) a parent's own buildings. Such content wider
  // than 2.5 km (an implicit parent holds the buildings along its cell's midlines, which can run
  // across a city) is written without mesh quantization or Draco, whose 16-bit grids over that
  // extent would move vertices by more than 2 cm; overviews keep compression (their errors are
  // metres).
  std::vector<uint8_t> encode(const GlbScene& scene, bool fullDetail = false) {
    GlbOptions go;
    go.draco = o_.draco;
    go.meshopt = o_.meshopt;
    go.quantize = o_.quantize;
    if (fullDetail && (go.draco || go.meshopt || go.quantize)) {
      float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
      for (auto& p : scene.primitives)
        for (size_t i = 0; i + 2 < p.positions.size(); i += 3)
          for (int k = 0; k < 3; ++k)
            lo[k] = std::min(lo[k], p.positions[i + k]), hi[k] = std::max(hi[k], p.positions[i + k]);
      float ext = 0;
      for (int k = 0; k < 3; ++k) ext = std::max(ext, hi[k] - lo[k]);
      if (ext > 2500.0f) {
        go.draco = go.meshopt = go.quantize = false;
        if (shared_.once("wide-uncompressed"))
          diag_.info("content-uncompressed",
                     "full-detail content " + std::to_string(int(ext)) +
                         " m wide written without mesh compression (16-bit steps would exceed 2 cm)");
      }
    }
    go.batchIds = o_.tilesVersion == "1.0";
    auto glb = writeGlb(scene, go, &diag_);
    if (glb.empty() || !go.batchIds) return glb;
    return wrapB3dm(glb, scene.table);
  }

  bool writeContent(const std::vector<uint8_t>& bytes, QuadNode& node) {
    if (bytes.empty()) return false;
    std::string err;
    if (!fs::writeFileAtomic(outDir_ + "/" + tileUri(node, o_), bytes.data(), bytes.size(), err)) {
      diag_.error("output-write", err);
      return false;
    }
    node.bytes = bytes.size();
    node.written = true;
    return true;
  }

  bool writeCoarse(const QuadNode& node, const std::vector<uint8_t>& data) {
    std::string err;
    if (fs::writeFileAtomic(coarsePath(spillDir_, node), data.data(), data.size(), err)) return true;
    diag_.error("spill-write", err);
    return false;
  }

 private:
  const RefFile& refs_;
  const std::vector<PackIn>& packs_;
  const std::vector<PropertyDef>& schema_;
  const ConvertOptions& o_;
  std::string outDir_;
  std::string spillDir_;
  DiagnosticSink& diag_;
  Shared& shared_;
};

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

}  // namespace

std::vector<std::string> objectTypesFromList(const std::string& list) {
  static const std::map<std::string, std::vector<std::string>> aliases = {
      {"building", {"Building"}},
      {"road", {"Road", "Railway", "Track", "Square"}},
      {"landuse", {"LandUse"}},
      {"relief", {"ReliefFeature"}},
      {"furniture", {"CityFurniture"}},
      {"water", {"WaterBody"}},
      {"vegetation", {"PlantCover", "SolitaryVegetationObject"}},
      {"zoning",
       {"UseDistrict", "HeightControlDistrict", "FirePreventionDistrict", "ScenicDistrict", "AreaClassification",
        "SpecialUseDistrict", "ParkingPlaceDevelopmentZone", "PortZone", "ProductiveGreenZone",
        "SpecialGreenSpaceConservationDistrict", "DistrictPlan", "HighLevelUseDistrict",
        "HighRiseResidentialAttractionDistrict", "SpecialUrbanRenaissanceDistrict", "LandscapeZone", "ScenicZone"}},
      {"parcel", {"Parcel"}},
      {"all", {"*"}},
  };
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::string lower = item;
    for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto it = aliases.find(lower);
    if (it != aliases.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
    else
      out.push_back(item);
  }
  if (out == std::vector<std::string>{"Building"}) out.clear();  // the default
  return out;
}

namespace {

// ------------------------------------------------------------------ implicit tiling
// The quadtree as 3D Tiles 1.1 implicit tiling: tile and content availability in subtree files
// (subtreeLevels levels each), content at tiles/{level}/{x}/{y}.glb. Every available tile carries
// its real box and geometric error as tile metadata (semantics TILE_BOUNDING_BOX,
// TILE_GEOMETRIC_ERROR), so volumes and errors stay those of the explicit tree: a building cut by
// a quadrant boundary stays inside its tile's box, and errors are the measured ones rather than
// the root's halved per level. Levels the tree skips (one-child chains) are available tiles
// without content, with the box and error of the tile below them.

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

// `grid` is the root cell the quadtree subdivided (west, south, east, north in degrees): the root
// region is exactly that rectangle, so that a client halving it level by level finds the cell
// each tile's features were assigned to. Its heights hold every tile's box.
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

}  // namespace

namespace {

std::string optionsJson(const ConvertOptions& o) {
  nlohmann::json j;
  j["lod"] = o.lod;
  j["draco"] = o.draco;
  j["meshopt"] = o.meshopt;
  j["quantize"] = o.quantize;
  j["geoidFile"] = o.geoidFile;
  j["crsOverride"] = o.crsOverride;
  j["objectTypes"] = o.objectTypes;
  j["formatOptions"] = o.formatOptions;
  j["className"] = o.className;
  j["maxTileBytes"] = o.maxTileBytes;
  j["maxFeaturesPerTile"] = o.maxFeaturesPerTile;
  j["maxLeafDegrees"] = o.maxLeafDegrees;
  j["levelsOfDetail"] = o.levelsOfDetail;
  j["parentFraction"] = o.parentFraction;
  j["tilesVersion"] = o.tilesVersion;
  j["maxTextureSize"] = o.maxTextureSize;
  j["overviewTextureSize"] = o.overviewTextureSize;
  j["atlas"] = o.atlas;
  j["webp"] = o.webp;
  j["implicit"] = o.implicit;
  j["subtreeLevels"] = o.subtreeLevels;
  return j.dump();
}

void optionsFromJson(const std::string& text, ConvertOptions& o) {
  auto j = nlohmann::json::parse(text);
  o.lod = j["lod"];
  o.draco = j["draco"];
  o.meshopt = j["meshopt"];
  o.quantize = j["quantize"];
  o.geoidFile = j["geoidFile"];
  o.crsOverride = j["crsOverride"];
  o.objectTypes = j["objectTypes"].get<std::vector<std::string>>();
  if (j.contains("formatOptions")) o.formatOptions = j["formatOptions"].get<std::map<std::string, std::string>>();
  o.className = j["className"];
  o.maxTileBytes = j["maxTileBytes"];
  o.maxFeaturesPerTile = j["maxFeaturesPerTile"];
  o.maxLeafDegrees = j["maxLeafDegrees"];
  o.levelsOfDetail = j["levelsOfDetail"];
  o.parentFraction = j["parentFraction"];
  o.tilesVersion = j["tilesVersion"];
  o.maxTextureSize = j["maxTextureSize"];
  o.overviewTextureSize = j["overviewTextureSize"];
  o.atlas = j["atlas"];
  o.webp = j["webp"];
  o.implicit = j["implicit"];
  o.subtreeLevels = j["subtreeLevels"];
}

std::string nodeKey(const QuadNode& n) {
  return n.top ? std::string("top") : std::to_string(n.level) + "/" + std::to_string(n.x) + "/" + std::to_string(n.y);
}

// Size and modification time of an input (of the archive for "archive.zip!/entry").
// Size and modification time of an input (of the archive for "archive.zip!/entry"). The time is
// the newest of the file and of its PLATEAU appearance folder (NAME_appearance/ beside it: the
// textures), so that replacing a texture counts as a change of the input.
void statInput(const std::string& uri, uint64_t& size, int64_t& mtime) {
  std::string path = uri.substr(0, uri.find("!/"));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    size = uint64_t(st.st_size);
    mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (uri.find("!/") != std::string::npos) return;
  std::filesystem::path p(path);
  std::filesystem::path app = p.parent_path() / (p.stem().string() + "_appearance");
  std::error_code ec;
  if (!std::filesystem::is_directory(app, ec)) {
    // PLATEAU names the folder after the file without the "_op" suffix
    std::string stem = p.stem().string();
    if (stem.size() > 3 && stem.compare(stem.size() - 3, 3, "_op") == 0)
      app = p.parent_path() / (stem.substr(0, stem.size() - 3) + "_appearance");
  }
  if (!std::filesystem::is_directory(app, ec)) return;
  for (auto& e : std::filesystem::directory_iterator(app, ec)) {
    struct stat ts {};
    if (::stat(e.path().c_str(), &ts) == 0)
      mtime = std::max(mtime, int64_t(ts.st_mtim.tv_sec) * 1000000000 + ts.st_mtim.tv_nsec);
  }
}

// A pack of the previous run is usable when its files are there and its records file is as long
// as its index says (a damaged state makes its input read again, never a failed run).
bool packIntact(const std::string& base) {
  std::vector<FeatureRef> refs;
  std::vector<PackKey> keys;
  std::string err;
  if (!readPackIndex(base + ".idx", refs, err) || !readPackKeys(base + ".keys", keys, err)) return false;
  struct stat st {};
  if (::stat((base + ".bin").c_str(), &st) != 0) return false;
  uint64_t need = 0;
  for (auto& r : refs) need = std::max(need, r.offset + r.size);
  return uint64_t(st.st_size) >= need;
}

// One run: (optionally) reads inputs into packs, then tiles every pack of the run. convert()
// and merge() differ only in where the packs come from.
class Run {
 public:
  Run(const ConvertOptions& options, DiagnosticSink& diag) : o_(options), diag_(diag), shared_(o_, diag) {
    // An implicit grid cannot hold a building that crosses the edge of a child cell in that
    // child, and a parent's content would vanish under REPLACE refinement: implicit tilesets keep
    // such buildings in the parent at full detail and refine ADD, without simplified overviews.
    if (o_.implicit) o_.levelsOfDetail = false;
  }

  ConvertResult result;

  bool begin() {
    t0_ = std::chrono::steady_clock::now();
    std::string err;
    if (!out_.begin(err)) {
      diag_.error("output-dir", err);
      return false;
    }
    stateDir_ = out_.path() + "/.twin";
    packsDir_ = stateDir_ + "/packs";
    coarseDir_ = stateDir_ + "/coarse";
    std::filesystem::create_directories(packsDir_);
    std::filesystem::create_directories(coarseDir_);
    optionsJson_ = optionsJson(o_);
    // A previous run into the same directory with the same options: inputs and tiles it made
    // from unchanged data are reused (incremental).
    std::string e2;
    prevDir_ = o_.outDir + "/.twin";
    hasPrev_ = o_.incremental && prev_.load(prevDir_, e2) && prev_.optionsJson == optionsJson_;
    if (options_progress()) startProgress();
    return true;
  }

  // Inputs to read (converted into new packs) unless the previous run has them unchanged.
  bool read(const std::vector<InputFile>& inputs) {
    uint64_t totalBytes = 0;
    std::vector<uint32_t> toRead;
    std::map<std::string, const InputState*> prevByUri;
    if (hasPrev_)
      for (auto& i : prev_.inputs) prevByUri[i.uri] = &i;
    for (auto& in : inputs) {
      InputState st;
      st.uri = in.uri;
      statInput(in.uri, st.size, st.mtime);
      auto it = prevByUri.find(in.uri);
      bool reused = false;
      if (it != prevByUri.end() && it->second->size == st.size && it->second->mtime == st.mtime) {
        reused = true;
        std::string err;
        for (auto& name : it->second->packs)
          if (!packIntact(prevDir_ + "/packs/" + name)) reused = false;
        for (auto& name : it->second->packs)
          for (const char* ext : {".bin", ".idx", ".keys"})
            if (reused && !fs::linkOrCopy(prevDir_ + "/packs/" + name + ext, packsDir_ + "/" + name + ext, err))
              reused = false;
        if (reused) {
          st.packs = it->second->packs;
          st.triangles = it->second->triangles;
          st.dropped = it->second->dropped;
          st.crs = it->second->crs;
          st.geoid = it->second->geoid;
          result.inputsReused++;
        }
      }
      if (!reused) {
        toRead.push_back(uint32_t(inputs_.size()));
        totalBytes += in.bytes;
      }
      inputs_.push_back(std::move(st));
    }
    totalBytes_ = totalBytes;
    for (auto& in : inputs) result.inputBytes += in.bytes;

    const int threads = std::max(1, o_.threads);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < threads; ++i) workers.push_back(std::make_unique<Worker>(shared_, uint32_t(i), packsDir_));
    ReadOptions ro;
    ro.crsOverride = o_.crsOverride;
    ro.objectTypes = o_.objectTypes;
    ro.formatOptions = o_.formatOptions;
    ro.bytesRead = &shared_.bytesRead;
    ro.cancel = o_.cancel;
    auto readOne = [&](const InputFile& in, ObjectSink& sink, const ReadOptions& readOptions) {
      ReadStats st;
      auto reader = in.format->create();
      reader->read(in.uri, readOptions, sink, diag_, st);
      std::lock_guard lock(shared_.mutex);
      shared_.read.merge(st);
    };
    // Many files (a PLATEAU dataset: one per 1 km mesh): each thread reads whole files and
    // converts what it reads itself, no hand-off. Few files: each is parsed in parts on all
    // threads (a large CityGML file is split at member boundaries).
    const bool threadPerFile = threads == 1 || toRead.size() >= size_t(threads) * 2;
    if (threadPerFile) {
      ReadOptions inlineOptions = ro;
      inlineOptions.parallelism = 1;
      std::atomic<size_t> next{0};
      auto run = [&](Worker& w) {
        DirectSink sink(w, o_.cancel);
        for (size_t i; (i = next.fetch_add(1)) < toRead.size();) {
          if (o_.cancel && o_.cancel->load()) break;
          sink.input = toRead[i];
          readOne(inputs[toRead[i]], sink, inlineOptions);
        }
      };
      std::vector<std::thread> pool;
      for (int t = 1; t < threads; ++t) pool.emplace_back(run, std::ref(*workers[t]));
      run(*workers[0]);
      for (auto& t : pool) t.join();
    } else {
      ReadOptions partsOptions = ro;
      partsOptions.parallelism = threads;
      for (uint32_t i : toRead) {
        if (o_.cancel && o_.cancel->load()) break;
        ConcurrentSink sink(workers, o_.cancel, i);
        readOne(inputs[i], sink, partsOptions);
      }
    }
    bool ok = true;
    for (auto& w : workers) {
      for (auto& [input, name] : w->finish()) inputs_[input].packs.push_back(name);
      ok = ok && w->ok();
    }
    for (auto& [i, n] : shared_.inputTriangles) inputs_[i].triangles = n;
    for (auto& [i, n] : shared_.inputDropped) inputs_[i].dropped = n;
    for (auto& [i, c] : shared_.inputCrs) inputs_[i].crs.assign(c.begin(), c.end());
    for (auto& [i, g] : shared_.inputGeoid) inputs_[i].geoid = g;
    for (auto& st : inputs_) std::sort(st.packs.begin(), st.packs.end());
    result.read = shared_.read;
    if (o_.cancel && o_.cancel->load()) {
      diag_.error("cancelled", "conversion cancelled; nothing written");
      return false;
    }
    return ok;
  }

  // Takes the packs of finished outputs (shards) instead of reading inputs.
  bool adopt(const std::vector<std::string>& dirs) {
    std::set<std::string> seen;
    for (auto& d : dirs) {
      State st;
      std::string err;
      if (!st.load(d + "/.twin", err)) {
        diag_.error("merge-input", d + ": not a twin output with its state (" + err + ")");
        return false;
      }
      if (st.optionsJson != optionsJson_) {
        diag_.error("merge-options",
                    d + " was converted with other options than " + dirs[0] + "; shards must share every option");
        return false;
      }
      for (auto& in : st.inputs) {
        if (!seen.insert(in.uri).second) {
          diag_.error("merge-overlap", in.uri + " is in more than one shard");
          return false;
        }
        for (auto& name : in.packs)
          for (const char* ext : {".bin", ".idx", ".keys"})
            if (!fs::linkOrCopy(d + "/.twin/packs/" + name + ext, packsDir_ + "/" + name + ext, err)) {
              diag_.error("merge-input", err);
              return false;
            }
        inputs_.push_back(in);
      }
    }
    // One order whatever the shards: by input.
    std::sort(inputs_.begin(), inputs_.end(), [](const InputState& a, const InputState& b) { return a.uri < b.uri; });
    return true;
  }

  bool tile() {
    auto tRead = std::chrono::steady_clock::now();
    result.readSeconds = std::chrono::duration<double>(tRead - t0_).count();
    // ---- the packs of every input: key tables into one schema; their indexes into the sorted
    // tile index on disk (two passes over the index files: bounds, then Morton keys) ----
    std::set<std::string> sourceCrs;
    std::map<std::string, std::string> geoidByCrs;  // source CRS -> geoid grid applied to its heights
    std::vector<std::vector<PackKey>> packKeys;
    QuadNode root;
    root.west = root.south = INFINITY;
    root.east = root.north = -INFINITY;
    uint64_t total = 0;
    for (uint32_t ii = 0; ii < inputs_.size(); ++ii) {
      auto& in = inputs_[ii];
      result.triangles += in.triangles;
      result.featuresDropped += in.dropped;
      for (auto& c : in.crs) {
        sourceCrs.insert(c);
        if (!in.geoid.empty()) geoidByCrs[c] = in.geoid;
      }
      for (auto& name : in.packs) {
        PackIn p;
        p.name = name;
        p.input = ii;
        std::string base = packsDir_ + "/" + name, err;
        std::vector<FeatureRef> pr;
        std::vector<PackKey> keys;
        if (!readPackIndex(base + ".idx", pr, err) || !readPackKeys(base + ".keys", keys, err)) {
          diag_.error("spill-read", err);
          return false;
        }
        p.fd = ::open((base + ".bin").c_str(), O_RDONLY);
        if (p.fd < 0) {
          diag_.error("spill-read", "cannot open " + base + ".bin");
          return false;
        }
        for (auto& r : pr) {
          // Implicit tiling: the root cell holds every feature whole, not only its centre.
          const LonLatExtent x = o_.implicit ? featureExtent(r) : LonLatExtent{r.lon, r.lat, r.lon, r.lat};
          root.west = std::min(root.west, x.west);
          root.east = std::max(root.east, x.east);
          root.south = std::min(root.south, x.south);
          root.north = std::max(root.north, x.north);
        }
        total += pr.size();
        packKeys.push_back(std::move(keys));
        packs_.push_back(std::move(p));
      }
    }
    std::vector<std::vector<uint32_t>> observed(packs_.size());
    for (size_t pi = 0; pi < packs_.size(); ++pi)
      for (auto& k : packKeys[pi]) {
        if (observed[pi].size() <= k.index) observed[pi].resize(k.index + 1, UINT32_MAX);
        observed[pi][k.index] = shared_.schema.observeKinds(k.name, k.kinds);
      }
    std::vector<uint32_t> remap;  // observed key index -> schema position (sorted by name)
    const std::vector<PropertyDef> schema = shared_.schema.build(&remap);
    for (size_t pi = 0; pi < packs_.size(); ++pi) {
      packs_[pi].remap.assign(observed[pi].size(), UINT32_MAX);
      for (size_t k = 0; k < observed[pi].size(); ++k)
        if (observed[pi][k] != UINT32_MAX) packs_[pi].remap[k] = remap[observed[pi][k]];
    }
    uint64_t schemaHash = fnv1a64(optionsJson_);
    for (auto& d : schema) schemaHash = hashMix(hashMix(schemaHash, fnv1a64(d.name)), uint64_t(d.type));

    result.features = total;
    if (total == 0 && o_.allowEmpty && o_.keepState) {
      // A shard with nothing in its share: its state only, so that `twin merge` can take it.
      State state;
      state.optionsJson = optionsJson_;
      state.inputs = inputs_;
      std::string err;
      if (!state.save(stateDir_, err) || !out_.commit(err)) {
        diag_.error("output-write", err);
        return false;
      }
      result.ok = true;
      return true;
    }
    if (total == 0) {
      diag_.error("nothing-converted", "no building could be converted; no tileset written");
      return false;
    }
    // square-ish root so quadrants stay well shaped
    // A square root cell (degrees) so that quadrants stay well shaped, moved where needed to stay
    // on the globe ([-180, 180] x [-90, 90]: implicit tiling writes it as the root region); data
    // spanning more latitude than a square can hold there gets a rectangle instead.
    const double span = std::max(root.east - root.west, root.north - root.south) * 1.0000001 + 1e-9;
    double spanX = std::min(span, 360.0), spanY = std::min(span, 180.0);
    spanX = std::max(spanX, (root.east - root.west) * 1.0000001 + 1e-9);
    spanY = std::max(spanY, (root.north - root.south) * 1.0000001 + 1e-9);
    root.west = std::max(root.west, -180.0);
    root.south = std::max(root.south, -90.0);
    if (root.west + spanX > 180.0) root.west = std::max(-180.0, 180.0 - spanX);
    if (root.south + spanY > 90.0) root.south = std::max(-90.0, 90.0 - spanY);
    root.east = std::min(180.0, root.west + spanX);
    root.north = std::min(90.0, root.south + spanY);
    spanX = root.east - root.west;
    spanY = root.north - root.south;
    const std::array<double, 4> grid{root.west, root.south, root.east, root.north};
    {
      // Deterministic order regardless of threads, shards and packs: position (Morton code in the
      // root square), then size, then id hash. External sort: memory bounded by the run size.
      const std::string tmp = stateDir_ + "/tmp";
      std::filesystem::create_directories(tmp);
      RefSorter sorter(tmp, o_.sortRunRecords);
      std::string err;
      const double cells = double(1u << 31);
      for (uint32_t pi = 0; pi < packs_.size(); ++pi) {
        std::vector<FeatureRef> pr;
        if (!readPackIndex(packsDir_ + "/" + packs_[pi].name + ".idx", pr, err)) {
          diag_.error("spill-read", err);
          return false;
        }
        for (auto& r : pr) {
          r.pack = pi;
          r.input = packs_[pi].input;
          auto cellX = [&](double v) { return uint32_t(std::clamp((v - root.west) / spanX * cells, 0.0, cells - 1)); };
          auto cellY = [&](double v) { return uint32_t(std::clamp((v - root.south) / spanY * cells, 0.0, cells - 1)); };
          SortedRef sr;
          if (o_.implicit) {
            // The deepest level whose cell holds the feature whole; the code of that cell.
            const LonLatExtent x = featureExtent(r);
            const uint32_t x0 = cellX(x.west), x1 = cellX(x.east);
            const uint32_t y0 = cellY(x.south), y1 = cellY(x.north);
            // A feature reaching past the root cell (only at the poles or the antimeridian) is
            // kept in the root, which holds everything.
            const bool past = x.west < root.west || x.east > root.east || x.south < root.south || x.north > root.north;
            int level = past ? 0 : 31;
            while (level > 0 &&
                   ((x0 >> (31 - level)) != (x1 >> (31 - level)) || (y0 >> (31 - level)) != (y1 >> (31 - level))))
              --level;
            const int drop = 31 - level;
            r.level = uint8_t(level);
            sr.morton = level == 0 ? 0 : morton31((x0 >> drop) << drop, (y0 >> drop) << drop);
          } else {
            sr.morton = morton31(cellX(r.lon), cellY(r.lat));
          }
          sr.ref = r;
          if (!sorter.add(sr, err)) {
            diag_.error("spill-write", err);
            return false;
          }
        }
      }
      if (!sorter.finish(tmp + "/index.bin", err) || !refFile_.open(tmp + "/index.bin", err)) {
        diag_.error("spill-write", err);
        return false;
      }
    }
    root.begin = 0;
    root.end = refFile_.size();
    {
      std::string err;
      if (!split(root, refFile_, o_, err)) {
        diag_.error("spill-read", err);
        return false;
      }
    }
    const RefFile& refs = refFile_;
    // A root that is a single leaf still gets a parent: with levels of detail its overview, else
    // a tile without content whose error means something.
    QuadNode wrapper;
    QuadNode* tree = &root;
    if (root.children.empty() && !o_.implicit) {
      wrapper.top = true;
      wrapper.maxDiagonal = root.maxDiagonal;
      wrapper.west = root.west;
      wrapper.south = root.south;
      wrapper.east = root.east;
      wrapper.north = root.north;
      wrapper.children.push_back(std::move(root));
      tree = &wrapper;
    }
    std::vector<QuadNode*> leaves;
    collectLeaves(*tree, leaves);
    std::vector<std::vector<QuadNode*>> parentsByDepth;
    if (o_.levelsOfDetail) collectParents(*tree, parentsByDepth, 0);
    size_t parentCount = 0;
    for (auto& l : parentsByDepth) parentCount += l.size();

    // ---- what each tile is made of: unchanged tiles of the previous run are kept ----
    std::vector<uint64_t> inputFp(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) inputFp[i] = inputs_[i].fingerprint();
    std::unordered_map<const QuadNode*, uint64_t> hashes;
    std::function<uint64_t(const QuadNode&)> hashOf = [&](const QuadNode& n) {
      uint64_t h = hashMix(schemaHash, fnv1a64(nodeKey(n)));
      std::vector<SortedRef> range;
      if (n.contentEnd > n.begin && refs.read(n.begin, n.contentEnd - n.begin, range))
        for (auto& r : range) h = hashMix(hashMix(h, inputFp[r.ref.input]), r.ref.idHash);
      for (auto& c : n.children) h = hashMix(h, hashOf(c));
      hashes[&n] = h;
      return h;
    };
    hashOf(*tree);
    std::unordered_map<std::string, const TileState*> prevTiles;
    if (hasPrev_)
      for (auto& t : prev_.tiles) prevTiles[t.key] = &t;
    auto reuse = [&](QuadNode& n) {
      auto it = prevTiles.find(nodeKey(n));
      if (it == prevTiles.end() || it->second->hash != hashes[&n]) return false;
      const TileState& t = *it->second;
      std::string err;
      if (t.content && !fs::linkOrCopy(o_.outDir + "/" + tileUri(n, o_), out_.path() + "/" + tileUri(n, o_), err))
        return false;
      std::string coarse = coarsePath(prevDir_ + "/coarse", n);
      if (o_.levelsOfDetail && &n != tree && !fs::linkOrCopy(coarse, coarsePath(coarseDir_, n), err)) return false;
      n.written = t.content;
      n.boxSet = t.boxSet;
      n.box = OrientedBox::fromArray(t.box);
      n.error = t.error;
      n.bytes = t.bytes;
      n.textures = t.textures;
      n.shown = t.shown;
      return true;
    };

    // ---- write tiles: leaves, then parents level by level from the deepest ----
    phase_ = 1;
    tilesTotal_ = leaves.size() + parentCount;
    std::atomic<bool> writeFailed{false};
    std::atomic<uint64_t> reused{0};
    const int threads = std::max(1, o_.threads);
    auto runPool = [&](const std::vector<QuadNode*>& nodes, bool parents) {
      std::atomic<size_t> next{0};
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          TileWriter tw(refs, packs_, schema, o_, out_.path(), coarseDir_, diag_, shared_);
          for (size_t i; (i = next.fetch_add(1)) < nodes.size();) {
            if (writeFailed.load() || (o_.cancel && o_.cancel->load())) break;
            QuadNode& n = *nodes[i];
            bool ok;
            if (reuse(n)) {
              ok = true;
              reused.fetch_add(1);
            } else {
              ok = parents ? tw.writeParent(n, &n == tree) : tw.write(n);
            }
            if (!ok) writeFailed = true;
            tilesDone_.fetch_add(1);
          }
        });
      for (auto& t : pool) t.join();
    };
    auto tLeaves = std::chrono::steady_clock::now();
    runPool(leaves, false);
    auto tParents = std::chrono::steady_clock::now();
    for (size_t d = parentsByDepth.size(); d-- > 0 && !writeFailed.load();) runPool(parentsByDepth[d], true);
    result.leafSeconds = std::chrono::duration<double>(tParents - tLeaves).count();
    result.parentSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tParents).count();
    if (o_.cancel && o_.cancel->load()) {
      diag_.error("cancelled", "conversion cancelled; nothing written");
      return false;
    }
    if (writeFailed.load()) {
      diag_.error("output-write", "writing tiles failed; no tileset written");
      return false;
    }
    State state;
    state.optionsJson = optionsJson_;
    state.inputs = inputs_;
    std::function<void(const QuadNode&)> tally = [&](const QuadNode& n) {
      if (n.written) {
        result.outputBytes += n.bytes;
        result.textures += n.textures;
        result.tiles++;
        if (n.children.empty()) result.leafBytes += n.bytes;
      }
      if (n.written || n.boxSet) {
        TileState t;
        t.key = nodeKey(n);
        t.hash = hashes[&n];
        t.content = n.written;
        t.boxSet = n.boxSet;
        t.box = n.box.toArray();
        t.error = n.error;
        t.bytes = n.bytes;
        t.textures = n.textures;
        t.shown = n.shown;
        state.tiles.push_back(t);
      }
      for (auto& c : n.children) tally(c);
    };
    tally(*tree);
    result.inputs = inputs_.size();
    result.tilesReused = reused.load();
    result.tilesWritten = leaves.size() + parentCount - result.tilesReused;
    result.rootBytes = tree->bytes;
    result.rootError = tree->error;

    TileNode rootTile = assemble(*tree, o_);
    rootTile.refine = o_.levelsOfDetail ? "REPLACE" : "ADD";
    TilesetInfo info;
    info.generator = "twin 0.1.0";
    info.version = o_.tilesVersion;
    info.sourceCrs.assign(sourceCrs.begin(), sourceCrs.end());
    // The geoid grids applied, each named once (sorted), and per source CRS.
    std::set<std::string> geoids;
    for (auto& [c, g] : geoidByCrs) geoids.insert(g);
    std::string geoid;
    for (auto& g : geoids) geoid += (geoid.empty() ? "" : "; ") + g;
    info.geoid = geoid;
    info.geoidByCrs = geoidByCrs;
    info.numbers["features"] = double(result.features);
    info.numbers["tiles"] = double(result.tiles);
    info.objectTypes = o_.objectTypes;
    // The tileset's own error (nothing drawn at all): at least the largest building.
    info.geometricError = std::max(rootTile.geometricError, double(tree->maxDiagonal));
    std::string json;
    if (o_.implicit) {
      std::string err2;
      json = implicitTileset(*tree, grid, rootTile.refine, info, out_.path(), o_, err2);
      if (json.empty()) {
        diag_.error("output-write", err2);
        return false;
      }
    } else {
      json = tilesetJson(rootTile, info);
    }
    result.outputBytes += json.size();
    for (auto& p : packs_)
      if (p.fd >= 0) ::close(p.fd);
    packs_.clear();
    std::string err;
    std::filesystem::remove_all(stateDir_ + "/tmp");  // the sorted tile index
    if (!o_.keepState) std::filesystem::remove_all(stateDir_);
    if ((o_.keepState && !state.save(stateDir_, err)) ||
        !fs::writeFileAtomic(out_.path() + "/tileset.json", json, err) || !out_.commit(err)) {
      diag_.error("output-write", err);
      return false;
    }
    result.sourceCrs = sourceCrs;
    result.geoid = geoid;
    result.geoidByCrs = geoidByCrs;
    result.ok = true;
    auto tEnd = std::chrono::steady_clock::now();
    result.seconds = std::chrono::duration<double>(tEnd - t0_).count();
    result.tileSeconds = std::chrono::duration<double>(tEnd - tRead).count();
    return true;
  }

  ~Run() {
    for (auto& p : packs_)
      if (p.fd >= 0) ::close(p.fd);
    stopProgress();
  }

  void stopProgress() {
    done_ = true;
    if (progressThread_.joinable()) progressThread_.join();
  }

 private:
  ConvertOptions o_;
  DiagnosticSink& diag_;
  Shared shared_;
  fs::StagedDirectory out_{o_.outDir};
  std::string stateDir_, packsDir_, coarseDir_, prevDir_, optionsJson_;
  State prev_;
  bool hasPrev_ = false;
  std::vector<InputState> inputs_;
  std::vector<PackIn> packs_;
  RefFile refFile_;
  std::chrono::steady_clock::time_point t0_;
  uint64_t totalBytes_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> phase_{0};
  std::atomic<uint64_t> tilesDone_{0}, tilesTotal_{0};
  std::thread progressThread_;

  bool options_progress() const { return bool(o_.progress); }

  void startProgress() {
    progressThread_ = std::thread([this] {
      while (!done_.load()) {
        Progress p;
        if (phase_.load() == 0) {
          p.phase = "reading";
          p.done = shared_.bytesRead.load();
          p.total = totalBytes_;
        } else {
          p.phase = "writing tiles";
          p.done = tilesDone_.load();
          p.total = tilesTotal_.load();
        }
        p.features = shared_.features.load();
        o_.progress(p);
        for (int i = 0; i < 4 && !done_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
};

}  // namespace

ConvertResult convert(const std::vector<InputFile>& inputs, const ConvertOptions& options, DiagnosticSink& diag) {
  size_t clouds = 0;
  for (auto& in : inputs) clouds += in.format && in.format->pointCloud;
  if (clouds && clouds != inputs.size()) {
    diag.error("inputs-mixed", std::to_string(clouds) + " of the " + std::to_string(inputs.size()) +
                                   " inputs are point clouds: convert point clouds and city objects into separate "
                                   "tilesets");
    return {};
  }
  if (clouds) return convertPointCloud(inputs, options, diag);
  Run run(options, diag);
  if (run.begin() && run.read(inputs)) run.tile();
  run.stopProgress();
  return run.result;
}

ConvertResult merge(const std::vector<std::string>& shardDirs, const ConvertOptions& mergeOptions,
                    DiagnosticSink& diag) {
  ConvertResult failed;
  if (shardDirs.empty()) {
    diag.error("merge-input", "no shard outputs given");
    return failed;
  }
  State first;
  std::string err;
  if (!first.load(shardDirs[0] + "/.twin", err)) {
    diag.error("merge-input", shardDirs[0] + ": not a twin output with its state (" + err + ")");
    return failed;
  }
  ConvertOptions o = mergeOptions;
  optionsFromJson(first.optionsJson, o);  // the shards' options, so the result equals one run
  Run run(o, diag);
  if (run.begin() && run.adopt(shardDirs)) run.tile();
  run.stopProgress();
  return run.result;
}

}  // namespace twin::tiler
