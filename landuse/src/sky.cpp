// 天空率: the azimuth integral of sin² of the highest elevation angle (sky.h), and 令135条の9's
// measurement points; RuleSet::skyFactorRoad compares a plan with the 道路高さ制限適合建築物.
#include "twin/landuse/sky.h"

#include <algorithm>
#include <cmath>

#include "eval.h"
#include "slant.h"
#include "twin/landuse/rules.h"

namespace twin::landuse {

using namespace eval;

double skyFactor(const P2& p, double z0, const std::function<double(const P2&)>& heightAt, const Box2& extent,
                 const SkySettings& s) {
  const double kPi = 3.14159265358979323846;
  double blocked = 0;
  for (int k = 0; k < s.azimuthSteps; ++k) {
    double phi = (k + 0.5) * 2 * kPi / s.azimuthSteps;
    double ux = std::sin(phi), uy = std::cos(phi);
    // The stretch of the ray inside the extent.
    double t0 = 0, t1 = INFINITY;
    auto slab = [&](double o, double u, double lo, double hi) {
      if (std::abs(u) < 1e-12) return o >= lo && o <= hi;
      double a = (lo - o) / u, b = (hi - o) / u;
      if (a > b) std::swap(a, b);
      t0 = std::max(t0, a), t1 = std::min(t1, b);
      return t0 <= t1;
    };
    if (!slab(p[0], ux, extent.minx, extent.maxx) || !slab(p[1], uy, extent.miny, extent.maxy)) continue;
    double best = 0;  // tan of the highest elevation
    for (double t = std::max(t0, s.rayStep * 0.5); t <= t1; t += s.rayStep) {
      // Only the solid blocks the sky (0: none there), not the ground under the point's height.
      double top = heightAt({p[0] + t * ux, p[1] + t * uy});
      double h = top - z0;
      if (top > 0 && h > 0) best = std::max(best, h / t);
    }
    blocked += best * best / (1 + best * best);  // sin² of atan(best)
  }
  return 1 - blocked / s.azimuthSteps;
}

std::vector<P2> roadSkyPoints(const P2& a, const P2& b, double width, double setback, double beyond) {
  std::vector<P2> pts;
  double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy);
  if (len <= 0 || !(width > 0)) return pts;
  // The site lies to the left of a -> b (counter-clockwise outer ring): the road to the right.
  double nx = dy / len, ny = -dx / len;
  double off = width + setback + std::max(0.0, beyond);
  int n = std::max(1, int(std::ceil(len / (width / 2))));
  for (int i = 0; i <= n; ++i) {
    double t = double(i) / n;
    pts.push_back({a[0] + t * dx + off * nx, a[1] + t * dy + off * ny});
  }
  return pts;
}

RuleSet::SkyCheck RuleSet::skyFactorRoad(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o,
                                         const SkySettings& s) const {
  const RulesFile& f = file();
  SkyCheck out;
  RuleResult& r = out.result;
  r.rule = "sky-factor-road";
  r.title = "天空率 sky factor (道路高さ制限)";
  r.article = "建築基準法第56条第7項第1号, 令第135条の6, 令第135条の9";
  r.unit = "%";
  SlantOptions so;
  so.roadSetback = o.roadSetback;
  so.adjacentSetback = o.adjacentSetback;
  so.groundHeight = o.groundHeight;
  SlantPlanes sp = slantPlanes(f, site, so);
  std::vector<const HeightPlane*> road;
  for (auto& p : sp.planes)
    if (p.rule == "road-slant") road.push_back(&p);
  if (road.empty() || site.frontage.empty()) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: no 道路斜線 over this site (no front road in the data, or its width unknown)";
    for (auto& m : sp.missing) r.reason += "; " + m;
    return out;
  }
  // The 道路高さ制限適合建築物: the site within the application distance, up to the road planes (and
  // the absolute limit); the plan counted within the same reach.
  double top = INFINITY;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.heightLimit))
      top = std::min(top, ds.district.heightLimit);
  auto inReach = [&](const P2& q) {
    for (auto* p : road)
      if (p->covers(q)) return true;
    return false;
  };
  auto conforming = [&](const P2& q) {
    if (!contains(site.geom, q)) return 0.0;
    double z = INFINITY;
    bool any = false;
    for (auto* p : road)
      if (p->covers(q)) z = std::min(z, p->at(q)), any = true;
    return any ? std::min(z, top) : 0.0;
  };
  std::vector<std::pair<MultiPoly, Box2>> planPolys;
  for (auto& so2 : plan) {
    MultiPoly m{Poly{so2.ring, {}}};
    planPolys.emplace_back(m, bounds(m));
  }
  auto planned = [&](const P2& q) {
    double z = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
      const Box2& b = planPolys[i].second;
      if (plan[i].top > z && q[0] >= b.minx && q[0] <= b.maxx && q[1] >= b.miny && q[1] <= b.maxy &&
          contains(planPolys[i].first, q))
        z = plan[i].top;
    }
    return z > 0 && inReach(q) ? z : 0.0;
  };
  Box2 extent = bounds(site.geom);
  double worstMargin = INFINITY;
  std::vector<std::string> opposite, ignored;
  const std::vector<eval::Edge> edges = eval::boundaryEdges(site);
  for (auto& fr : site.frontage) {
    if (!given(fr.width)) continue;
    // 令134条 (令135条の9): the points on the far side of an open space opposite the road.
    double beyond = 0;
    for (auto& e : edges)
      if (e.road && std::hypot(e.a[0] - fr.a[0], e.a[1] - fr.a[1]) < 1e-6 &&
          std::hypot(e.b[0] - fr.b[0], e.b[1] - fr.b[1]) < 1e-6)
        beyond = openRelief(f, e, true, &DistrictRule::OpenSpace::roadOpposite, "令134条", opposite, ignored);
    // At the road's surface (令135条の9), the road deemed higher where the site is 1 m or more above
    // it (as 令135条の2 deems it for the planes); unknown: level with the site, said in the planes' notes.
    double z0 = 0;
    roadHeightOffset(fr.levelMin, o.groundHeight, z0);
    for (const P2& p : roadSkyPoints(fr.a, fr.b, fr.width, o.roadSetback, beyond)) {
      SkyPoint pt;
      pt.at = p;
      pt.conforming = skyFactor(p, z0, conforming, extent, s);
      pt.plan = skyFactor(p, z0, planned, extent, s);
      pt.pass = pt.plan >= pt.conforming;
      worstMargin = std::min(worstMargin, pt.plan - pt.conforming);
      out.points.push_back(pt);
    }
  }
  if (out.points.empty()) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: no front road of known width to place the measurement points on";
    return out;
  }
  const SkyPoint* worst = &out.points[0];
  for (auto& p : out.points)
    if (p.plan - p.conforming < worst->plan - worst->conforming) worst = &p;
  r.value = worst->plan * 100;
  r.limit = worst->conforming * 100;
  // The integration's own error is far below 0.01 %; a margin under it decides nothing.
  const double eps = 1e-4;
  r.formula = std::to_string(out.points.size()) + " points on the far side of the road (令135条の9): at the worst, (" +
              num(worst->at[0]) + ", " + num(worst->at[1]) + "), plan " + num(worst->plan * 100, 3) +
              " % against the conforming building's " + num(worst->conforming * 100, 3) + " %";
  if (worstMargin >= eps) {
    r.verdict = Verdict::Pass;
    r.reason =
        "the plan's sky factor is at least the conforming building's at every point: 道路斜線 does not "
        "apply to it (法56条7項1号)";
  } else if (worstMargin < -eps) {
    r.verdict = Verdict::Fail;
    r.reason =
        "below the conforming building's sky factor at " +
        std::to_string(std::count_if(out.points.begin(), out.points.end(), [](const SkyPoint& p) { return !p.pass; })) +
        " of the points: the plan must keep the road slant plane (or change)";
  } else {
    r.verdict = Verdict::Unknown;
    r.reason = "equal to the conforming building's within the computation's precision";
  }
  r.reason +=
      (opposite.empty() ? std::string()
                        : "; the points on the far side of " + eval::joined(opposite) + " opposite the road (令134条)") +
      "; both counted within the application distance (別表第3), the 適合建築物 to the road planes and the "
      "absolute limit; 令135条の6第1項2号 (the plan keeps the setback the conforming building assumes) "
      "and the 0.02 % margin some 特定行政庁 require are not checked";
  return out;
}

namespace {

// The main use district's rule (the one covering most of the site), or null.
const DistrictRule* mainUseRule(const RulesFile& f, const Site& site) {
  const DistrictShare* main = nullptr;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && (!main || ds.share > main->share)) main = &ds;
  return main ? f.district(main->district.kind, main->district.code) : nullptr;
}

// Compares the plan with the conforming building of the planes of `rule` at `points`.
RuleSet::SkyCheck compareAt(const Site& site, const std::vector<Solid>& plan, const std::vector<HeightPlane>& planes,
                            const std::string& rule, double top, const std::vector<std::pair<P2, double>>& points,
                            const SkySettings& s, RuleResult base) {
  RuleSet::SkyCheck out;
  out.result = std::move(base);
  RuleResult& r = out.result;
  std::vector<const HeightPlane*> mine;
  for (auto& p : planes)
    if (p.rule == rule) mine.push_back(&p);
  auto conforming = [&](const P2& q) {
    if (!contains(site.geom, q)) return 0.0;
    double z = top;
    for (auto* p : mine)
      if (p->covers(q)) z = std::min(z, p->at(q));
    return std::max(0.0, z);
  };
  std::vector<std::pair<MultiPoly, Box2>> polys;
  for (auto& so : plan) {
    MultiPoly m{Poly{so.ring, {}}};
    polys.emplace_back(m, bounds(m));
  }
  auto planned = [&](const P2& q) {
    double z = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
      const Box2& b = polys[i].second;
      if (plan[i].top > z && q[0] >= b.minx && q[0] <= b.maxx && q[1] >= b.miny && q[1] <= b.maxy &&
          contains(polys[i].first, q))
        z = plan[i].top;
    }
    return z;
  };
  Box2 extent = bounds(site.geom);
  for (auto& so : plan)
    for (auto& p : so.ring) extent.add(p);
  for (const auto& [p, z0] : points) {
    if (contains(site.geom, p)) continue;
    RuleSet::SkyPoint pt;
    pt.at = p;
    pt.conforming = skyFactor(p, z0, conforming, extent, s);
    pt.plan = skyFactor(p, z0, planned, extent, s);
    pt.pass = pt.plan >= pt.conforming;
    out.points.push_back(pt);
  }
  if (out.points.empty()) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: no measurement point outside the site";
    return out;
  }
  const RuleSet::SkyPoint* worst = &out.points[0];
  for (auto& p : out.points)
    if (p.plan - p.conforming < worst->plan - worst->conforming) worst = &p;
  double margin = worst->plan - worst->conforming;
  r.value = worst->plan * 100;
  r.limit = worst->conforming * 100;
  r.formula = std::to_string(out.points.size()) + " points: at the worst, (" + num(worst->at[0]) + ", " +
              num(worst->at[1]) + "), plan " + num(worst->plan * 100, 3) + " % against the conforming building's " +
              num(worst->conforming * 100, 3) + " %";
  const double eps = 1e-4;
  if (margin >= eps) {
    r.verdict = Verdict::Pass;
    r.reason =
        "the plan's sky factor is at least the conforming building's at every point: the slant plane does "
        "not apply to it";
  } else if (margin < -eps) {
    r.verdict = Verdict::Fail;
    r.reason = "below the conforming building's sky factor at " +
               std::to_string(std::count_if(out.points.begin(), out.points.end(),
                                            [](const RuleSet::SkyPoint& p) { return !p.pass; })) +
               " of the points: the plan must keep the slant plane (or change)";
  } else {
    r.verdict = Verdict::Unknown;
    r.reason = "equal to the conforming building's within the computation's precision";
  }
  return out;
}

}  // namespace

RuleSet::SkyCheck RuleSet::skyFactorAdjacent(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o,
                                             const SkySettings& s) const {
  const RulesFile& f = file();
  RuleResult base;
  base.rule = "sky-factor-adjacent";
  base.title = "天空率 sky factor (隣地高さ制限)";
  base.article = "建築基準法第56条第7項第2号, 令第135条の7, 令第135条の10";
  base.unit = "%";
  const DistrictRule* rule = mainUseRule(f, site);
  if (!rule || !rule->adjacentSlant) {
    base.verdict = Verdict::Unknown;
    base.reason = rule ? "no 隣地斜線 in this use district (法56条1項2号): nothing to compare"
                       : "cannot decide: no use district over the site";
    SkyCheck out;
    out.result = base;
    return out;
  }
  SlantOptions so;
  so.roadSetback = o.roadSetback;
  so.adjacentSetback = o.adjacentSetback;
  so.groundHeight = o.groundHeight;
  SlantPlanes sp = slantPlanes(f, site, so);
  // 令135条の10: the line rise / slope (16 m or 12.4 m) plus the setback outside each boundary with a
  // neighbour, points at most half that apart.
  const double d = rule->adjacentSlant->rise / rule->adjacentSlant->slope + o.adjacentSetback;
  const double spacing = rule->adjacentSlant->rise / rule->adjacentSlant->slope / 2;
  // 令135条の10: beside a park (not a 街区公園), square or water the boundary is deemed half its width
  // out, and a site H ≥ 1 m below the neighbour has the points (H − 1) / 2 up, as for the planes
  // (令135条の3第1項).
  std::vector<std::pair<P2, double>> points;
  std::vector<std::string> said, ignored;
  for (auto& e : eval::boundaryEdges(site)) {
    if (e.road) continue;
    double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6) continue;
    const double out =
        openRelief(f, e, false, &DistrictRule::OpenSpace::adjacent, "令135条の3第1項1号", said, ignored) / 2;
    const double z0 = neighbourLift(site, e, o.groundHeight, said);
    double nx = dy / len, ny = -dx / len;  // outward of a counter-clockwise ring
    int n = std::max(1, int(std::ceil(len / spacing)));
    for (int i = 0; i <= n; ++i) {
      double t = double(i) / n;
      points.push_back({{e.a[0] + t * dx + (d + out) * nx, e.a[1] + t * dy + (d + out) * ny}, z0});
    }
  }
  double top = INFINITY;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.heightLimit))
      top = std::min(top, ds.district.heightLimit);
  auto out = compareAt(site, plan, sp.planes, "adjacent-slant", std::isfinite(top) ? top : 1000, points, s, base);
  out.result.reason +=
      "; the 隣地高さ制限適合建築物 is the site under the 隣地斜線 planes (令135条の7); the points at the site's ground" +
      (said.empty() ? std::string(" (no open space or higher neighbour found along the boundaries)")
                    : ", the boundaries deemed out or up (令135条の10) along " + eval::joined(said));
  return out;
}

RuleSet::SkyCheck RuleSet::skyFactorNorth(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o,
                                          const SkySettings& s) const {
  const RulesFile& f = file();
  RuleResult base;
  base.rule = "sky-factor-north";
  base.title = "天空率 sky factor (北側高さ制限)";
  base.article = "建築基準法第56条第7項第3号, 令第135条の8, 令第135条の11";
  base.unit = "%";
  const DistrictRule* rule = mainUseRule(f, site);
  if (!rule || !rule->northSlant) {
    base.verdict = Verdict::Unknown;
    base.reason = rule ? "no 北側斜線 in this use district (法56条1項3号): nothing to compare"
                       : "cannot decide: no use district over the site";
    SkyCheck out;
    out.result = base;
    return out;
  }
  SlantOptions so;
  so.roadSetback = o.roadSetback;  // the planes as drawn for the envelope (北側斜線 has no setback relaxation)
  so.groundHeight = o.groundHeight;
  SlantPlanes sp = slantPlanes(f, site, so);
  // 令135条の11: due north of the boundary by rise / slope (4 m or 8 m), points at most a quarter of
  // that apart (1 m or 2 m), along the boundary edges that face north.
  const double d = rule->northSlant->rise / rule->northSlant->slope;
  const double spacing = d / 4;
  // 令135条の11: from the boundary deemed out by half the width of water or a 線路敷 beside it (or
  // opposite the road along it) and across a road from its far side, as for the planes (令135条の4第1項);
  // a site H ≥ 1 m below its northern neighbour has the points (H − 1) / 2 up.
  std::vector<std::pair<P2, double>> points;
  std::vector<std::string> said, ignored;
  for (auto& e : eval::boundaryEdges(site)) {
    double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6 || dx >= -1e-9) continue;  // a counter-clockwise ring faces north where it runs west
    const double out = (given(e.roadWidth) ? e.roadWidth : 0.0) +
                       openRelief(f, e, e.road, &DistrictRule::OpenSpace::north, "令135条の4第1項1号", said, ignored) / 2;
    const double z0 = e.road ? 0.0 : neighbourLift(site, e, o.groundHeight, said);
    int n = std::max(1, int(std::ceil(len / spacing)));
    for (int i = 0; i <= n; ++i) {
      double t = double(i) / n;
      points.push_back({{e.a[0] + t * dx, e.a[1] + t * dy + d + out}, z0});
    }
  }
  double top = INFINITY;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.heightLimit))
      top = std::min(top, ds.district.heightLimit);
  auto out = compareAt(site, plan, sp.planes, "north-slant", std::isfinite(top) ? top : 1000, points, s, base);
  out.result.reason +=
      "; the 北側高さ制限適合建築物 is the site under the 北側斜線 planes (令135条の8); grid north "
      "taken as true north, as the planes do" +
      (said.empty() ? std::string() : "; the boundaries deemed out or up (令135条の11) along " + eval::joined(said));
  return out;
}

}  // namespace twin::landuse
