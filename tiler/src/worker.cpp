// The read phase: workers that turn city objects into spilled features in packs, and the sinks
// that hand objects to them (see worker.h).
#include "worker.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "spill.h"
#include "twin/hash.h"

namespace twin::tiler {

Worker::~Worker() {
  for (auto& [i, p] : packs_)
    if (p.fd >= 0) ::close(p.fd);
}

std::vector<std::pair<uint32_t, std::string>> Worker::finish() {
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

void Worker::process(CityObject& obj, uint32_t input) {
  input_ = input;
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

double Worker::diagonalOf(const FeatureMesh& m) {
  return std::sqrt(std::pow(m.max[0] - m.min[0], 2) + std::pow(m.max[1] - m.min[1], 2) +
                   std::pow(m.max[2] - m.min[2], 2));
}

void Worker::splitLarge(const FeatureMesh& mesh, std::vector<FeatureMesh>& out) {
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

uint32_t Worker::keyIndex(const std::string& key, const PropertyValue& value) {
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

void Worker::write(const CityObject& obj, const FeatureMesh& mesh, const PropertyRow& attrs, uint32_t input) {
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

void Worker::drop() {
  std::lock_guard lock(s_.mutex);
  s_.inputDropped[input_]++;
}

PackOut& Worker::packFor(uint32_t input, const CityObject& obj) {
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

CrsTransform* Worker::transformFor(const CityObject& obj) {
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
                    obj.srs + " has no vertical axis: heights are taken as orthometric and the geoid " + t.geoidGrid() +
                        " is applied",
                    obj.sourceFile, obj.sourceLine, obj.id);
  CrsTransform* raw = r->get();
  crs_.emplace(obj.srs, std::move(*r));
  return raw;
}

void Worker::transformTree(CityObject& obj, CrsTransform& crs, size_t& failed) {
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

bool DirectSink::accept(CityObject&& o) {
  w_.process(o, input);
  return !(cancel_ && cancel_->load());
}

bool ConcurrentSink::accept(CityObject&& o) {
  Worker* w = workerForThisThread();
  if (!w) return false;
  w->process(o, input_);
  return !(cancel_ && cancel_->load());
}

Worker* ConcurrentSink::workerForThisThread() {
  std::lock_guard lock(mutex_);
  auto id = std::this_thread::get_id();
  auto it = byThread_.find(id);
  if (it != byThread_.end()) return it->second;
  if (byThread_.size() >= workers_.size()) return nullptr;  // more threads than promised
  Worker* w = workers_[byThread_.size()].get();
  byThread_.emplace(id, w);
  return w;
}

}  // namespace twin::tiler
