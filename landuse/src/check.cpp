// Checking a site and the buildings on it: 建ぺい率, 容積率 and the minimum site area for the site (every
// building on it together), absolute and 高度地区 heights for each building, each result with its
// inputs, formula, value, limit, verdict and reason.
#include <algorithm>
#include <cmath>

#include "eval.h"
#include "slant.h"

namespace twin::landuse {

using namespace eval;

namespace {

// A ratio against its limit. `value` is the range the ratio may take: one value when every input
// is measured, a range when one is estimated — decided only when every value in it gives the same
// verdict.
RuleResult ratioResult(const char* rule, const Titled& sec, std::pair<double, double> range, const RateParts& lim,
                       const std::string& what, const std::vector<std::pair<std::string, std::string>>& inputs,
                       const std::string& valueFormula) {
  const double value = range.first, high = range.second;
  RuleResult r;
  r.rule = rule;
  r.title = sec.title;
  r.article = sec.article;
  r.unit = "%";
  r.inputs = inputs;
  r.value = value * 100;  // the caller puts its best estimate here when the value is a range
  std::string terms;
  for (auto& t : lim.terms) terms += (terms.empty() ? "" : " + ") + t;
  r.formula = valueFormula + "; limit = " + (terms.empty() ? "?" : terms);
  bool complete = lim.missing.empty() && lim.covered >= 0.999;
  const bool exact = high <= value + 1e-12;
  if (complete && (high <= lim.limit + 1e-9 || value > lim.limitHigh + 1e-9)) {
    r.limit = lim.limit * 100;
    r.verdict = high <= lim.limit + 1e-9 ? Verdict::Pass : Verdict::Fail;
    std::string shown = exact ? pct(value) : pct(value) + "–" + pct(high);
    r.reason =
        what + " " + shown + (r.verdict == Verdict::Pass ? " is within " : " exceeds ") + "the limit " + pct(lim.limit);
    if (r.verdict == Verdict::Fail && lim.limitHigh > lim.limit + 1e-9)
      r.reason += " and the " + pct(lim.limitHigh) + " it could reach with the bonuses below";
  } else if (complete && !exact) {
    // An estimate whose range reaches across the limit: the data decides.
    r.limit = lim.limit * 100;
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: " + what + " lies between " + pct(value) + " and " + pct(high) + " and the limit is " +
               pct(lim.limit) +
               (lim.limitHigh > lim.limit + 1e-9 ? " (" + pct(lim.limitHigh) + " with the bonuses below)" : "");
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
  auto out = checkSite({b}, site);
  auto own = checkHeights(b, inBuilding);
  out.insert(out.end(), own.begin(), own.end());
  if (auto ws = checkWallSetback(b, site)) out.push_back(std::move(*ws));
  // 用途制限 of what stands (法48条): the site's use district, or the footprint's off any parcel.
  if (auto use = checkBuildingUse(b, site.parcels.empty() ? inBuilding : site.districts))
    out.push_back(std::move(*use));
  return out;
}

namespace {

std::vector<RuleResult> checkSiteOnce(const RuleSet& rs, const std::vector<Building>& buildings, const Site& site) {
  const RulesFile& f = rs.file();
  std::vector<RuleResult> out;
  auto siteMissing = [&](const char* rule, const Titled& sec, const std::string& why) {
    RuleResult r;
    r.rule = rule;
    r.title = sec.title;
    r.article = sec.article;
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: " + why;
    out.push_back(std::move(r));
  };
  Vars vars = siteVars(f, site);
  // The coverage bonuses for fire resistance (法53条3項1号) are for the buildings on the site: the
  // least fire-resistant decides; unknown when one is unknown and none is known to be neither.
  std::string fire = siteFireResistance(buildings);
  if (!fire.empty()) vars["building.fireResistance"] = Value::of(fire);

  // 法52条1項, 53条1項: the areas of every building on the site (敷地) together.
  std::string parcels, ids;
  for (auto& p : site.parcels) parcels += (parcels.empty() ? "" : ", ") + (p.chiban.empty() ? p.id : p.chiban);
  for (auto& b : buildings) ids += (ids.empty() ? "" : ", ") + b.id;
  std::vector<std::pair<std::string, std::string>> common = {{"site parcels (地番)", parcels},
                                                             {"site area", num(site.area) + " m²"},
                                                             {buildings.size() == 1 ? "building" : "buildings", ids}};
  const bool one = buildings.size() == 1;
  if (site.parcels.empty()) {
    for (auto [rule, sec] :
         {std::pair<const char*, const Titled*>{"coverage", &f.coverage}, {"floor-area", &f.floorArea}})
      siteMissing(rule, *sec,
                  std::string(one ? "the building stands" : "the buildings stand") +
                      " on no parcel in the store (import parcels covering it)");
  } else {
    // 建ぺい率
    double area = 0;
    std::string terms;
    auto inputs = common;
    for (auto& b : buildings) {
      area += b.buildingArea;
      terms += (terms.empty() ? "" : " + ") + num(b.buildingArea);
      inputs.push_back({one ? "building area (建築面積)" : "building area (建築面積) of " + b.id,
                        num(b.buildingArea) + " m² (" + b.footprintSource + ")"});
    }
    double cov = area / site.area;
    auto lim = coverageLimit(f, site, vars);
    out.push_back(
        ratioResult("coverage", f.coverage, {cov, cov}, lim, "building coverage", inputs,
                    one ? "building area / site area = " + num(area) + " / " + num(site.area) + " = " + pct(cov)
                        : "Σ building areas / site area = (" + terms + ") / " + num(site.area) + " = " + num(area) +
                              " / " + num(site.area) + " = " + pct(cov)));
    // 容積率
    inputs = common;
    const Titled& fsec = f.floorArea;
    std::vector<std::string> unknownFloorArea;
    double floorArea = 0, low = 0, high = 0;
    std::vector<std::string> estimated;
    terms.clear();
    for (auto& b : buildings) {
      if (!given(b.floorArea)) {
        unknownFloorArea.push_back(b.id);
        continue;
      }
      auto range = floorAreaRange(f, b);
      floorArea += b.floorArea, low += range.low, high += range.high;
      terms += (terms.empty() ? "" : " + ") + num(b.floorArea);
      std::string label = one ? "total floor area (延べ面積)" : "total floor area (延べ面積) of " + b.id;
      inputs.push_back({label, num(b.floorArea) + " m² (" + b.floorAreaSource + ")"});
      if (b.floorAreaEstimated) {
        estimated.push_back(b.id);
        inputs.push_back({"plausible range" + (one ? std::string() : " for " + b.id),
                          num(range.low) + "–" + num(range.high) + " m² (" + range.how + ")"});
      }
    }
    if (!unknownFloorArea.empty()) {
      std::string which;
      for (auto& id : unknownFloorArea) which += (which.empty() ? "" : ", ") + id;
      siteMissing("floor-area", fsec,
                  "total floor area (延べ面積) unknown" + (one ? std::string() : " for " + which) +
                      ": no uro:totalFloorArea, storeys or height");
    } else {
      if (given(site.frontRoadWidth))
        inputs.push_back({"front road width (前面道路幅員)", num(site.frontRoadWidth) + " m, " + site.frontRoadSource});
      double upper = 0;
      auto flim = floorAreaLimit(f, site, upper);
      double far = floorArea / site.area;
      std::pair<double, double> range{low / site.area, high / site.area};
      auto r = ratioResult(
          "floor-area", fsec, range, flim, "floor-area ratio", inputs,
          one ? "total floor area / site area = " + num(floorArea) + " / " + num(site.area) + " = " + pct(far)
              : "Σ total floor areas / site area = (" + terms + ") / " + num(site.area) + " = " + num(floorArea) +
                    " / " + num(site.area) + " = " + pct(far));
      r.value = far * 100;
      // The road rule only lowers the limit: above the designated rates it fails whatever the road.
      bool onlyRoadMissing =
          flim.covered >= 0.999 && std::all_of(flim.missing.begin(), flim.missing.end(),
                                               [](auto& m) { return m.rfind("front road width", 0) == 0; });
      if (r.verdict == Verdict::Unknown && onlyRoadMissing && range.first > upper + 1e-9) {
        r.verdict = Verdict::Fail;
        r.limit = upper * 100;
        r.reason = "floor-area ratio " + pct(far) + " exceeds the designated limit " + pct(upper) +
                   " (the front-road rule could only lower it)";
      } else if (r.verdict == Verdict::Unknown && onlyRoadMissing && range.second <= upper + 1e-9) {
        r.reason += "; the designated limit " + pct(upper) + " is met, the front-road rule (法52条2項) may lower it";
      }
      if (!estimated.empty()) {
        std::string which;
        for (auto& id : estimated) which += (which.empty() ? "" : ", ") + id;
        r.reason += "; the floor area is an estimate" + (one ? std::string() : " for " + which) +
                    " (decided only where every value of the range " + pct(range.first) + "–" + pct(range.second) +
                    " gives the same verdict; uro:totalFloorArea or a 延べ面積 field would decide)";
      }
      r.reason +=
          "; floor area counted as given (exclusions of 法52条3項・6項 for basements, parking, corridors not applied)";
      out.push_back(std::move(r));
    }
    // 敷地面積の最低限度
    for (auto* ds : ofKind(site.districts, "UseDistrict")) {
      if (!given(ds->district.minSiteArea)) continue;
      RuleResult r;
      r.rule = "minimum-site-area";
      r.title = f.minimumSiteArea.title;
      r.article = f.minimumSiteArea.article;
      r.unit = "m²";
      r.value = site.area;
      r.limit = ds->district.minSiteArea;
      r.inputs = common;
      r.formula =
          "site area " + num(site.area) + " m² ≥ " + num(r.limit) + " m² (district " + label(f, ds->district) + ")";
      r.verdict = site.area + 1e-6 >= r.limit ? Verdict::Pass : Verdict::Fail;
      r.reason = r.verdict == Verdict::Pass ? "the site is large enough"
                                            : "the site is smaller than the minimum (sites that were smaller before "
                                              "the minimum was set are exempt: 第53条の2第3項)";
      out.push_back(std::move(r));
      break;
    }
  }
  return out;
}

// 接道義務 (法43条1項): the site on a 法42条 road (4 m or more, or a 2項道路) for at least 2 m. Judged
// only where the store holds roads near the site.
RuleResult accessResult(const RulesFile& f, const Site& site) {
  RuleResult r;
  r.rule = "road-access";
  r.title = f.access.title;
  r.article = f.access.article;
  r.unit = "m";
  double wide = 0, narrow = 0, unknownWidth = 0;
  std::string roads;
  for (auto& fr : site.frontage) {
    double len = std::hypot(fr.b[0] - fr.a[0], fr.b[1] - fr.a[1]);
    if (!given(fr.width))
      unknownWidth += len;
    else if (fr.width + 1e-9 >= f.access.minWidth)
      wide += len;
    else
      narrow += len;
    if (roads.find("'" + fr.roadId + "'") == std::string::npos)
      roads += (roads.empty() ? "'" : ", '") + fr.roadId + "' (" +
               (given(fr.width) ? num(fr.width) + " m" : "width ?") + ")";
  }
  r.value = wide;
  r.limit = f.access.minFrontage;
  r.inputs = {{"frontage on roads of " + num(f.access.minWidth) + " m or more", num(wide) + " m"},
              {"frontage on narrower roads", num(narrow) + " m"},
              {"frontage on roads of unknown width", num(unknownWidth) + " m"}};
  if (!roads.empty()) r.inputs.push_back({"roads", roads});
  r.formula = "frontage on roads of " + num(f.access.minWidth) + " m or more: " + num(wide) + " m ≥ " +
              num(f.access.minFrontage) + " m";
  if (wide + 1e-9 >= f.access.minFrontage) {
    r.verdict = Verdict::Pass;
    r.reason = "the site touches a road of " + num(f.access.minWidth) + " m or more for " + num(wide) + " m";
  } else if (wide + narrow + unknownWidth + 1e-9 >= f.access.minFrontage) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: the site touches roads for " + num(wide + narrow + unknownWidth) + " m, but " +
               (narrow > 0 ? "narrower than " + num(f.access.minWidth) +
                                 " m (they count only as 2項道路 designated by the 特定行政庁, 法42条2項)"
                           : std::string("of unknown width"));
  } else if (!site.frontage.empty()) {
    r.verdict = Verdict::Fail;
    r.reason = "the site touches roads for only " + num(wide + narrow + unknownWidth) + " m (法43条1項 requires " +
               num(f.access.minFrontage) +
               " m; 法43条2項 allows exceptions by 認定 or 許可, and ordinances may require more)";
  } else {
    r.verdict = Verdict::Unknown;
    r.reason =
        "cannot decide: the site touches no road in the data (a road or a 路地状部分 may be missing from it); "
        "法43条1項 requires " +
        num(f.access.minFrontage) + " m on a road";
  }
  return r;
}

}  // namespace

std::vector<RuleResult> RuleSet::checkSite(const std::vector<Building>& buildings, const Site& site) const {
  const RulesFile& f = file();
  auto out = checkSiteOnce(*this, buildings, site);
  // 法42条2項: a road narrower than 4 m counts only as a 2項道路, whose boundary is 2 m from its centre
  // line: then the strip up to it is not site (令2条1項1号) and the road counts as 4 m. Each result
  // holds only if it is the same either way.
  if (site.narrowRoadStrip > 0.01 && site.area > site.narrowRoadStrip) {
    Site deemed = site;
    deemed.area -= site.narrowRoadStrip;
    for (auto& fr : deemed.frontage)
      if (given(fr.width) && fr.width < 4) fr.width = 4;
    if (given(deemed.frontRoadWidth) && deemed.frontRoadWidth < 4) deemed.frontRoadWidth = 4;
    auto alt = checkSiteOnce(*this, buildings, deemed);
    for (auto& r : out) {
      auto it = std::find_if(alt.begin(), alt.end(), [&](const RuleResult& a) { return a.rule == r.rule; });
      if (it == alt.end()) continue;
      std::string as2 = "as a 2項道路 (法42条2項: site " + num(deemed.area) + " m² after the " +
                        num(site.narrowRoadStrip) + " m² setback strip, the road counted as 4 m)";
      if (it->verdict != r.verdict) {
        r.reason =
            "cannot decide: it depends on whether the road narrower than 4 m is a 2項道路: as the data gives "
            "it, " +
            std::string(verdictName(r.verdict)) + " (" + r.reason + "); " + as2 + ", " + verdictName(it->verdict) +
            " (" + it->reason + ")";
        r.verdict = Verdict::Unknown;
      } else {
        r.reason += "; the same " + as2;
      }
    }
  }
  // 法52条9項: a front road of 6 m up to 12 m within 70 m of a 特定道路 (15 m or more) counts wider by
  // (12 − W)(70 − L) / 70, L along the front road from the 特定道路. The data gives the straight
  // distance (≤ L, so the most it could add): the floor-area result holds only if the same with it.
  if (specialRoadWidth(site) > site.frontRoadWidth) {
    double w = site.frontRoadWidth, l = site.specialRoadDistance;
    Site wider = site;
    wider.frontRoadWidth = specialRoadWidth(site);
    auto alt = checkSiteOnce(*this, buildings, wider);
    for (auto& r : out) {
      if (r.rule != "floor-area") continue;
      auto it = std::find_if(alt.begin(), alt.end(), [&](const RuleResult& a) { return a.rule == r.rule; });
      if (it == alt.end()) continue;
      std::string as = "with the 特定道路 (法52条9項) " + num(l) + " m away in a straight line, the " + num(w) +
                       " m road may count as up to " + num(wider.frontRoadWidth) + " m";
      if (it->verdict != r.verdict) {
        r.reason = "cannot decide: " + as + " (then " + verdictName(it->verdict) + "; as the data gives it " +
                   verdictName(r.verdict) + ": " + r.reason + "); the distance along the front road decides";
        r.verdict = Verdict::Unknown;
      } else {
        r.reason += "; " + as + ": the same";
      }
    }
  }
  if (site.roadsInData && !site.parcels.empty()) out.push_back(accessResult(f, site));
  return out;
}

namespace {
// The 外壁の後退距離 the site's use districts set (the largest), and which district.
double wallSetbackOf(const RulesFile& f, const Site& site, std::string& from) {
  double s = 0;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.wallSetback) && ds.district.wallSetback > s)
      s = ds.district.wallSetback, from = label(f, ds.district);
  return s;
}
}  // namespace

std::optional<RuleResult> RuleSet::checkWallSetback(const Building& b, const Site& site) const {
  const RulesFile& f = file();
  std::string from;
  double s = wallSetbackOf(f, site, from);
  if (!(s > 0) || site.geom.empty()) return std::nullopt;
  RuleResult r;
  r.rule = "wall-setback";
  r.title = "外壁の後退距離 wall setback";
  r.article = "建築基準法第54条, 令第135条の22";
  r.unit = "m";
  r.limit = 3;
  // The outline's length within s of the site boundary, sampled every 5 cm.
  std::vector<std::array<P2, 2>> edges;
  for (auto& poly : site.geom) {
    auto add = [&](const Ring& ring) {
      for (size_t i = 0; i < ring.size(); ++i) edges.push_back({ring[i], ring[(i + 1) % ring.size()]});
    };
    add(poly.outer);
    for (auto& h : poly.holes) add(h);
  }
  auto toBoundary = [&](const P2& p) {
    double best = INFINITY;
    for (auto& e : edges) best = std::min(best, distanceToSegment(p, e[0], e[1]));
    return best;
  };
  double within = 0, nearest = INFINITY;
  for (auto& poly : b.footprint) {
    const Ring& ring = poly.outer;
    for (size_t i = 0; i < ring.size(); ++i) {
      const P2 &a = ring[i], &c = ring[(i + 1) % ring.size()];
      double len = std::hypot(c[0] - a[0], c[1] - a[1]);
      int n = std::max(1, int(std::ceil(len / 0.05)));
      for (int k = 0; k < n; ++k) {
        double t = (k + 0.5) / n;
        P2 p{a[0] + t * (c[0] - a[0]), a[1] + t * (c[1] - a[1])};
        double d = contains(site.geom, p) ? toBoundary(p) : 0;
        nearest = std::min(nearest, d);
        if (d < s - 1e-6) within += len / n;
      }
    }
  }
  r.value = within;
  r.inputs = {{"building", b.id},
              {"setback", num(s) + " m (" + from + ", urf:setbackSize)"},
              {"outline", b.footprintSource},
              {"nearest to the boundary", num(nearest) + " m"}};
  r.formula = "outline within " + num(s) + " m of the site boundary: " + num(within) + " m ≤ 3 m";
  if (within <= 3 + 1e-6) {
    r.verdict = Verdict::Pass;
    r.reason = within > 0 ? "only " + num(within) + " m of the outline lies within the setback (令135条の22第1号)"
                          : "the outline keeps " + num(s) + " m from the site boundary";
  } else {
    r.verdict = Verdict::Fail;
    r.reason = num(within) + " m of the outline lies within " + num(s) +
               " m of the site boundary (more than the 3 m 令135条の22第1号 exempts; 第2号 exempts small 物置 and "
               "garages: 軒の高さ 2.3 m or less and 5 m² or less); the outline is the data's (" +
               b.footprintSource + "), which may include eaves";
  }
  return r;
}

std::vector<RuleResult> RuleSet::checkHeights(const Building& b, const std::vector<DistrictShare>& inBuilding) const {
  const RulesFile& f = file();
  std::vector<RuleResult> out;
  // Heights: the limits of the districts the building itself stands in.
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
    RuleResult r;
    r.rule = "height-absolute";
    r.title = f.height.absolute.title;
    r.article = f.height.absolute.article;
    r.unit = "m";
    r.inputs = hin;
    if (uses.empty()) {
      r.verdict = Verdict::Unknown;
      r.reason = "cannot decide: no use district (用途地域) in the store covers the building";
    } else {
      double lo = INFINITY, hi = INFINITY;  // the limit lies in [lo, hi]
      std::string from;
      for (auto* ds : uses) {
        const DistrictRule* e = f.district(ds->district.kind, ds->district.code);
        bool absolute = e && e->absoluteHeight;
        if (given(ds->district.heightLimit)) {
          lo = std::min(lo, ds->district.heightLimit), hi = std::min(hi, ds->district.heightLimit);
          from += (from.empty() ? "" : ", ") + label(f, ds->district) + ": " + num(ds->district.heightLimit) + " m";
        } else if (absolute) {
          double a = f.height.absoluteLow, c = f.height.absoluteHigh;
          lo = std::min(lo, a), hi = std::min(hi, c);
          from += (from.empty() ? "" : ", ") + label(f, ds->district) + ": " + num(a) + " or " + num(c) +
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
    const HeightRules& s = f.height;
    const District& d = ds->district;
    auto one = [&](const char* rule, double limit, bool minimum) {
      RuleResult r;
      r.rule = rule;
      r.title = minimum ? s.districtMinimumTitle : s.district.title;
      r.article = s.district.article;
      r.unit = "m";
      r.inputs = hin;
      r.inputs.push_back({"district", label(f, d)});
      if (!given(b.height)) {
        heightUnknown(r);
      } else {
        r.value = b.height;
        r.limit = limit;
        r.formula = "height " + num(b.height) + (minimum ? " m ≥ " : " m ≤ ") + num(limit) + " m";
        bool ok = minimum ? b.height + 1e-9 >= limit : b.height <= limit + 1e-9;
        r.verdict = ok ? Verdict::Pass : Verdict::Fail;
        r.reason = std::string(ok ? "keeps" : "breaks") + " the " + (minimum ? "minimum" : "maximum") + " height of " +
                   label(f, d);
        estimateDecidesNot(r);
      }
      out.push_back(std::move(r));
    };
    if (given(d.maxHeight)) one("height-district", d.maxHeight, false);
    if (given(d.minHeight)) one("height-minimum", d.minHeight, true);
    if (!given(d.maxHeight) && !given(d.minHeight)) {
      RuleResult r;
      r.rule = "height-district";
      r.title = s.district.title;
      r.article = s.district.article;
      r.inputs = hin;
      r.verdict = Verdict::Unknown;
      r.reason = "cannot decide: " + label(f, d) +
                 " gives no maximum or minimum height (slant-type 高度地区 limits are not in the data)";
      out.push_back(std::move(r));
    }
  }
  return out;
}

RuleResult RuleSet::checkSlantPlanes(const Building& b, const Site& site) const {
  const RulesFile& f = file();
  RuleResult r;
  r.rule = "slant-planes";
  r.title = "斜線制限 slant planes (道路斜線・隣地斜線・北側斜線)";
  r.article = "建築基準法第56条第1項";
  r.unit = "m";
  r.inputs = {{"building", b.id}};
  if (given(b.height)) r.inputs.push_back({"height", num(b.height) + " m (" + b.heightSource + ")"});
  SlantOptions so;
  so.groundHeight = b.groundHeight;  // 令135条の2: the building's ground against the road's surface
  SlantPlanes sp = slantPlanes(f, site, so);
  if (sp.planes.empty() && sp.missing.empty()) {
    r.verdict = Verdict::Pass;
    r.reason = "no slant plane applies to the site";
    return r;
  }
  if (!given(b.height) || b.heightSource.rfind("estimated", 0) == 0) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: the building's height is " +
               (given(b.height) ? "an estimate (" + b.heightSource + ")" : std::string("unknown"));
    return r;
  }
  // The building as its LOD1 box: its height over every point of the footprint (the vertices and a
  // 1 m grid inside), against the lowest plane over each point.
  std::vector<P2> samples;
  for (auto& poly : b.footprint) {
    for (auto& p : poly.outer) samples.push_back(p);
    for (auto& h : poly.holes)
      for (auto& p : h) samples.push_back(p);
  }
  Box2 bb = bounds(b.footprint);
  for (double x = std::floor(bb.minx) + 0.5; x < bb.maxx; x += 1)
    for (double y = std::floor(bb.miny) + 0.5; y < bb.maxy; y += 1)
      if (contains(b.footprint, {x, y})) samples.push_back({x, y});
  double worst = -INFINITY, limitThere = NAN;
  const HeightPlane* by = nullptr;
  P2 where{NAN, NAN};
  for (auto& p : samples) {
    for (auto& pl : sp.planes) {
      if (!pl.covers(p)) continue;
      double excess = b.height - pl.at(p);
      if (excess > worst) worst = excess, limitThere = pl.at(p), by = &pl, where = p;
    }
  }
  if (!by) {
    r.verdict = sp.missing.empty() ? Verdict::Pass : Verdict::Unknown;
    r.reason = sp.missing.empty() ? "no slant plane reaches the building" : "cannot decide: " + sp.missing.front();
    return r;
  }
  r.value = b.height;
  r.limit = limitThere;
  r.formula = "height " + num(b.height) + " m against the lowest plane over the footprint: " + num(limitThere) +
              " m at (" + num(where[0], 1) + ", " + num(where[1], 1) + ") from " + by->what;
  if (worst <= 0.01) {
    r.verdict = sp.missing.empty() ? Verdict::Pass : Verdict::Unknown;
    r.reason = "the building's box stays under every slant plane";
    if (!sp.missing.empty()) r.reason = "cannot decide: " + sp.missing.front() + "; " + r.reason + " that was drawn";
  } else {
    // A box above a plane is not a breach yet: the roof may slope away from the boundary, the
    // building may meet the sky-factor alternative (法56条7項 天空率) or predate the rule (既存不適格).
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: the building's LOD1 box reaches " + num(worst) + " m above the " + by->what +
               "; its roof shape, the 天空率 alternative (法56条7項) or 既存不適格 may allow it";
  }
  return r;
}

}  // namespace twin::landuse
