// The envelope as a glb and a one-tile tileset placed on the globe.
#include "twin/landuse/envelope_tiles.h"

#include <algorithm>
#include <cmath>

#include "twin/glb_writer.h"
#include "twin/metadata.h"
#include "twin/tileset.h"

namespace twin::landuse {

namespace {

// The mesh's vertices in ECEF; false (with an error) when they cannot be placed.
bool placed(const EnvelopeResult& e, const std::string& storeCrs, double groundHeight, const GeoidOptions& go,
            DiagnosticSink& diag, std::vector<Vec3>& pts) {
  if (e.triangles.empty()) return false;
  auto plane = PlaneTransform::create(storeCrs, storeCrs);
  auto geo = CrsTransform::create("EPSG:4326", go);
  if (!plane.value || !geo.value) {
    diag.error("envelope-crs", "cannot place the envelope: no transformation from " + storeCrs);
    return false;
  }
  pts.resize(e.vertices.size());
  for (size_t i = 0; i < pts.size(); ++i) pts[i] = {e.vertices[i][0], e.vertices[i][1], 0};
  (*plane.value)->toLonLat(pts.data(), pts.size());
  for (size_t i = 0; i < pts.size(); ++i)
    pts[i] = {pts[i][1], pts[i][0], groundHeight + e.vertices[i][2]};  // EPSG:4326 axis order: lat, lon
  (*geo.value)->toEcef(pts.data(), pts.size());
  return true;
}

Vec3 centerOf(const std::vector<Vec3>& pts) {
  Vec3 center{0, 0, 0};
  for (auto& p : pts) center = {center[0] + p[0], center[1] + p[1], center[2] + p[2]};
  for (auto& c : center) c /= double(pts.size());
  return center;
}

}  // namespace

std::vector<uint8_t> envelopeGlb(const EnvelopeResult& e, const std::string& storeCrs, double groundHeight,
                                 const GeoidOptions& go, DiagnosticSink& diag) {
  std::vector<Vec3> pts;
  if (!placed(e, storeCrs, groundHeight, go, diag, pts)) return {};
  const Vec3 center = centerOf(pts);
  GlbScene scene;
  scene.center = center;
  // One feature per limit the faces lie on (EXT_mesh_features / EXT_structural_metadata class
  // envelope_face, property `rule`), so that a viewer can colour the solid by rule; one material.
  GlbMaterial m;
  m.baseColor = {0.20f, 0.55f, 1.0f, 0.45f};
  scene.materials.push_back(m);
  static const std::vector<PropertyDef> schema = {{"rule", "rule", PropertyType::String}};
  std::vector<std::string> rules;
  auto featureOf = [&](size_t triangle) {
    std::string r = triangle < e.triangleRule.size() ? e.triangleRule[triangle] : "wall";
    auto it = std::find(rules.begin(), rules.end(), r);
    if (it != rules.end()) return float(it - rules.begin());
    rules.push_back(r);
    return float(rules.size() - 1);
  };
  GlbPrimitive prim;
  for (size_t t = 0; t + 2 < e.triangles.size(); t += 3) {
    const Vec3* v[3] = {&pts[e.triangles[t]], &pts[e.triangles[t + 1]], &pts[e.triangles[t + 2]]};
    Vec3 a{(*v[1])[0] - (*v[0])[0], (*v[1])[1] - (*v[0])[1], (*v[1])[2] - (*v[0])[2]};
    Vec3 b{(*v[2])[0] - (*v[0])[0], (*v[2])[1] - (*v[0])[1], (*v[2])[2] - (*v[0])[2]};
    Vec3 n{a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (!(len > 1e-12)) continue;
    for (int k = 0; k < 3; ++k) {
      for (int c = 0; c < 3; ++c) {
        prim.positions.push_back(float((*v[k])[c] - center[c]));
        prim.normals.push_back(float(n[c] / len));
      }
      prim.featureIds.push_back(featureOf(t / 3));
      prim.indices.push_back(uint32_t(prim.indices.size()));
    }
  }
  scene.primitives.push_back(std::move(prim));
  scene.table.className = "envelope_face";
  scene.table.schema = &schema;
  scene.table.rowCount = uint32_t(rules.size());
  for (auto& r : rules) scene.table.rows.push_back({{0u, PropertyValue(r)}});
  return writeGlb(scene, GlbOptions{}, &diag);
}

std::string envelopeTileset(const EnvelopeResult& e, const std::string& storeCrs, double groundHeight,
                            const GeoidOptions& go, DiagnosticSink& diag, const std::string& contentUri) {
  std::vector<Vec3> pts;
  if (!placed(e, storeCrs, groundHeight, go, diag, pts)) return {};
  TileNode root;
  root.box = enuBox(centerOf(pts), pts.data(), pts.size(), 1.0);
  root.geometricError = 0;
  root.refine = "ADD";
  root.contentUri = contentUri;
  TilesetInfo info;
  info.sourceCrs = {storeCrs};
  info.geometricError = 100;  // seen from afar: draw it as soon as the site is in view
  return tilesetJson(root, info);
}

}  // namespace twin::landuse
