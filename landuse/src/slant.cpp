// 法56条's slant planes over a site (see slant.h). Distances are horizontal, in the store's plane
// CRS; depth(p) of a boundary edge is the distance of p into the site from the edge's line.
#include "slant.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace twin::landuse {

using namespace eval;

namespace {

// An edge's inward unit normal and offset: depth(p) = nx p.x + ny p.y - off.
struct Line {
  double nx = 0, ny = 0, off = 0, len = 0;
  explicit Line(const Edge& e) {
    double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1];
    len = std::hypot(dx, dy);
    if (len > 0) nx = -dy / len, ny = dx / len;  // interior on the left of a counter-clockwise edge
    off = nx * e.a[0] + ny * e.a[1];
    if (len > 0) ux = dx / len, uy = dy / len;
    ua = ux * e.a[0] + uy * e.a[1];
  }
  double ux = 0, uy = 0, ua = 0;
  // The half-plane depth <= d as a region entry (nx, ny, bound).
  std::array<double, 3> within(double d) const { return {nx, ny, d + off}; }
  // depth >= d.
  std::array<double, 3> beyond(double d) const { return {-nx, -ny, -(d + off)}; }
  // 0 <= the position along the edge <= its length: the strip in front of the segment.
  std::array<double, 3> fromStart() const { return {-ux, -uy, -ua}; }
  std::array<double, 3> toEnd() const { return {ux, uy, len + ua}; }
  // z = slope × (depth + extra).
  HeightPlane plane(double slope, double extra) const {
    HeightPlane p;
    p.a = slope * nx, p.b = slope * ny, p.c = slope * (extra - off);
    return p;
  }
};

// The application distance of 別表第3 (は) for the floor-area rate limit.
double applicationDistance(const DistrictRule::RoadSlant& rs, double rate) {
  for (auto& [upTo, metres] : rs.distances)
    if (!upTo || rate <= *upTo + 1e-9) return metres;
  return rs.distances.empty() ? 20 : rs.distances.back().second;
}

}  // namespace

// 令135条の3第1項2号 (隣地斜線), 135条の4第1項2号 (北側斜線): where the site's ground is H ≥ 1 m below
// the neighbour's along a boundary, the site's ground is deemed (H − 1) / 2 higher there. The
// neighbours along the edge (probed every metre just outside it) must all have a known ground; the
// lowest of them counts. 0 (and nothing said) where any is unknown.
double neighbourLift(const Site& site, const Edge& e, double ground, std::vector<std::string>& said) {
  if (!given(ground) || site.neighbours.empty()) return 0;
  double dx = e.b[0] - e.a[0], dy = e.b[1] - e.a[1], len = std::hypot(dx, dy);
  if (len < 0.5) return 0;
  const double ox = dy / len * 0.25, oy = -dx / len * 0.25;  // outward (counter-clockwise ring)
  double lowest = INFINITY;
  std::string ids;
  int n = std::max(1, int(std::ceil(len)));
  for (int i = 0; i < n; ++i) {
    double t = (i + 0.5) / n;
    P2 q{e.a[0] + t * dx + ox, e.a[1] + t * dy + oy};
    const Site::Neighbour* hit = nullptr;
    for (auto& nb : site.neighbours)
      if (contains(nb.geom, q)) {
        hit = &nb;
        break;
      }
    if (!hit || !given(hit->ground)) return 0;
    if (hit->ground < lowest) lowest = hit->ground;
    if (ids.find("'" + hit->parcelId + "'") == std::string::npos)
      ids += (ids.empty() ? "'" : ", '") + hit->parcelId + "'";
  }
  const double h = lowest - ground;
  if (h < 1) return 0;
  std::string what = "parcel " + ids + " (ground " + num(lowest) + " m against the site's " + num(ground) +
                     " m): " + num((h - 1) / 2) + " m";
  if (std::find(said.begin(), said.end(), what) == said.end()) said.push_back(what);
  return (h - 1) / 2;
}

// The open space along `e` (beside the site, or opposite its road when `across`) and the depth it
// adds to the distances of the rule whose flag `which` is (DistrictRule::OpenSpace), 0 when none
// applies. What applies goes to `applied`; an open space found that earns nothing is said in
// `notApplied` (along part of the edge only, or a kind the article does not name).
double openRelief(const RulesFile& f, const Edge& e, bool across, bool DistrictRule::OpenSpace::*which,
                  const std::string& article, std::vector<std::string>& applied, std::vector<std::string>& notApplied) {
  if (e.openCode.empty() || e.openAcross != across || !given(e.openDepth)) return 0;
  const DistrictRule* r = f.district("OpenSpace", e.openCode);
  const std::string name = (r && !r->name.empty() ? r->name : "open space") + " '" + e.openId + "'";
  auto say = [](std::vector<std::string>& to, const std::string& x) {
    if (std::find(to.begin(), to.end(), x) == to.end()) to.push_back(x);
  };
  if (e.openPartial) {
    say(notApplied, article + ": " + name + (across ? " opposite the road" : " beside the site") +
                        " along part of the boundary only: not applied (stricter)");
    return 0;
  }
  if (!r || !r->openSpace || !(r->openSpace.value().*which)) {
    say(notApplied, article + ": " + name + " (code '" + e.openCode + "')" +
                        (across ? " opposite the road" : " beside the site") +
                        " is not a kind the article names; whether it counts as これらに類するもの is the "
                        "特定行政庁's call: not applied (stricter)");
    return 0;
  }
  say(applied, name + " " + num(e.openDepth) + " m");
  return e.openDepth;
}

namespace {

// rise + slope × the distance due north to the boundary (北側斜線, 高度地区): one plane per edge
// facing north, across a road from its far side; `lift` (per edge, m) raises it.
int addNorthPlanes(const std::vector<Edge>& edges, double rise, double slope, const std::string& rule,
                   const std::string& what, SlantPlanes& out, const std::function<double(const Edge&)>& lift = {},
                   const std::function<double(const Edge&)>& beyond = {}) {
  int n = 0;
  for (auto& ed : edges) {
    double dx = ed.b[0] - ed.a[0], dy = ed.b[1] - ed.a[1];
    // Outward normal (dy, -dx) pointing north: the edge faces the northern neighbour.
    if (!(-dx > 1e-6) || std::abs(dx) < 0.05) continue;
    double m = dy / dx;                                       // y on the edge: a.y + (x - a.x) m
    double extra = given(ed.roadWidth) ? ed.roadWidth : 0.0;  // across a road: from its far side
    if (beyond) extra += beyond(ed);                          // the boundary deemed farther out
    HeightPlane c;
    // z = rise + slope (a.y + (x - a.x) m - y + extra): the distance due north to the boundary.
    c.a = slope * m, c.b = -slope, c.c = rise + slope * (ed.a[1] - ed.a[0] * m + extra) + (lift ? lift(ed) : 0.0);
    double x0 = std::min(ed.a[0], ed.b[0]), x1 = std::max(ed.a[0], ed.b[0]);
    c.region.push_back({-1, 0, -x0});
    c.region.push_back({1, 0, x1});
    c.region.push_back({-m, 1, ed.a[1] - m * ed.a[0]});  // south of the boundary: y <= a.y + (x - a.x) m
    c.rule = rule;
    c.what = what + " " + num(rise) + " m + " + num(slope) + " × distance";
    out.planes.push_back(std::move(c));
    ++n;
  }
  return n;
}

// The slant planes one use district sets (法56条1項), over the whole site. `siteRate`, when given,
// is the floor-area rate limit the application distance goes by (a site over several districts:
// 法52条7項's weighted limit); `distOverride`, when given, is the application distance itself.
void districtPlanes(const RulesFile& f, const Site& site, const SlantOptions& o, const District& use,
                    const std::vector<Edge>& edges, double siteRate, double distOverride, SlantPlanes& out) {
  const DistrictRule* rule = f.district(use.kind, use.code);
  if (!rule) return;

  // ---- 道路斜線 (法56条1項1号, 別表第3) ------------------------------------------------------------
  if (rule->roadSlant) {
    const DistrictRule::RoadSlant& rs = *rule->roadSlant;
    // The application distance goes by the floor-area rate limit of 法52条 (基準容積率: the
    // designated rate, lowered by the front-road rule of 第2項), not the designated rate alone.
    double rate = use.floorAreaRate;
    std::string rateFrom = "designated";
    if (given(siteRate)) {
      rate = siteRate;
      rateFrom = "the site's limit weighted over its use districts (法52条7項)";
    } else if (given(rate) && given(site.frontRoadWidth) && site.frontRoadWidth < f.floorArea.roadRuleBelow) {
      double factor = rule->roadFactor ? *rule->roadFactor : f.floorArea.defaultRoadFactor;
      const double w = specialRoadWidth(site);
      const bool special = w > site.frontRoadWidth + 1e-9 && site.frontRoadWidth * factor < rate;
      if (w * factor < rate) rate = w * factor, rateFrom = "after the road-width rule";
      if (special)
        rateFrom += std::string(rateFrom == "designated" ? "" : ",") + " with the " + num(site.frontRoadWidth) +
                    " m road counted as up to " + num(w) + " m by the 特定道路 " + num(site.specialRoadDistance) +
                    " m away in a straight line (法52条9項; the longest distance it may give, stricter)";
    }
    double dist = given(distOverride) ? distOverride
                  : given(rate)       ? applicationDistance(rs, rate)
                                      : applicationDistance(rs, 1e9);
    if (!given(rate))
      out.relaxationsNotApplied.push_back(
          "the floor-area rate is unknown: 道路斜線 applied over the longest application distance (" + num(dist) +
          " m)");
    // 令132条1項: with several roads, near the widest (within 2 W and 35 m of it) and beyond 10 m
    // from a narrower road's centre line, every road counts as wide as the widest.
    const double s = std::max(0.0, o.roadSetback);
    int n = 0;
    bool deemed = false, wide = false;
    std::vector<std::string> levelUnknown;  // roads without a surface height
    std::vector<std::string> opposite;      // open spaces opposite the roads (令134条)
    // 令134条1項: a park, square or water opposite a road deems its boundary at the open space's far
    // side: the depth it adds, per edge.
    std::vector<double> openOf(edges.size(), 0.0);
    for (size_t k = 0; k < edges.size(); ++k)
      if (edges[k].road && given(edges[k].roadWidth) && Line(edges[k]).len >= 0.5)
        openOf[k] = openRelief(f, edges[k], true, &DistrictRule::OpenSpace::roadOpposite, "令134条", opposite,
                               out.relaxationsNotApplied);
    auto openAt = [&](const Edge& e) { return openOf[size_t(&e - edges.data())]; };
    // The widest road (among equals, the one with the deepest open space opposite).
    const Edge* widest = nullptr;
    for (auto& e : edges)
      if (e.road && given(e.roadWidth) &&
          (!widest || e.roadWidth > widest->roadWidth + 1e-9 ||
           (e.roadWidth > widest->roadWidth - 1e-9 && openAt(e) > openAt(*widest))))
        widest = &e;
    // 令134条2項: where a road with an open space opposite is among the widest, every road counts as
    // that wide with the same open space opposite within 2 (W + D) and 35 m of it and beyond 10 m
    // from the other roads' centre lines, instead of 令132条1項 (2項・3項 as before). The law lets the
    // applicant choose; from a widest road it gives at least what 令132条1項 gives everywhere, so it is
    // drawn. An open space opposite a narrower road is not used so (the choice is not everywhere
    // better): said.
    const double open2 = widest ? openAt(*widest) : 0.0;
    bool by134 = false;
    for (auto& e : edges)
      if (widest && &e != widest && e.road && given(e.roadWidth) && openAt(e) > 0 &&
          e.roadWidth < widest->roadWidth - 1e-9 && e.roadWidth + openAt(e) > widest->roadWidth + open2 + 1e-9)
        out.relaxationsNotApplied.push_back(
            "道路斜線: 令134条2項 from road '" + e.roadId + "' (" + num(e.roadWidth) + " m with " + num(openAt(e)) +
            " m of open space opposite) instead of 令132条1項 is the applicant's choice and not drawn: the "
            "envelope follows 令132条1項 from the " +
            num(widest->roadWidth) + " m road, which is lawful, and may be smaller than that choice allows");
    std::string levels;  // how each road's height entered
    auto offsetOf = [&](const Edge& e) {
      double off = 0;
      if (!roadHeightOffset(e.levelMin, o.groundHeight, off)) {
        if (std::find(levelUnknown.begin(), levelUnknown.end(), e.roadId) == levelUnknown.end())
          levelUnknown.push_back(e.roadId);
        return 0.0;
      }
      std::string what = "road '" + e.roadId + "' at " + num(e.levelMin) + " m";
      if (given(e.levelMax) && e.levelMax - e.levelMin > 0.05)
        what += " (its lowest; its surface rises to " + num(e.levelMax) + " m)";
      double h = o.groundHeight - e.levelMin;
      what += h >= 1 ? ", the site " + num(h) + " m above it: deemed " + num((h - 1) / 2) +
                           " m higher (令135条の2), planes " + num(off) + " m from the ground"
                     : ", planes " + num(off) + " m from the ground";
      if (levels.find(what) == std::string::npos) levels += (levels.empty() ? "" : "; ") + what;
      return off;
    };
    for (auto& e : edges) {
      if (!e.road) continue;
      Line line(e);
      if (line.len < 0.5) continue;
      if (!given(e.roadWidth)) {
        out.missing.push_back("road '" + e.roadId +
                              "' along the site has no known width: no 道路斜線 drawn along it (the envelope "
                              "may be too tall there)");
        continue;
      }
      const double ownOffset = offsetOf(e);
      // One road width's planes, limited to `extra` regions (令132条), `off` above the ground.
      // 令134条1項: a park, square or water opposite the road deems the road's boundary at its far side.
      const double open = openAt(e);
      auto add = [&](double w, std::vector<std::array<double, 3>> extra, const std::string& why, double off,
                     double beyond = 0) {
        // Measured from the far side of the road, deemed `s` farther for a set-back building
        // (2項) and `beyond` farther across an open space (令134条); applied where that distance
        // is within the application distance.
        double reach = dist - w - beyond - s;  // depth limit
        if (reach <= 0) return;
        std::vector<std::array<double, 3>> region = extra;
        region.push_back(line.within(reach));
        region.push_back(line.beyond(0));  // in front of the road's edge only (concave sites)
        if (s > 0) region.push_back(line.beyond(s));
        auto push = [&](double slope, std::vector<std::array<double, 3>> r, const std::string& what) {
          HeightPlane p = line.plane(slope, w + beyond + s);
          p.c += off;
          p.region = std::move(r);
          p.rule = "road-slant";
          p.what = what;
          out.planes.push_back(std::move(p));
        };
        std::string base = "road slant (道路斜線) from the far side of a " + num(w) + " m road" +
                           (beyond > 0 ? " and " + num(beyond) + " m of open space beyond it (令134条)" : "") + why;
        if (rs.wideRoad && w >= rs.wideRoad->minWidth) {
          // 3項 (4項 when set back): beyond 1.25 × (W + 2 s) from the deemed far side, 1.5.
          double at = rs.wideRoad->beyondWidthTimes * (w + 2 * s) - w - s;  // as a depth
          auto nearPart = region, farPart = region;
          nearPart.push_back(line.within(at));
          farPart.push_back(line.beyond(at));
          push(rs.slope, nearPart, base + ", slope " + num(rs.slope));
          push(rs.wideRoad->slope, farPart, base + ", slope " + num(rs.wideRoad->slope) + " (法56条3項)");
          wide = true;
        } else {
          push(rs.slope, region, base + ", slope " + num(rs.slope));
        }
        ++n;
      };
      if (widest && widest != &e && (e.roadWidth < widest->roadWidth - 1e-9 || (open2 > 0 && open < open2 - 1e-9))) {
        Line wl(*widest);
        const bool p134 = open2 > 0;
        double nearWidest = std::min(2 * (widest->roadWidth + (p134 ? open2 : 0.0)), 35.0);
        double centre = 10 - e.roadWidth / 2;  // depth beyond which the road's centre line is 10 m away
        // Heights from the lower of the two roads (stricter).
        const double off = std::min(ownOffset, offsetOf(*widest));
        if (p134) {
          add(widest->roadWidth, {wl.within(nearWidest)},
              " (令134条2項: within 2 (W + D) and 35 m of the road with the open space opposite)", off, open2);
          add(widest->roadWidth, {line.beyond(centre)}, " (令134条2項: over 10 m from this road's centre line)", off,
              open2);
          by134 = true;
        } else {
          add(widest->roadWidth, {wl.within(nearWidest)}, " (令132条: within 2 W and 35 m of the widest road)", off);
          add(widest->roadWidth, {line.beyond(centre)}, " (令132条: over 10 m from this road's centre line)", off);
        }
        // 令132条2項: outside those, within 2 W and 35 m of both this road and a wider one (not the
        // widest), this road counts as wide as that one (the widest such road first).
        std::vector<const Edge*> wider;
        for (auto& f2 : edges)
          if (&f2 != widest && f2.road && given(f2.roadWidth) && f2.roadWidth > e.roadWidth + 1e-9 &&
              Line(f2).len >= 0.5)
            wider.push_back(&f2);
        std::stable_sort(wider.begin(), wider.end(),
                         [](const Edge* x, const Edge* y) { return x->roadWidth > y->roadWidth; });
        const double nearOwn = std::min(2 * e.roadWidth, 35.0);
        std::vector<std::vector<std::array<double, 3>>> rest{{wl.beyond(nearWidest), line.within(centre)}};
        for (const Edge* f2 : wider) {
          Line fl(*f2);
          const double nearF = std::min(2 * f2->roadWidth, 35.0);
          const double offF = std::min(ownOffset, offsetOf(*f2));
          std::vector<std::vector<std::array<double, 3>>> next;
          for (auto& r : rest) {
            auto both = r, farF = r, farOwn = r;
            both.push_back(fl.within(nearF)), both.push_back(line.within(nearOwn));
            add(f2->roadWidth, both,
                " (令132条2項: within 2 W and 35 m of this road and of a " + num(f2->roadWidth) + " m one)", offF);
            farF.push_back(fl.beyond(nearF));
            farOwn.push_back(fl.within(nearF)), farOwn.push_back(line.beyond(nearOwn));
            next.push_back(std::move(farF)), next.push_back(std::move(farOwn));
          }
          rest = std::move(next);
        }
        for (auto& r : rest) add(e.roadWidth, r, "", ownOffset, open);
        deemed = true;
      } else {
        add(e.roadWidth, {}, "", ownOffset, open);
      }
    }
    if (n) {
      out.notes.push_back(
          "road slant planes (法56条1項1号, 別表第3): slope " + num(rs.slope) +
          " from the far side of the road, within " + num(dist) +
          " m of it (application distance for the floor-area rate " + (given(rate) ? pct(rate) : std::string("?")) +
          ", " + rateFrom + ")" + (s > 0 ? "; drawn for a building set back " + num(s) + " m (法56条2項)" : "") +
          (wide ? "; slope " + num(rs.wideRoad->slope) + " beyond " + num(rs.wideRoad->beyondWidthTimes) +
                      " W for roads of " + num(rs.wideRoad->minWidth) + " m or more (法56条3項・4項)"
                : "") +
          (deemed ? "; narrower roads deemed as wide as the widest where 令132条1項 says, as a wider one where 2項 says"
                  : ""));
      if (!levels.empty()) out.notes.push_back("道路斜線 heights from the road's surface (令2条1項6号イ): " + levels);
      if (!levelUnknown.empty()) {
        std::string ids;
        for (auto& id : levelUnknown) ids += (ids.empty() ? "'" : ", '") + id + "'";
        out.missing.push_back(
            "道路斜線 is measured from the road's surface (令2条1項6号イ, 令135条の2): " +
            std::string(given(o.groundHeight) ? "" : "the site's ground height and ") + "the surface height of road " +
            ids +
            " are not in the data, so the road is taken as level with the site; a site H above its road "
            "has its planes H lower (by (H + 1) / 2 for H ≥ 1 m)");
      }
      if (!opposite.empty())
        out.notes.push_back(
            "令134条1項: the road's boundary deemed at the far side of what lies opposite it: " + joined(opposite) +
            " (measured from the road's far side along the boundary's normal, the least along it; "
            "not where a narrower road counts as a wider one by 令132条)");
      if (by134)
        out.notes.push_back("令134条2項 (instead of 令132条1項): within " +
                            num(std::min(2 * (widest->roadWidth + open2), 35.0)) + " m of road '" + widest->roadId +
                            "' (2 × (" + num(widest->roadWidth) + " m + " + num(open2) +
                            " m of open space), at most 35 m) and beyond 10 m from the other roads' centre lines, "
                            "every road counts as " +
                            num(widest->roadWidth) + " m wide with " + num(open2) + " m of open space opposite");
      if (std::find(site.kindsNearby.begin(), site.kindsNearby.end(), "OpenSpace") == site.kindsNearby.end())
        out.relaxationsNotApplied.push_back(
            "道路斜線: no open spaces in the store near the site (district kind OpenSpace): a park, square or water "
            "opposite the road (令134条) is not known");
      out.relaxationsNotApplied.push_back(
          "道路斜線: the exempt parts within the setback of 令130条の12 (small 物置, porches, fences) are not "
          "modelled");
    } else if (site.frontage.empty() && given(site.frontRoadWidth)) {
      // The road's width is known, not its edge: its plane is nowhere lower than slope × W (at the
      // road boundary), so that height over the reach from any edge is a bound that holds
      // wherever the road is; every edge is taken as a neighbour's below (stricter again).
      double reach = dist - site.frontRoadWidth;
      if (reach > 0) {
        HeightPlane p;
        p.c = rs.slope * site.frontRoadWidth;
        p.rule = "road-slant";
        out.missing.push_back(
            "道路斜線 is measured from the road's surface (令2条1項6号イ, 令135条の2): the road's height is not in "
            "the data, so it is taken as level with the site");
        p.what = "road slant (道路斜線) at its lowest, " + num(rs.slope) + " × " + num(site.frontRoadWidth) +
                 " m (the edge along the road is unknown)";
        out.planes.push_back(std::move(p));
      }
      out.relaxationsNotApplied.push_back(
          "the front road is known only from a parcel attribute (" + site.frontRoadSource +
          "): which edge faces it is unknown, so 道路斜線 is taken at its lowest (" + num(rs.slope) + " × " +
          num(site.frontRoadWidth) + " m) over the whole site and every edge as a neighbour's");
    } else if (site.frontage.empty()) {
      out.missing.push_back("no road along the site in the store: no 道路斜線 drawn");
    }
    if (s > 0) {
      // Nothing stands in the setback strip along the roads.
      for (auto& e : edges) {
        if (!e.road) continue;
        Line line(e);
        if (line.len < 0.5) continue;
        HeightPlane p = line.plane(0, 0);
        p.c = 0;
        p.region = {line.within(s)};
        p.rule = "setback";
        p.what = "road setback " + num(s) + " m (法56条2項)";
        out.planes.push_back(std::move(p));
      }
    }
  }

  // ---- 隣地斜線 (法56条1項2号) ----------------------------------------------------------------
  if (rule->adjacentSlant) {
    const double rise = rule->adjacentSlant->rise, slope = rule->adjacentSlant->slope;
    const double s = std::max(0.0, o.adjacentSetback);
    int n = 0;
    const std::string what = "adjacent slant (隣地斜線) " + num(rise) + " m + " + num(slope) + " × distance";
    // The limit is rise + slope × (the distance to the nearest boundary with a neighbour + s):
    // over the strip in front of each boundary segment the distance is the depth from its line
    // (a plane); where the nearest point is a corner bending into the site (a reflex vertex of a
    // concave site) it is the distance to that corner (a cone), drawn as planes tangent to it in
    // sectors of at most 22.5° (at most 2 % under the cone: on the safe side).
    auto addPlane = [&](HeightPlane p, std::vector<std::array<double, 3>> region, const std::string& w) {
      p.region = std::move(region);
      p.rule = "adjacent-slant";
      p.what = w;
      out.planes.push_back(std::move(p));
    };
    std::vector<std::string> lifted, beside;
    std::vector<double> lifts(edges.size(), 0.0), outs(edges.size(), 0.0);
    for (size_t k = 0; k < edges.size(); ++k)
      if (!edges[k].road) {
        lifts[k] = neighbourLift(site, edges[k], o.groundHeight, lifted);
        // 令135条の3第1項1号: a park (not a 街区公園), square or water beside the site deems the
        // boundary half its width farther out.
        outs[k] = openRelief(f, edges[k], false, &DistrictRule::OpenSpace::adjacent, "令135条の3第1項1号", beside,
                             out.relaxationsNotApplied) /
                  2;
      }
    for (size_t k = 0; k < edges.size(); ++k) {
      const Edge& e = edges[k];
      if (e.road) continue;  // the boundaries with the neighbours only
      Line line(e);
      if (line.len < 0.5) continue;
      HeightPlane p = line.plane(slope, s + outs[k]);
      p.c += rise + lifts[k];
      addPlane(p, {line.beyond(s), line.fromStart(), line.toEnd()},
               outs[k] > 0 ? what + " (the boundary deemed " + num(outs[k]) + " m out, 令135条の3第1項1号)" : what);
      if (s > 0) {
        HeightPlane q;
        q.c = rise + lifts[k];
        addPlane(q, {line.within(s), line.beyond(0), line.fromStart(), line.toEnd()},
                 "adjacent setback " + num(s) + " m: at most " + num(rise) + " m (法56条1項2号)");
      }
      ++n;
    }
    for (auto& in : edges)
      for (auto& outEdge : edges) {
        if (&in == &outEdge || std::hypot(in.b[0] - outEdge.a[0], in.b[1] - outEdge.a[1]) > 1e-9) continue;
        if (in.road && outEdge.road) continue;
        // The lower of the two boundaries' relaxations (a road's: none).
        const size_t ki = size_t(&in - edges.data()), ko = size_t(&outEdge - edges.data());
        const double lift = in.road || outEdge.road ? 0.0 : std::min(lifts[ki], lifts[ko]);
        const double deemedOut = in.road || outEdge.road ? 0.0 : std::min(outs[ki], outs[ko]);
        Line li(in), lo(outEdge);
        if (li.len < 1e-9 || lo.len < 1e-9) continue;
        double turn = li.ux * lo.uy - li.uy * lo.ux;  // < 0: a right turn on a counter-clockwise ring
        if (turn >= -1e-12) continue;
        const P2 v = in.b;
        // The wedge between the two inward normals, swept from the incoming one.
        double a0 = std::atan2(li.ny, li.nx), a1 = std::atan2(lo.ny, lo.nx);
        double sweep = a0 - a1;  // clockwise from the incoming normal to the outgoing one
        while (sweep < 0) sweep += 2 * M_PI;
        int k = std::max(1, int(std::ceil(sweep / (M_PI / 8))));
        for (int i = 0; i < k; ++i) {
          double b0 = a0 - sweep * i / k, b1 = a0 - sweep * (i + 1) / k, mid = (b0 + b1) / 2;
          double mx = std::cos(mid), my = std::sin(mid);
          // Tangent plane along `mid`: rise + slope (m·(p - v) + s).
          HeightPlane p;
          p.a = slope * mx, p.b = slope * my, p.c = rise + lift + slope * (s + deemedOut - mx * v[0] - my * v[1]);
          // The sector between the rays b0 and b1 (clockwise from b0): left of ray b1, right of ray b0.
          std::array<double, 3> rightOfB0{-std::sin(b0), std::cos(b0), -std::sin(b0) * v[0] + std::cos(b0) * v[1]};
          std::array<double, 3> leftOfB1{std::sin(b1), -std::cos(b1), std::sin(b1) * v[0] - std::cos(b1) * v[1]};
          std::array<double, 3> farther{-mx, -my, -(mx * v[0] + my * v[1]) - s};
          addPlane(p, {rightOfB0, leftOfB1, farther}, what + " (from a corner of the site)");
          if (s > 0) {
            HeightPlane q;
            q.c = rise + lift;
            std::array<double, 3> nearer{mx, my, mx * v[0] + my * v[1] + s};
            addPlane(q, {rightOfB0, leftOfB1, nearer},
                     "adjacent setback " + num(s) + " m: at most " + num(rise) + " m (法56条1項2号)");
          }
        }
      }
    if (n)
      out.notes.push_back("adjacent slant planes (法56条1項2号): " + num(rise) + " m + " + num(slope) +
                          " × distance to each boundary with a neighbour" +
                          (s > 0 ? ", for parts above " + num(rise) + " m set back " + num(s) + " m" : ""));
    if (!beside.empty())
      out.notes.push_back(
          "隣地斜線 beside an open space (令135条の3第1項1号): the boundary deemed half its width farther out along " +
          joined(beside));
    if (!lifted.empty()) {
      std::string l;
      for (auto& x : lifted) l += (l.empty() ? "" : "; ") + x;
      out.notes.push_back(
          "隣地斜線 over a site below its neighbour (令135条の3第1項2号): the site's ground deemed higher by "
          "half the difference less 1 m along " +
          l);
    }
  }

  // ---- 北側斜線 (法56条1項3号) ----------------------------------------------------------------
  if (rule->northSlant) {
    double rise = rule->northSlant->rise, slope = rule->northSlant->slope;
    std::vector<std::string> lifted, open;
    auto lift = [&](const Edge& e) { return e.road ? 0.0 : neighbourLift(site, e, o.groundHeight, lifted); };
    // 令135条の4第1項1号: water or a 線路敷 opposite the northern road or beside the site to the
    // north deems that boundary half its width farther out.
    auto beyond = [&](const Edge& e) {
      return openRelief(f, e, e.road, &DistrictRule::OpenSpace::north, "令135条の4第1項1号", open,
                        out.relaxationsNotApplied) /
             2;
    };
    if (addNorthPlanes(edges, rise, slope, "north-slant", "north slant (北側斜線)", out, lift, beyond))
      out.notes.push_back("north-side slant planes (法56条1項3号): " + num(rise) + " m + " + num(slope) +
                          " × distance to the northern boundary, grid north of the store CRS taken as true north");
    if (!lifted.empty()) {
      std::string l;
      for (auto& x : lifted) l += (l.empty() ? "" : "; ") + x;
      out.notes.push_back(
          "北側斜線 over a site below its northern neighbour (令135条の4第1項2号): the site's ground "
          "deemed higher by half the difference less 1 m along " +
          l);
    }
    if (!open.empty())
      out.notes.push_back(
          "北側斜線 by water or a 線路敷 (令135条の4第1項1号): the boundary (across a road, the road's far "
          "side) deemed half its width farther out along " +
          joined(open));
  }
}

// The convex pieces of `m` (its triangles), each as half-planes nx x + ny y <= d widened by `grow`
// metres, so that neighbouring parts overlap by that much rather than leave a gap.
std::vector<std::vector<std::array<double, 3>>> convexRegions(const MultiPoly& m, double grow) {
  std::vector<std::vector<std::array<double, 3>>> out;
  for (auto& c : triangles(m)) {
    std::vector<std::array<double, 3>> region;
    for (size_t k = 0; k < 3; ++k) {
      const P2 &p = c[k], &q = c[(k + 1) % 3];
      double dx = q[0] - p[0], dy = q[1] - p[1], len = std::hypot(dx, dy);
      double nx = dy / len, ny = -dx / len;  // outward for a counter-clockwise triangle
      region.push_back({nx, ny, nx * p[0] + ny * p[1] + grow});
    }
    out.push_back(std::move(region));
  }
  return out;
}

void addUnique(std::vector<std::string>& to, const std::string& s) {
  if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

}  // namespace

bool roadHeightOffset(double levelMin, double ground, double& offset) {
  offset = 0;
  if (!given(levelMin) || !given(ground)) return false;
  const double h = ground - levelMin;   // the site above the road
  offset = h >= 1 ? -(h + 1) / 2 : -h;  // -h + (h - 1) / 2 where 令135条の2 applies
  return true;
}

SlantPlanes slantPlanes(const RulesFile& f, const Site& site, const SlantOptions& o) {
  SlantPlanes out;
  const District* mainUse = nullptr;
  double mainShare = 0;
  std::vector<const DistrictShare*> uses;
  for (auto& ds : site.districts)
    if (ds.district.kind == "UseDistrict") {
      uses.push_back(&ds);
      if (ds.share > mainShare) mainShare = ds.share, mainUse = &ds.district;
    }
  if (!mainUse) {
    out.missing.push_back(
        "no use district over the site: no slant planes (法56条) drawn — in 用途地域の指定のない区域 the 特定行政庁 "
        "chooses the slopes (別表第3 4項, 法56条1項2号), which the rules file does not hold: the envelope may be "
        "taller than the law allows");
    return out;
  }
  const std::vector<Edge> edges = boundaryEdges(site);
  bool geoms = !site.geom.empty();
  for (auto* ds : uses) geoms = geoms && !ds->district.geom.empty();
  if (uses.size() > 1 && geoms) {
    // 法56条5項: each part of the building keeps the planes of the district it stands in. The
    // application distance of 別表第3 goes by the site's floor-area rate limit (法52条7項: weighted
    // over the parts) and, by 令130条の11, by the district of the site's frontage in front of each
    // part; the longest of the districts' distances is taken for every part (never shorter: stricter).
    double upper = 0;
    Site wider = site;  // 法52条9項: the road as wide as a 特定道路 may count it (the longest distance)
    wider.frontRoadWidth = specialRoadWidth(site);
    RateParts fl = floorAreaLimit(f, wider, upper);
    double siteRate = fl.missing.empty() && fl.covered >= 0.999 ? fl.limit : kNone;
    double dist = kNone;
    for (auto* ds : uses) {
      const DistrictRule* r = f.district(ds->district.kind, ds->district.code);
      if (!r || !r->roadSlant) continue;
      double d = applicationDistance(*r->roadSlant, given(siteRate) ? siteRate : 1e9);
      if (!given(dist) || d > dist) dist = d;
    }
    double covered = 0;
    for (auto* ds : uses) {
      MultiPoly part = intersection(site.geom, ds->district.geom);
      double a = area(part);
      if (a < 0.01) continue;
      covered += a;
      SlantPlanes sp;
      districtPlanes(f, site, o, ds->district, edges, siteRate, dist, sp);
      const std::string where = " (in the " + label(f, ds->district) + " part, 法56条5項)";
      auto regions = convexRegions(part, 1e-7);
      for (auto& pl : sp.planes)
        for (auto& reg : regions) {
          HeightPlane q = pl;
          q.region.insert(q.region.end(), reg.begin(), reg.end());
          q.what += where;
          out.planes.push_back(std::move(q));
        }
      for (auto& n : sp.notes) out.notes.push_back(label(f, ds->district) + " part (" + num(a) + " m²): " + n);
      for (auto& n : sp.missing) addUnique(out.missing, n);
      for (auto& n : sp.relaxationsNotApplied) addUnique(out.relaxationsNotApplied, n);
    }
    out.notes.push_back(
        "the site straddles use districts: each district's slant planes over its own part "
        "(法56条5項)" +
        (given(dist) ? "; application distance " + num(dist) +
                           " m for the site's floor-area "
                           "rate limit " +
                           (given(siteRate) ? pct(siteRate) : std::string("(unknown)"))
                     : std::string()));
    if (given(dist))
      addUnique(out.relaxationsNotApplied,
                "令130条の11: the application distance of 別表第3 is the longest of the site's use districts' (" +
                    num(dist) +
                    " m) for every part, where the law takes the district of the frontage in front "
                    "of each part (stricter or equal)");
    if (covered < site.area - 0.5)
      out.missing.push_back("part of the site (" + num(site.area - covered) +
                            " m²) lies in no use district: no slant planes drawn there");
  } else {
    if (uses.size() > 1)
      out.missing.push_back(
          "the site straddles use districts whose outlines are not in the store: the planes of the district "
          "covering most of it (" +
          label(f, *mainUse) + ") are drawn over the whole site; per-part application (法56条5項) needs them");
    districtPlanes(f, site, o, *mainUse, edges, kNone, kNone, out);
  }

  for (auto& ds : site.districts) {
    if (ds.district.kind != "HeightControlDistrict") continue;
    const DistrictRule* hr = f.district(ds.district.kind, ds.district.code);
    if (!hr || hr->heightDistrictSlants.empty()) {
      if (!given(ds.district.maxHeight))
        out.missing.push_back("高度地区 " + label(f, ds.district) +
                              " over the site: neither its slant type (the rules file's heightDistrictSlants for "
                              "its code) nor a maximum height is in the data: not drawn");
      continue;
    }
    std::string segs;
    for (auto& sl : hr->heightDistrictSlants) {
      addNorthPlanes(edges, sl.rise, sl.slope, "height-district-slant", "高度地区 " + hr->name, out);
      segs += (segs.empty() ? "" : ", ") + num(sl.rise) + " m + " + num(sl.slope) + " d";
    }
    out.notes.push_back("高度地区 " + label(f, ds.district) +
                        " (都市計画法第9条第18項, 建築基準法第58条): the lowest of " + segs +
                        ", d due north to the boundary" +
                        (ds.share < 0.999 ? " (drawn over the whole site; it covers part of it)" : ""));
  }
  return out;
}

}  // namespace twin::landuse
