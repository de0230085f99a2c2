// The buildable envelope of a site: maximum building and floor areas, the lowest absolute height
// limit, and the planes that bound what may be built (height limit or cap, 道路斜線, 北側斜線),
// drawn as a solid by envelope_mesh.cpp.
#include <algorithm>
#include <cmath>

#include "envelope_mesh.h"
#include "eval.h"

namespace twin::landuse {

using namespace eval;

EnvelopeResult RuleSet::envelope(const Site& site, double cap) const {
  const RulesFile& f = file();
  EnvelopeResult e;
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
  const District* mainUse = nullptr;
  double mainShare = 0;
  for (auto& ds : site.districts) {
    const District& d = ds.district;
    const DistrictRule* de = f.district(d.kind, d.code);
    if (d.kind == "UseDistrict") {
      if (ds.share > mainShare) mainShare = ds.share, mainUse = &d;
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
  cons.push_back({0, 0, top, {}, std::isfinite(maxH) ? "height limit" : "cap"});
  const DistrictRule* mainEntry = mainUse ? f.district(mainUse->kind, mainUse->code) : nullptr;
  const std::vector<Edge> edges = boundaryEdges(site);
  if (mainEntry && mainEntry->roadSlant) {
    const DistrictRule::RoadSlant& rs = *mainEntry->roadSlant;
    double slope = rs.slope;
    double dist = 20;
    if (mainUse && given(mainUse->floorAreaRate))
      for (auto& [upTo, metres] : rs.distances) {
        if (!upTo || mainUse->floorAreaRate <= *upTo + 1e-9) {
          dist = metres;
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
      HeightPlane c;
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
  if (mainEntry && mainEntry->northSlant) {
    double rise = mainEntry->northSlant->rise, slope = mainEntry->northSlant->slope;
    int n = 0;
    for (auto& ed : edges) {
      double dx = ed.b[0] - ed.a[0], dy = ed.b[1] - ed.a[1];
      // Outward normal (dy, -dx) pointing north: the edge faces the northern neighbour.
      if (!(-dx > 1e-6) || std::abs(dx) < 0.05) continue;
      double m = dy / dx;                                       // y on the edge: a.y + (x - a.x) m
      double extra = given(ed.roadWidth) ? ed.roadWidth : 0.0;  // across a road: from its far side
      HeightPlane c;
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
  EnvelopeMesh mesh = lowerEnvelope(site.geom, cons);
  e.vertices = std::move(mesh.vertices);
  e.triangles = std::move(mesh.triangles);
  e.meshTop = mesh.top;
  if (e.capped) e.notes.push_back("no absolute height limit: the envelope is drawn up to " + num(cap) + " m (--cap)");
  return e;
}

}  // namespace twin::landuse
