// City objects (from any converter) into land-use records in the store's projected CRS.
#include "twin/planning/records.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace twin::planning {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The local part of a prefixed key ("urf:floorAreaRate" -> "floorAreaRate").
std::string localName(const std::string& key) {
  auto p = key.find(':');
  return p == std::string::npos ? key : key.substr(p + 1);
}

json attrJson(const Attribute& a) {
  switch (a.type) {
    case AttributeType::Integer:
      return a.integer;
    case AttributeType::Double:
      return a.number;
    case AttributeType::Boolean:
      return a.boolean;
    case AttributeType::Code:
      if (!a.codeName.empty()) return json{{"code", a.text}, {"name", a.codeName}};
      return a.text;
    case AttributeType::Group: {
      json o = json::object();
      for (auto& c : a.children) {
        json v = attrJson(c);
        if (o.contains(c.key)) {
          if (!o[c.key].is_array()) o[c.key] = json::array({o[c.key]});
          o[c.key].push_back(v);
        } else {
          o[c.key] = v;
        }
      }
      return o;
    }
    default:
      return a.text;
  }
}

// Looks an attribute up by any of `names` (exact key, then local name, case-insensitive).
const Attribute* lookup(const CityObject& obj, std::initializer_list<std::string> names) {
  for (auto& n : names) {
    if (n.empty()) continue;
    if (auto* a = findAttribute(obj.attributes, n)) return a;
  }
  for (auto& n : names) {
    if (n.empty()) continue;
    std::string want = lower(localName(n));
    std::function<const Attribute*(const std::vector<Attribute>&)> walk =
        [&](const std::vector<Attribute>& as) -> const Attribute* {
      for (auto& a : as) {
        if (lower(localName(a.key)) == want) return &a;
        if (auto* c = walk(a.children)) return c;
      }
      return nullptr;
    };
    if (auto* a = walk(obj.attributes)) return a;
  }
  return nullptr;
}

// The value as written, parsed exactly as a decimal number ("1.5" is 1.5, "2" is 2).
bool numberOf(const Attribute* a, double& v) {
  if (!a) return false;
  if (a->type == AttributeType::Integer) return v = double(a->integer), true;
  if (a->type == AttributeType::Double) return v = a->number, true;
  std::string t = a->text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t s = 0;
  while (s < t.size() && std::isspace(static_cast<unsigned char>(t[s]))) ++s;
  if (s == t.size()) return false;
  const char* b = t.c_str() + s;
  char* e = nullptr;
  v = std::strtod(b, &e);
  return e && *e == '\0' && std::isfinite(v);
}

std::string textOf(const Attribute* a) {
  if (!a) return {};
  if (a->type == AttributeType::Integer) return std::to_string(a->integer);
  if (a->type == AttributeType::Boolean) return a->boolean ? "true" : "false";
  if (a->type == AttributeType::Double && a->text.empty()) {
    std::ostringstream o;
    o << a->number;
    return o.str();
  }
  return a->text;
}

bool truthy(const Attribute* a) {
  if (!a) return false;
  if (a->type == AttributeType::Boolean) return a->boolean;
  if (a->type == AttributeType::Integer) return a->integer != 0;
  std::string t = lower(a->text);
  return t == "true" || t == "yes" || t == "1" || t == "y" || t == "有" || t == "○" || t == "はい";
}

void forEachGeometry(const CityObject& obj, int lod, const std::function<void(const Geometry&)>& f) {
  if (auto* g = obj.geometry(lod)) f(*g);
  for (auto& c : obj.children) forEachGeometry(c, lod, f);
}

bool hasLod(const CityObject& obj, int lod) {
  bool any = false;
  forEachGeometry(obj, lod, [&](const Geometry& g) { any = any || !g.empty(); });
  return any;
}

// Projects every polygon of `g` to the store CRS as a plane polygon (rings as given).
// Returns the number of points that could not be transformed.
size_t projectPolygons(const Geometry& g, PlaneTransform& t, std::vector<Poly>& out, double& zmin, double& zmax) {
  std::vector<Vec3> pts = g.points;
  size_t failed = t.forward(pts.data(), pts.size());
  for (auto& p : g.points) {
    if (std::isfinite(p[2])) zmin = std::min(zmin, p[2]), zmax = std::max(zmax, p[2]);
  }
  for (auto& poly : g.polygons) {
    Poly pp;
    bool bad = false;
    for (uint32_t r = 0; r < poly.ringCount; ++r) {
      uint32_t ri = poly.firstRing + r;
      Ring ring;
      for (uint32_t i = g.ringStart[ri]; i < g.ringStart[ri + 1]; ++i) {
        if (!std::isfinite(pts[i][0])) bad = true;
        P2 q{pts[i][0], pts[i][1]};
        if (ring.empty() || ring.back() != q) ring.push_back(q);
      }
      while (ring.size() > 1 && ring.front() == ring.back()) ring.pop_back();
      if (r == 0)
        pp.outer = std::move(ring);
      else if (ring.size() >= 3)
        pp.holes.push_back(std::move(ring));
    }
    if (!bad && pp.outer.size() >= 3) out.push_back(std::move(pp));
  }
  return failed;
}

// Checks and, where it keeps the area, repairs a polygon; reports on diag. False: refuse.
bool validated(MultiPoly& m, const char* what, const CityObject& obj, const std::string& label, DiagnosticSink& diag) {
  Validity v = checkValid(m);
  if (v.valid) return true;
  double ringArea = 0;
  for (auto& p : m) {
    ringArea += std::abs(signedArea(p.outer));
    for (auto& h : p.holes) ringArea -= std::abs(signedArea(h));
  }
  MultiPoly fixed = makeValid(m);
  double fixedArea = area(fixed);
  std::ostringstream where;
  where.setf(std::ios::fixed);
  where.precision(2);
  if (std::isfinite(v.where[0])) where << " at (" << v.where[0] << ", " << v.where[1] << ")";
  if (!fixed.empty() && ringArea > 0 && std::abs(fixedArea - ringArea) <= 0.01 * ringArea) {
    diag.warning(std::string(what) + "-invalid-geometry",
                 std::string(what) + " " + label + " has an invalid polygon (" + v.reason + where.str() +
                     "); repaired, area kept",
                 obj.sourceFile, obj.sourceLine, obj.id);
    m = std::move(fixed);
    return true;
  }
  diag.error(std::string(what) + "-invalid-geometry",
             std::string(what) + " " + label + " has an invalid polygon (" + v.reason + where.str() +
                 ") that cannot be repaired without changing its area; not imported — fix the source",
             obj.sourceFile, obj.sourceLine, obj.id);
  return false;
}

// The plane outline of an object from its polygons at `lod`: the polygons as they are (flat data:
// parcels, districts) or, with `project`, the union of their ground projections (solids).
bool outline(const CityObject& obj, int lod, PlaneTransform& t, bool project, MultiPoly& out, double& zmin,
             double& zmax, DiagnosticSink& diag) {
  std::vector<Poly> polys;
  size_t failed = 0;
  forEachGeometry(obj, lod, [&](const Geometry& g) { failed += projectPolygons(g, t, polys, zmin, zmax); });
  if (failed) {
    diag.error("coordinates-untransformable",
               std::to_string(failed) +
                   " coordinates could not be transformed to the store's CRS (absurd values or "
                   "a wrong CRS); the polygons that use them are left out",
               obj.sourceFile, obj.sourceLine, obj.id);
  }
  if (!project) {
    out.assign(polys.begin(), polys.end());
    return !out.empty();
  }
  std::vector<MultiPoly> parts;
  for (auto& p : polys) {
    if (std::abs(signedArea(p.outer)) < 1e-4) continue;  // walls project to slivers
    MultiPoly m{p};
    if (!checkValid(m).valid) m = makeValid(m);
    if (!m.empty()) parts.push_back(std::move(m));
  }
  if (parts.empty()) return false;
  out = unite(parts);
  return !out.empty();
}

}  // namespace

const Attribute* findAttribute(const std::vector<Attribute>& attrs, const std::string& key) {
  for (auto& a : attrs) {
    if (a.key == key) return &a;
    if (auto* c = findAttribute(a.children, key)) return c;
  }
  return nullptr;
}

std::string attributesJson(const CityObject& obj) {
  json o = json::object();
  for (auto& a : obj.attributes) {
    json v = attrJson(a);
    if (o.contains(a.key)) {
      if (!o[a.key].is_array()) o[a.key] = json::array({o[a.key]});
      o[a.key].push_back(v);
    } else {
      o[a.key] = v;
    }
  }
  return o.dump();
}

std::optional<Parcel> parcelFrom(const CityObject& obj, PlaneTransform& t, const ParcelFields& f,
                                 DiagnosticSink& diag) {
  Parcel p;
  p.id = obj.id;
  p.source = obj.sourceFile;
  p.line = obj.sourceLine;
  p.chiban = textOf(lookup(obj, {f.chiban, "地番", "chiban", "parcel_no", "parcel_number", "parcel", "lot", "lot_no"}));
  p.realEstateNo =
      textOf(lookup(obj, {f.realEstateNo, "不動産番号", "realestate_no", "real_estate_number", "fudosan_no"}));
  std::string oaza = textOf(lookup(obj, {"大字名"})), chome = textOf(lookup(obj, {"丁目名"})),
              koaza = textOf(lookup(obj, {"小字名"}));
  p.locality = oaza + chome + koaza;
  if (p.locality.empty()) p.locality = textOf(lookup(obj, {"address", "所在", "locality"}));
  p.city = textOf(lookup(obj, {"市区町村名", "city"}));
  p.cornerLot = truthy(lookup(obj, {f.cornerLot, "角地", "corner_lot"}));
  double w;
  if (numberOf(lookup(obj, {f.roadWidth, "前面道路幅員", "road_width", "front_road_width"}), w)) p.frontRoadWidth = w;
  p.attributes = attributesJson(obj);
  std::string label = p.chiban.empty() ? "'" + p.id + "'" : "'" + p.id + "' (地番 " + p.chiban + ")";
  if (p.chiban.empty())
    diag.warning("parcel-no-number",
                 "parcel '" + p.id + "' has no parcel number (地番)" +
                     (f.chiban.empty() ? "; name its field with --parcel-field" : " in field '" + f.chiban + "'"),
                 obj.sourceFile, obj.sourceLine, obj.id);
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = hasLod(obj, 0) ? 0 : obj.maxLod();
  if (lod < 0 || !outline(obj, lod, t, lod > 0, p.geom, zmin, zmax, diag)) {
    diag.error("parcel-no-geometry", "parcel " + label + " has no polygon; not imported", obj.sourceFile,
               obj.sourceLine, obj.id);
    return std::nullopt;
  }
  if (!validated(p.geom, "parcel", obj, label, diag)) return std::nullopt;
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
    if (auto* k = lookup(obj, {f.kind})) d.kind = textOf(k);
  } else if (obj.type.empty() || obj.type == "Feature") {
    d.kind = f.defaultKind;
  }
  const Attribute* code = lookup(obj, {f.code, "urf:function", "function"});
  d.code = textOf(code);
  if (code && !code->codeName.empty()) d.name = code->codeName;
  d.attributes = attributesJson(obj);
  using Unit = ZoningFields::RateUnit;
  // ratioMax: the largest plausible ratio; percentMin/Max: the plausible percent range.
  auto rate = [&](std::initializer_list<std::string> names, double& out, const char* what, double ratioMax,
                  double percentMin, double percentMax) {
    const Attribute* a = lookup(obj, names);
    if (!a) return;
    double v;
    if (!numberOf(a, v)) {
      diag.error("zoning-bad-value",
                 std::string(what) + " '" + textOf(a) + "' of district '" + d.id + "' is not a number; left unknown",
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
      o << what << " " << textOf(a) << " of district '" << d.id << "' is out of range (as a ratio (0, " << ratioMax
        << "], as percent [" << percentMin << ", " << percentMax << "])" << hint << "; left unknown";
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
    const Attribute* a = lookup(obj, names);
    if (!a) return;
    double v;
    // PLATEAU's urban-planning data writes 0 where a district designates no such limit, and
    // -9999 where the value is unknown (product specification, 都市計画決定情報): neither is a
    // limit, and neither is an error in the data; the limit stays unknown.
    if (numberOf(a, v) && (v == 0 || v == -9999)) return;
    if (!numberOf(a, v) || !(v > 0) || v > max) {
      diag.error(
          "zoning-bad-value",
          std::string(what) + " '" + textOf(a) + "' of district '" + d.id + "' is not a plausible value; left unknown",
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
  if (auto* a = lookup(obj, {"urf:wallSetbackDistance", "wallSetbackDistance", "urf:setbackSize"})) {
    std::string t = textOf(a);
    if (t.size() > 1 && t.back() == 'm') t.pop_back();
    char* e = nullptr;
    double v = std::strtod(t.c_str(), &e);
    if (e && *e == 0 && !t.empty() && v > 0 && v < 100) d.wallSetback = v;
  }
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = obj.maxLod();
  if (lod < 0 || !outline(obj, lod, t, false, d.geom, zmin, zmax, diag)) {
    diag.error("zoning-no-geometry", "district '" + d.id + "' has no polygon; not imported", obj.sourceFile,
               obj.sourceLine, obj.id);
    return std::nullopt;
  }
  if (!validated(d.geom, "zoning", obj, "'" + d.id + "'", diag)) return std::nullopt;
  d.area = area(d.geom);
  return d;
}

std::optional<Building> buildingFrom(const CityObject& obj, PlaneTransform& t, double floorHeight,
                                     DiagnosticSink& diag) {
  Building b;
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
    if (!hasLod(obj, lod)) continue;
    double z0 = INFINITY, z1 = -INFINITY;
    if (outline(obj, lod, t, true, b.footprint, z0, z1, diag)) {
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
    forEachGeometry(obj, lod, [&](const Geometry& g) {
      for (auto& p : g.points)
        if (std::isfinite(p[2])) z0 = std::min(z0, p[2]), z1 = std::max(z1, p[2]);
    });
    if (z1 > z0) zmin = z0, zmax = z1, heightLod = lod;
  }
  b.buildingArea = area(b.footprint);
  b.groundHeight = std::isfinite(zmin) ? zmin : kNone;
  // PLATEAU's uro:lod1HeightType 0 (取得不可のため一律値（3m）): the LOD1 block was extruded by a
  // uniform 3 m because the height could not be obtained; 9: 3 m × storeys, an estimate.
  std::string lod1HeightType;
  if (auto* t = lookup(obj, {"uro:lod1HeightType"})) lod1HeightType = textOf(t);
  double h;
  if (numberOf(lookup(obj, {"bldg:measuredHeight"}), h) && h > 0 && h < 1000) {
    b.height = h;
    b.heightSource = "bldg:measuredHeight";
  } else if (std::isfinite(zmax) && zmax > zmin && !(heightLod == 1 && lod1HeightType == "0")) {
    b.height = zmax - zmin;
    b.heightSource = heightLod == 1 && lod1HeightType == "9"
                         ? "estimated: LOD1 block of 3 m per storey (uro:lod1HeightType 9)"
                         : "geometry (top - base)";
  } else if (heightLod == 1 && lod1HeightType == "0") {
    b.heightSource = "unknown: the LOD1 block has PLATEAU's uniform 3 m (uro:lod1HeightType 0), not a measured height";
  }
  double s;
  if (numberOf(lookup(obj, {"bldg:storeysAboveGround", "storeys", "floors", "階数"}), s) && s >= 0 && s < 300)
    b.storeysAbove = int(s);
  if (numberOf(lookup(obj, {"bldg:storeysBelowGround"}), s) && s >= 0 && s < 100) b.storeysBelow = int(s);
  double fa;
  if (numberOf(lookup(obj, {"uro:totalFloorArea", "totalFloorArea", "延べ面積", "floor_area"}), fa) && fa > 0) {
    b.floorArea = fa;
    b.floorAreaSource = "uro:totalFloorArea";
  } else if (b.storeysAbove > 0) {
    b.floorArea = b.buildingArea * b.storeysAbove;
    b.floorAreaEstimated = true;
    b.floorAreaSource =
        "estimated: building area × " + std::to_string(b.storeysAbove) + " storeys (bldg:storeysAboveGround)";
  } else if (given(b.height) && floorHeight > 0) {
    int n = std::max(1, int(std::floor(b.height / floorHeight + 0.25)));
    b.floorArea = b.buildingArea * n;
    b.floorAreaEstimated = true;
    std::ostringstream o;
    o << "estimated: building area × " << n << " storeys (height " << b.height << " m / " << floorHeight
      << " m per storey)";
    b.floorAreaSource = o.str();
  }
  if (auto* u = lookup(obj, {"bldg:usage", "usage"})) b.usage = u->codeName.empty() ? textOf(u) : u->codeName;
  if (auto* fr = lookup(obj, {"uro:fireproofStructureType", "fire_resistance", "耐火構造"})) {
    std::string v = fr->codeName.empty() ? textOf(fr) : fr->codeName;
    // i-UR BuildingDetailAttribute_fireproofStructureType: 1001 耐火, 1002 準耐火.
    if (v == "1001" || (v.find("準耐火") == std::string::npos && v.find("耐火") != std::string::npos))
      b.fireResistance = "耐火";
    else if (v == "1002" || v.find("準耐火") != std::string::npos)
      b.fireResistance = "準耐火";
  }
  return b;
}

std::optional<Road> roadFrom(const CityObject& obj, PlaneTransform& t, const std::string& widthField,
                             DiagnosticSink& diag) {
  Road r;
  r.id = obj.id;
  r.source = obj.sourceFile;
  double w;
  if (numberOf(lookup(obj, {widthField, "uro:width", "width", "幅員", "road_width"}), w) && w > 0 && w < 200)
    r.width = w;
  r.name = textOf(lookup(obj, {"gml:name", "name"}));
  double zmin = INFINITY, zmax = -INFINITY;
  int lod = obj.maxLod();
  if (lod < 0 || !outline(obj, lod, t, lod > 0, r.geom, zmin, zmax, diag)) {
    diag.warning("road-no-geometry", "road '" + r.id + "' has no area polygon; skipped", obj.sourceFile, obj.sourceLine,
                 obj.id);
    return std::nullopt;
  }
  if (!checkValid(r.geom).valid) r.geom = makeValid(r.geom);
  return r;
}

}  // namespace twin::planning
