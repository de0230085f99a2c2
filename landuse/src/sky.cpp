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

namespace {

// 令135条の6第2項, 135条の7第2項, 135条の8第2項: on a site over districts whose slant values differ (道路
// / 隣地 / 北側制限勾配が異なる地域等), the plan and the conforming building are compared part by part:
// each district part's share of them, at the measurement points in front of that part.
struct SkyPart {
  MultiPoly geom;
  Box2 box;
  const DistrictRule* rule = nullptr;  // a rule of the part's districts (all share the slant values)
  std::string key, label;
  bool has(const P2& q) const {
    return q[0] >= box.minx && q[0] <= box.maxx && q[1] >= box.miny && q[1] <= box.maxy && contains(geom, q);
  }
};
struct SkyParts {
  std::vector<SkyPart> parts;  // two or more: compared per part; empty: the whole site
  std::string unknown;         // the values differ but the parts cannot be drawn: why
};

// The site's use-district parts grouped by `key` (the slant values of a rule; "" for a district
// without that slant, whose part has no points and no conforming building of it).
SkyParts skyParts(const RulesFile& f, const Site& site, const std::function<std::string(const DistrictRule*)>& key) {
  SkyParts out;
  std::vector<std::pair<std::string, const DistrictShare*>> uses;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict") uses.push_back({key(f.district(ds.district.kind, ds.district.code)), &ds});
  std::vector<std::string> keys;
  for (auto& u : uses)
    if (std::find(keys.begin(), keys.end(), u.first) == keys.end()) keys.push_back(u.first);
  if (keys.size() < 2) return out;
  for (auto& u : uses)
    if (u.second->district.geom.empty() || site.geom.empty()) {
      out.unknown =
          "the site straddles use districts whose slant values differ, and their outlines are not in "
          "the store: the comparison per district part (令135条の6第2項, 135条の7第2項, 135条の8第2項) "
          "cannot be made";
      return out;
    }
  for (auto& k : keys) {
    SkyPart part;
    part.key = k;
    std::vector<MultiPoly> pieces;
    for (auto& u : uses) {
      if (u.first != k) continue;
      pieces.push_back(intersection(site.geom, u.second->district.geom));
      if (!part.rule) part.rule = f.district(u.second->district.kind, u.second->district.code);
      part.label += (part.label.empty() ? "" : " + ") + label(f, u.second->district);
    }
    part.geom = pieces.size() == 1 ? pieces[0] : unite(pieces);
    if (area(part.geom) < 0.01) continue;
    part.box = bounds(part.geom);
    out.parts.push_back(std::move(part));
  }
  if (out.parts.size() < 2) out.parts.clear();
  return out;
}

double distanceTo(const MultiPoly& m, const P2& p) {
  if (contains(m, p)) return 0;
  double best = INFINITY;
  for (auto& poly : m)
    for (size_t i = 0; i < poly.outer.size(); ++i)
      best = std::min(best, distanceToSegment(p, poly.outer[i], poly.outer[(i + 1) % poly.outer.size()]));
  return best;
}

// 令135条の6第1項2号, 135条の7第1項2号: the plan keeps at least the setback the conforming building
// is drawn for. The least distance from the plan's solids higher than `above` to the boundary edges
// along roads (`road`) or neighbours, and the setback given cut down to it (said in `note`).
double keptSetback(const Site& site, const std::vector<Solid>& plan, double given, bool road, double above,
                   const std::string& article, std::string& note) {
  if (!(given > 0)) return given;
  double least = INFINITY;
  for (auto& e : eval::boundaryEdges(site)) {
    if (e.road != road) continue;
    for (auto& so : plan) {
      if (!(so.top > above) || so.ring.empty()) continue;
      MultiPoly m{Poly{so.ring, {}}};
      // Segment to polygon: 0 where the edge enters it, else the least of the end-point distances.
      if (contains(m, e.a) || contains(m, e.b)) least = 0;
      for (size_t i = 0; i < so.ring.size(); ++i) {
        const P2 &a = so.ring[i], &b = so.ring[(i + 1) % so.ring.size()];
        least = std::min({least, distanceToSegment(a, e.a, e.b), distanceToSegment(b, e.a, e.b),
                          distanceToSegment(e.a, a, b), distanceToSegment(e.b, a, b)});
      }
    }
  }
  if (least >= given - 1e-6) return given;
  note = "the plan stands " + num(least) + " m from the " + (road ? "road" : "neighbour") +
         " boundary, less than the setback given (" + num(given) +
         " m): compared with the conforming building "
         "set back " +
         num(least) + " m (" + article + ": the plan keeps at least the conforming building's setback)";
  return least;
}

std::string partLabels(const SkyParts& ps) {
  std::string out;
  for (auto& p : ps.parts) out += (out.empty() ? "" : "; ") + p.label + " (" + num(area(p.geom)) + " m²)";
  return out;
}

// Whether there is a slant plane to compare (the main district's, `mainHas`, or a part's); else
// `base` says why not: pass where it does not apply at all (nothing for 天空率 to relax), unknown
// where the parts cannot be drawn or no use district is known.
bool comparable(const DistrictRule* rule, bool mainHas, const SkyParts& parts, const std::string& slant,
                const std::string& article, RuleResult& base) {
  bool any = mainHas;
  for (auto& p : parts.parts) any = any || !p.key.empty();
  if (any && parts.unknown.empty()) return true;
  base.verdict = parts.unknown.empty() && rule ? Verdict::Pass : Verdict::Unknown;
  base.reason =
      !parts.unknown.empty() ? "cannot decide: " + parts.unknown
      : rule ? "not applicable: no " + slant + " in this use district (" + article + "), nothing for 天空率 to relax"
             : "cannot decide: no use district over the site";
  return false;
}

// The part a boundary point belongs to (the nearest; -1 without parts).
int partAt(const SkyParts& ps, const P2& base) {
  int best = -1;
  double bd = INFINITY;
  for (size_t k = 0; k < ps.parts.size(); ++k) {
    double d = distanceTo(ps.parts[k].geom, base);
    if (d < bd) bd = d, best = int(k);
  }
  return best;
}

}  // namespace

RuleSet::SkyCheck RuleSet::skyFactorRoad(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o,
                                         const SkySettings& s) const {
  const RulesFile& f = file();
  SkyCheck out;
  RuleResult& r = out.result;
  r.rule = "sky-factor-road";
  r.title = "天空率 sky factor (道路高さ制限)";
  r.article = "建築基準法第56条第7項第1号, 令第135条の6, 令第135条の9";
  r.unit = "%";
  std::string setbackNote;
  const double roadSetback = keptSetback(site, plan, o.roadSetback, true, 0, "令135条の6第1項2号", setbackNote);
  SlantOptions so;
  so.roadSetback = roadSetback;
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
  // 令135条の6第2項: over districts of different 道路制限勾配, part by part.
  const SkyParts parts = skyParts(
      f, site, [](const DistrictRule* d) { return d && d->roadSlant ? num(d->roadSlant->slope) : std::string(); });
  if (!parts.unknown.empty()) {
    r.verdict = Verdict::Unknown;
    r.reason = "cannot decide: " + parts.unknown;
    return out;
  }
  const SkyPart* cur = nullptr;  // the part being compared (null: the whole site)
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
    if (!contains(site.geom, q) || (cur && !cur->has(q))) return 0.0;
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
    return z > 0 && inReach(q) && (!cur || cur->has(q)) ? z : 0.0;
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
    for (const P2& p : roadSkyPoints(fr.a, fr.b, fr.width, roadSetback, beyond)) {
      SkyPoint pt;
      pt.at = p;
      if (!parts.parts.empty()) {
        // The part of the site in front of which the point lies (its foot on the frontage).
        const int k = partAt(parts, closestOnSegment(p, fr.a, fr.b));
        if (k < 0 || parts.parts[size_t(k)].key.empty()) continue;
        cur = &parts.parts[size_t(k)];
        pt.part = cur->label;
      }
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
      (opposite.empty()
           ? std::string()
           : "; the points on the far side of " + eval::joined(opposite) + " opposite the road (令134条)") +
      (parts.parts.empty() ? std::string()
                           : "; compared per district part of a different 道路制限勾配 at the points in front of it "
                             "(令135条の6第2項): " +
                                 partLabels(parts)) +
      (setbackNote.empty() ? std::string() : "; " + setbackNote) +
      "; both counted within the application distance (別表第3), the 適合建築物 to the road planes and the "
      "absolute limit (set back as far as the plan is, at most the setback given: 令135条の6第1項2号); the "
      "0.02 % margin some 特定行政庁 require is not checked";
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

// A measurement point: where, at what height, for which district part (-1: the whole site).
struct SkyAt {
  P2 at;
  double z0 = 0;
  int part = -1;
};

// Compares the plan with the conforming building of the planes of `rule` at `points`, each point's
// part of both where `parts` has parts.
RuleSet::SkyCheck compareAt(const Site& site, const std::vector<Solid>& plan, const std::vector<HeightPlane>& planes,
                            const std::string& rule, double top, const std::vector<SkyAt>& points,
                            const SkyParts& parts, const SkySettings& s, RuleResult base) {
  RuleSet::SkyCheck out;
  out.result = std::move(base);
  RuleResult& r = out.result;
  std::vector<const HeightPlane*> mine;
  for (auto& p : planes)
    if (p.rule == rule) mine.push_back(&p);
  const SkyPart* cur = nullptr;
  auto conforming = [&](const P2& q) {
    if (!contains(site.geom, q) || (cur && !cur->has(q))) return 0.0;
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
    return z > 0 && (!cur || cur->has(q)) ? z : 0.0;
  };
  Box2 extent = bounds(site.geom);
  for (auto& so : plan)
    for (auto& p : so.ring) extent.add(p);
  for (const SkyAt& sa : points) {
    const P2& p = sa.at;
    if (contains(site.geom, p)) continue;
    RuleSet::SkyPoint pt;
    pt.at = p;
    cur = sa.part >= 0 && size_t(sa.part) < parts.parts.size() ? &parts.parts[size_t(sa.part)] : nullptr;
    if (cur) pt.part = cur->label;
    pt.conforming = skyFactor(p, sa.z0, conforming, extent, s);
    pt.plan = skyFactor(p, sa.z0, planned, extent, s);
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
  // 令135条の7第2項: over districts of different 隣地制限勾配, part by part.
  const SkyParts parts = skyParts(f, site, [](const DistrictRule* d) {
    return d && d->adjacentSlant ? num(d->adjacentSlant->rise) + "+" + num(d->adjacentSlant->slope) : std::string();
  });
  if (!comparable(rule, bool(rule && rule->adjacentSlant), parts, "隣地斜線", "法56条1項2号", base)) {
    SkyCheck out;
    out.result = base;
    return out;
  }
  // 令135条の7第1項2号: the setback (of the parts above the rise) as far as the plan keeps it.
  double rise = rule && rule->adjacentSlant ? rule->adjacentSlant->rise : INFINITY;
  for (auto& p : parts.parts)
    if (p.rule && p.rule->adjacentSlant) rise = std::min(rise, p.rule->adjacentSlant->rise);
  std::string setbackNote;
  const double adjacentSetback =
      keptSetback(site, plan, o.adjacentSetback, false, rise, "令135条の7第1項2号", setbackNote);
  SlantOptions so;
  so.roadSetback = o.roadSetback;
  so.adjacentSetback = adjacentSetback;
  so.groundHeight = o.groundHeight;
  SlantPlanes sp = slantPlanes(f, site, so);
  // 令135条の10: the line rise / slope (16 m or 12.4 m) plus the setback outside each boundary with a
  // neighbour, points at most half that apart.
  // Per part: its own rule's line (the nearest part to each point's foot on the boundary).
  auto lineOf = [&](const DistrictRule* r, double& d, double& spacing) {
    if (!r || !r->adjacentSlant) return false;
    d = r->adjacentSlant->rise / r->adjacentSlant->slope + adjacentSetback;
    spacing = r->adjacentSlant->rise / r->adjacentSlant->slope / 2;
    return true;
  };
  // 令135条の10: beside a park (not a 街区公園), square or water the boundary is deemed half its width
  // out, and a site H ≥ 1 m below the neighbour has the points (H − 1) / 2 up, as for the planes
  // (令135条の3第1項).
  std::vector<SkyAt> points;
  std::vector<std::string> said, ignored;
  for (auto& e : eval::boundaryEdges(site)) {
    if (e.road) continue;
    double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6) continue;
    const double out =
        openRelief(f, e, false, &DistrictRule::OpenSpace::adjacent, "令135条の3第1項1号", said, ignored) / 2;
    const double z0 = neighbourLift(site, e, o.groundHeight, said);
    double nx = dy / len, ny = -dx / len;  // outward of a counter-clockwise ring
    // The densest spacing of the parts along it (every part's points at most that apart).
    double d = 0, spacing = INFINITY, dd = 0, sp1 = 0;
    if (parts.parts.empty()) {
      lineOf(rule, d, spacing);
    } else {
      for (auto& p : parts.parts)
        if (lineOf(p.rule, dd, sp1)) spacing = std::min(spacing, sp1);
    }
    if (!std::isfinite(spacing)) continue;
    int n = std::max(1, int(std::ceil(len / spacing)));
    for (int i = 0; i <= n; ++i) {
      double t = double(i) / n;
      const P2 foot{e.a[0] + t * dx, e.a[1] + t * dy};
      int k = -1;
      if (!parts.parts.empty()) {
        k = partAt(parts, foot);
        if (k < 0 || !lineOf(parts.parts[size_t(k)].rule, d, sp1)) continue;
      }
      points.push_back({{foot[0] + (d + out) * nx, foot[1] + (d + out) * ny}, z0, k});
    }
  }
  double top = INFINITY;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.heightLimit))
      top = std::min(top, ds.district.heightLimit);
  auto out =
      compareAt(site, plan, sp.planes, "adjacent-slant", std::isfinite(top) ? top : 1000, points, parts, s, base);
  out.result.reason +=
      "; the 隣地高さ制限適合建築物 is the site under the 隣地斜線 planes (令135条の7)" +
      (parts.parts.empty() ? std::string()
                           : ", compared per district part of a different 隣地制限勾配 at the points outside it "
                             "(令135条の7第2項): " +
                                 partLabels(parts)) +
      (setbackNote.empty() ? std::string() : "; " + setbackNote) + "; the points at the site's ground" +
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
  // 令135条の8第2項: over districts of different 北側制限高さ, part by part.
  const SkyParts parts = skyParts(f, site, [](const DistrictRule* d) {
    return d && d->northSlant ? num(d->northSlant->rise) + "+" + num(d->northSlant->slope) : std::string();
  });
  if (!comparable(rule, bool(rule && rule->northSlant), parts, "北側斜線", "法56条1項3号", base)) {
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
  auto lineOf = [](const DistrictRule* r, double& d) {
    if (!r || !r->northSlant) return false;
    d = r->northSlant->rise / r->northSlant->slope;
    return true;
  };
  // 令135条の11: from the boundary deemed out by half the width of water or a 線路敷 beside it (or
  // opposite the road along it) and across a road from its far side, as for the planes (令135条の4第1項);
  // a site H ≥ 1 m below its northern neighbour has the points (H − 1) / 2 up.
  std::vector<SkyAt> points;
  std::vector<std::string> said, ignored;
  for (auto& e : eval::boundaryEdges(site)) {
    double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1], len = std::hypot(dx, dy);
    if (len < 1e-6 || dx >= -1e-9) continue;  // a counter-clockwise ring faces north where it runs west
    const double out =
        (given(e.roadWidth) ? e.roadWidth : 0.0) +
        openRelief(f, e, e.road, &DistrictRule::OpenSpace::north, "令135条の4第1項1号", said, ignored) / 2;
    const double z0 = e.road ? 0.0 : neighbourLift(site, e, o.groundHeight, said);
    // Every part's points at most a quarter of its own distance apart: the densest.
    double d = 0, spacing = INFINITY, dd = 0;
    if (parts.parts.empty()) {
      if (lineOf(rule, d)) spacing = d / 4;
    } else {
      for (auto& p : parts.parts)
        if (lineOf(p.rule, dd)) spacing = std::min(spacing, dd / 4);
    }
    if (!std::isfinite(spacing)) continue;
    int n = std::max(1, int(std::ceil(len / spacing)));
    for (int i = 0; i <= n; ++i) {
      double t = double(i) / n;
      const P2 foot{e.a[0] + t * dx, e.a[1] + t * dy};
      int k = -1;
      if (!parts.parts.empty()) {
        k = partAt(parts, foot);
        if (k < 0 || !lineOf(parts.parts[size_t(k)].rule, d)) continue;
      }
      points.push_back({{foot[0], foot[1] + d + out}, z0, k});
    }
  }
  double top = INFINITY;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict" && given(ds.district.heightLimit))
      top = std::min(top, ds.district.heightLimit);
  auto out = compareAt(site, plan, sp.planes, "north-slant", std::isfinite(top) ? top : 1000, points, parts, s, base);
  out.result.reason +=
      "; the 北側高さ制限適合建築物 is the site under the 北側斜線 planes (令135条の8)" +
      (parts.parts.empty() ? std::string()
                           : ", compared per district part of a different 北側制限高さ at the points north of it "
                             "(令135条の8第2項): " +
                                 partLabels(parts)) +
      "; grid north taken as true north, as the planes do" +
      (said.empty() ? std::string() : "; the boundaries deemed out or up (令135条の11) along " + eval::joined(said));
  return out;
}

}  // namespace twin::landuse
