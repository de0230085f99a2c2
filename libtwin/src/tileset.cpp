#include "twin/tileset.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "twin/crs.h"

namespace twin {

std::array<double, 12> OrientedBox::toArray() const {
  return {center[0],      center[1],      center[2],      halfAxes[0][0], halfAxes[0][1], halfAxes[0][2],
          halfAxes[1][0], halfAxes[1][1], halfAxes[1][2], halfAxes[2][0], halfAxes[2][1], halfAxes[2][2]};
}

OrientedBox OrientedBox::fromArray(const std::array<double, 12>& a) {
  OrientedBox b;
  b.center = {a[0], a[1], a[2]};
  for (int i = 0; i < 3; ++i) b.halfAxes[i] = {a[3 + 3 * i], a[4 + 3 * i], a[5 + 3 * i]};
  return b;
}

std::array<Vec3, 8> OrientedBox::corners() const {
  std::array<Vec3, 8> out;
  for (int i = 0; i < 8; ++i) {
    Vec3 p = center;
    for (int a = 0; a < 3; ++a) {
      double s = (i >> a) & 1 ? 1.0 : -1.0;
      for (int k = 0; k < 3; ++k) p[k] += s * halfAxes[a][k];
    }
    out[i] = p;
  }
  return out;
}

bool OrientedBox::contains(const Vec3& p, double tolerance) const {
  Vec3 d{p[0] - center[0], p[1] - center[1], p[2] - center[2]};
  for (int a = 0; a < 3; ++a) {
    const Vec3& h = halfAxes[a];
    double len = std::sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2]);
    double proj = len > 0 ? (d[0] * h[0] + d[1] * h[1] + d[2] * h[2]) / len : 0.0;
    if (std::abs(proj) > len + tolerance) return false;
  }
  return true;
}

OrientedBox enuBox(const Vec3& origin, const Vec3* pts, size_t n, double margin) {
  Vec3 e, nn, u;
  enuFrame(origin, e, nn, u);
  const Vec3* axes[3] = {&e, &nn, &u};
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (size_t i = 0; i < n; ++i) {
    Vec3 d{pts[i][0] - origin[0], pts[i][1] - origin[1], pts[i][2] - origin[2]};
    for (int a = 0; a < 3; ++a) {
      double v = d[0] * (*axes[a])[0] + d[1] * (*axes[a])[1] + d[2] * (*axes[a])[2];
      lo[a] = std::min(lo[a], v);
      hi[a] = std::max(hi[a], v);
    }
  }
  OrientedBox b;
  if (n == 0) {
    b.center = origin;
    return b;
  }
  b.center = origin;
  for (int a = 0; a < 3; ++a) {
    double mid = 0.5 * (lo[a] + hi[a]);
    double half = 0.5 * (hi[a] - lo[a]) + margin;
    for (int k = 0; k < 3; ++k) {
      b.center[k] += mid * (*axes[a])[k];
      b.halfAxes[a][k] = half * (*axes[a])[k];
    }
  }
  return b;
}

namespace {

nlohmann::json tileJson(const TileNode& t) {
  nlohmann::json j;
  j["boundingVolume"] = {{"box", t.box.toArray()}};
  j["geometricError"] = t.geometricError;
  if (!t.refine.empty()) j["refine"] = t.refine;
  if (!t.contentUri.empty()) j["content"] = {{"uri", t.contentUri}};
  if (!t.children.empty()) {
    j["children"] = nlohmann::json::array();
    for (auto& c : t.children) j["children"].push_back(tileJson(c));
  }
  return j;
}

nlohmann::json assetJson(const TilesetInfo& info, const std::string& version) {
  nlohmann::json a = {{"version", version}, {"generator", info.generator}};
  if (!info.tilesetVersion.empty()) a["tilesetVersion"] = info.tilesetVersion;
  nlohmann::json extras;
  extras["sourceCrs"] = info.sourceCrs;
  extras["targetCrs"] = "EPSG:4978";
  extras["geoid"] = info.geoid.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.geoid);
  if (!info.geoidByCrs.empty()) extras["geoidByCrs"] = info.geoidByCrs;
  for (auto& [k, v] : info.numbers) extras[k] = v;
  extras["objectTypes"] = info.objectTypes.empty() ? std::vector<std::string>{"Building"} : info.objectTypes;
  a["extras"] = {{"twin", extras}};
  return a;
}

}  // namespace

std::string tilesetJson(const TileNode& root, const TilesetInfo& info) {
  nlohmann::json j;
  j["asset"] = assetJson(info, info.version);
  j["geometricError"] = std::max(root.geometricError, info.geometricError);
  j["root"] = tileJson(root);
  if (root.refine.empty()) j["root"]["refine"] = "ADD";
  return j.dump(1);
}

std::string implicitTilesetJson(const ImplicitRoot& root, const TilesetInfo& info) {
  nlohmann::json j;
  j["asset"] = assetJson(info, "1.1");  // implicit tiling is 3D Tiles 1.1
  j["schema"] = {
      {"id", "twin_tiles"},
      {"classes",
       {{"tile",
         {{"properties",
           {{"boundingBox",
             {{"type", "SCALAR"},
              {"componentType", "FLOAT64"},
              {"array", true},
              {"count", 12},
              {"semantic", "TILE_BOUNDING_BOX"}}},
            {"geometricError",
             {{"type", "SCALAR"}, {"componentType", "FLOAT64"}, {"semantic", "TILE_GEOMETRIC_ERROR"}}}}}}}}}};
  j["geometricError"] = std::max(root.geometricError, info.geometricError);
  j["root"] = {{"boundingVolume", {{"region", root.region}}},
               {"geometricError", root.geometricError},
               {"refine", root.refine},
               {"content", {{"uri", root.contentUri}}},
               {"implicitTiling",
                {{"subdivisionScheme", "QUADTREE"},
                 {"subtreeLevels", root.subtreeLevels},
                 {"availableLevels", root.availableLevels},
                 {"subtrees", {{"uri", root.subtreeUri}}}}}};
  return j.dump(1);
}

}  // namespace twin
