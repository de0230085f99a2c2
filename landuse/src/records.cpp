// City objects (from any converter) into land-use records in the store's projected CRS.
#include "twin/landuse/records.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "twin/attributes.h"
#include "twin/outline.h"

namespace twin::landuse {

namespace {

// A length as data write it: "4", "4.0", "4m", "4.0 m", "４ｍ", "4メートル" (full-width digits and
// units read as half-width). False when it is none of these.
bool lengthOf(const Attribute* a, double& v) {
  if (!a) return false;
  if (attributeNumber(a, v)) return true;
  std::string t = attributeText(a), h;
  for (size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    // Full-width ０-９ (EF BC 90-99), ．(EF BC 8E), ｍ (EF BD 8D).
    if (c == 0xEF && i + 2 < t.size()) {
      unsigned char b = static_cast<unsigned char>(t[i + 1]), d = static_cast<unsigned char>(t[i + 2]);
      if (b == 0xBC && d >= 0x90 && d <= 0x99)
        h += char('0' + (d - 0x90)), i += 3;
      else if (b == 0xBC && d == 0x8E)
        h += '.', i += 3;
      else if (b == 0xBD && d == 0x8D)
        h += 'm', i += 3;
      else
        h += t.substr(i, 3), i += 3;
      continue;
    }
    h += t[i++];
  }
  for (const char* unit : {"メートル", "m", "M"}) {
    std::string u = unit;
    size_t e = h.find_last_not_of(" \t");
    if (e != std::string::npos && h.size() >= u.size() && h.compare(e + 1 - u.size(), u.size(), u) == 0) {
      h = h.substr(0, e + 1 - u.size());
      break;
    }
  }
  while (!h.empty() && std::isspace(static_cast<unsigned char>(h.back()))) h.pop_back();
  size_t s = 0;
  while (s < h.size() && std::isspace(static_cast<unsigned char>(h[s]))) ++s;
  if (s == h.size()) return false;
  char* end = nullptr;
  v = std::strtod(h.c_str() + s, &end);
  return end && *end == 0 && std::isfinite(v);
}

// A road width from `a`: a plausible length (0 to 200 m) or nothing, with a warning naming the
// value when it is given but unreadable.
double roadWidthOf(const Attribute* a, const CityObject& obj, const std::string& what, DiagnosticSink& diag) {
  if (!a) return NAN;
  double w;
  if (lengthOf(a, w) && w > 0 && w < 200) return w;
  diag.warning("road-width-unreadable",
               what + ": width '" + attributeText(a) + "' is not a length in metres; left unknown", obj.sourceFile,
               obj.sourceLine, obj.id);
  return NAN;
}

// 地図XML writes land outside the map's district (地区外) and land drawn on a separate sheet
// (別図) as pseudo-parcels with these words for a 地番: they are not parcels.
bool pseudoParcel(const std::string& chiban) {
  return chiban.find("地区外") != std::string::npos || chiban.find("別図") != std::string::npos;
}

}  // namespace

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
  if (pseudoParcel(p.chiban)) {
    diag.info("parcel-pseudo",
              "'" + p.chiban +
                  "' marks land outside the map's district or drawn on a separate sheet (地区外/別図), "
                  "not a parcel; not imported",
              obj.sourceFile, obj.sourceLine, obj.id);
    return std::nullopt;
  }
  p.frontRoadWidth = roadWidthOf(lookupAttribute(obj, {f.roadWidth, "前面道路幅員", "road_width", "front_road_width"}),
                                 obj, "parcel '" + p.id + "'", diag);
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
  r.width = roadWidthOf(lookupAttribute(obj, {widthField, "uro:width", "width", "幅員", "road_width"}), obj,
                        "road '" + r.id + "'", diag);
  r.name = attributeText(lookupAttribute(obj, {"gml:name", "name"}));
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = obj.maxLod();
  if (lod < 0 || !planOutline(obj, lod, t, lod > 0, r.geom, zmin, zmax, diag)) {
    diag.warning("road-no-geometry", "road '" + r.id + "' has no area polygon; skipped", obj.sourceFile, obj.sourceLine,
                 obj.id);
    return std::nullopt;
  }
  if (!checkValid(r.geom).valid) r.geom = makeValid(r.geom);
  // A surface with heights (CityGML's and CityJSON's LOD1+; a flat GDAL layer reads z = 0, no height).
  if (std::isfinite(zmin) && std::isfinite(zmax) && (lod > 0 || zmin != 0 || zmax != 0)) r.levelMin = zmin, r.levelMax = zmax;
  return r;
}

}  // namespace twin::landuse
