#include "twin/tiler/convert.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "twin/crs.h"
#include "twin/fsutil.h"
#include "twin/glb_writer.h"
#include "twin/hash.h"
#include "twin/mesh.h"
#include "twin/metadata.h"
#include "twin/tileset.h"
#include "bytes.h"
#include "lod.h"

namespace twin::tiler {

namespace {

// ------------------------------------------------------------------ spill records

struct FeatureRef {
  uint32_t worker;
  uint64_t offset;
  uint32_t size;
  double lon, lat;  // centre, degrees
  float diagonal;   // bounding-box diagonal, metres
  uint64_t idHash;  // FNV-1a of the id: a stable tie-break for ordering
};

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
  std::set<std::string> sourceCrs;
  std::string geoid;
  ReadStats read;
  uint64_t dropped = 0;
  uint64_t triangles = 0;
  std::atomic<uint64_t> features{0};
  std::atomic<uint64_t> bytesRead{0};

  Shared(const ConvertOptions& o, DiagnosticSink& d) : options(o), diag(d) {}

  bool once(const std::string& key) {
    std::lock_guard lock(mutex);
    return reportedOnce.insert(key).second;
  }
};

class Worker {
 public:
  Worker(Shared& shared, uint32_t index, const std::string& spillPath) : s_(shared), index_(index), path_(spillPath) {
    fd_ = ::open(spillPath.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0644);
  }
  ~Worker() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0 && !writeFailed_; }
  int fd() const { return fd_; }
  std::vector<FeatureRef>& refs() { return refs_; }

  void process(CityObject& obj) {
    if (obj.srs.empty()) {
      if (s_.once("crs-missing:" + obj.sourceFile))
        s_.diag.error("crs-missing", "no srsName in the file and no --crs given; its objects are skipped", obj.sourceFile,
                      obj.sourceLine, obj.id);
      drop();
      return;
    }
    CrsTransform* crs = transformFor(obj);
    if (!crs) {
      drop();
      return;
    }
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
      s_.diag.warning("object-no-geometry",
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
      uint8_t bit = fa.value.index() == 0 ? (std::get<int64_t>(fa.value) > INT32_MAX ||
                                                     std::get<int64_t>(fa.value) <= INT32_MIN
                                                 ? 2
                                                 : 1)
                    : fa.value.index() == 1 ? 4
                                            : 8;
      auto it = keyCache_.find(fa.key);
      uint32_t idx;
      if (it == keyCache_.end() || !(it->second.second & bit)) {
        std::lock_guard lock(s_.mutex);
        idx = s_.schema.observe(fa.key, fa.value);
        auto& e = keyCache_[fa.key];
        e.first = idx;
        e.second |= bit;
      } else {
        idx = it->second.first;
      }
      attrs_.push_back({idx, std::move(fa.value)});
    }
    ByteWriter w;
    serialize(obj.id, attrs_, mesh_, w);
    FeatureRef ref;
    ref.worker = index_;
    ref.offset = offset_;
    ref.size = static_cast<uint32_t>(w.buf.size());
    ref.idHash = fnv1a64(obj.id);
    Vec3 c{(mesh_.min[0] + mesh_.max[0]) / 2, (mesh_.min[1] + mesh_.max[1]) / 2, (mesh_.min[2] + mesh_.max[2]) / 2};
    Vec3 llh = ecefToLonLatHeight(c);
    ref.lon = llh[0];
    ref.lat = llh[1];
    ref.diagonal = float(std::sqrt(std::pow(mesh_.max[0] - mesh_.min[0], 2) + std::pow(mesh_.max[1] - mesh_.min[1], 2) +
                                   std::pow(mesh_.max[2] - mesh_.min[2], 2)));
    if (::pwrite(fd_, w.buf.data(), w.buf.size(), off_t(offset_)) != ssize_t(w.buf.size())) {
      if (!writeFailed_) s_.diag.error("spill-write", "cannot write the spill file " + path_ + " (disk full?)");
      writeFailed_ = true;
      return;
    }
    offset_ += w.buf.size();
    refs_.push_back(ref);
    s_.features.fetch_add(1);
  }

  void finish() {
    std::lock_guard lock(s_.mutex);
    s_.triangles += stats_.triangles;
  }

 private:
  Shared& s_;
  uint32_t index_;
  std::string path_;
  int fd_ = -1;
  bool writeFailed_ = false;
  uint64_t offset_ = 0;
  std::vector<FeatureRef> refs_;
  std::unordered_map<std::string, std::unique_ptr<CrsTransform>> crs_;
  std::unordered_map<std::string, std::pair<uint32_t, uint8_t>> keyCache_;
  FeatureMesh mesh_;
  MeshStats stats_;
  std::vector<std::pair<uint32_t, PropertyValue>> attrs_;

  void drop() {
    std::lock_guard lock(s_.mutex);
    s_.dropped++;
  }

  CrsTransform* transformFor(const CityObject& obj) {
    auto it = crs_.find(obj.srs);
    if (it != crs_.end()) return it->second.get();
    GeoidOptions g;
    g.gridFile = s_.options.geoidFile;
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
    {
      std::lock_guard lock(s_.mutex);
      s_.sourceCrs.insert(t.srs());
      if (!t.geoidGrid().empty()) s_.geoid = t.geoidGrid();
    }
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
  bool accept(CityObject&& o) override {
    w_.process(o);
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
  ConcurrentSink(std::vector<std::unique_ptr<Worker>>& workers, const std::atomic<bool>* cancel)
      : workers_(workers), cancel_(cancel) {}
  bool accept(CityObject&& o) override {
    Worker* w = workerForThisThread();
    if (!w) return false;
    w->process(o);
    return !(cancel_ && cancel_->load());
  }

 private:
  std::vector<std::unique_ptr<Worker>>& workers_;
  const std::atomic<bool>* cancel_;
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
  std::vector<uint32_t> features;  // leaf only
  std::vector<QuadNode> children;
  float maxDiagonal = 0;
  bool top = false;  // the overview parent added above a root that is a single leaf
  // results of writing
  OrientedBox box;
  bool written = false;    // has content
  bool boxSet = false;
  double error = 0;        // geometric error
  uint64_t bytes = 0;      // content bytes
  uint64_t textures = 0;
  uint64_t shown = 0;      // features in the content
};

void split(QuadNode& node, const std::vector<FeatureRef>& refs, const ConvertOptions& o) {
  uint64_t bytes = 0;
  float diag = 0;
  for (uint32_t f : node.features) {
    bytes += refs[f].size;
    diag = std::max(diag, refs[f].diagonal);
  }
  node.maxDiagonal = diag;
  // Leaves stay small enough in extent for float32 positions (2 km: sub-millimetre steps) and for
  // culling, whatever their size in bytes.
  const bool wide = (node.east - node.west) > o.maxLeafDegrees || (node.north - node.south) > o.maxLeafDegrees;
  if ((bytes <= o.maxTileBytes && node.features.size() <= o.maxFeaturesPerTile && !wide) ||
      node.features.size() <= 1 || node.level >= 24)
    return;
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
  }
  for (uint32_t f : node.features) {
    int i = (refs[f].lon >= mx ? 1 : 0) + (refs[f].lat >= my ? 2 : 0);
    kids[i].features.push_back(f);
  }
  int nonEmpty = 0;
  for (auto& k : kids) nonEmpty += !k.features.empty();
  if (nonEmpty == 1 && (node.east - node.west) < 1e-9) return;  // all at one point
  if (nonEmpty == 1) {
    // Everything in one quadrant: this node becomes that quadrant (no chain of one-child tiles).
    for (auto& k : kids)
      if (!k.features.empty()) {
        node.level = k.level;
        node.x = k.x;
        node.y = k.y;
        node.west = k.west;
        node.east = k.east;
        node.south = k.south;
        node.north = k.north;
      }
    split(node, refs, o);
    return;
  }
  node.features.clear();
  node.features.shrink_to_fit();
  for (auto& k : kids)
    if (!k.features.empty()) {
      node.children.push_back(std::move(k));
      split(node.children.back(), refs, o);
    }
}

void collectLeaves(QuadNode& n, std::vector<QuadNode*>& out) {
  if (n.children.empty()) {
    out.push_back(&n);
    return;
  }
  for (auto& c : n.children) collectLeaves(c, out);
}

std::string tileUri(const QuadNode& n) {
  if (n.top) return "tiles/top.glb";
  return "tiles/" + std::to_string(n.level) + "/" + std::to_string(n.x) + "/" + std::to_string(n.y) + ".glb";
}

// ------------------------------------------------------------------ tile writing

std::string coarsePath(const std::string& spillDir, const QuadNode& n) {
  return spillDir + "/c" + (n.top ? std::string("top") : std::to_string(n.level) + "-" + std::to_string(n.x) + "-" +
                                                             std::to_string(n.y)) + ".bin";
}

bool readWholeFile(const std::string& path, std::vector<uint8_t>& out) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  out.clear();
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return true;
}

class TileWriter {
 public:
  TileWriter(const std::vector<FeatureRef>& refs, const std::vector<int>& fds, const std::vector<PropertyDef>& schema,
             const std::vector<uint32_t>& remap,
             const ConvertOptions& o, const std::string& outDir, const std::string& spillDir, DiagnosticSink& diag,
             Shared& shared)
      : refs_(refs), fds_(fds), schema_(schema), remap_(remap), o_(o), outDir_(outDir), spillDir_(spillDir),
        diag_(diag), shared_(shared) {}

  // A leaf: full-detail buildings, with textures. With levels of detail, also the coarse forms of
  // its buildings for the parent.
  bool write(QuadNode& leaf) {
    std::vector<SpilledFeature> feats(leaf.features.size());
    std::vector<uint8_t> buf;
    Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < leaf.features.size(); ++i) {
      const FeatureRef& r = refs_[leaf.features[i]];
      buf.resize(r.size);
      if (::pread(fds_[r.worker], buf.data(), r.size, off_t(r.offset)) != ssize_t(r.size) ||
          !deserialize(buf.data(), buf.size(), feats[i])) {
        diag_.error("spill-read", "cannot read back a converted building from the spill file");
        return false;
      }
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
    std::unordered_map<std::string, int> imageByUri;
    std::vector<Vec3> placed;  // vertex positions as the client will see them, for the box
    for (size_t fi = 0; fi < feats.size(); ++fi) {
      for (auto& g : feats[fi].groups) {
        std::string key;
        if (!g.texture.empty()) {
          key = "t:" + g.texture;
        } else {
          char b[64];
          std::snprintf(b, sizeof b, "c:%.4f,%.4f,%.4f,%.4f", g.color[0], g.color[1], g.color[2], g.color[3]);
          key = b;
        }
        auto it = primByKey.find(key);
        int pi;
        if (it == primByKey.end()) {
          GlbMaterial mat;
          mat.baseColor = g.color;
          if (!g.texture.empty()) {
            auto im = imageByUri.find(g.texture);
            if (im == imageByUri.end()) {
              GlbImage img;
              std::string err;
              int idx = -1;
              if (loadTextureImage(g.texture, img, err)) {
                idx = static_cast<int>(scene.images.size());
                scene.images.push_back(std::move(img));
              } else if (shared_.once("texture:" + g.texture)) {
                diag_.warning("texture-missing", "texture image " + g.texture + ": " + err +
                                                     "; surfaces drawn in a plain colour",
                              {}, 0, feats[fi].id);
              }
              im = imageByUri.emplace(g.texture, idx).first;
            }
            mat.image = im->second;
            if (mat.image < 0) mat.baseColor = defaultColor(SurfaceType::Wall);
          }
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
            prim.uvs.push_back(uv[0]);
            prim.uvs.push_back(uv[1]);
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
      for (auto& kv : feats[fi].attrs) kv.first = remap_[kv.first];
      if (o_.levelsOfDetail) {
        ByteWriter row;
        putRow(row, feats[fi].attrs);
        serializeCoarse(makeCoarse(feats[fi].groups, sampler, std::move(row.buf)), coarse);
      }
      scene.table.rows[fi] = std::move(feats[fi].attrs);
    }
    GlbOptions go;
    go.draco = o_.draco;
    if (!writeContent(writeGlb(scene, go, &diag_), leaf)) return false;
    leaf.box = enuBox(scene.center, placed.data(), placed.size(), 0.01);
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
      if (!readWholeFile(path, buf)) {
        diag_.error("spill-read", "cannot read back the coarse buildings of a child tile from " + path);
        return false;
      }
      const uint8_t* p = buf.data();
      const uint8_t* end = p + buf.size();
      while (p < end) {
        input.emplace_back();
        if (!deserializeCoarse(p, end, input.back())) {
          diag_.error("spill-read", "corrupt coarse building record in " + path);
          return false;
        }
      }
      ::unlink(path.c_str());
    }
    // The content must fit the budget. The smallest target error that fits is found by raising
    // it by 1.4x until it fits, then bisecting between the last miss and the first fit (coarser
    // steps would drop whole classes of buildings of similar size at once). It fits when the
    // estimate does and then the written glb does (schema and table overhead are not estimated).
    const double budget = std::min(double(o_.maxTileBytes), double(childBytes) * o_.parentFraction);
    struct Trial {
      std::vector<CoarseFeature> kept;
      std::vector<uint8_t> glb;
      std::vector<Vec3> placed;
      double err = 0;
      bool fits = false;
    };
    auto attempt = [&](float e) {
      Trial t;
      size_t bytes = 0;
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
        t.glb = parentContent(t.kept, t.placed);
        if (t.glb.empty()) t.kept.clear();  // nothing drawable left
      }
      t.fits = t.kept.empty() || (!t.glb.empty() && t.glb.size() <= budget);
      return t;
    };
    float lo = float(std::max(0.5, 2.0 * childError));
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
    if (getenv("TWIN_DEBUG_LOD"))
      std::fprintf(stderr, "parent %d/%u/%u: in %zu kept %zu e %.1f err %.1f budget %.0f glb %zu children %llu\n",
                   node.level, node.x, node.y, input.size(), kept.size(), lo, err, budget, glb.size(),
                   (unsigned long long)childBytes);
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
                        corners.size(), 0.01);
      node.boxSet = true;
    }
    if (isRoot) return true;
    std::vector<uint8_t> coarse;
    for (auto& f : kept) serializeCoarse(f, coarse);
    return writeCoarse(node, coarse);
  }

 private:
  std::vector<uint8_t> parentContent(const std::vector<CoarseFeature>& kept, std::vector<Vec3>& placed) {
    GlbScene scene;
    Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
    for (auto& f : kept)
      for (int k = 0; k < 3; ++k) {
        lo[k] = std::min(lo[k], f.origin[k]);
        hi[k] = std::max(hi[k], f.origin[k]);
      }
    for (int k = 0; k < 3; ++k) scene.center[k] = std::round(0.5 * (lo[k] + hi[k]));
    scene.primitives.emplace_back();
    scene.materials.push_back(GlbMaterial{});
    placed.clear();
    scene.table.schema = &schema_;
    scene.table.className = o_.className;
    for (auto& f : kept) {
      // a feature whose every triangle degenerated gets no row (rows = features drawn)
      if (!appendCoarse(f, scene.center, float(scene.table.rows.size()), scene.primitives[0], placed)) continue;
      ByteReader r(f.row.data(), f.row.size());
      scene.table.rows.emplace_back();
      getRow(r, scene.table.rows.back());
    }
    scene.table.rowCount = uint32_t(scene.table.rows.size());
    if (scene.table.rows.empty()) return {};
    GlbOptions go;
    go.draco = o_.draco;
    return writeGlb(scene, go, &diag_);
  }

  bool writeContent(const std::vector<uint8_t>& bytes, QuadNode& node) {
    if (bytes.empty()) return false;
    std::string err;
    if (!fs::writeFileAtomic(outDir_ + "/" + tileUri(node), bytes.data(), bytes.size(), err)) {
      diag_.error("output-write", err);
      return false;
    }
    node.bytes = bytes.size();
    node.written = true;
    return true;
  }

  bool writeCoarse(const QuadNode& node, const std::vector<uint8_t>& data) {
    std::string path = coarsePath(spillDir_, node);
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    bool ok = fd >= 0 && (data.empty() || ::write(fd, data.data(), data.size()) == ssize_t(data.size()));
    if (fd >= 0) ::close(fd);
    if (!ok) diag_.error("spill-write", "cannot write " + path + " (disk full?)");
    return ok;
  }

 private:
  const std::vector<FeatureRef>& refs_;
  const std::vector<int>& fds_;
  const std::vector<PropertyDef>& schema_;
  const std::vector<uint32_t>& remap_;
  const ConvertOptions& o_;
  std::string outDir_;
  std::string spillDir_;
  DiagnosticSink& diag_;
  Shared& shared_;
};

TileNode assemble(const QuadNode& q, bool levelsOfDetail) {
  TileNode t;
  if (q.written) t.contentUri = tileUri(q);
  t.geometricError = q.error;
  std::vector<Vec3> corners;
  if (q.boxSet)
    for (auto& p : q.box.corners()) corners.push_back(p);
  for (auto& qc : q.children) {
    TileNode child = assemble(qc, levelsOfDetail);
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
        "SpecialGreenSpaceConservationDistrict", "DistrictPlan", "HighLevelUseDistrict", "HighRiseResidentialAttractionDistrict",
        "SpecialUrbanRenaissanceDistrict", "LandscapeZone", "ScenicZone"}},
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

ConvertResult convert(const std::vector<InputFile>& inputs, const ConvertOptions& options, DiagnosticSink& diag) {
  auto t0 = std::chrono::steady_clock::now();
  ConvertResult result;
  Shared shared(options, diag);
  uint64_t totalBytes = 0;
  for (auto& in : inputs) totalBytes += in.bytes;
  result.inputBytes = totalBytes;

  fs::StagedDirectory out(options.outDir);
  std::string err;
  if (!out.begin(err)) {
    diag.error("output-dir", err);
    return result;
  }
  std::string spillDir = out.path() + "/.spill";
  std::filesystem::create_directories(spillDir);

  const int threads = std::max(1, options.threads);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i)
    workers.push_back(std::make_unique<Worker>(shared, uint32_t(i), spillDir + "/w" + std::to_string(i) + ".bin"));
  for (auto& w : workers)
    if (!w->ok()) {
      diag.error("spill-write", "cannot create spill files in " + spillDir);
      return result;
    }

  // Progress reporting thread.
  std::atomic<bool> done{false};
  std::atomic<int> phase{0};
  std::atomic<uint64_t> tilesDone{0}, tilesTotal{0};
  std::thread progressThread;
  if (options.progress) {
    progressThread = std::thread([&] {
      while (!done.load()) {
        Progress p;
        if (phase.load() == 0) {
          p.phase = "reading";
          p.done = shared.bytesRead.load();
          p.total = totalBytes;
        } else {
          p.phase = "writing tiles";
          p.done = tilesDone.load();
          p.total = tilesTotal.load();
        }
        p.features = shared.features.load();
        options.progress(p);
        for (int i = 0; i < 4 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  auto stopProgress = [&] {
    done = true;
    if (progressThread.joinable()) progressThread.join();
  };

  // ---- read + convert ----
  ReadOptions ro;
  ro.crsOverride = options.crsOverride;
  ro.objectTypes = options.objectTypes;
  ro.bytesRead = &shared.bytesRead;
  ro.cancel = options.cancel;
  auto readOne = [&](const InputFile& in, ObjectSink& sink, const ReadOptions& readOptions) {
    ReadStats st;
    auto reader = in.format->create();
    reader->read(in.uri, readOptions, sink, diag, st);
    std::lock_guard lock(shared.mutex);
    shared.read.merge(st);
  };
  // Many files (a PLATEAU dataset: one per 1 km mesh): each thread reads whole files and converts
  // what it reads itself, no hand-off. Few files: readers (several parts of a large file at once)
  // feed worker threads through a bounded queue.
  const bool threadPerFile = threads == 1 || inputs.size() >= size_t(threads) * 2;
  if (threadPerFile) {
    ReadOptions inlineOptions = ro;
    inlineOptions.parallelism = 1;
    std::atomic<size_t> next{0};
    auto run = [&](Worker& w) {
      DirectSink sink(w, options.cancel);
      for (size_t i; (i = next.fetch_add(1)) < inputs.size();) {
        if (options.cancel && options.cancel->load()) break;
        readOne(inputs[i], sink, inlineOptions);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(run, std::ref(*workers[t]));
    run(*workers[0]);
    for (auto& t : pool) t.join();
  } else {
    // Few files: one after the other, each parsed in parts on all threads (a large CityGML file
    // is split at member boundaries), every thread converting what it parses.
    ReadOptions partsOptions = ro;
    partsOptions.parallelism = threads;
    for (auto& in : inputs) {
      if (options.cancel && options.cancel->load()) break;
      ConcurrentSink sink(workers, options.cancel);
      readOne(in, sink, partsOptions);
    }
  }
  for (auto& w : workers) w->finish();
  auto tRead = std::chrono::steady_clock::now();
  result.readSeconds = std::chrono::duration<double>(tRead - t0).count();
  result.read = shared.read;
  result.featuresDropped = shared.dropped;
  result.triangles = shared.triangles;
  result.sourceCrs = shared.sourceCrs;
  result.geoid = shared.geoid;
  for (auto& w : workers)
    if (!w->ok()) {
      stopProgress();
      return result;
    }
  if (options.cancel && options.cancel->load()) {
    stopProgress();
    diag.error("cancelled", "conversion cancelled; nothing written");
    return result;
  }

  // ---- gather features ----
  std::vector<FeatureRef> refs;
  for (auto& w : workers) {
    refs.insert(refs.end(), w->refs().begin(), w->refs().end());
    w->refs().clear();
    w->refs().shrink_to_fit();
  }
  result.features = refs.size();
  if (refs.empty()) {
    stopProgress();
    diag.error("nothing-converted", "no building could be converted; no tileset written");
    return result;
  }
  // Deterministic order regardless of thread scheduling: by position, then size.
  std::vector<uint32_t> order(refs.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (refs[a].lon != refs[b].lon) return refs[a].lon < refs[b].lon;
    if (refs[a].lat != refs[b].lat) return refs[a].lat < refs[b].lat;
    if (refs[a].size != refs[b].size) return refs[a].size < refs[b].size;
    return refs[a].idHash < refs[b].idHash;
  });
  QuadNode root;
  root.west = root.south = INFINITY;
  root.east = root.north = -INFINITY;
  for (auto& r : refs) {
    root.west = std::min(root.west, r.lon);
    root.east = std::max(root.east, r.lon);
    root.south = std::min(root.south, r.lat);
    root.north = std::max(root.north, r.lat);
  }
  // square-ish root so quadrants stay well shaped
  double span = std::max(root.east - root.west, root.north - root.south) * 1.0000001 + 1e-9;
  root.east = root.west + span;
  root.north = root.south + span;
  root.features = order;
  split(root, refs, options);
  // A root that is a single leaf still gets a parent: with levels of detail its overview, else
  // a tile without content whose error means something.
  QuadNode wrapper;
  QuadNode* tree = &root;
  if (root.children.empty()) {
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
  if (options.levelsOfDetail) collectParents(*tree, parentsByDepth, 0);
  size_t parentCount = 0;
  for (auto& l : parentsByDepth) parentCount += l.size();

  // ---- write tiles: leaves, then parents level by level from the deepest ----
  phase = 1;
  tilesTotal = leaves.size() + parentCount;
  std::vector<uint32_t> remap;  // observed key index -> schema position (sorted by name)
  const std::vector<PropertyDef> schema = shared.schema.build(&remap);
  std::vector<int> fds;
  for (auto& w : workers) fds.push_back(w->fd());
  std::atomic<bool> writeFailed{false};
  auto runPool = [&](const std::vector<QuadNode*>& nodes, bool parents) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        TileWriter tw(refs, fds, schema, remap, options, out.path(), spillDir, diag, shared);
        for (size_t i; (i = next.fetch_add(1)) < nodes.size();) {
          if (writeFailed.load() || (options.cancel && options.cancel->load())) break;
          bool ok = parents ? tw.writeParent(*nodes[i], nodes[i] == tree) : tw.write(*nodes[i]);
          if (!ok) writeFailed = true;
          tilesDone.fetch_add(1);
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
  if (options.cancel && options.cancel->load()) {
    stopProgress();
    diag.error("cancelled", "conversion cancelled; nothing written");
    return result;
  }
  if (writeFailed.load()) {
    stopProgress();
    diag.error("output-write", "writing tiles failed; no tileset written");
    return result;
  }
  std::function<void(const QuadNode&)> tally = [&](const QuadNode& n) {
    if (n.written) {
      result.outputBytes += n.bytes;
      result.textures += n.textures;
      result.tiles++;
      if (n.children.empty()) result.leafBytes += n.bytes;
    }
    for (auto& c : n.children) tally(c);
  };
  tally(*tree);
  result.rootBytes = tree->bytes;
  result.rootError = tree->error;

  TileNode rootTile = assemble(*tree, options.levelsOfDetail);
  rootTile.refine = options.levelsOfDetail ? "REPLACE" : "ADD";

  TilesetInfo info;
  info.generator = "twin 0.1.0";
  info.sourceCrs.assign(shared.sourceCrs.begin(), shared.sourceCrs.end());
  info.geoid = shared.geoid;
  info.numbers["features"] = double(result.features);
  info.numbers["tiles"] = double(result.tiles);
  // The tileset's own error (nothing drawn at all): at least the largest building.
  info.geometricError = std::max(rootTile.geometricError, double(tree->maxDiagonal));
  std::string json = tilesetJson(rootTile, info);
  result.outputBytes += json.size();
  workers.clear();  // close spill files
  std::filesystem::remove_all(spillDir);
  if (!fs::writeFileAtomic(out.path() + "/tileset.json", json, err) || !out.commit(err)) {
    stopProgress();
    diag.error("output-write", err);
    return result;
  }
  stopProgress();
  result.ok = true;
  auto tEnd = std::chrono::steady_clock::now();
  result.seconds = std::chrono::duration<double>(tEnd - t0).count();
  result.tileSeconds = std::chrono::duration<double>(tEnd - tRead).count();
  return result;
}

}  // namespace twin::tiler
