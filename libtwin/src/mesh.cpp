#include "twin/mesh.h"

#include <algorithm>
#include <cmath>

#include "twin/triangulate.h"

namespace twin {

size_t FeatureMesh::triangleCount() const {
  size_t n = 0;
  for (auto& g : groups) n += g.indices.size() / 3;
  return n;
}

int chooseLod(const CityObject& obj, int requested) {
  int best = -1;
  for (auto& g : obj.geometries) {
    if (g.empty()) continue;
    if (requested >= 0 && g.lod > requested) continue;
    best = std::max(best, g.lod);
  }
  return best;
}

std::array<float, 4> defaultColor(SurfaceType t) {
  switch (t) {
    case SurfaceType::Roof:
      return {0.62f, 0.36f, 0.30f, 1.0f};
    case SurfaceType::Ground:
      return {0.45f, 0.45f, 0.45f, 1.0f};
    case SurfaceType::Window:
      return {0.45f, 0.62f, 0.80f, 1.0f};
    case SurfaceType::Door:
      return {0.50f, 0.35f, 0.20f, 1.0f};
    default:
      return {0.90f, 0.89f, 0.86f, 1.0f};
  }
}

namespace {

MeshGroup& groupFor(FeatureMesh& mesh, const std::string& texture, const std::array<float, 4>& color) {
  for (auto& g : mesh.groups)
    if (g.texture == texture && (!texture.empty() || g.color == color)) return g;
  mesh.groups.emplace_back();
  mesh.groups.back().texture = texture;
  mesh.groups.back().color = texture.empty() ? color : std::array<float, 4>{1, 1, 1, 1};
  return mesh.groups.back();
}

// Colour of untextured surfaces of objects other than buildings, by type.
bool typeColor(const std::string& type, std::array<float, 4>& c) {
  if (type == "Road" || type == "Railway" || type == "Track" || type == "Square")
    c = {0.52f, 0.52f, 0.54f, 1.0f};
  else if (type == "LandUse")
    c = {0.62f, 0.72f, 0.50f, 1.0f};
  else if (type == "ReliefFeature" || type == "TINRelief")
    c = {0.72f, 0.68f, 0.58f, 1.0f};
  else if (type == "WaterBody")
    c = {0.45f, 0.62f, 0.80f, 1.0f};
  else if (type == "PlantCover" || type == "SolitaryVegetationObject")
    c = {0.35f, 0.60f, 0.35f, 1.0f};
  else if (type == "Parcel")
    c = {0.93f, 0.86f, 0.55f, 1.0f};
  else if (type == "Building" || type == "BuildingPart")
    return false;
  else
    c = {0.95f, 0.65f, 0.35f, 1.0f};  // zoning and everything else
  return true;
}

void addObject(const CityObject& obj, int requestedLod, FeatureMesh& mesh, MeshStats& stats, DiagnosticSink& diag) {
  std::array<float, 4> objectColor;
  const bool colourByType = typeColor(obj.type, objectColor);
  int lod = chooseLod(obj, requestedLod);
  if (lod >= 0) {
    const Geometry& g = *obj.geometry(lod);
    std::vector<uint32_t> tris;
    for (const Polygon& p : g.polygons) {
      ++stats.polygons;
      tris.clear();
      Vec3 n;
      const uint32_t* rs = &g.ringStart[p.firstRing];
      const uint32_t base = rs[0];
      auto status = triangulatePolygon(&g.points[base], rs, p.ringCount, tris, n);
      if (status != TriangulationStatus::Ok) {
        ++stats.polygonsDropped;
        if (status != TriangulationStatus::ZeroArea || g.ringStart[p.firstRing + 1] - base >= 3)
          diag.warning(status == TriangulationStatus::ZeroArea ? "polygon-zero-area" : "polygon-triangulation",
                       std::string("polygon skipped: ") + triangulationStatusName(status), obj.sourceFile,
                       obj.sourceLine, obj.id);
        continue;
      }
      bool textured = p.texture >= 0 && p.texture < int(obj.textures.size()) && !g.uvs.empty();
      std::array<float, 4> color = colourByType ? objectColor : defaultColor(p.surface);
      if (p.material >= 0 && p.material < int(obj.materials.size())) {
        const Material& m = obj.materials[p.material];
        color = {m.diffuse[0], m.diffuse[1], m.diffuse[2], 1.0f - m.transparency};
      }
      MeshGroup& grp = groupFor(mesh, textured ? obj.textures[p.texture].uri : std::string(), color);
      const uint32_t first = static_cast<uint32_t>(grp.positions.size());
      const uint32_t count = rs[p.ringCount] - base;
      std::array<float, 3> nf{float(n[0]), float(n[1]), float(n[2])};
      float nl = std::sqrt(nf[0] * nf[0] + nf[1] * nf[1] + nf[2] * nf[2]);
      for (auto& c : nf) c /= nl;
      for (uint32_t i = 0; i < count; ++i) {
        grp.positions.push_back(g.points[base + i]);
        grp.normals.push_back(nf);
        if (textured) {
          const Vec2f& uv = g.uvs[base + i];
          grp.uvs.push_back({uv[0], 1.0f - uv[1]});
        }
      }
      for (uint32_t t : tris) grp.indices.push_back(first + t);
      stats.triangles += tris.size() / 3;
    }
  }
  for (auto& c : obj.children) addObject(c, requestedLod, mesh, stats, diag);
}

}  // namespace

void buildFeatureMesh(const CityObject& obj, int requestedLod, FeatureMesh& out, MeshStats& stats,
                      DiagnosticSink& diag) {
  out.groups.clear();
  addObject(obj, requestedLod, out, stats, diag);
  out.groups.erase(
      std::remove_if(out.groups.begin(), out.groups.end(), [](const MeshGroup& g) { return g.indices.empty(); }),
      out.groups.end());
  bool first = true;
  for (auto& g : out.groups)
    for (auto& p : g.positions) {
      if (first) {
        out.min = out.max = p;
        first = false;
      }
      for (int k = 0; k < 3; ++k) {
        out.min[k] = std::min(out.min[k], p[k]);
        out.max[k] = std::max(out.max[k], p[k]);
      }
    }
}

}  // namespace twin
