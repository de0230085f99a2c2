// The buildable envelope of a site: maximum building and floor areas, the lowest absolute height
// limit, and the planes that bound what may be built (height limit or cap, and 法56条's slant
// planes from slant.cpp), drawn as a solid by envelope_mesh.cpp with each face's rule.
#include <algorithm>
#include <cmath>

#include "envelope_mesh.h"
#include "eval.h"
#include "shadow_apply.h"
#include "slant.h"

namespace twin::landuse {

using namespace eval;

namespace {

// 日影規制 in the envelope (逆日影): the slant-plane envelope sampled as columns, lowered where its
// shadow would last too long (shadow.h), each lowered column added as a plane over its square.
void shadowLimit(const RulesFile& f, const Site& site, const EnvelopeOptions& o, std::vector<HeightPlane>& cons,
                 EnvelopeResult& e) {
  ShadowApplication a = shadowApplication(f, site, o.shadow);
  for (auto& n : a.notes) e.notes.push_back(n);
  // The districts around known (and no designation given for the site alone): each district's
  // part of the shadow under its own designation (法56条の2第4項・第5項, 令135条の13), as shadowOf.
  const bool mayByDistricts = !o.shadow && o.shadowDistricts && (!a.subject || a.designation);
  if (!mayByDistricts) {
    if (!a.subject) {
      if (!a.missing.empty()) e.notModelled.push_back(a.missing);
      return;
    }
    if (!a.designation) {
      e.notModelled.push_back(a.missing);
      return;
    }
  }
  if (!given(site.latitude)) {
    e.notModelled.push_back("日影規制: the site's latitude is not known (its CRS does not give it): not drawn");
    return;
  }
  ShadowSettings st;
  st.latitude = site.latitude;
  st.gridNorth = site.gridNorth;
  st.start = f.shadow.start, st.end = f.shadow.end;
  st.stepMinutes = o.shadowStepMinutes > 0 ? o.shadowStepMinutes : 2;
  double cell = o.shadowCell > 0 ? o.shadowCell : std::max(1.0, std::sqrt(site.area / 2500));
  st.cell = cell;
  auto envAt = [&](const P2& p) {
    double z = INFINITY;
    for (auto& c : cons)
      if (c.covers(p)) z = std::min(z, c.at(p));
    return std::max(0.0, z);
  };
  Box2 box;
  int nx = 0, ny = 0;
  std::vector<double> initial = siteColumns(site.geom, envAt, cell, box, nx, ny);
  // The slant-plane envelope's columns: their shadow holds the shadow of anything lower.
  std::vector<Solid> columns;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double h = initial[size_t(j) * size_t(nx) + size_t(i)];
      if (!(h > 0)) continue;
      const double x0 = box.minx + i * cell, y0 = box.miny + j * cell;
      columns.push_back({{{x0, y0}, {x0 + cell, y0}, {x0 + cell, y0 + cell}, {x0, y0 + cell}}, 0, h});
    }
  if (columns.empty()) return;
  const Box2 reach = shadowReach(columns, 0, st).grown(cell * 2);
  std::vector<District> around;
  if (mayByDistricts)
    for (auto& d : o.shadowDistricts(reach))
      if (d.kind == "ShadeRegulation" || d.kind == "UseDistrict") around.push_back(std::move(d));
  const bool byDistricts =
      std::any_of(around.begin(), around.end(), [](const District& d) { return d.kind == "ShadeRegulation"; });
  if (!byDistricts && !a.subject) {
    if (!a.missing.empty())
      e.notModelled.push_back(a.missing);
    else
      e.notes.push_back("日影規制: not subject in " + a.district +
                        ", and no regulated district lies within the reach "
                        "of the envelope's shadow (法56条の2第4項)");
    return;
  }
  std::vector<std::string> lineNotes;
  const MultiPoly lines = shadowLinesBoundary(f, site, lineNotes);
  for (auto& n : lineNotes) e.notes.push_back(n);
  double lift = 0;
  std::string liftWhy;
  if (o.shadowGroundLift) lift = std::max(0.0, o.shadowGroundLift(columns, liftWhy));
  std::vector<ShadowDistrictPart> parts;
  std::vector<ShadowZone> zones;
  if (byDistricts) {
    parts = shadowDistrictParts(f, around, reach, nullptr, e.notes);
    for (auto& p : parts) zones.push_back({p.d, [&p](const P2& c) { return p.holds(c); }});
    if (zones.empty()) {
      e.notes.push_back("日影規制: the envelope's shadow reaches no regulated district" +
                        std::string(a.subject ? "" : " (法56条の2第4項)") + ": not limited by it");
      return;
    }
  } else {
    zones.push_back({*a.designation, {}});
  }
  ShadowEnvelope se =
      shadowEnvelopeOf(site.geom, box.minx, box.miny, cell, nx, ny, std::move(initial), zones, st, &lines, lift);
  size_t planes = 0;
  for (int j = 0; j < se.ny; ++j)
    for (int i = 0; i < se.nx; ++i) {
      size_t k = size_t(j) * size_t(se.nx) + size_t(i);
      if (!std::isfinite(se.height[k]) || se.height[k] >= se.initial[k] - 0.01) continue;
      double x0 = se.x0 + i * cell, y0 = se.y0 + j * cell;
      HeightPlane p;
      p.c = se.height[k];
      p.region = {{-1, 0, -x0}, {1, 0, x0 + cell}, {0, -1, -y0}, {0, 1, y0 + cell}};
      p.what = "日影規制 (逆日影)";
      p.rule = "shadow";
      cons.push_back(std::move(p));
      ++planes;
    }
  const ShadowDesignation& d = zones[se.verifiedZone].d;
  ShadowPart& sp = e.shadow;
  sp.applied = true;
  sp.designation = d;
  sp.subject = byDistricts
                   ? (a.subject ? a.subjectText + ", and as each district its shadow falls on says (令135条の13)"
                                : "buildings higher than 10 m outside the regulated districts (法56条の2第4項)")
                   : a.subjectText;
  sp.cell = cell, sp.stepMinutes = st.stepMinutes, sp.start = st.start, sp.end = st.end;
  sp.max5 = se.verified.max5, sp.max10 = se.verified.max10;
  sp.lowered = se.lowered;
  if (lift > 0)
    e.notes.push_back(
        "日影規制 over a site below the land its shadow falls on (令135条の12第1項2号): the site's ground "
        "deemed " +
        num(lift) + " m higher, the measuring planes with it (" + liftWhy + ")");
  else if (!liftWhy.empty())
    e.notes.push_back(
        "日影規制: 令135条の12第1項2号 (a site 1 m or more below the land its shadow falls on) not applied: " +
        liftWhy);
  std::string how;
  if (byDistricts) {
    std::string each;
    for (size_t z = 0; z < zones.size(); ++z)
      each += (each.empty() ? "" : "; ") + zones[z].d.source + ": " + num(zones[z].d.limit5) + " h / " +
              num(zones[z].d.limit10) + " h on the " + num(zones[z].d.measuringHeight) + " m plane, at most " +
              num(se.perZone[z].max5) + " h / " + num(se.perZone[z].max10) + " h";
    how = "each district the shadow falls on under its own designation (法56条の2第5項, 令135条の13" +
          std::string(a.subject ? "" : "; 第4項: the site is outside the regulated districts") + "): " + each;
  } else {
    how = num(d.limit5) + " h / " + num(d.limit10) + " h on the " + num(d.measuringHeight) + " m plane (" + d.source +
          ")";
  }
  e.notes.push_back("日影規制 (" + f.shadow.article + "): " + how + ", for " + sp.subject + ": " +
                    std::to_string(planes) + " of the " + num(cell) + " m columns lowered, " + num(se.lowered, 0) +
                    " m³; the columns' shadow lasts at most " + num(se.verified.max5) + " h beyond 5 m and " +
                    num(se.verified.max10) + " h beyond 10 m (" + num(st.stepMinutes / 2) +
                    " min steps); the envelope lies within the columns. A building no higher than the (ろ)欄 "
                    "threshold" +
                    std::string(a.subject ? "" : " (10 m, 第4項)") + " is not subject");
  for (auto& n : shadowNotModelled()) e.notModelled.push_back(n);
}

}  // namespace

EnvelopeResult RuleSet::envelope(const Site& site, double cap) const {
  EnvelopeOptions o;
  o.cap = cap;
  return envelope(site, o);
}

EnvelopeResult RuleSet::envelope(const Site& input, const EnvelopeOptions& o) const {
  const double cap = o.cap;
  const RulesFile& f = file();
  EnvelopeResult e;
  e.options = o;
  e.options.shadowDistricts = {}, e.options.shadowGroundLift = {};  // they may hold the caller's store
  // 法42条2項: along a road narrower than 4 m, the strip a 2項道路 would take is road (令2条1項1号;
  // 法44条: nothing stands in it): left out, and the site's areas without it (the stricter reading; the
  // slant planes from the road as the data gives it, stricter than from the deemed 4 m).
  const MultiPoly strip = narrowRoadStrips(input);
  Site clipped;
  if (!strip.empty()) {
    clipped = input;
    clipped.geom = difference(input.geom, strip);
    clipped.area = std::max(0.0, input.area - area(strip));
    for (auto& p : clipped.parcels) p.geom = intersection(p.geom, clipped.geom);
    e.notes.push_back(
        "法42条2項: a front road narrower than 4 m may be a 2項道路, whose boundary lies 2 m from its "
        "centre line: the " +
        num(area(strip)) + " m² strip up to it is left out (令2条1項1号, 法44条), and the areas are of the " +
        num(clipped.area) +
        " m² without it (stricter where the road is not one); the slant planes from the road as "
        "the data gives it (stricter than from the deemed 4 m)");
  }
  const Site& site = strip.empty() ? input : clipped;
  e.siteArea = site.area;
  Vars vars = siteVars(f, site);
  // Numbers: the site area times the area-weighted limits.
  auto areaLimit = [&](const char* rule, const Titled& sec, const RateParts& l, const char* what, double upper) {
    RuleResult r;
    r.rule = rule;
    r.title = sec.title;
    r.article = sec.article;
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
      areaLimit("coverage", f.coverage, coverageLimit(f, site, vars), "maximum building area (建築面積)", 0);
  double upper = 0;
  auto flim = floorAreaLimit(f, site, upper);
  e.maxFloorArea = areaLimit("floor-area", f.floorArea, flim, "maximum total floor area (延べ面積)", upper);
  // Height limits over the site.
  double maxH = INFINITY;
  std::string hfrom;
  for (auto& ds : site.districts) {
    const District& d = ds.district;
    const DistrictRule* de = f.district(d.kind, d.code);
    if (d.kind == "UseDistrict") {
      double h = given(d.heightLimit) ? d.heightLimit : kNone;
      if (!given(h) && de && de->absoluteHeight) {
        h = f.height.absoluteLow;
        e.notes.push_back(label(f, d) + ": absolute limit taken as " + num(h) + " m (the data does not say whether " +
                          num(f.height.absoluteLow) + " or " + num(f.height.absoluteHigh) + " m applies)");
      }
      if (given(h) && h < maxH) maxH = h, hfrom = label(f, d) + " (" + f.height.absoluteArticle + ")";
    } else if (d.kind == "HeightControlDistrict" && given(d.maxHeight) && d.maxHeight < maxH) {
      maxH = d.maxHeight;
      hfrom = label(f, d) + " (高度地区)";
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
  std::vector<HeightPlane> cons;
  {
    HeightPlane limit;
    limit.c = top;
    limit.what = std::isfinite(maxH) ? "height limit" : "cap";
    limit.rule = std::isfinite(maxH) ? "height-limit" : "cap";
    cons.push_back(std::move(limit));
  }
  SlantOptions so;
  so.roadSetback = o.roadSetback;
  so.adjacentSetback = o.adjacentSetback;
  so.groundHeight = o.groundHeight;
  SlantPlanes slants = slantPlanes(f, input, so);  // the edges as the data gives them
  for (auto& p : slants.planes) cons.push_back(std::move(p));
  e.notes.insert(e.notes.end(), slants.notes.begin(), slants.notes.end());
  e.notModelled = slants.missing;
  e.notModelled.insert(e.notModelled.end(), slants.relaxationsNotApplied.begin(), slants.relaxationsNotApplied.end());
  // 外壁の後退距離 (法54条): nothing within the setback of the site boundary.
  {
    std::string from;
    double ws = 0;
    for (auto& ds : site.districts)
      if (ds.district.kind == "UseDistrict" && given(ds.district.wallSetback) && ds.district.wallSetback > ws)
        ws = ds.district.wallSetback, from = label(f, ds.district);
    if (ws > 0) {
      for (auto& edge : outerEdges(site.geom)) {
        const P2 &a = edge[0], &b = edge[1];
        double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy);
        if (len < 1e-9) continue;
        double ex = dx / len, ey = dy / len, nx = -ey, ny = ex;  // along, inward
        HeightPlane p;
        p.c = 0;
        p.region = {{nx, ny, ws + nx * a[0] + ny * a[1]},
                    {-ex, -ey, -(ex * a[0] + ey * a[1])},
                    {ex, ey, ex * a[0] + ey * a[1] + len}};
        p.what = "外壁の後退距離 " + num(ws) + " m";
        p.rule = "wall-setback";
        cons.push_back(std::move(p));
      }
      e.notes.push_back("外壁の後退距離 (建築基準法第54条): " + num(ws) + " m from every site boundary (" + from +
                        "); the parts 令135条の22 exempts (3 m of wall in all, small 物置) are not drawn");
    }
  }
  shadowLimit(f, site, o, cons, e);
  EnvelopeMesh mesh = lowerEnvelope(site.geom, cons);
  e.vertices = std::move(mesh.vertices);
  e.triangles = std::move(mesh.triangles);
  e.meshTop = mesh.top;
  e.volume = mesh.volume;
  for (int plane : mesh.trianglePlane)
    e.triangleRule.push_back(plane < 0 ? std::string("wall") : cons[size_t(plane)].rule);
  if (e.capped)
    e.notes.push_back("no absolute height limit: the envelope is drawn up to " + num(cap) +
                      " m, a drawing limit, not the law's");
  return e;
}

}  // namespace twin::landuse
