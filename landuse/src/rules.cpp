// The rules engine: a rules file (JSON) read once, evaluated against sites, buildings and plans.
#include "twin/landuse/rules.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "twin/fsutil.h"
#include "twin/triangulate.h"
#include "twin/vfs.h"

#ifndef TWIN_RULES_DIR
#define TWIN_RULES_DIR ""
#endif

namespace twin::landuse {

using nlohmann::json;

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    default:
      return "unknown";
  }
}

namespace {

std::string num(double v, int decimals = 2) {
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

// Three-valued logic for conditions over variables that may be missing.
enum class Tri { False, True, Unknown };

using Vars = std::map<std::string, json>;

Tri evalCond(const json& c, const Vars& vars, std::set<std::string>& missing) {
  if (c.is_boolean()) return c.get<bool>() ? Tri::True : Tri::False;
  if (!c.is_object()) return Tri::Unknown;
  if (c.contains("all")) {
    Tri r = Tri::True;
    for (auto& x : c["all"]) {
      Tri t = evalCond(x, vars, missing);
      if (t == Tri::False) return Tri::False;
      if (t == Tri::Unknown) r = Tri::Unknown;
    }
    return r;
  }
  if (c.contains("any")) {
    Tri r = Tri::False;
    for (auto& x : c["any"]) {
      Tri t = evalCond(x, vars, missing);
      if (t == Tri::True) return Tri::True;
      if (t == Tri::Unknown) r = Tri::Unknown;
    }
    return r;
  }
  if (c.contains("not")) {
    Tri t = evalCond(c["not"], vars, missing);
    return t == Tri::Unknown ? t : (t == Tri::True ? Tri::False : Tri::True);
  }
  std::string name = c.value("var", "");
  auto it = vars.find(name);
  if (it == vars.end() || it->second.is_null()) {
    missing.insert(name);
    return Tri::Unknown;
  }
  const json& v = it->second;
  auto cmp = [&](const char* op, auto f) -> std::optional<Tri> {
    if (!c.contains(op)) return std::nullopt;
    const json& w = c[op];
    if (v.is_number() && w.is_number()) return f(v.get<double>(), w.get<double>()) ? Tri::True : Tri::False;
    return std::nullopt;
  };
  if (auto t = cmp("gt", [](double a, double b) { return a > b; })) return *t;
  if (auto t = cmp("ge", [](double a, double b) { return a >= b; })) return *t;
  if (auto t = cmp("lt", [](double a, double b) { return a < b; })) return *t;
  if (auto t = cmp("le", [](double a, double b) { return a <= b; })) return *t;
  if (c.contains("eq")) return v == c["eq"] ? Tri::True : Tri::False;
  if (c.contains("ne")) return v != c["ne"] ? Tri::True : Tri::False;
  if (c.contains("in")) {
    for (auto& x : c["in"])
      if (x == v) return Tri::True;
    return Tri::False;
  }
  if (c.contains("exists")) return Tri::True;
  return Tri::Unknown;
}

}  // namespace

struct RuleSet::Impl {
  std::string name;
  json doc;
  double floorHeight = 3.0;

  const json* districtEntry(const std::string& kind, const std::string& code) const {
    auto d = doc.find("districts");
    if (d == doc.end()) return nullptr;
    auto k = d->find(kind);
    if (k == d->end()) return nullptr;
    auto c = k->find(code);
    return c == k->end() ? nullptr : &*c;
  }
  std::string prop(const json* e, const char* key) const {
    return e && e->contains(key) && (*e)[key].is_string() ? (*e)[key].get<std::string>() : std::string();
  }
  std::string label(const District& d) const {
    std::string n = d.name.empty() ? prop(districtEntry(d.kind, d.code), "name") : d.name;
    return "'" + d.id + "'" + (n.empty() ? " (" + d.kind + " " + d.code + ")" : " (" + n + ")");
  }
  const json& section(const char* key) const {
    static const json empty = json::object();
    auto it = doc.find(key);
    return it == doc.end() ? empty : *it;
  }
};

RuleSet::RuleSet() : impl_(std::make_shared<Impl>()) {}
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(const RuleSet&) = default;
RuleSet& RuleSet::operator=(const RuleSet&) = default;

std::string RuleSet::defaultPath() {
  const char* env = std::getenv("TWIN_RULES_DIR");
  if (env && *env) return std::string(env) + "/japan.json";
  // Installed: PREFIX/share/twin/rules beside the program; else the source tree's.
  if (std::string installed = fs::dataFile("rules/japan.json"); !installed.empty()) return installed;
  return std::string(TWIN_RULES_DIR) + "/japan.json";
}

Result<RuleSet> RuleSet::load(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!vfs::readAll(path, bytes, error, 64ull << 20))
    return Result<RuleSet>::failure("rules-unreadable", "cannot read rules file '" + path + "': " + error);
  return parse(std::string(bytes.begin(), bytes.end()), path);
}

Result<RuleSet> RuleSet::parse(const std::string& text, const std::string& name) {
  using R = Result<RuleSet>;
  json doc = json::parse(text, nullptr, false, true);
  if (doc.is_discarded() || !doc.is_object())
    return R::failure("rules-malformed", name + ": not a JSON object (check commas and quotes)");
  auto fail = [&](const std::string& where, const std::string& what) {
    return R::failure("rules-invalid", name + ": " + where + ": " + what);
  };
  if (!doc.contains("districts") || !doc["districts"].is_object()) return fail("districts", "missing or not an object");
  for (auto& [kind, codes] : doc["districts"].items()) {
    if (!codes.is_object()) return fail("districts." + kind, "must map codes to entries");
    for (auto& [code, e] : codes.items()) {
      std::string w = "districts." + kind + "." + code;
      if (!e.is_object() || !e.contains("name")) return fail(w, "needs at least a name");
      if (e.contains("roadFactor") && (!e["roadFactor"].is_number() || e["roadFactor"].get<double>() <= 0))
        return fail(w + ".roadFactor", "must be a positive number (0.4 or 0.6 under 法52条2項)");
      if (e.contains("northSlant") && (!e["northSlant"].contains("rise") || !e["northSlant"].contains("slope")))
        return fail(w + ".northSlant", "needs rise and slope");
      if (e.contains("roadSlant") && !e["roadSlant"].contains("slope")) return fail(w + ".roadSlant", "needs slope");
    }
  }
  for (const char* sec : {"coverage", "floorArea"})
    if (!doc.contains(sec) || !doc[sec].is_object()) return fail(sec, "missing section");
  for (const char* list : {"bonuses", "exemptions"})
    if (doc["coverage"].contains(list))
      for (auto& b : doc["coverage"][list])
        if (!b.contains("when") || !b.contains("article"))
          return fail(std::string("coverage.") + list + "." + b.value("id", "?"), "needs when and article");
  if (doc.contains("procedures"))
    for (auto& p : doc["procedures"])
      if (!p.contains("id") || !p.contains("name") || !p.contains("when") || !p.contains("article"))
        return fail("procedures." + p.value("id", "?"), "needs id, name, article and when");
  RuleSet rs;
  auto im = std::make_shared<Impl>();
  im->name = doc.value("name", name);
  im->floorHeight = doc.value("floorHeight", 3.0);
  im->doc = std::move(doc);
  rs.impl_ = im;
  R r;
  r.value = std::move(rs);
  return r;
}

const std::string& RuleSet::name() const { return impl_->name; }
double RuleSet::floorHeight() const { return impl_->floorHeight; }
std::string RuleSet::districtName(const std::string& kind, const std::string& code) const {
  return impl_->prop(impl_->districtEntry(kind, code), "name");
}
bool RuleSet::knowsDistrict(const std::string& kind, const std::string& code) const {
  return impl_->districtEntry(kind, code) != nullptr;
}

namespace {

// Site-level variables the rules file's conditions may use.
Vars siteVars(const RuleSet::Impl& im, const Site& s) {
  Vars v;
  v["site.area"] = s.area;
  v["site.cornerLot"] = s.cornerLot;
  if (given(s.frontRoadWidth)) v["site.frontRoadWidth"] = s.frontRoadWidth;
  std::string fire;
  bool anyFire = false, anyUse = false, anyScenic = false;
  std::string areaClass;
  double areaClassShare = 0;
  for (auto& ds : s.districts) {
    const json* e = im.districtEntry(ds.district.kind, ds.district.code);
    std::string f = im.prop(e, "fire");
    if (!f.empty()) {
      anyFire = true;
      // 法53条7項 / 法67条: a site partly in 防火地域 counts as in it for a fire-resistant building.
      if (fire.empty() || f == "防火地域") fire = f;
    }
    if (ds.district.kind == "UseDistrict") anyUse = true;
    if (im.prop(e, "scenic") == "true" || ds.district.kind == "ScenicDistrict") anyScenic = true;
    if (ds.district.kind == "AreaClassification" && ds.share > areaClassShare) {
      areaClassShare = ds.share;
      areaClass = im.prop(e, "name");
    }
  }
  auto nearby = [&](const char* kind) {
    return std::find(s.kindsNearby.begin(), s.kindsNearby.end(), kind) != s.kindsNearby.end();
  };
  if (anyFire)
    v["site.fireDistrict"] = fire;
  else if (nearby("FirePreventionDistrict"))
    v["site.fireDistrict"] = "";
  if (anyUse || !areaClass.empty()) v["site.inCityPlanningArea"] = true;
  if (!areaClass.empty()) v["site.areaClassification"] = areaClass;
  if (anyScenic)
    v["site.inScenicDistrict"] = true;
  else if (nearby("ScenicDistrict"))
    v["site.inScenicDistrict"] = false;
  return v;
}

std::vector<const DistrictShare*> ofKind(const std::vector<DistrictShare>& ds, const char* kind) {
  std::vector<const DistrictShare*> out;
  for (auto& d : ds)
    if (d.district.kind == kind) out.push_back(&d);
  return out;
}

struct RateParts {
  double limit = 0;      // Σ share × rate over districts with a rate (bonuses whose data is known)
  double limitHigh = 0;  // the same with every bonus or exemption whose data is missing applied
  double covered = 0;    // Σ share over use districts
  std::vector<std::string> missing, terms, notes;
  void note(const std::string& n) {
    if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
  }
};

std::string joined(const std::set<std::string>& xs) {
  std::string m;
  for (auto& x : xs) m += (m.empty() ? "" : ", ") + x;
  return m;
}

// The area-weighted coverage limit with the file's bonuses and exemptions (per district part).
// Bonuses sharing a `group` do not add up (at most the largest of them applies).
RateParts coverageLimit(const RuleSet::Impl& im, const Site& site, const Vars& base) {
  RateParts r;
  const json& cov = im.section("coverage");
  for (auto* ds : ofKind(site.districts, "UseDistrict")) {
    const District& d = ds->district;
    r.covered += ds->share;
    if (!given(d.coverageRate)) {
      r.missing.push_back("district " + im.label(d) + " gives no building coverage rate (urf:buildingCoverageRate)");
      continue;
    }
    Vars v = base;
    v["district.code"] = d.code;
    v["district.coverageRate"] = d.coverageRate;
    const json* e = im.districtEntry(d.kind, d.code);
    v["district.group"] = im.prop(e, "group");
    std::map<std::string, double> sure, maybe;  // bonus group -> largest add (known / possible)
    std::string how = pct(d.coverageRate);
    if (cov.contains("bonuses"))
      for (auto& b : cov["bonuses"]) {
        std::set<std::string> miss;
        Tri t = evalCond(b["when"], v, miss);
        std::string id = b.value("id", "bonus"), group = b.value("group", id);
        double add = b.value("add", 0.0);
        if (t == Tri::True) {
          if (add > sure[group]) sure[group] = add;
          if (add > maybe[group]) maybe[group] = add;
          how += " + " + pct(add) + " (" + id + ", " + b.value("article", "") + ")";
        } else if (t == Tri::Unknown) {
          if (add > maybe[group]) maybe[group] = add;
          r.note("bonus " + id + " (+" + pct(add) + ", " + b.value("article", "") + ") not applied: " + joined(miss) +
                 " unknown");
        }
      }
    double rate = d.coverageRate, high = d.coverageRate;
    for (auto& [g, a] : sure) rate += a;
    for (auto& [g, a] : maybe) high += a;
    if (cov.contains("exemptions"))
      for (auto& x : cov["exemptions"]) {
        std::set<std::string> miss;
        Tri t = evalCond(x["when"], v, miss);
        double lim = x.value("limit", 1.0);
        if (t == Tri::True) {
          rate = high = lim;
          how = pct(rate) + " (" + x.value("id", "exemption") + ", " + x.value("article", "") + ")";
        } else if (t == Tri::Unknown) {
          high = std::max(high, lim);
          r.note("exemption " + x.value("id", "exemption") + " (" + pct(lim) + ", " + x.value("article", "") +
                 ") not applied: " + joined(miss) + " unknown");
        }
      }
    r.limit += ds->share * std::min(rate, 1.0);
    r.limitHigh += ds->share * std::min(high, 1.0);
    r.terms.push_back(num(ds->share * 100, 1) + " % of the site × " + how);
  }
  return r;
}

// The area-weighted floor-area limit: min(designated, front road width × factor) per district.
// `upper` receives the limit without the road rule (an upper bound when the width is unknown).
RateParts floorAreaLimit(const RuleSet::Impl& im, const Site& site, double& upper) {
  RateParts r;
  upper = 0;
  const json& fa = im.section("floorArea");
  double below = fa.value("roadRuleBelow", 12.0);
  double defFactor = fa.value("defaultRoadFactor", 0.6);
  for (auto* ds : ofKind(site.districts, "UseDistrict")) {
    const District& d = ds->district;
    r.covered += ds->share;
    if (!given(d.floorAreaRate)) {
      r.missing.push_back("district " + im.label(d) + " gives no floor area rate (urf:floorAreaRate)");
      continue;
    }
    upper += ds->share * d.floorAreaRate;
    const json* e = im.districtEntry(d.kind, d.code);
    double factor = e && e->contains("roadFactor") ? (*e)["roadFactor"].get<double>() : defFactor;
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

RuleResult ratioResult(const char* rule, const json& sec, double value, const RateParts& lim, const std::string& what,
                       const std::vector<std::pair<std::string, std::string>>& inputs,
                       const std::string& valueFormula) {
  RuleResult r;
  r.rule = rule;
  r.title = sec.value("title", rule);
  r.article = sec.value("article", "");
  r.unit = "%";
  r.inputs = inputs;
  r.value = value * 100;
  std::string terms;
  for (auto& t : lim.terms) terms += (terms.empty() ? "" : " + ") + t;
  r.formula = valueFormula + "; limit = " + (terms.empty() ? "?" : terms);
  bool complete = lim.missing.empty() && lim.covered >= 0.999;
  if (complete && (value <= lim.limit + 1e-9 || value > lim.limitHigh + 1e-9)) {
    r.limit = lim.limit * 100;
    r.verdict = value <= lim.limit + 1e-9 ? Verdict::Pass : Verdict::Fail;
    r.reason = what + " " + pct(value) + (r.verdict == Verdict::Pass ? " is within " : " exceeds ") + "the limit " +
               pct(lim.limit);
    if (r.verdict == Verdict::Fail && lim.limitHigh > lim.limit + 1e-9)
      r.reason += " and the " + pct(lim.limitHigh) + " it could reach with the bonuses below";
  } else if (complete) {
    // Between the limit without and with the bonuses whose data is missing: the data decides.
    r.limit = lim.limit * 100;
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: " + what + " " + pct(value) + " exceeds " + pct(lim.limit) + " but is within the " +
               pct(lim.limitHigh) + " that bonuses or exemptions would allow if they apply";
  } else {
    r.verdict = Verdict::Unknown;
    std::string m;
    for (auto& x : lim.missing) m += (m.empty() ? "" : "; ") + x;
    if (lim.covered < 0.999)
      m += std::string(m.empty() ? "" : "; ") + num((1 - lim.covered) * 100, 1) +
           " % of the site lies in no use district (用途地域) in the store";
    r.reason = "cannot decide: " + m;
  }
  for (auto& n : lim.notes) r.reason += "; " + n;
  return r;
}

}  // namespace

std::vector<RuleResult> RuleSet::check(const Building& b, const Site& site,
                                       const std::vector<DistrictShare>& inBuilding) const {
  const Impl& im = *impl_;
  std::vector<RuleResult> out;
  auto siteMissing = [&](const char* rule, const json& sec, const std::string& why) {
    RuleResult r;
    r.rule = rule;
    r.title = sec.value("title", rule);
    r.article = sec.value("article", "");
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: " + why;
    out.push_back(std::move(r));
  };
  Vars vars = siteVars(im, site);
  if (!b.fireResistance.empty()) vars["building.fireResistance"] = b.fireResistance;

  // Building area / floor area on the site: this building's share of the site.
  std::string parcels;
  for (auto& p : site.parcels) parcels += (parcels.empty() ? "" : ", ") + (p.chiban.empty() ? p.id : p.chiban);
  std::vector<std::pair<std::string, std::string>> common = {
      {"site parcels (地番)", parcels}, {"site area", num(site.area) + " m²"}, {"building", b.id}};
  if (site.parcels.empty()) {
    for (const char* s : {"coverage", "floorArea"})
      siteMissing(s == std::string("coverage") ? "coverage" : "floor-area", im.section(s),
                  "the building stands on no parcel in the store (import parcels covering it)");
  } else {
    // 建ぺい率
    double cov = b.buildingArea / site.area;
    auto inputs = common;
    inputs.push_back({"building area (建築面積)", num(b.buildingArea) + " m² (" + b.footprintSource + ")"});
    auto lim = coverageLimit(im, site, vars);
    out.push_back(
        ratioResult("coverage", im.section("coverage"), cov, lim, "building coverage", inputs,
                    "building area / site area = " + num(b.buildingArea) + " / " + num(site.area) + " = " + pct(cov)));
    // 容積率
    inputs = common;
    const json& fsec = im.section("floorArea");
    if (!given(b.floorArea)) {
      siteMissing("floor-area", fsec, "total floor area (延べ面積) unknown: no uro:totalFloorArea, storeys or height");
    } else {
      inputs.push_back({"total floor area (延べ面積)", num(b.floorArea) + " m² (" + b.floorAreaSource + ")"});
      if (given(site.frontRoadWidth))
        inputs.push_back({"front road width (前面道路幅員)", num(site.frontRoadWidth) + " m, " + site.frontRoadSource});
      double upper = 0;
      auto flim = floorAreaLimit(im, site, upper);
      double far = b.floorArea / site.area;
      auto r =
          ratioResult("floor-area", fsec, far, flim, "floor-area ratio", inputs,
                      "total floor area / site area = " + num(b.floorArea) + " / " + num(site.area) + " = " + pct(far));
      // The road rule only lowers the limit: above the designated rates it fails whatever the road.
      bool onlyRoadMissing =
          flim.covered >= 0.999 && std::all_of(flim.missing.begin(), flim.missing.end(),
                                               [](auto& m) { return m.rfind("front road width", 0) == 0; });
      if (r.verdict == Verdict::Unknown && onlyRoadMissing && far > upper + 1e-9) {
        r.verdict = Verdict::Fail;
        r.limit = upper * 100;
        r.reason = "floor-area ratio " + pct(far) + " exceeds the designated limit " + pct(upper) +
                   " (the front-road rule could only lower it)";
      } else if (r.verdict == Verdict::Unknown && onlyRoadMissing) {
        r.reason += "; the designated limit " + pct(upper) + " is met, the front-road rule (法52条2項) may lower it";
      }
      if (b.floorAreaEstimated) r.reason += "; the floor area is an estimate (" + b.floorAreaSource + ")";
      r.reason +=
          "; floor area counted as given (exclusions of 法52条3項・6項 for basements, parking, corridors not applied)";
      out.push_back(std::move(r));
    }
    // 敷地面積の最低限度
    const json& msec = im.section("minimumSiteArea");
    for (auto* ds : ofKind(site.districts, "UseDistrict")) {
      if (!given(ds->district.minSiteArea)) continue;
      RuleResult r;
      r.rule = "minimum-site-area";
      r.title = msec.value("title", "敷地面積の最低限度 minimum site area");
      r.article = msec.value("article", "建築基準法第53条の2");
      r.unit = "m²";
      r.value = site.area;
      r.limit = ds->district.minSiteArea;
      r.inputs = common;
      r.formula =
          "site area " + num(site.area) + " m² ≥ " + num(r.limit) + " m² (district " + im.label(ds->district) + ")";
      r.verdict = site.area + 1e-6 >= r.limit ? Verdict::Pass : Verdict::Fail;
      r.reason = r.verdict == Verdict::Pass ? "the site is large enough"
                                            : "the site is smaller than the minimum (sites that were smaller before "
                                              "the minimum was set are exempt: 第53条の2第3項)";
      out.push_back(std::move(r));
      break;
    }
  }

  // Heights: the limits of the districts the building itself stands in.
  const json& hsec = im.section("height");
  std::vector<std::pair<std::string, std::string>> hin = {{"building", b.id}};
  if (given(b.height)) hin.push_back({"height", num(b.height) + " m (" + b.heightSource + ")"});
  auto heightUnknown = [&](RuleResult& r) {
    r.verdict = Verdict::Unknown;
    r.reason = b.heightSource.rfind("unknown", 0) == 0
                   ? "cannot decide: the building's height is " + b.heightSource
                   : "cannot decide: the building's height is unknown (no bldg:measuredHeight, no 3D geometry)";
  };
  // An estimated height (PLATEAU's LOD1 of 3 m per storey) is shown, but does not decide alone.
  const bool heightEstimated = b.heightSource.rfind("estimated", 0) == 0;
  auto estimateDecidesNot = [&](RuleResult& r) {
    if (!heightEstimated || r.verdict == Verdict::Unknown || !std::isfinite(r.value)) return;
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: the height is an estimate (" + b.heightSource + "); it would " +
               (r.reason.empty() ? std::string("decide") : r.reason);
  };
  auto uses = ofKind(inBuilding, "UseDistrict");
  {
    const json& s = hsec.contains("absolute") ? hsec["absolute"] : json::object();
    RuleResult r;
    r.rule = "height-absolute";
    r.title = s.value("title", "絶対高さ制限 absolute height limit");
    r.article = s.value("article", "建築基準法第55条");
    r.unit = "m";
    r.inputs = hin;
    if (uses.empty()) {
      r.verdict = Verdict::Unknown;
      r.reason = "cannot decide: no use district (用途地域) in the store covers the building";
    } else {
      double lo = INFINITY, hi = INFINITY;  // the limit lies in [lo, hi]
      std::string from;
      for (auto* ds : uses) {
        const json* e = im.districtEntry(ds->district.kind, ds->district.code);
        bool absolute = e && e->value("absoluteHeight", false);
        if (given(ds->district.heightLimit)) {
          lo = std::min(lo, ds->district.heightLimit), hi = std::min(hi, ds->district.heightLimit);
          from += (from.empty() ? "" : ", ") + im.label(ds->district) + ": " + num(ds->district.heightLimit) + " m";
        } else if (absolute) {
          double a = 10, c = 12;
          if (s.contains("range") && s["range"].size() == 2)
            a = s["range"][0].get<double>(), c = s["range"][1].get<double>();
          lo = std::min(lo, a), hi = std::min(hi, c);
          from += (from.empty() ? "" : ", ") + im.label(ds->district) + ": " + num(a) + " or " + num(c) +
                  " m (the data does not say which)";
        }
      }
      if (!std::isfinite(hi)) {
        r.verdict = Verdict::Pass;
        r.reason = "no absolute height limit applies in the building's use districts";
        r.formula = "no limit";
      } else if (!given(b.height)) {
        heightUnknown(r);
      } else {
        r.value = b.height;
        r.formula = "height " + num(b.height) + " m ≤ limit (" + from + ")";
        if (b.height <= lo + 1e-9) {
          r.limit = lo;
          r.verdict = Verdict::Pass;
          r.reason = "height " + num(b.height) + " m is within " + num(lo) + " m";
        } else if (b.height > hi + 1e-9) {
          r.limit = hi;
          r.verdict = Verdict::Fail;
          r.reason = "height " + num(b.height) + " m exceeds " + num(hi) + " m";
        } else {
          r.verdict = Verdict::Unknown;
          r.reason = "cannot decide: the height lies between " + num(lo) + " m and " + num(hi) +
                     " m and the district data does not give its limit (urf:buildingHeightLimits)";
        }
        estimateDecidesNot(r);
      }
    }
    out.push_back(std::move(r));
  }
  for (auto* ds : ofKind(inBuilding, "HeightControlDistrict")) {
    const json& s = hsec.contains("district") ? hsec["district"] : json::object();
    const District& d = ds->district;
    auto one = [&](const char* rule, double limit, bool minimum) {
      RuleResult r;
      r.rule = rule;
      r.title = minimum ? s.value("minimumTitle", "高度地区 最低限度 minimum height")
                        : s.value("title", "高度地区 height control");
      r.article = s.value("article", "都市計画法第9条第18項, 建築基準法第58条");
      r.unit = "m";
      r.inputs = hin;
      r.inputs.push_back({"district", im.label(d)});
      if (!given(b.height)) {
        heightUnknown(r);
      } else {
        r.value = b.height;
        r.limit = limit;
        r.formula = "height " + num(b.height) + (minimum ? " m ≥ " : " m ≤ ") + num(limit) + " m";
        bool ok = minimum ? b.height + 1e-9 >= limit : b.height <= limit + 1e-9;
        r.verdict = ok ? Verdict::Pass : Verdict::Fail;
        r.reason = std::string(ok ? "keeps" : "breaks") + " the " + (minimum ? "minimum" : "maximum") + " height of " +
                   im.label(d);
        estimateDecidesNot(r);
      }
      out.push_back(std::move(r));
    };
    if (given(d.maxHeight)) one("height-district", d.maxHeight, false);
    if (given(d.minHeight)) one("height-minimum", d.minHeight, true);
    if (!given(d.maxHeight) && !given(d.minHeight)) {
      RuleResult r;
      r.rule = "height-district";
      r.title = s.value("title", "高度地区 height control");
      r.article = s.value("article", "");
      r.inputs = hin;
      r.verdict = Verdict::Unknown;
      r.reason = "cannot decide: " + im.label(d) +
                 " gives no maximum or minimum height (slant-type 高度地区 limits are not in the data)";
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<ProcedureNeed> RuleSet::procedures(const Site& site, const Plan& plan) const {
  const Impl& im = *impl_;
  Vars v = siteVars(im, site);
  if (!plan.use.empty()) v["plan.use"] = plan.use;
  if (given(plan.floorArea)) v["plan.floorArea"] = plan.floorArea;
  if (given(plan.buildingArea)) v["plan.buildingArea"] = plan.buildingArea;
  if (given(plan.height)) v["plan.height"] = plan.height;
  if (plan.storeys >= 0) v["plan.storeys"] = plan.storeys;
  if (given(plan.developmentArea)) v["plan.developmentArea"] = plan.developmentArea;
  double earth = given(plan.earthworkArea) ? plan.earthworkArea : plan.developmentArea;
  if (given(earth)) v["plan.earthworkArea"] = earth;
  v["plan.signage"] = plan.signage;
  v["plan.newBuilding"] = plan.newBuilding;
  std::vector<ProcedureNeed> out;
  for (auto& p : im.section("procedures")) {
    ProcedureNeed n;
    n.id = p.value("id", "");
    n.name = p.value("name", "");
    n.english = p.value("english", "");
    n.article = p.value("article", "");
    std::set<std::string> miss;
    Tri t = evalCond(p["when"], v, miss);
    n.missing.assign(miss.begin(), miss.end());
    if (t == Tri::True) {
      n.status = "required";
      n.why = p.value("why", "");
    } else if (t == Tri::Unknown) {
      n.status = "possibly required";
      std::string m;
      for (auto& x : miss) m += (m.empty() ? "" : ", ") + x;
      n.why = p.value("why", "") + " — cannot decide without: " + m;
    } else {
      n.status = "not required";
      n.why = p.value("whyNot", "its conditions do not hold for this plan and site");
    }
    out.push_back(std::move(n));
  }
  return out;
}

// ---- envelope ---------------------------------------------------------------------------------

namespace {

// z = a x + b y + c, applying where every half-plane n·p <= d of `region` holds.
struct Constraint {
  double a = 0, b = 0, c = 0;
  std::vector<std::array<double, 3>> region;  // nx, ny, d
  std::string what;
  double at(const P2& p) const { return a * p[0] + b * p[1] + c; }
  bool covers(const P2& p) const {
    for (auto& h : region)
      if (h[0] * p[0] + h[1] * p[1] > h[2] + 1e-9) return false;
    return true;
  }
};

using Convex = std::vector<P2>;

// The part of `poly` where f(p) = nx x + ny y - d <= 0 (keep) and the rest (other).
void splitConvex(const Convex& poly, double nx, double ny, double d, Convex& keep, Convex& other) {
  keep.clear(), other.clear();
  size_t n = poly.size();
  for (size_t i = 0; i < n; ++i) {
    const P2& p = poly[i];
    const P2& q = poly[(i + 1) % n];
    double fp = nx * p[0] + ny * p[1] - d, fq = nx * q[0] + ny * q[1] - d;
    if (fp <= 0) keep.push_back(p);
    if (fp >= 0) other.push_back(p);
    if ((fp < 0 && fq > 0) || (fp > 0 && fq < 0)) {
      double t = fp / (fp - fq);
      P2 x{p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])};
      keep.push_back(x);
      other.push_back(x);
    }
  }
  auto tidy = [](Convex& c) {
    Convex o;
    for (auto& p : c)
      if (o.empty() || std::hypot(o.back()[0] - p[0], o.back()[1] - p[1]) > 1e-9) o.push_back(p);
    while (o.size() > 1 && std::hypot(o.front()[0] - o.back()[0], o.front()[1] - o.back()[1]) <= 1e-9) o.pop_back();
    if (o.size() < 3 || std::abs(signedArea(o)) < 1e-9) o.clear();
    c = std::move(o);
  };
  tidy(keep), tidy(other);
}

struct Piece {
  Convex poly;
  int active;
};

}  // namespace

EnvelopeResult RuleSet::envelope(const Site& site, double cap) const {
  const Impl& im = *impl_;
  EnvelopeResult e;
  e.siteArea = site.area;
  Vars vars = siteVars(im, site);
  // Numbers: the site area times the area-weighted limits.
  auto areaLimit = [&](const char* rule, const char* sectionKey, const RateParts& l, const char* what, double upper) {
    RuleResult r;
    r.rule = rule;
    r.title = im.section(sectionKey).value("title", rule);
    r.article = im.section(sectionKey).value("article", "");
    r.unit = "m²";
    std::string terms;
    for (auto& t : l.terms) terms += (terms.empty() ? "" : " + ") + t;
    if (l.missing.empty() && l.covered >= 0.999) {
      r.limit = site.area * l.limit;
      r.verdict = Verdict::Pass;
      r.formula = "site area " + num(site.area) + " m² × (" + terms + ") = " + num(r.limit) + " m²";
      r.reason = what;
      if (l.limitHigh > l.limit + 1e-9)
        r.reason += " (up to " + num(site.area * l.limitHigh) + " m² if the bonuses below apply)";
    } else {
      r.verdict = Verdict::Unknown;
      std::string m;
      for (auto& x : l.missing) m += (m.empty() ? "" : "; ") + x;
      if (l.covered < 0.999) m += std::string(m.empty() ? "" : "; ") + "part of the site lies in no use district";
      r.reason = "cannot decide: " + m;
      if (l.covered >= 0.999 && upper > 0) r.reason += "; at most " + num(site.area * upper) + " m² (designated rates)";
    }
    for (auto& n : l.notes) r.reason += "; " + n;
    e.limits.push_back(r);
    return r.limit;
  };
  e.maxBuildingArea =
      areaLimit("coverage", "coverage", coverageLimit(im, site, vars), "maximum building area (建築面積)", 0);
  double upper = 0;
  auto flim = floorAreaLimit(im, site, upper);
  e.maxFloorArea = areaLimit("floor-area", "floorArea", flim, "maximum total floor area (延べ面積)", upper);
  // Height limits over the site.
  const json& hsec = im.section("height");
  double maxH = INFINITY;
  std::string hfrom;
  const District* mainUse = nullptr;
  double mainShare = 0;
  for (auto& ds : site.districts) {
    const District& d = ds.district;
    const json* de = im.districtEntry(d.kind, d.code);
    if (d.kind == "UseDistrict") {
      if (ds.share > mainShare) mainShare = ds.share, mainUse = &d;
      double h = given(d.heightLimit) ? d.heightLimit : kNone;
      if (!given(h) && de && de->value("absoluteHeight", false)) {
        h = hsec.contains("absolute") && hsec["absolute"].contains("range") ? hsec["absolute"]["range"][0].get<double>()
                                                                            : 10.0;
        e.notes.push_back(im.label(d) + ": absolute limit taken as " + num(h) +
                          " m (the data does not say whether 10 or 12 m applies)");
      }
      if (given(h) && h < maxH)
        maxH = h, hfrom = im.label(d) + " (" + hsec.value("absoluteArticle", "建築基準法第55条") + ")";
    } else if (d.kind == "HeightControlDistrict" && given(d.maxHeight) && d.maxHeight < maxH) {
      maxH = d.maxHeight;
      hfrom = im.label(d) + " (高度地区)";
    }
  }
  RuleResult hr;
  hr.rule = "height";
  hr.title = "最高高さ maximum height";
  hr.unit = "m";
  if (std::isfinite(maxH)) {
    e.maxHeight = maxH;
    hr.limit = maxH;
    hr.verdict = Verdict::Pass;
    hr.formula = "lowest absolute limit: " + num(maxH) + " m from " + hfrom;
    hr.reason = "maximum height";
  } else {
    hr.verdict = Verdict::Unknown;
    hr.reason = "no absolute height limit over the site; slant planes (法56条) still limit it";
  }
  e.limits.push_back(hr);

  // ---- mesh: site extruded to the limit, clipped by slant planes ----
  if (site.geom.empty()) return e;
  double top = std::isfinite(maxH) ? maxH : cap;
  e.capped = !std::isfinite(maxH);
  std::vector<Constraint> cons;
  cons.push_back({0, 0, top, {}, std::isfinite(maxH) ? "height limit" : "cap"});
  const json* mainEntry = mainUse ? im.districtEntry(mainUse->kind, mainUse->code) : nullptr;
  // Boundary edges of the site (outer rings counter-clockwise).
  struct Edge {
    P2 a, b;
    double roadWidth = kNone;
  };
  std::vector<Edge> edges;
  for (auto& poly : site.geom) {
    Ring r = poly.outer;
    if (signedArea(r) < 0) std::reverse(r.begin(), r.end());
    for (size_t i = 0; i < r.size(); ++i) {
      Edge ed{r[i], r[(i + 1) % r.size()]};
      for (auto& f : site.frontage)
        if (given(f.width) && std::hypot(f.a[0] - ed.a[0], f.a[1] - ed.a[1]) < 1e-6 &&
            std::hypot(f.b[0] - ed.b[0], f.b[1] - ed.b[1]) < 1e-6)
          ed.roadWidth = f.width;
      edges.push_back(ed);
    }
  }
  if (mainEntry && mainEntry->contains("roadSlant")) {
    const json& rs = (*mainEntry)["roadSlant"];
    double slope = rs.value("slope", 1.25);
    double dist = 20;
    if (rs.contains("distances") && mainUse && given(mainUse->floorAreaRate))
      for (auto& row : rs["distances"]) {
        if (row[0].is_null() || mainUse->floorAreaRate <= row[0].get<double>() + 1e-9) {
          dist = row[1].get<double>();
          break;
        }
      }
    int n = 0;
    for (auto& ed : edges) {
      if (!given(ed.roadWidth)) continue;
      double dx = ed.b[0] - ed.a[0], dy = ed.b[1] - ed.a[1], len = std::hypot(dx, dy);
      if (len < 0.5) continue;
      // Inward unit normal (interior on the left of a counter-clockwise edge).
      double nx = -dy / len, ny = dx / len;
      // depth(p) = n·(p - a): distance into the site from the road boundary.
      double w = ed.roadWidth;
      Constraint c;
      c.a = slope * nx, c.b = slope * ny, c.c = slope * (w - nx * ed.a[0] - ny * ed.a[1]);
      c.region.push_back({nx, ny, dist + nx * ed.a[0] + ny * ed.a[1]});  // depth <= application distance
      c.what = "road slant (道路斜線) " + num(slope) + " from the far side of a " + num(w) + " m road";
      cons.push_back(c);
      ++n;
    }
    if (n)
      e.notes.push_back("road slant planes (法56条1項1号): slope " + num(slope) + ", applied within " + num(dist) +
                        " m of the road (別表第3); setback relaxation (第2項) not applied");
    else
      e.notes.push_back("no road with a width along the site: road slant planes not drawn");
  }
  if (mainEntry && mainEntry->contains("northSlant")) {
    double rise = (*mainEntry)["northSlant"].value("rise", 5.0),
           slope = (*mainEntry)["northSlant"].value("slope", 1.25);
    int n = 0;
    for (auto& ed : edges) {
      double dx = ed.b[0] - ed.a[0], dy = ed.b[1] - ed.a[1];
      // Outward normal (dy, -dx) pointing north: the edge faces the northern neighbour.
      if (!(-dx > 1e-6) || std::abs(dx) < 0.05) continue;
      double m = dy / dx;                                       // y on the edge: a.y + (x - a.x) m
      double extra = given(ed.roadWidth) ? ed.roadWidth : 0.0;  // across a road: from its far side
      Constraint c;
      // z = rise + slope (a.y + (x - a.x) m - y + extra)
      c.a = slope * m, c.b = -slope, c.c = rise + slope * (ed.a[1] - ed.a[0] * m + extra);
      double x0 = std::min(ed.a[0], ed.b[0]), x1 = std::max(ed.a[0], ed.b[0]);
      c.region.push_back({-1, 0, -x0});
      c.region.push_back({1, 0, x1});
      c.what = "north slant (北側斜線) " + num(rise) + " m + " + num(slope) + " × distance";
      cons.push_back(c);
      ++n;
    }
    if (n)
      e.notes.push_back("north-side slant planes (法56条1項3号): " + num(rise) + " m + " + num(slope) +
                        " × distance to the northern boundary, grid north of the store CRS taken as true north");
  }
  // Lower envelope of the constraints over the site's triangles.
  std::vector<double> xy;
  std::vector<uint32_t> rs{0};
  std::vector<Piece> pieces;
  for (auto& poly : site.geom) {
    xy.clear();
    rs.assign(1, 0);
    auto addRing = [&](const Ring& r) {
      for (auto& p : r) xy.push_back(p[0] - site.geom[0].outer[0][0]), xy.push_back(p[1] - site.geom[0].outer[0][1]);
      rs.push_back(uint32_t(xy.size() / 2));
    };
    addRing(poly.outer);
    for (auto& h : poly.holes) addRing(h);
    std::vector<uint32_t> tri;
    triangulate2d(xy.data(), rs.data(), rs.size() - 1, tri);
    P2 o = site.geom[0].outer[0];
    for (size_t t = 0; t + 2 < tri.size(); t += 3) {
      Convex c;
      for (int k = 0; k < 3; ++k) c.push_back({xy[2 * tri[t + k]] + o[0], xy[2 * tri[t + k] + 1] + o[1]});
      if (signedArea(c) < 0) std::swap(c[1], c[2]);
      if (std::abs(signedArea(c)) > 1e-9) pieces.push_back({c, 0});
    }
  }
  Convex keep, other;
  for (int ci = 1; ci < int(cons.size()); ++ci) {
    const Constraint& c = cons[size_t(ci)];
    std::vector<Piece> next;
    for (auto& pc : pieces) {
      // Split off the parts outside the constraint's region.
      Convex inside = pc.poly;
      bool empty = false;
      for (auto& h : c.region) {
        splitConvex(inside, h[0], h[1], h[2], keep, other);
        if (!other.empty()) next.push_back({other, pc.active});
        inside = keep;
        if (inside.empty()) {
          empty = true;
          break;
        }
      }
      if (empty) continue;
      // Inside: where this plane is lower it becomes the active one.
      const Constraint& a = cons[size_t(pc.active)];
      splitConvex(inside, c.a - a.a, c.b - a.b, a.c - c.c, keep, other);
      if (!keep.empty()) next.push_back({keep, ci});
      if (!other.empty()) next.push_back({other, pc.active});
    }
    pieces = std::move(next);
  }
  auto envAt = [&](const P2& p) {
    double z = INFINITY;
    for (auto& c : cons)
      if (c.covers(p)) z = std::min(z, c.at(p));
    return std::max(0.0, z);
  };
  auto onBoundary = [&](const P2& p, const P2& q) {
    for (auto& ed : edges) {
      double dx = ed.b[0] - ed.a[0], dy = ed.b[1] - ed.a[1], len = std::hypot(dx, dy);
      if (len == 0) continue;
      auto off = [&](const P2& x) { return std::abs((x[0] - ed.a[0]) * dy - (x[1] - ed.a[1]) * dx) / len; };
      auto along = [&](const P2& x) { return ((x[0] - ed.a[0]) * dx + (x[1] - ed.a[1]) * dy) / (len * len); };
      if (off(p) < 1e-6 && off(q) < 1e-6 && along(p) > -1e-9 && along(p) < 1 + 1e-9 && along(q) > -1e-9 &&
          along(q) < 1 + 1e-9)
        return true;
    }
    return false;
  };
  auto vertex = [&](const P2& p, double z) {
    e.vertices.push_back({p[0], p[1], z});
    e.meshTop = std::max(e.meshTop, z);
    return uint32_t(e.vertices.size() - 1);
  };
  auto quad = [&](const P2& p, const P2& q, double p0, double q0, double p1, double q1) {
    if (p1 - p0 < 1e-6 && q1 - q0 < 1e-6) return;
    uint32_t a = vertex(p, p0), b = vertex(q, q0), c = vertex(q, q1), d = vertex(p, p1);
    e.triangles.insert(e.triangles.end(), {a, b, c, a, c, d});
  };
  for (auto& pc : pieces) {
    const Constraint& a = cons[size_t(pc.active)];
    size_t n = pc.poly.size();
    std::vector<uint32_t> topIdx, botIdx;
    for (auto& p : pc.poly) topIdx.push_back(vertex(p, std::max(0.0, a.at(p))));
    for (auto& p : pc.poly) botIdx.push_back(vertex(p, 0));
    for (size_t i = 1; i + 1 < n; ++i) {
      e.triangles.insert(e.triangles.end(), {topIdx[0], topIdx[i], topIdx[i + 1]});
      e.triangles.insert(e.triangles.end(), {botIdx[0], botIdx[i + 1], botIdx[i]});
    }
    for (size_t i = 0; i < n; ++i) {
      const P2& p = pc.poly[i];
      const P2& q = pc.poly[(i + 1) % n];
      double zp = std::max(0.0, a.at(p)), zq = std::max(0.0, a.at(q));
      if (onBoundary(p, q)) {
        quad(p, q, 0, 0, zp, zq);
        continue;
      }
      // A step inside the site (a constraint's region ends): wall down to the neighbour.
      double dx = q[0] - p[0], dy = q[1] - p[1], len = std::hypot(dx, dy);
      if (len < 1e-9) continue;
      // Probe 1 µm outside; a real step (a region's end) is centimetres or more, a slope over 1 µm
      // is micrometres.
      double ox = dy / len * 1e-6, oy = -dx / len * 1e-6;
      double np = envAt({p[0] + ox, p[1] + oy}), nq = envAt({q[0] + ox, q[1] + oy});
      if (zp > np + 1e-3 || zq > nq + 1e-3) quad(p, q, std::min(np, zp), std::min(nq, zq), zp, zq);
    }
  }
  if (e.capped) e.notes.push_back("no absolute height limit: the envelope is drawn up to " + num(cap) + " m (--cap)");
  return e;
}

}  // namespace twin::landuse
