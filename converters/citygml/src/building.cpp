// Finishing a building: xlink:href surface references resolved within the building, its own and
// the file's appearances applied to its polygons (see building.h).
#include "building.h"

#include <algorithm>

#include "twin/crs.h"

namespace twin::citygml {

namespace {

void dropDegenerate(CityObject& o) {
  o.geometries.erase(
      std::remove_if(o.geometries.begin(), o.geometries.end(), [](const Geometry& g) { return g.empty(); }),
      o.geometries.end());
}

struct PolyLoc {
  ObjCtx* ctx;
  int geom;
  uint32_t poly;
};

void resolveHrefs(PendingBuilding& b, DiagnosticSink& diag) {
  std::vector<ObjCtx*> all{&b.top};
  for (auto& p : b.parts) all.push_back(&p);
  bool any = false;
  for (auto* c : all) any = any || !c->hrefs.empty();
  if (!any) return;
  std::unordered_map<std::string, PolyLoc> index;
  for (auto* c : all)
    for (int g = 0; g < int(c->polyIds.size()); ++g)
      for (uint32_t p = 0; p < c->polyIds[g].size(); ++p)
        if (!c->polyIds[g][p].empty()) index.emplace(c->polyIds[g][p], PolyLoc{c, g, p});
  // References to aggregates (CompositeSurface, ...) stand for each polygon in them.
  std::unordered_map<std::string, std::vector<PolyLoc>> aggIndex;
  for (auto* c : all)
    for (auto& [id, a] : c->aggregates) {
      int g = c->geomIndex[a.lod];
      if (g < 0) continue;
      auto& v = aggIndex[id];
      for (uint32_t p = a.first; p < a.last; ++p) v.push_back(PolyLoc{c, g, p});
    }
  for (auto* c : all) {
    std::vector<Href> expanded;
    for (auto& h : c->hrefs) {
      if (index.count(h.id) || !aggIndex.count(h.id)) {
        expanded.push_back(h);
        continue;
      }
      for (auto& loc : aggIndex[h.id]) {
        std::string pid = loc.ctx->polyIds[loc.geom][loc.poly];
        if (pid.empty()) {
          pid = "twin-agg-" + h.id + "-" + std::to_string(loc.poly);
          loc.ctx->polyIds[loc.geom][loc.poly] = pid;
        }
        index.emplace(pid, loc);
        expanded.push_back({pid, h.lod, h.surface, h.reversed});
      }
    }
    c->hrefs = std::move(expanded);
  }
  for (auto* c : all) {
    for (auto& h : c->hrefs) {
      auto it = index.find(h.id);
      if (it == index.end()) {
        diag.warning("xlink-unresolved",
                     "surface reference #" + h.id + " does not resolve to a polygon of this building", b.uri,
                     c->obj.sourceLine, c->obj.id);
        continue;
      }
      const PolyLoc& loc = it->second;
      int lod = h.lod;
      if (lod < 0) continue;
      if (loc.ctx == c && c->obj.geometries[loc.geom].lod == lod) continue;  // already there
      // Copy the polygon into this object's geometry of the referencing LOD.
      const Polygon sp = loc.ctx->obj.geometries[loc.geom].polygons[loc.poly];
      // Skip when the same polygon was already copied into this LOD.
      Geometry& dst = c->geometryFor(lod);
      auto& dstPolyIds = c->polyIds[c->geomIndex[lod]];
      if (std::find(dstPolyIds.begin(), dstPolyIds.end(), h.id) != dstPolyIds.end()) continue;
      const Geometry& srcRef = loc.ctx->obj.geometries[loc.geom];  // may alias dst: copy first
      std::vector<Vec3> pts;
      std::vector<uint32_t> sizes;
      std::vector<std::string> rids;
      for (uint32_t r = sp.firstRing; r < sp.firstRing + sp.ringCount; ++r) {
        pts.insert(pts.end(), srcRef.points.begin() + srcRef.ringStart[r],
                   srcRef.points.begin() + srcRef.ringStart[r + 1]);
        sizes.push_back(srcRef.ringStart[r + 1] - srcRef.ringStart[r]);
        rids.push_back(loc.ctx->ringIds[loc.geom][r]);
      }
      Polygon np;
      np.surface = h.surface != SurfaceType::Unknown ? h.surface : sp.surface;
      np.firstRing = static_cast<uint32_t>(dst.ringCount());
      np.ringCount = static_cast<uint32_t>(sizes.size());
      size_t at = 0;
      auto& ringIds = c->ringIds[c->geomIndex[lod]];
      for (size_t r = 0; r < sizes.size(); ++r) {
        dst.points.insert(dst.points.end(), pts.begin() + at, pts.begin() + at + sizes[r]);
        at += sizes[r];
        dst.ringStart.push_back(static_cast<uint32_t>(dst.points.size()));
        ringIds.push_back(rids[r]);
      }
      dst.polygons.push_back(np);
      dstPolyIds.push_back(h.id);
    }
  }
}

void applyAppearance(ObjCtx& ctx, const AppearanceStore& local_, const AppearanceStore& global_, DiagnosticSink& diag,
                     const std::string& uri_) {
  if (global_.empty() && local_.empty()) return;
  std::unordered_map<const void*, std::unordered_map<uint32_t, int32_t>> texMap;  // store -> global idx -> local
  auto textureIndex = [&](const AppearanceStore& store, uint32_t t) {
    auto& m = texMap[&store];
    auto it = m.find(t);
    if (it != m.end()) return it->second;
    const Texture& tex = store.textures[t];
    int32_t idx = -1;
    for (size_t i = 0; i < ctx.obj.textures.size(); ++i)
      if (ctx.obj.textures[i] == tex) idx = int32_t(i);
    if (idx < 0) {
      idx = int32_t(ctx.obj.textures.size());
      ctx.obj.textures.push_back(tex);
    }
    m.emplace(t, idx);
    return idx;
  };
  auto materialIndex = [&](const Material& m) {
    for (size_t i = 0; i < ctx.obj.materials.size(); ++i)
      if (ctx.obj.materials[i] == m) return int32_t(i);
    ctx.obj.materials.push_back(m);
    return int32_t(ctx.obj.materials.size() - 1);
  };
  for (size_t g = 0; g < ctx.obj.geometries.size(); ++g) {
    Geometry& geom = ctx.obj.geometries[g];
    auto& rids = ctx.ringIds[g];
    auto& pids = ctx.polyIds[g];
    for (size_t p = 0; p < geom.polygons.size(); ++p) {
      Polygon& poly = geom.polygons[p];
      // material by polygon id
      if (p < pids.size() && !pids[p].empty()) {
        for (const AppearanceStore* s : {&local_, &global_}) {
          if (const uint32_t* m = s->polyMaterial.find(idHash(pids[p]))) {
            poly.material = materialIndex(s->materials[*m]);
            break;
          }
        }
      }
      // texture by ring ids: every ring needs coordinates
      const AppearanceStore* store = nullptr;
      std::vector<const TexRef*> refs;
      for (uint32_t r = poly.firstRing; r < poly.firstRing + poly.ringCount; ++r) {
        const TexRef* ref = nullptr;
        if (r < rids.size() && !rids[r].empty()) {
          for (const AppearanceStore* s : {&local_, &global_}) {
            if (const TexRef* t = s->ringTex.find(idHash(rids[r]))) {
              ref = t;
              if (!store) store = s;
              break;
            }
          }
        }
        refs.push_back(ref);
      }
      if (!store || !refs[0]) continue;
      bool ok = true;
      for (uint32_t k = 0; k < poly.ringCount; ++k) {
        uint32_t r = poly.firstRing + k;
        uint32_t n = geom.ringStart[r + 1] - geom.ringStart[r];
        const TexRef* ref = refs[k];
        // GML rings repeat the first point; the texture coordinates usually do too.
        if (!ref || (ref->count != n && ref->count != n + 1)) ok = false;
      }
      if (!ok) {
        diag.warning("texture-coords-mismatch",
                     "texture coordinates do not match the ring's points; polygon left untextured", uri_,
                     ctx.obj.sourceLine, ctx.obj.id);
        continue;
      }
      if (geom.uvs.size() != geom.points.size()) geom.uvs.resize(geom.points.size(), Vec2f{0, 0});
      for (uint32_t k = 0; k < poly.ringCount; ++k) {
        uint32_t r = poly.firstRing + k;
        uint32_t b = geom.ringStart[r], n = geom.ringStart[r + 1] - b;
        const TexRef* ref = refs[k];
        for (uint32_t i = 0; i < n; ++i) {
          const float* uv = &store->uvs[ref->offset + 2 * i];
          geom.uvs[b + i] = {uv[0], uv[1]};
        }
      }
      poly.texture = textureIndex(*store, refs[0]->texture);
    }
  }
}

}  // namespace

CityObject build(PendingBuilding& b, const AppearanceStore& global, DiagnosticSink& diag) {
  resolveHrefs(b, diag);
  b.local.seal();
  applyAppearance(b.top, b.local, global, diag, b.uri);
  for (auto& part : b.parts) applyAppearance(part, b.local, global, diag, b.uri);
  auto finish = [&](CityObject& o) {
    if (b.overrideSrs || o.srs.empty()) o.srs = b.srs;
    if (auto c = canonicalSrs(o.srs)) o.srs = *c;
    dropDegenerate(o);
  };
  CityObject out = std::move(b.top.obj);
  finish(out);
  for (auto& part : b.parts) {
    finish(part.obj);
    out.children.push_back(std::move(part.obj));
  }
  return out;
}

}  // namespace twin::citygml
