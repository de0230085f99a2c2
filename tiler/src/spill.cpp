// Spill records: a converted feature's id, attributes and mesh groups as bytes (see spill.h).
#include "spill.h"

namespace twin::tiler {

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

}  // namespace twin::tiler
