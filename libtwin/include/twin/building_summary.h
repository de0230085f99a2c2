#pragma once
// A building as numbers in a plane CRS: footprint, building area, height, storeys, floor area,
// use and fire resistance, each with where it came from. Made in one pass from a city object of
// any format; the land-use store keeps these (landuse::Building), and `twin export` writes their
// footprints.

#include <optional>
#include <string>

#include "twin/city_model.h"
#include "twin/crs.h"
#include "twin/diagnostics.h"
#include "twin/geom2d.h"

namespace twin {

struct BuildingSummary {
  std::string id;  // gml:id or the source's id
  MultiPoly footprint;
  std::string footprintSource;  // "LOD0 outline", "LOD1 ground projection", ...
  double buildingArea = 0;      // 建築面積 (m²): area of the footprint
  double height = NAN;          // m above ground
  std::string heightSource;     // "bldg:measuredHeight", "geometry (top - base)", "estimated: ...", "unknown: ..."
  double groundHeight = NAN;    // base height in the source's vertical datum (orthometric in PLATEAU)
  int storeysAbove = -1, storeysBelow = -1;
  double floorArea = NAN;  // 延べ面積 (m²)
  bool floorAreaEstimated = false;
  std::string floorAreaSource;  // "uro:totalFloorArea", "estimated: building area × 4 storeys", ...
  std::string usage;            // bldg:usage code name
  std::string fireResistance;   // "耐火", "準耐火", "その他" or "" (unknown): see fireResistanceOf
  std::string attributes;       // every attribute, JSON object text
  std::string source;
  int64_t line = 0;
};

// The fire resistance a value states, matched exactly against this vocabulary (after trimming
// spaces; the code list's name first where the value is a code):
//   耐火    1001 (i-UR BuildingDetailAttribute_fireproofStructureType), 1010 (Building_fireproofStructureType),
//           耐火, 耐火建築物, 耐火構造, fireproof, fire-resistant
//   準耐火  1002, 1020, 準耐火, 準耐火造, 準耐火建築物, 準耐火構造, semi-fireproof, quasi-fire-resistant
//   その他  1003, 1030, その他, 非耐火, others, non-fire-resistant (neither: no fire-resistance bonus)
// Anything else (不明 1011, 9000 unexamined, 9010, 9020 unknown, free text) is "" — unknown.
std::string fireResistanceOf(const std::string& value, const std::string& codeName);

// The summary of a building in the projected CRS of `toPlane`. Footprint: the LOD1 ground
// projection (the surveyed outline, what 建築面積 is measured on), else LOD0, LOD2, LOD3, LOD4.
// Height: bldg:measuredHeight, else the solid's top - base (none for PLATEAU's uniform 3 m LOD1
// block, uro:lod1HeightType 0; an estimate for its 3 m per storey, 9). Floor area:
// uro:totalFloorArea, else estimated from storeys or from height / floorHeight (marked so).
// Nullopt (with a warning) when the object has no geometry to take a footprint from.
std::optional<BuildingSummary> summarizeBuilding(const CityObject& obj, PlaneTransform& toPlane, double floorHeight,
                                                 DiagnosticSink& diag);

}  // namespace twin
