// 日影規制 as the law applies it to a site and to the buildings on it (法56条の2, 別表第4).
#include "shadow_apply.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "eval.h"

namespace twin::landuse {

using namespace eval;

std::optional<ShadowDesignation> parseShadowDesignation(const std::string& text) {
  // L5-L10@H
  auto at = text.find('@');
  auto dash = text.find('-');
  if (at == std::string::npos || dash == std::string::npos || dash > at) return std::nullopt;
  auto numberOf = [](const std::string& s, double& out) {
    char* e = nullptr;
    out = std::strtod(s.c_str(), &e);
    return !s.empty() && e && *e == 0 && std::isfinite(out);
  };
  ShadowDesignation d;
  if (!numberOf(text.substr(0, dash), d.limit5) || !numberOf(text.substr(dash + 1, at - dash - 1), d.limit10) ||
      !numberOf(text.substr(at + 1), d.measuringHeight))
    return std::nullopt;
  if (!(d.limit5 > 0 && d.limit5 <= 24 && d.limit10 > 0 && d.limit10 <= d.limit5 && d.measuringHeight >= 0 &&
        d.measuringHeight <= 100))
    return std::nullopt;
  d.source = text;
  return d;
}

MultiPoly shadowLinesBoundary(const RulesFile& f, const Site& site, std::vector<std::string>& notes) {
  std::vector<MultiPoly> parts{site.geom};
  std::string moved, unknown, water;
  for (auto& os : site.openSides) {
    const DistrictRule* r = f.district("OpenSpace", os.code);
    const std::string name = (r && !r->name.empty() ? r->name : "open space") + " '" + os.districtId + "'";
    double dx = os.b[0] - os.a[0], dy = os.b[1] - os.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6 || !given(os.depth)) continue;
    std::string why;
    if (os.acrossRoad)
      why = " opposite the road: only the road's own width moves the boundary (stricter)";
    else if (os.partial)
      why = " along part of a boundary edge only: not applied (stricter)";
    else if (!r || !r->openSpace || !r->openSpace->shadow)
      why = " (code '" + os.code +
            "') beside the site is not a river or the sea; whether it counts as これらに類するもの "
            "is the 特定行政庁's call: not applied (stricter)";
    if (!why.empty()) {
      std::string x = "日影規制, 令135条の12第1項1号: " + name + why;
      if (std::find(notes.begin(), notes.end(), x) == notes.end()) notes.push_back(x);
      continue;
    }
    const double out = os.depth > 10 ? os.depth - 5 : os.depth / 2;
    const double nx = dy / len * out, ny = -dx / len * out;
    parts.push_back({Poly{{os.a, os.b, {os.b[0] + nx, os.b[1] + ny}, {os.a[0] + nx, os.a[1] + ny}}, {}}});
    std::string what = name + " (" + num(os.depth) + " m): " + num(out) + " m";
    if (water.find(what) == std::string::npos) water += (water.empty() ? "" : ", ") + what;
  }
  if (!water.empty())
    notes.push_back(
        "日影規制: the 5 m and 10 m lines are drawn from the site boundary deemed outward beside water "
        "(令135条の12第1項1号, as for roads): " +
        water);
  for (auto& fr : site.frontage) {
    double dx = fr.b[0] - fr.a[0], dy = fr.b[1] - fr.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6) continue;
    if (!given(fr.width) || !(fr.width > 0)) {
      if (unknown.find("'" + fr.roadId + "'") == std::string::npos)
        unknown += (unknown.empty() ? "'" : ", '") + fr.roadId + "'";
      continue;
    }
    const double out = fr.width > 10 ? fr.width - 5 : fr.width / 2;
    const double nx = dy / len * out, ny = -dx / len * out;  // outward (the ring is counter-clockwise)
    parts.push_back({Poly{{fr.a, fr.b, {fr.b[0] + nx, fr.b[1] + ny}, {fr.a[0] + nx, fr.a[1] + ny}}, {}}});
    std::string what = "road '" + fr.roadId + "' (" + num(fr.width) + " m): " + num(out) + " m";
    if (moved.find(what) == std::string::npos) moved += (moved.empty() ? "" : ", ") + what;
  }
  if (!moved.empty())
    notes.push_back(
        "日影規制: the 5 m and 10 m lines are drawn from the site boundary deemed outward along the roads "
        "(令135条の12第1項1号: half the road's width, or to 5 m short of its far side where wider than 10 m): " +
        moved);
  if (!unknown.empty())
    notes.push_back("日影規制: road " + unknown +
                    " along the site has no known width: the boundary there is not moved (令135条の12第1項1号; "
                    "stricter)");
  if (parts.size() == 1) return site.geom;
  return unite(parts);
}

const std::vector<std::string>& shadowNotModelled() {
  static const std::vector<std::string> v{
      "日影規制: 令135条の12第1項1号 for water along the site where the store holds no open spaces (district kind "
      "OpenSpace), and for what the 特定行政庁 counts as これらに類するもの (railways and the like), and 第1項2号 (a "
      "site "
      "1 m or more below the land the shadow falls on: its ground deemed (H − 1) / 2 higher) wherever some of that "
      "land has no ground in the data, or where no store gives it (an envelope drawn without one) are not applied: "
      "the result is stricter than the law there",
      "日影規制: the 逆日影 envelope reads each district its shadow falls on (法56条の2第5項, 令135条の13, and 第4項 "
      "from outside the regulated districts) only where the store's districts are given (`twin envelope` and the "
      "API do; else the site's designation everywhere, which may be too permissive where a stricter district is "
      "reached); it takes every building as subject in each district (the (ろ)欄 thresholds per district are read "
      "by `twin shadow` and /shadow), and finds 第1項2号's land from the slant-plane envelope's shadow, which "
      "holds the lowered one's (stricter where that reaches higher land)",
      "日影規制: heights are above the site's ground as the data gives it, not a surveyed 平均地盤面 "
      "(令135条の12第1項)"};
  return v;
}

namespace {

// A ShadeRegulation district's designation: its code as the rules file lists it, else as L5-L10@H.
std::optional<ShadowDesignation> designationOf(const RulesFile& f, const District& d) {
  auto di = f.shadow.designations.find(d.code);
  if (di != f.shadow.designations.end())
    return ShadowDesignation{di->second.measuringHeight, di->second.limit5, di->second.limit10, {}};
  return parseShadowDesignation(d.code);
}

// Whether a building of this height and storeys is subject under (ろ)欄 `s` (eaves unknown: taken
// from its height).
bool subjectUnder(const ShadowRules::Subject& s, double height, int storeys) {
  if (s.heightOver >= 0) return height > s.heightOver;
  return height > s.eavesOver || (storeys >= 0 && storeys >= s.storeysFrom) || storeys < 0;
}

}  // namespace

namespace {

std::string subjectText(const ShadowRules::Subject& s) {
  if (s.heightOver >= 0) return "buildings higher than " + num(s.heightOver) + " m (別表第4(ろ)欄)";
  return "buildings with eaves higher than " + num(s.eavesOver) + " m or " + std::to_string(s.storeysFrom) +
         " or more storeys above ground (別表第4(ろ)欄)";
}

}  // namespace

ShadowApplication shadowApplication(const RulesFile& f, const Site& site,
                                    const std::optional<ShadowDesignation>& chosen) {
  ShadowApplication a;
  // The use district: the one covering most of the site.
  const DistrictShare* main = nullptr;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && (!main || ds.share > main->share)) main = &ds;
  std::string code;
  if (main) {
    code = main->district.code;
    a.district = label(f, main->district);
    if (main->share < 0.999)
      a.notes.push_back("日影規制: the site lies in more than one use district; " + a.district +
                        " (the largest part) decides which buildings are subject (法56条の2第5項 not modelled)");
  } else {
    bool zoningNearby = false;
    for (auto& k : site.kindsNearby) zoningNearby = zoningNearby || k == "UseDistrict";
    if (!zoningNearby) {
      a.missing = "日影規制: no use district data over or near the site";
      return a;
    }
    code = "none";
    a.district = "用途地域の指定のない区域";
  }
  a.subject = f.shadow.subjectFor(code, NAN);
  if (!a.subject) return a;  // not subject in this district (商業地域, 工業地域, ...)
  const bool choice = f.shadow.choices.count(code) > 0;  // 別表第4 4項: イ or ロ, by the ordinance
  a.subjectText = subjectText(*a.subject);
  if (choice) {
    std::string all;
    for (auto& c : f.shadow.choices.at(code))
      all += (all.empty() ? "" : ", or ") + subjectText(c) + " on the " +
             (c.measuringHeights.empty() ? std::string("?") : num(c.measuringHeights[0])) + " m plane";
    a.subjectText = all + " (as the ordinance chooses)";
  }
  // The designation: given, else the strictest ShadeRegulation district over the site.
  if (chosen) {
    a.designation = chosen;
    if (a.designation->source.empty()) a.designation->source = "given";
  } else {
    int found = 0;
    for (auto& ds : site.districts) {
      if (ds.district.kind != "ShadeRegulation") continue;
      std::optional<ShadowDesignation> d = designationOf(f, ds.district);
      if (!d) {
        a.notes.push_back("日影規制: ShadeRegulation district '" + ds.district.id + "' has code '" + ds.district.code +
                          "', which the rules file does not list (shadow.designations) and is not L5-L10@H");
        continue;
      }
      d->source = "ShadeRegulation '" + ds.district.id + "' (" + ds.district.code + ")";
      ++found;
      if (!a.designation || d->limit5 < a.designation->limit5 ||
          (d->limit5 == a.designation->limit5 && d->measuringHeight > a.designation->measuringHeight))
        a.designation = d;
    }
    if (found > 1) a.notes.push_back("日影規制: the site lies in more than one designation; the strictest is applied");
    if (!a.designation) {
      a.missing = "日影規制 (法56条の2) applies to " + a.subjectText + " in " + a.district +
                  ", but the data has no designation over the site (the ordinance sets the hours and the "
                  "measuring height, 別表第4(は)(に)欄); give one as L5-L10@H, e.g. 4-2.5@4";
      return a;
    }
  }
  // 別表第4 4項: the ordinance's choice told by its measuring height (イ 1.5 m, ロ 4 m).
  if (choice) {
    a.subject = f.shadow.subjectFor(code, a.designation->measuringHeight);
    a.subjectText = subjectText(*a.subject);
  }
  const auto& s = *a.subject;
  // Is it one of 別表第4's choices for this district?
  bool height = false, limits = false;
  for (double h : s.measuringHeights) height = height || std::abs(h - a.designation->measuringHeight) < 1e-9;
  for (auto& l : s.limits)
    limits = limits ||
             (std::abs(l.first - a.designation->limit5) < 1e-9 && std::abs(l.second - a.designation->limit10) < 1e-9);
  if (!height || !limits)
    a.notes.push_back("日影規制: " + num(a.designation->limit5) + " h / " + num(a.designation->limit10) + " h on the " +
                      num(a.designation->measuringHeight) + " m plane is not one of 別表第4's choices for " +
                      a.district + " (a Hokkaido ordinance, or a typo?): applied as given");
  return a;
}

bool ShadowDistrictPart::holds(const P2& c) const {
  return c[0] >= box.minx && c[0] <= box.maxx && c[1] >= box.miny && c[1] <= box.maxy && contains(geom, c);
}

std::vector<ShadowDistrictPart> shadowDistrictParts(const RulesFile& f, const std::vector<District>& around,
                                                    const Box2& reach, std::vector<ShadowDistrictPart>* uses,
                                                    std::vector<std::string>& notes) {
  MultiPoly reachPoly{Poly{
      {{reach.minx, reach.miny}, {reach.maxx, reach.miny}, {reach.maxx, reach.maxy}, {reach.minx, reach.maxy}}, {}}};
  std::vector<ShadowDistrictPart> zones;
  for (auto& dis : around) {
    if (dis.kind != "ShadeRegulation" && dis.kind != "UseDistrict") continue;
    MultiPoly g = intersection(dis.geom, reachPoly);
    if (area(g) < 0.01) continue;
    ShadowDistrictPart p{&dis, {}, g, bounds(g)};
    if (dis.kind == "UseDistrict") {
      if (uses) uses->push_back(std::move(p));
      continue;
    }
    auto d = designationOf(f, dis);
    if (!d) {
      notes.push_back("日影規制: ShadeRegulation district '" + dis.id + "' has code '" + dis.code +
                      "', which the rules file does not list and is not L5-L10@H: its part is not read");
      continue;
    }
    d->source = "ShadeRegulation '" + dis.id + "' (" + dis.code + ")";
    p.d = *d;
    zones.push_back(std::move(p));
  }
  // The strictest first: a point in several designations is read under the first holding it.
  std::stable_sort(zones.begin(), zones.end(), [](const ShadowDistrictPart& x, const ShadowDistrictPart& y) {
    return x.d.limit5 != y.d.limit5 ? x.d.limit5 < y.d.limit5 : x.d.measuringHeight > y.d.measuringHeight;
  });
  return zones;
}

namespace {

// 法56条の2第4項・第5項, 令135条の13: the building is deemed to stand in each regulated district its
// shadow falls on, under that district's designation and (ろ)欄; a building outside every regulated
// district (第4項) when it is higher than 10 m. The site's shadow is read per district part.
RuleSet::ShadowRun shadowByDistricts(const RulesFile& f, const Site& site, ShadowApplication& a,
                                     const std::vector<Solid>& solids, double height, int storeys, double stepMinutes,
                                     double cell, const std::vector<District>& around, double lift) {
  RuleSet::ShadowRun run;
  RuleResult& r = run.result;
  r.rule = "shadow";
  r.title = f.shadow.title.empty() ? "日影規制 shadow regulation" : f.shadow.title;
  r.article = f.shadow.article + ", 法第56条の2第4項・第5項, 令第135条の13";
  r.unit = "h";
  auto withNotes = [&](std::string reason) {
    for (auto& n : a.notes) reason += "; " + n;
    return reason;
  };
  if (!given(height)) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: the building's height is not known");
    return run;
  }
  if (!given(site.latitude)) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: the site's latitude is not known (its CRS does not give it)");
    return run;
  }
  ShadowSettings st;
  st.latitude = site.latitude;
  st.gridNorth = site.gridNorth;
  st.start = f.shadow.start, st.end = f.shadow.end;
  st.cell = cell;
  st.stepMinutes = stepMinutes;
  std::vector<ShadowDistrictPart> uses;
  const std::vector<ShadowDistrictPart> zones =
      shadowDistrictParts(f, around, shadowReach(solids, 0, st).grown(cell * 2), &uses, a.notes);
  auto in = [](const ShadowDistrictPart& p, const P2& c) { return p.holds(c); };
  const bool outside = !a.subject;  // the site's use district has no 日影規制 (第4項)
  if (outside && height <= 10) {
    r.verdict = Verdict::Pass;
    r.reason = withNotes("not subject: outside the regulated districts (" + a.district + ") and " + num(height) +
                         " m is not higher than 10 m (法56条の2第4項)");
    return run;
  }
  // Subject where its shadow falls: under the (ろ)欄 of the use district there (第4項: every
  // building over 10 m).
  auto subjectAt = [&](const P2& c, double measuringHeight) {
    if (outside) return true;
    std::string code = "none";
    for (auto& u : uses)
      if (in(u, c)) {
        code = u.district->code;
        break;
      }
    const ShadowRules::Subject* sub = f.shadow.subjectFor(code, measuringHeight);
    return sub ? subjectUnder(*sub, height, storeys) : height > 10;
  };
  const MultiPoly lines = shadowLinesBoundary(f, site, a.notes);
  std::vector<std::pair<double, ShadowMap>> maps;  // per measuring height
  auto mapAt = [&](double hm) -> const ShadowMap& {
    for (auto& [h, m] : maps)
      if (std::abs(h - hm) < 1e-9) return m;
    maps.emplace_back(hm, shadowTimes(solids, hm + lift, st));
    return maps.back().second;
  };
  bool over = false, under = true, counted = false;
  double worstExcess = -INFINITY;
  std::string parts;
  for (size_t z = 0; z < zones.size(); ++z) {
    const ShadowDistrictPart& zone = zones[z];
    const ShadowMap& m = mapAt(zone.d.measuringHeight);
    ShadowCheck c = checkShadowMap(m, lines, stepMinutes, [&](const P2& q) {
      if (!in(zone, q)) return false;
      for (size_t k = 0; k < z; ++k)
        if (in(zones[k], q)) return false;  // read under a stricter designation
      bool yes = subjectAt(q, zone.d.measuringHeight);
      counted = counted || yes;
      return yes;
    });
    bool zoneOver = c.max5 > zone.d.limit5 + c.tolerance || c.max10 > zone.d.limit10 + c.tolerance;
    bool zoneUnder = c.max5 <= zone.d.limit5 - c.tolerance && c.max10 <= zone.d.limit10 - c.tolerance;
    over = over || zoneOver, under = under && zoneUnder;
    double excess = std::max(c.max5 - zone.d.limit5, c.max10 - zone.d.limit10);
    if (excess > worstExcess) {
      worstExcess = excess;
      run.check = c;
      run.map = m;
      run.part.designation = zone.d;
      r.value = c.max5, r.limit = zone.d.limit5;
    }
    parts += (parts.empty() ? "" : "; ") + zone.d.source + ": " + num(zone.d.limit5) + " h / " + num(zone.d.limit10) +
             " h on the " + num(zone.d.measuringHeight) + " m plane, longest " + num(c.max5) + " h beyond 5 m, " +
             num(c.max10) + " h beyond 10 m" +
             (zoneOver    ? " (over)"
              : zoneUnder ? ""
                          : " (within the grid's precision)");
  }
  run.part.applied = true;
  run.part.cell = cell, run.part.stepMinutes = stepMinutes, run.part.start = st.start, run.part.end = st.end;
  run.part.max5 = run.check.max5, run.part.max10 = run.check.max10;
  run.part.subject = outside ? "buildings higher than 10 m outside the regulated districts (法56条の2第4項)"
                             : a.subjectText + ", and as each district its shadow falls on says (令135条の13)";
  r.inputs = {{"latitude", num(site.latitude, 5)}, {"grid north", num(site.gridNorth, 3) + "° from true north"}};
  r.formula = "the shadow read in each regulated district it falls on (" + std::to_string(zones.size()) +
              "): " + (parts.empty() ? std::string("none within its reach") : parts) + "; " + num(st.start, 0) +
              ":00–" + num(st.end, 0) + ":00 真太陽時 on the winter solstice, " + num(cell) + " m grid, " +
              num(stepMinutes) + " min steps";
  if (over) {
    r.verdict = Verdict::Fail;
    r.reason = "the shadow lasts longer than a district's limits where it falls (" +
               std::string(outside ? "法56条の2第4項" : "令135条の13") + ")";
  } else if (under) {
    r.verdict = Verdict::Pass;
    r.reason = zones.empty() ? "its shadow reaches no regulated district"
               : counted     ? "within every district's limits"
                             : std::string(!outside && !subjectUnder(*a.subject, height, storeys)
                                               ? "not subject in " + a.district + " (" + a.subjectText + "), and "
                                               : "") +
                               "its shadow beyond the 5 m line falls on no regulated district where a building of " +
                               num(height) + " m" + (storeys >= 0 ? ", " + std::to_string(storeys) + " storeys," : "") +
                               " is subject (別表第4(ろ)欄, 令135条の13)";
  } else {
    r.verdict = Verdict::Unknown;
    r.reason = "within the grid's precision of a limit: compute on a finer grid or step";
  }
  r.reason = withNotes(r.reason);
  return run;
}

}  // namespace

RuleSet::ShadowRun RuleSet::shadowOf(const Site& site, const std::vector<Solid>& solids, double height, int storeys,
                                     const std::optional<ShadowDesignation>& chosen, double stepMinutes, double cell,
                                     const std::vector<District>& around, double groundLift) const {
  const RulesFile& f = file();
  ShadowRun run;
  RuleResult& r = run.result;
  r.rule = "shadow";
  r.title = f.shadow.title.empty() ? "日影規制 shadow regulation" : f.shadow.title;
  r.article = f.shadow.article;
  r.unit = "h";
  ShadowApplication a = shadowApplication(f, site, chosen);
  const double lift = std::max(0.0, groundLift);
  if (lift > 0)
    a.notes.push_back(
        "日影規制 over a site below the land its shadow falls on (令135条の12第1項2号): the site's ground "
        "deemed " +
        num(lift) + " m higher, the measuring plane with it");
  auto withNotes = [&](std::string reason) {
    for (auto& n : a.notes) reason += "; " + n;
    return reason;
  };
  if (!a.missing.empty() && !a.subject) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: " + a.missing);
    return run;
  }
  // The districts around the site known (and no designation given for the site alone): each
  // district's part of the shadow under its own designation (第4項, 第5項).
  if (!chosen &&
      std::any_of(around.begin(), around.end(), [](const District& d) { return d.kind == "ShadeRegulation"; }) &&
      (!a.subject || a.designation))
    return shadowByDistricts(f, site, a, solids, height, storeys, stepMinutes, cell, around, lift);
  if (!a.subject) {
    r.verdict = Verdict::Pass;
    r.reason =
        withNotes("not subject: 別表第4 sets no 日影規制 in " + a.district +
                  (around.empty() ? std::string(" (the districts around the site were not read: shadows it casts "
                                                "into a regulated district, 法56条の2第4項, are not checked)")
                                  : std::string(" and no regulated district lies around it")));
    return run;
  }
  run.part.subject = a.subjectText;
  const auto& s = *a.subject;
  // Is this building subject?
  if (!given(height)) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: the building's height is not known; 日影規制 applies to " + a.subjectText);
    return run;
  }
  if (s.heightOver >= 0 && height <= s.heightOver) {
    r.verdict = Verdict::Pass;
    r.reason = withNotes("not subject: " + num(height) + " m is not higher than " + num(s.heightOver) + " m (" +
                         a.subjectText + ")");
    return run;
  }
  if (s.heightOver < 0 && height <= s.eavesOver && storeys >= 0 && storeys < s.storeysFrom) {
    r.verdict = Verdict::Pass;
    r.reason = withNotes("not subject: " + num(height) + " m high (so eaves at most that) and " +
                         std::to_string(storeys) + " storeys (" + a.subjectText + ")");
    return run;
  }
  std::string subjectNote;
  if (s.heightOver < 0 && height > s.eavesOver && (storeys < 0 || storeys < s.storeysFrom))
    subjectNote = "eaves height not in the data: taken as subject (" + num(height) + " m high)";
  if (!a.designation) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: " + a.missing);
    return run;
  }
  if (!given(site.latitude)) {
    r.verdict = Verdict::Unknown;
    r.reason = withNotes("cannot decide: the site's latitude is not known (its CRS does not give it)");
    return run;
  }
  const ShadowDesignation& d = *a.designation;
  ShadowSettings st;
  st.latitude = site.latitude;
  st.gridNorth = site.gridNorth;
  st.start = f.shadow.start, st.end = f.shadow.end;
  st.cell = cell;
  st.stepMinutes = stepMinutes;
  run.map = shadowTimes(solids, d.measuringHeight + lift, st);
  const MultiPoly lines = shadowLinesBoundary(f, site, a.notes);
  run.check = checkShadowMap(run.map, lines, stepMinutes);
  const ShadowCheck& c = run.check;
  run.part.applied = true;
  run.part.designation = d;
  run.part.cell = cell, run.part.stepMinutes = stepMinutes, run.part.start = st.start, run.part.end = st.end;
  run.part.max5 = c.max5, run.part.max10 = c.max10;
  r.value = c.max5;
  r.limit = d.limit5;
  r.inputs = {{"designation", num(d.limit5) + " h / " + num(d.limit10) + " h on the " + num(d.measuringHeight) +
                                  " m plane (" + d.source + ")"},
              {"latitude", num(site.latitude, 5)},
              {"grid north", num(site.gridNorth, 3) + "° from true north"}};
  r.formula = "longest shadow beyond the 5 m line " + num(c.max5) + " h (limit " + num(d.limit5) +
              " h), beyond the 10 m line " + num(c.max10) + " h (limit " + num(d.limit10) + " h); " + num(st.start, 0) +
              ":00–" + num(st.end, 0) + ":00 真太陽時 on the winter solstice, " + num(cell) + " m grid, " +
              num(stepMinutes) + " min steps (± " + num(c.tolerance * 60, 0) + " min)";
  bool over = c.max5 > d.limit5 + c.tolerance || c.max10 > d.limit10 + c.tolerance;
  bool under = c.max5 <= d.limit5 - c.tolerance && c.max10 <= d.limit10 - c.tolerance;
  if (over) {
    r.verdict = Verdict::Fail;
    r.reason = c.max5 > d.limit5 + c.tolerance ? "shadow beyond the 5 m line lasts " + num(c.max5) + " h at (" +
                                                     num(c.worst5[0]) + ", " + num(c.worst5[1]) + ")"
                                               : "shadow beyond the 10 m line lasts " + num(c.max10) + " h at (" +
                                                     num(c.worst10[0]) + ", " + num(c.worst10[1]) + ")";
  } else if (under) {
    r.verdict = Verdict::Pass;
    r.reason = "within both limits";
  } else {
    r.verdict = Verdict::Unknown;
    r.reason = "within the grid's precision of a limit: compute on a finer grid or step";
  }
  if (!subjectNote.empty()) r.reason += "; " + subjectNote;
  r.reason = withNotes(r.reason);
  return run;
}

}  // namespace twin::landuse
