// City objects (from any converter) into land-use records in the store's projected CRS.
#include "twin/landuse/records.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "twin/attributes.h"
#include "twin/outline.h"

namespace twin::landuse {

std::optional<Parcel> parcelFrom(const CityObject& obj, PlaneTransform& t, const ParcelFields& f,
                                 DiagnosticSink& diag) {
  Parcel p;
  p.id = obj.id;
  p.source = obj.sourceFile;
  p.line = obj.sourceLine;
  p.chiban = attributeText(
      lookupAttribute(obj, {f.chiban, "地番", "chiban", "parcel_no", "parcel_number", "parcel", "lot", "lot_no"}));
  p.realEstateNo = attributeText(
      lookupAttribute(obj, {f.realEstateNo, "不動産番号", "realestate_no", "real_estate_number", "fudosan_no"}));
  std::string oaza = attributeText(lookupAttribute(obj, {"大字名"})),
              chome = attributeText(lookupAttribute(obj, {"丁目名"})),
              koaza = attributeText(lookupAttribute(obj, {"小字名"}));
  p.locality = oaza + chome + koaza;
  if (p.locality.empty()) p.locality = attributeText(lookupAttribute(obj, {"address", "所在", "locality"}));
  p.city = attributeText(lookupAttribute(obj, {"市区町村名", "city"}));
  p.cornerLot = attributeTruthy(lookupAttribute(obj, {f.cornerLot, "角地", "corner_lot"}));
  double w;
  if (attributeNumber(lookupAttribute(obj, {f.roadWidth, "前面道路幅員", "road_width", "front_road_width"}), w))
    p.frontRoadWidth = w;
  p.attributes = attributesJson(obj);
  std::string label = p.chiban.empty() ? "'" + p.id + "'" : "'" + p.id + "' (地番 " + p.chiban + ")";
  if (p.chiban.empty())
    diag.warning("parcel-no-number",
                 "parcel '" + p.id + "' has no parcel number (地番)" +
                     (f.chiban.empty() ? "; name its field with --parcel-field" : " in field '" + f.chiban + "'"),
                 obj.sourceFile, obj.sourceLine, obj.id);
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = hasLodGeometry(obj, 0) ? 0 : obj.maxLod();
  if (lod < 0 || !planOutline(obj, lod, t, lod > 0, p.geom, zmin, zmax, diag)) {
    diag.error("parcel-no-geometry", "parcel " + label + " has no polygon; not imported", obj.sourceFile,
               obj.sourceLine, obj.id);
    return std::nullopt;
  }
  if (!validatedPolygon(p.geom, "parcel", obj, label, diag)) return std::nullopt;
  p.area = area(p.geom);
  if (!(p.area > 0.01)) {
    diag.error("parcel-empty", "parcel " + label + " has no area; not imported", obj.sourceFile, obj.sourceLine,
               obj.id);
    return std::nullopt;
  }
  return p;
}

std::optional<District> districtFrom(const CityObject& obj, PlaneTransform& t, const ZoningFields& f,
                                     DiagnosticSink& diag) {
  District d;
  d.id = obj.id;
  d.source = obj.sourceFile;
  d.line = obj.sourceLine;
  d.kind = obj.type;
  if (!f.kind.empty()) {
    if (auto* k = lookupAttribute(obj, {f.kind})) d.kind = attributeText(k);
  } else if (obj.type.empty() || obj.type == "Feature") {
    d.kind = f.defaultKind;
  }
  const Attribute* code = lookupAttribute(obj, {f.code, "urf:function", "function"});
  d.code = attributeText(code);
  if (code && !code->codeName.empty()) d.name = code->codeName;
  d.attributes = attributesJson(obj);
  using Unit = ZoningFields::RateUnit;
  // ratioMax: the largest plausible ratio; percentMin/Max: the plausible percent range.
  auto rate = [&](std::initializer_list<std::string> names, double& out, const char* what, double ratioMax,
                  double percentMin, double percentMax) {
    const Attribute* a = lookupAttribute(obj, names);
    if (!a) return;
    double v;
    if (!attributeNumber(a, v)) {
      diag.error(
          "zoning-bad-value",
          std::string(what) + " '" + attributeText(a) + "' of district '" + d.id + "' is not a number; left unknown",
          obj.sourceFile, obj.sourceLine, obj.id);
      return;
    }
    bool asRatio = v > 0 && v <= ratioMax, asPercent = v >= percentMin && v <= percentMax;
    std::string hint;
    if (f.rates == Unit::Ratio && asPercent)
      hint = " (the data looks like percent: import with --rates percent or auto)";
    if (f.rates == Unit::Percent && asRatio) hint = " (the data looks like ratios: import with --rates ratio or auto)";
    double r = NAN;
    if ((f.rates == Unit::Auto || f.rates == Unit::Ratio) && asRatio)
      r = v;
    else if ((f.rates == Unit::Auto || f.rates == Unit::Percent) && asPercent)
      r = v / 100.0;
    if (!std::isfinite(r)) {
      std::ostringstream o;
      o << what << " " << attributeText(a) << " of district '" << d.id << "' is out of range (as a ratio (0, "
        << ratioMax << "], as percent [" << percentMin << ", " << percentMax << "])" << hint << "; left unknown";
      diag.error("zoning-rate-out-of-range", o.str(), obj.sourceFile, obj.sourceLine, obj.id);
      return;
    }
    out = r;
  };
  // 建ぺい率 at most 100 %; 容積率 at most 1300 % (法52条1項), a little more for special cases.
  rate({f.coverage, "urf:buildingCoverageRate", "buildingCoverageRate"}, d.coverageRate,
       "building coverage rate (建ぺい率)", 1.0, 10, 100);
  rate({f.floorArea, "urf:floorAreaRate", "floorAreaRate"}, d.floorAreaRate, "floor area rate (容積率)", 15.0, 30,
       2000);
  auto length = [&](std::initializer_list<std::string> names, double& out, const char* what, double max) {
    const Attribute* a = lookupAttribute(obj, names);
    if (!a) return;
    double v;
    // PLATEAU's urban-planning data writes 0 where a district designates no such limit, and
    // -9999 where the value is unknown (product specification, 都市計画決定情報): neither is a
    // limit, and neither is an error in the data; the limit stays unknown.
    if (attributeNumber(a, v) && (v == 0 || v == -9999)) return;
    if (!attributeNumber(a, v) || !(v > 0) || v > max) {
      diag.error("zoning-bad-value",
                 std::string(what) + " '" + attributeText(a) + "' of district '" + d.id +
                     "' is not a plausible value; left unknown",
                 obj.sourceFile, obj.sourceLine, obj.id);
      return;
    }
    out = v;
  };
  length({f.heightLimit, "urf:buildingHeightLimits", "buildingHeightLimits"}, d.heightLimit, "height limit", 1000);
  length({f.maxHeight, "urf:maximumBuildingHeight", "maximumBuildingHeight"}, d.maxHeight, "maximum height", 1000);
  length({f.minHeight, "urf:minimumBuildingHeight", "minimumBuildingHeight"}, d.minHeight, "minimum height", 1000);
  length({f.minSiteArea, "urf:minimumSiteArea", "minimumSiteArea"}, d.minSiteArea, "minimum site area", 1e6);
  // 外壁の後退距離 is free text in i-UR ("1m", or conditions listed): a plain distance is taken,
  // anything else stays in the attributes only.
  if (auto* a = lookupAttribute(obj, {"urf:wallSetbackDistance", "wallSetbackDistance", "urf:setbackSize"})) {
    std::string t = attributeText(a);
    if (t.size() > 1 && t.back() == 'm') t.pop_back();
    char* e = nullptr;
    double v = std::strtod(t.c_str(), &e);
    if (e && *e == 0 && !t.empty() && v > 0 && v < 100) d.wallSetback = v;
  }
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = obj.maxLod();
  if (lod < 0 || !planOutline(obj, lod, t, false, d.geom, zmin, zmax, diag)) {
    diag.error("zoning-no-geometry", "district '" + d.id + "' has no polygon; not imported", obj.sourceFile,
               obj.sourceLine, obj.id);
    return std::nullopt;
  }
  if (!validatedPolygon(d.geom, "zoning", obj, "'" + d.id + "'", diag)) return std::nullopt;
  d.area = area(d.geom);
  return d;
}

std::optional<Road> roadFrom(const CityObject& obj, PlaneTransform& t, const std::string& widthField,
                             DiagnosticSink& diag) {
  Road r;
  r.id = obj.id;
  r.source = obj.sourceFile;
  double w;
  if (attributeNumber(lookupAttribute(obj, {widthField, "uro:width", "width", "幅員", "road_width"}), w) && w > 0 &&
      w < 200)
    r.width = w;
  r.name = attributeText(lookupAttribute(obj, {"gml:name", "name"}));
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = obj.maxLod();
  if (lod < 0 || !planOutline(obj, lod, t, lod > 0, r.geom, zmin, zmax, diag)) {
    diag.warning("road-no-geometry", "road '" + r.id + "' has no area polygon; skipped", obj.sourceFile, obj.sourceLine,
                 obj.id);
    return std::nullopt;
  }
  if (!checkValid(r.geom).valid) r.geom = makeValid(r.geom);
  return r;
}

}  // namespace twin::landuse
