// Building summaries from city objects of any format.
#include "twin/building_summary.h"

#include <cctype>
#include <cmath>
#include <sstream>

#include "twin/attributes.h"
#include "twin/outline.h"

namespace twin {

namespace {

// Exact matches, after trimming; anything else is unknown.
std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

}  // namespace

std::string fireResistanceOf(const std::string& value, const std::string& codeName) {
  static const char* const kFire[] = {"1001", "1010", "耐火", "耐火建築物", "耐火構造", "fireproof", "fire-resistant"};
  static const char* const kQuasi[] = {"1002",         "1020",       "準耐火",         "準耐火造",
                                       "準耐火建築物", "準耐火構造", "semi-fireproof", "quasi-fire-resistant"};
  static const char* const kOther[] = {"1003", "1030", "その他", "非耐火", "others", "non-fire-resistant"};
  // A code's name from its list decides where there is one; else the value as written.
  for (const std::string& v : {trimmed(codeName), trimmed(value)}) {
    if (v.empty()) continue;
    for (auto* x : kFire)
      if (v == x) return "耐火";
    for (auto* x : kQuasi)
      if (v == x) return "準耐火";
    for (auto* x : kOther)
      if (v == x) return "その他";
    return {};  // 不明 (1011), unexamined (9000), unknown (9020), or a word not in the vocabulary
  }
  return {};
}

std::optional<BuildingSummary> summarizeBuilding(const CityObject& obj, PlaneTransform& t, double floorHeight,
                                                 DiagnosticSink& diag) {
  BuildingSummary b;
  b.id = obj.id;
  b.source = obj.sourceFile;
  b.line = obj.sourceLine;
  b.attributes = attributesJson(obj);
  double zmin = INFINITY, zmax = -INFINITY;
  // 建築面積 is the horizontal projection of the walls: a LOD1 solid (extruded from the surveyed
  // outline) gives it best; LOD0 in PLATEAU is often the roof edge (eaves included).
  int order[] = {1, 0, 2, 3, 4};
  bool found = false;
  for (int lod : order) {
    if (!hasLodGeometry(obj, lod)) continue;
    double z0 = INFINITY, z1 = -INFINITY;
    if (planOutline(obj, lod, t, true, b.footprint, z0, z1, diag)) {
      b.footprintSource = lod == 0 ? "LOD0 outline" : "LOD" + std::to_string(lod) + " ground projection";
      zmin = z0, zmax = z1;
      found = true;
      // Heights come from the solid even when the outline came from LOD0.
      break;
    }
  }
  if (!found) {
    diag.warning("building-no-footprint", "building '" + b.id + "' has no geometry to take a footprint from; skipped",
                 obj.sourceFile, obj.sourceLine, obj.id);
    return std::nullopt;
  }
  int heightLod = 0;  // the LOD whose geometry gives the height (the finest with one)
  for (int lod : {1, 2, 3, 4}) {
    double z0 = INFINITY, z1 = -INFINITY;
    forEachLodGeometry(obj, lod, [&](const Geometry& g) {
      for (auto& p : g.points)
        if (std::isfinite(p[2])) z0 = std::min(z0, p[2]), z1 = std::max(z1, p[2]);
    });
    if (z1 > z0) zmin = z0, zmax = z1, heightLod = lod;
  }
  b.buildingArea = area(b.footprint);
  b.groundHeight = std::isfinite(zmin) ? zmin : NAN;
  // PLATEAU's uro:lod1HeightType 0 (取得不可のため一律値（3m）): the LOD1 block was extruded by a
  // uniform 3 m because the height could not be obtained; 9: 3 m × storeys, an estimate.
  std::string lod1HeightType;
  if (auto* t = lookupAttribute(obj, {"uro:lod1HeightType"})) lod1HeightType = attributeText(t);
  double h;
  if (attributeNumber(lookupAttribute(obj, {"bldg:measuredHeight"}), h) && h > 0 && h < 1000) {
    b.height = h;
    b.heightSource = "bldg:measuredHeight";
  } else if (std::isfinite(zmax) && zmax > zmin && !(heightLod == 1 && lod1HeightType == "0")) {
    b.height = zmax - zmin;
    const Attribute* est = lookupAttribute(obj, {"twin:heightEstimate"});  // a footprint extruded by storeys
    b.heightSource = est ? "estimated: " + attributeText(est)
                     : heightLod == 1 && lod1HeightType == "9"
                         ? "estimated: LOD1 block of 3 m per storey (uro:lod1HeightType 9)"
                         : "geometry (top - base)";
  } else if (heightLod == 1 && lod1HeightType == "0") {
    b.heightSource = "unknown: the LOD1 block has PLATEAU's uniform 3 m (uro:lod1HeightType 0), not a measured height";
  }
  double s;
  if (attributeNumber(lookupAttribute(obj, {"bldg:storeysAboveGround", "storeys", "floors", "階数"}), s) && s >= 0 &&
      s < 300)
    b.storeysAbove = int(s);
  if (attributeNumber(lookupAttribute(obj, {"bldg:storeysBelowGround"}), s) && s >= 0 && s < 100)
    b.storeysBelow = int(s);
  double fa;
  if (attributeNumber(lookupAttribute(obj, {"uro:totalFloorArea", "totalFloorArea", "延べ面積", "floor_area"}), fa) &&
      fa > 0) {
    b.floorArea = fa;
    b.floorAreaSource = "uro:totalFloorArea";
  } else if (b.storeysAbove > 0) {
    b.floorArea = b.buildingArea * b.storeysAbove;
    b.floorAreaEstimated = true;
    b.floorAreaSource =
        "estimated: building area × " + std::to_string(b.storeysAbove) + " storeys (bldg:storeysAboveGround)";
  } else if (std::isfinite(b.height) && floorHeight > 0) {
    int n = std::max(1, int(std::floor(b.height / floorHeight + 0.25)));
    b.floorArea = b.buildingArea * n;
    b.floorAreaEstimated = true;
    std::ostringstream o;
    o << "estimated: building area × " << n << " storeys (height " << b.height << " m / " << floorHeight
      << " m per storey)";
    b.floorAreaSource = o.str();
  }
  if (auto* u = lookupAttribute(obj, {"bldg:usage", "usage"}))
    b.usage = u->codeName.empty() ? attributeText(u) : u->codeName;
  if (auto* fr = lookupAttribute(obj, {"uro:fireproofStructureType", "fire_resistance", "耐火構造"}))
    b.fireResistance = fireResistanceOf(attributeText(fr), fr->codeName);
  return b;
}

}  // namespace twin
