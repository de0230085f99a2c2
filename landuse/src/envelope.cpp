// The buildable envelope of a site: maximum building and floor areas, the lowest absolute height
// limit, and the planes that bound what may be built (height limit or cap, and 法56条's slant
// planes from slant.cpp), drawn as a solid by envelope_mesh.cpp with each face's rule.
#include <algorithm>
#include <cmath>

#include "envelope_mesh.h"
#include "eval.h"
#include "slant.h"

namespace twin::landuse {

using namespace eval;

EnvelopeResult RuleSet::envelope(const Site& site, double cap) const {
  EnvelopeOptions o;
  o.cap = cap;
  return envelope(site, o);
}

EnvelopeResult RuleSet::envelope(const Site& site, const EnvelopeOptions& o) const {
  const double cap = o.cap;
  const RulesFile& f = file();
  EnvelopeResult e;
  e.options = o;
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
  SlantPlanes slants = slantPlanes(f, site, so);
  for (auto& p : slants.planes) cons.push_back(std::move(p));
  e.notes.insert(e.notes.end(), slants.notes.begin(), slants.notes.end());
  e.notModelled = slants.missing;
  e.notModelled.insert(e.notModelled.end(), slants.relaxationsNotApplied.begin(), slants.relaxationsNotApplied.end());
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
