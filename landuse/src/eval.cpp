// Shared pieces of the rule evaluations: conditions, site variables, area-weighted limits.
#include "eval.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "envelope_mesh.h"

namespace twin::landuse::eval {

std::string num(double v, int decimals) {
  if (!std::isfinite(v)) return "?";
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(decimals);
  o << v;
  std::string s = o.str();
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string pct(double ratio) { return num(ratio * 100, 2) + " %"; }

std::string joined(const std::set<std::string>& xs) {
  std::string m;
  for (auto& x : xs) m += (m.empty() ? "" : ", ") + x;
  return m;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string m;
  for (auto& x : xs) m += (m.empty() ? "" : ", ") + x;
  return m;
}

Tri evaluate(const Condition& c, const Vars& vars, std::set<std::string>& missing) {
  using K = Condition::Kind;
  switch (c.kind) {
    case K::Constant:
      return c.constant ? Tri::True : Tri::False;
    case K::All: {
      Tri r = Tri::True;
      for (auto& x : c.children) {
        Tri t = evaluate(x, vars, missing);
        if (t == Tri::False) return Tri::False;
        if (t == Tri::Unknown) r = Tri::Unknown;
      }
      return r;
    }
    case K::Any: {
      Tri r = Tri::False;
      for (auto& x : c.children) {
        Tri t = evaluate(x, vars, missing);
        if (t == Tri::True) return Tri::True;
        if (t == Tri::Unknown) r = Tri::Unknown;
      }
      return r;
    }
    case K::Not: {
      Tri t = c.children.empty() ? Tri::Unknown : evaluate(c.children[0], vars, missing);
      return t == Tri::Unknown ? t : (t == Tri::True ? Tri::False : Tri::True);
    }
    case K::Test:
      break;
  }
  auto it = vars.find(c.var);
  if (it == vars.end() || it->second.kind == Value::Kind::Null) {
    missing.insert(c.var);
    return Tri::Unknown;
  }
  const Value& v = it->second;
  auto order = [&](auto f) {
    if (v.kind != Value::Kind::Number || c.operand.kind != Value::Kind::Number) return Tri::Unknown;
    return f(v.number, c.operand.number) ? Tri::True : Tri::False;
  };
  using Op = Condition::Op;
  switch (c.op) {
    case Op::Gt:
      return order([](double a, double b) { return a > b; });
    case Op::Ge:
      return order([](double a, double b) { return a >= b; });
    case Op::Lt:
      return order([](double a, double b) { return a < b; });
    case Op::Le:
      return order([](double a, double b) { return a <= b; });
    case Op::Eq:
      return v == c.operand ? Tri::True : Tri::False;
    case Op::Ne:
      return v != c.operand ? Tri::True : Tri::False;
    case Op::In:
      return std::find(c.list.begin(), c.list.end(), v) != c.list.end() ? Tri::True : Tri::False;
    case Op::Exists:
      return Tri::True;
  }
  return Tri::Unknown;
}

std::string label(const RulesFile& f, const District& d) {
  std::string n = d.name;
  if (n.empty())
    if (auto* e = f.district(d.kind, d.code)) n = e->name;
  return "'" + d.id + "'" + (n.empty() ? " (" + d.kind + " " + d.code + ")" : " (" + n + ")");
}

namespace {

// The code of urf:areaClassificationType in a district's attributes (JSON text), or "".
std::string areaClassificationCode(const std::string& attributes) {
  if (attributes.find("areaClassificationType") == std::string::npos) return {};
  auto j = nlohmann::json::parse(attributes, nullptr, false);
  if (!j.is_object()) return {};
  for (const char* key : {"urf:areaClassificationType", "areaClassificationType"}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    if (it->is_object() && it->contains("code") && (*it)["code"].is_string()) return (*it)["code"].get<std::string>();
  }
  return {};
}

}  // namespace

Vars siteVars(const RulesFile& f, const Site& s) {
  Vars v;
  v["site.area"] = Value::of(s.area);
  v["site.cornerLot"] = Value::of(s.cornerLot);
  if (given(s.frontRoadWidth)) v["site.frontRoadWidth"] = Value::of(s.frontRoadWidth);
  std::string fire;
  bool anyFire = false, anyUse = false, anyScenic = false;
  // 区域区分 and the planning area: from AreaClassification, UrbanPlanningArea and
  // QuasiUrbanPlanningArea districts (what the rules file says each means), and from the
  // urf:areaClassificationType a use district may carry; the largest share decides.
  std::string areaClass, planningArea;
  double areaClassShare = 0, planningShare = 0;
  for (auto& ds : s.districts) {
    const DistrictRule* e = f.district(ds.district.kind, ds.district.code);
    std::string cls = e ? e->areaClass : std::string();
    if (cls.empty() && ds.district.kind == "UseDistrict") {
      std::string code = areaClassificationCode(ds.district.attributes);
      if (auto* ac = code.empty() ? nullptr : f.district("AreaClassification", code)) cls = ac->areaClass;
    }
    if (!cls.empty() && ds.share > areaClassShare) areaClassShare = ds.share, areaClass = cls;
    if (e && !e->planningArea.empty() && ds.share > planningShare)
      planningShare = ds.share, planningArea = e->planningArea;
  }
  if (!areaClass.empty()) planningArea = "都市計画区域";  // 区域区分 and 非線引き lie in a 都市計画区域
  for (auto& ds : s.districts) {
    const DistrictRule* e = f.district(ds.district.kind, ds.district.code);
    if (e && !e->fire.empty()) {
      anyFire = true;
      // 法53条7項 / 法67条: a site partly in 防火地域 counts as in it for a fire-resistant building.
      if (fire.empty() || e->fire == "防火地域") fire = e->fire;
    }
    if (ds.district.kind == "UseDistrict") anyUse = true;
    if ((e && e->scenic) || ds.district.kind == "ScenicDistrict") anyScenic = true;
  }
  auto nearby = [&](const char* kind) {
    return std::find(s.kindsNearby.begin(), s.kindsNearby.end(), kind) != s.kindsNearby.end();
  };
  if (anyFire)
    v["site.fireDistrict"] = Value::of(fire);
  else if (nearby("FirePreventionDistrict"))
    v["site.fireDistrict"] = Value::of(std::string());
  // In a 都市計画区域 or 準都市計画区域 (法6条1項4号): use districts are designated only there.
  const bool planningData =
      nearby("AreaClassification") || nearby("UrbanPlanningArea") || nearby("QuasiUrbanPlanningArea");
  if (anyUse || !planningArea.empty())
    v["site.inCityPlanningArea"] = Value::of(true);
  else if (planningData)
    v["site.inCityPlanningArea"] = Value::of(false);
  if (!planningArea.empty())
    v["site.planningArea"] = Value::of(planningArea);
  else if (planningData && !anyUse)
    v["site.planningArea"] = Value::of(std::string());  // outside both
  if (!areaClass.empty()) v["site.areaClassification"] = Value::of(areaClass);
  if (anyScenic)
    v["site.inScenicDistrict"] = Value::of(true);
  else if (nearby("ScenicDistrict"))
    v["site.inScenicDistrict"] = Value::of(false);
  // 都市計画施設の区域 of a planned road (都市計画法第11条, i-UR urf:Road / UrbanPlanningRoad).
  bool inRoad = false;
  for (auto& ds : s.districts)
    inRoad = inRoad || ((ds.district.kind == "Road" || ds.district.kind == "UrbanPlanningRoad") && ds.overlap > 0.01);
  if (inRoad)
    v["site.inPlannedRoad"] = Value::of(true);
  else if (nearby("Road") || nearby("UrbanPlanningRoad"))
    v["site.inPlannedRoad"] = Value::of(false);
  return v;
}

std::vector<const DistrictShare*> ofKind(const std::vector<DistrictShare>& ds, const char* kind) {
  std::vector<const DistrictShare*> out;
  for (auto& d : ds)
    if (d.district.kind == kind) out.push_back(&d);
  return out;
}

void RateParts::note(const std::string& n) {
  if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
}

namespace {

// The parts of a use district's share of the site by fire district (法53条3項1号 applies per part),
// with 法53条7項/8項: a site partly in a 防火地域 whose buildings are all 耐火 counts as all in it;
// one partly in a 準防火地域 and partly in neither, whose buildings are all 耐火 or 準耐火, counts as
// all in the 準防火地域. Without fire-district data the one part keeps the site's value.
struct FirePart {
  std::optional<std::string> kind;  // 防火地域, 準防火地域, "" (neither); nullopt: no data
  double share = 0;                 // of the site
  std::string deemed;               // the article that deemed it, if any
};

std::vector<FirePart> fireParts(const RulesFile& f, const Site& site, const DistrictShare& use, const Vars& base) {
  std::vector<const DistrictShare*> fires;
  for (auto& ds : site.districts) {
    const DistrictRule* e = f.district(ds.district.kind, ds.district.code);
    if (e && !e->fire.empty()) fires.push_back(&ds);
  }
  std::vector<FirePart> parts;
  auto it = base.find("site.fireDistrict");
  if (fires.empty()) {
    FirePart p;
    if (it != base.end()) p.kind = it->second.text;  // "" when fire districts lie nearby, none here
    p.share = use.share;
    parts.push_back(p);
    return parts;
  }
  // The use part's overlap with each fire district (the whole site's shares when one use district).
  int uses = 0;
  for (auto& ds : site.districts) uses += ds.district.kind == "UseDistrict";
  MultiPoly usePart;
  if (uses > 1) usePart = intersection(site.geom, use.district.geom);
  double rest = use.share;
  std::map<std::string, double> byKind;
  for (auto* fd : fires) {
    double share = uses > 1 && site.area > 0 ? intersectionArea(usePart, fd->district.geom) / site.area : fd->share;
    share = std::min(share, rest);
    byKind[f.district(fd->district.kind, fd->district.code)->fire] += share;
    rest -= share;
  }
  for (auto& [k, share] : byKind)
    if (share > 1e-9) parts.push_back({k, share, {}});
  if (rest > 1e-6) parts.push_back({std::string(), rest, {}});
  // What the whole site straddles, for 7項 and 8項.
  bool inFire = false, inQuasi = false, outside = false;
  for (auto& ds : fires) {
    const std::string& k = f.district(ds->district.kind, ds->district.code)->fire;
    inFire = inFire || k == "防火地域";
    inQuasi = inQuasi || k == "準防火地域";
  }
  double covered = 0;
  for (auto* fd : fires) covered += fd->share;
  outside = covered < 1 - 1e-6;
  auto fr = base.find("building.fireResistance");
  std::string least = fr == base.end() ? std::string() : fr->second.text;
  std::string deemed, article;
  if (inFire && (inQuasi || outside) && least == "耐火")
    deemed = "防火地域", article = "建築基準法第53条第7項";
  else if (inQuasi && outside && (least == "耐火" || least == "準耐火"))
    deemed = "準防火地域", article = "建築基準法第53条第8項";
  // 8項 speaks of a site over 準防火 and neither: a 防火 part of a site over all three keeps its own
  // district (where a 準耐火 building earns nothing, 法53条3項1号イ) — the stricter reading.
  if (!deemed.empty())
    for (auto& p : parts)
      if (p.kind != deemed && !(deemed == "準防火地域" && p.kind && *p.kind == "防火地域"))
        p.kind = deemed, p.deemed = article;
  return parts;
}

}  // namespace

RateParts coverageLimit(const RulesFile& f, const Site& site, const Vars& base) {
  RateParts r;
  const CoverageRules& cov = f.coverage;
  for (auto* ds : ofKind(site.districts, "UseDistrict")) {
    const District& d = ds->district;
    r.covered += ds->share;
    if (!given(d.coverageRate)) {
      r.missing.push_back("district " + label(f, d) + " gives no building coverage rate (urf:buildingCoverageRate)");
      continue;
    }
    auto parts = fireParts(f, site, *ds, base);
    for (auto& part : parts) {
      Vars v = base;
      v["district.code"] = Value::of(d.code);
      v["district.coverageRate"] = Value::of(d.coverageRate);
      const DistrictRule* e = f.district(d.kind, d.code);
      v["district.group"] = Value::of(e ? e->group : std::string());
      if (part.kind)
        v["site.fireDistrict"] = Value::of(*part.kind);
      else
        v.erase("site.fireDistrict");
      std::map<std::string, double> sure, maybe;  // bonus group -> largest add (known / possible)
      std::string how = pct(d.coverageRate);
      for (auto& b : cov.bonuses) {
        std::set<std::string> miss;
        Tri t = evaluate(b.when, v, miss);
        if (t == Tri::True) {
          if (b.add > sure[b.group]) sure[b.group] = b.add;
          if (b.add > maybe[b.group]) maybe[b.group] = b.add;
          how += " + " + pct(b.add) + " (" + b.id + ", " + b.article + ")";
        } else if (t == Tri::Unknown) {
          if (b.add > maybe[b.group]) maybe[b.group] = b.add;
          r.note("bonus " + b.id + " (+" + pct(b.add) + ", " + b.article + ") not applied: " + joined(miss) +
                 " unknown");
        }
      }
      double rate = d.coverageRate, high = d.coverageRate;
      for (auto& [g, a] : sure) rate += a;
      for (auto& [g, a] : maybe) high += a;
      for (auto& x : cov.exemptions) {
        std::set<std::string> miss;
        Tri t = evaluate(x.when, v, miss);
        if (t == Tri::True) {
          rate = high = x.limit;
          how = pct(rate) + " (" + x.id + ", " + x.article + ")";
        } else if (t == Tri::Unknown) {
          high = std::max(high, x.limit);
          r.note("exemption " + x.id + " (" + pct(x.limit) + ", " + x.article + ") not applied: " + joined(miss) +
                 " unknown");
        }
      }
      r.limit += part.share * std::min(rate, 1.0);
      r.limitHigh += part.share * std::min(high, 1.0);
      std::string where = parts.size() > 1 || !part.deemed.empty()
                              ? " (" +
                                    (part.kind && !part.kind->empty() ? *part.kind : std::string("no fire district")) +
                                    (part.deemed.empty() ? "" : ", deemed by " + part.deemed) + ")"
                              : "";
      r.terms.push_back(num(part.share * 100, 1) + " % of the site" + where + " × " + how);
    }
  }
  return r;
}

RateParts floorAreaLimit(const RulesFile& f, const Site& site, double& upper) {
  RateParts r;
  upper = 0;
  const double below = f.floorArea.roadRuleBelow;
  for (auto* ds : ofKind(site.districts, "UseDistrict")) {
    const District& d = ds->district;
    r.covered += ds->share;
    if (!given(d.floorAreaRate)) {
      r.missing.push_back("district " + label(f, d) + " gives no floor area rate (urf:floorAreaRate)");
      continue;
    }
    upper += ds->share * d.floorAreaRate;
    const DistrictRule* e = f.district(d.kind, d.code);
    double factor = e && e->roadFactor ? *e->roadFactor : f.floorArea.defaultRoadFactor;
    double rate = d.floorAreaRate;
    std::string how = pct(d.floorAreaRate) + " designated";
    if (!given(site.frontRoadWidth)) {
      r.missing.push_back("front road width (no road with a width along the site, no 前面道路幅員 attribute)");
    } else if (site.frontRoadWidth < below) {
      double road = site.frontRoadWidth * factor;
      if (road < rate) {
        rate = road;
        how = "min(" + pct(d.floorAreaRate) + " designated, " + num(site.frontRoadWidth) + " m × " + num(factor, 2) +
              " = " + pct(road) + ")";
      } else {
        how += " (road " + num(site.frontRoadWidth) + " m × " + num(factor, 2) + " = " + pct(road) + " is higher)";
      }
    }
    r.limit += ds->share * rate;
    r.limitHigh += ds->share * rate;
    r.terms.push_back(num(ds->share * 100, 1) + " % × " + how);
  }
  return r;
}

std::string siteFireResistance(const std::vector<Building>& buildings) {
  auto rank = [](const std::string& v) { return v == "耐火" ? 3 : v == "準耐火" ? 2 : v == "その他" ? 1 : 0; };
  int least = 4;
  bool unknown = false;
  for (auto& b : buildings) {
    int r = rank(b.fireResistance);
    if (r == 0)
      unknown = true;
    else
      least = std::min(least, r);
  }
  if (least == 1) return "その他";  // known not to qualify, whatever the unknown ones are
  if (unknown || least == 4) return {};
  return least == 3 ? "耐火" : "準耐火";
}

FloorAreaRange floorAreaRange(const RulesFile& f, const Building& b) {
  FloorAreaRange r{b.floorArea, b.floorArea, "as given"};
  if (!b.floorAreaEstimated || !given(b.floorArea)) return r;
  const double a = b.buildingArea;
  if (b.storeysAbove > 0) {
    r.low = a, r.high = a * b.storeysAbove;
    r.how = "building area × 1 to × " + std::to_string(b.storeysAbove) + " storeys";
  } else if (given(b.height) && f.minStoreyHeight > 0) {
    int n = std::max(1, int(std::ceil(b.height / f.minStoreyHeight - 1e-9)));
    r.low = a, r.high = a * n;
    r.how = "building area × 1 to × " + std::to_string(n) + " storeys: height " + num(b.height) + " m / " +
            num(f.minStoreyHeight) + " m, the lowest storey height";
  }
  r.low = std::min(r.low, b.floorArea), r.high = std::max(r.high, b.floorArea);
  return r;
}

std::vector<Edge> boundaryEdges(const Site& site) {
  std::vector<Edge> edges;
  for (auto& [a, b] : outerEdges(site.geom)) {
    Edge ed{a, b};
    for (auto& fr : site.frontage)
      if (std::hypot(fr.a[0] - a[0], fr.a[1] - a[1]) < 1e-6 && std::hypot(fr.b[0] - b[0], fr.b[1] - b[1]) < 1e-6) {
        ed.road = true;
        ed.roadId = fr.roadId;
        if (given(fr.width)) ed.roadWidth = fr.width;
        ed.levelMin = fr.levelMin, ed.levelMax = fr.levelMax;
      }
    for (auto& os : site.openSides)
      if (std::hypot(os.a[0] - a[0], os.a[1] - a[1]) < 1e-6 && std::hypot(os.b[0] - b[0], os.b[1] - b[1]) < 1e-6) {
        ed.openId = os.districtId, ed.openCode = os.code, ed.openDepth = os.depth;
        ed.openAcross = os.acrossRoad, ed.openPartial = os.partial;
      }
    edges.push_back(ed);
  }
  return edges;
}

double specialRoadWidth(const Site& site) {
  const double w = site.frontRoadWidth, l = site.specialRoadDistance;
  if (!given(w) || !given(l) || w < 6 || w >= 12 || l > 70) return w;
  return w + (12 - w) * (70 - std::max(0.0, l)) / 70;
}

MultiPoly narrowRoadStrips(const Site& s) {
  std::vector<MultiPoly> strips;
  for (auto& f : s.frontage) {
    if (!given(f.width) || f.width >= 4 - 1e-9) continue;
    double depth = 2 - f.width / 2;
    double dx = f.b[0] - f.a[0], dy = f.b[1] - f.a[1], len = std::hypot(dx, dy);
    if (len < 1e-9) continue;
    double nx = -dy / len * depth, ny = dx / len * depth;  // inward (the ring is counter-clockwise)
    strips.push_back({Poly{{f.a, f.b, {f.b[0] + nx, f.b[1] + ny}, {f.a[0] + nx, f.a[1] + ny}}, {}}});
  }
  if (strips.empty() || s.geom.empty()) return {};
  MultiPoly m = intersection(strips.size() == 1 ? strips[0] : unite(strips), s.geom);
  return area(m) > 0.01 ? m : MultiPoly{};
}

}  // namespace twin::landuse::eval
