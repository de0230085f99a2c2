// City objects seen from above: outlines in a plane CRS, validity and repair.
#include "twin/outline.h"

#include <cmath>
#include <functional>
#include <sstream>

namespace twin {

namespace {

// Projects every polygon of `g` to the store CRS as a plane polygon (rings as given).
// Returns the number of points that could not be transformed.
size_t projectPolygons(const Geometry& g, PlaneTransform& t, std::vector<Poly>& out, double& zmin, double& zmax) {
  std::vector<Vec3> pts = g.points;
  size_t failed = t.forward(pts.data(), pts.size());
  for (auto& p : g.points) {
    if (std::isfinite(p[2])) zmin = std::min(zmin, p[2]), zmax = std::max(zmax, p[2]);
  }
  for (auto& poly : g.polygons) {
    Poly pp;
    bool bad = false;
    for (uint32_t r = 0; r < poly.ringCount; ++r) {
      uint32_t ri = poly.firstRing + r;
      Ring ring;
      for (uint32_t i = g.ringStart[ri]; i < g.ringStart[ri + 1]; ++i) {
        if (!std::isfinite(pts[i][0])) bad = true;
        P2 q{pts[i][0], pts[i][1]};
        if (ring.empty() || ring.back() != q) ring.push_back(q);
      }
      while (ring.size() > 1 && ring.front() == ring.back()) ring.pop_back();
      if (r == 0)
        pp.outer = std::move(ring);
      else if (ring.size() >= 3)
        pp.holes.push_back(std::move(ring));
    }
    if (!bad && pp.outer.size() >= 3) out.push_back(std::move(pp));
  }
  return failed;
}

}  // namespace

void forEachLodGeometry(const CityObject& obj, int lod, const std::function<void(const Geometry&)>& f) {
  if (auto* g = obj.geometry(lod)) f(*g);
  for (auto& c : obj.children) forEachLodGeometry(c, lod, f);
}

bool hasLodGeometry(const CityObject& obj, int lod) {
  bool any = false;
  forEachLodGeometry(obj, lod, [&](const Geometry& g) { any = any || !g.empty(); });
  return any;
}

// Checks and, where it keeps the area, repairs a polygon; reports on diag. False: refuse.
bool validatedPolygon(MultiPoly& m, const std::string& what, const CityObject& obj, const std::string& label,
                      DiagnosticSink& diag) {
  Validity v = checkValid(m);
  if (v.valid) return true;
  double ringArea = 0;
  for (auto& p : m) {
    ringArea += std::abs(signedArea(p.outer));
    for (auto& h : p.holes) ringArea -= std::abs(signedArea(h));
  }
  MultiPoly fixed = makeValid(m);
  double fixedArea = area(fixed);
  std::ostringstream where;
  where.setf(std::ios::fixed);
  where.precision(2);
  if (std::isfinite(v.where[0])) where << " at (" << v.where[0] << ", " << v.where[1] << ")";
  const double moved = std::abs(fixedArea - ringArea);
  std::ostringstream how;
  how.setf(std::ios::fixed);
  how.precision(2);
  how << moved << " m² (" << (ringArea > 0 ? 100 * moved / ringArea : 100.0) << " %)";
  if (!fixed.empty() && ringArea > 0 && (moved <= 1.0 || moved <= 1e-4 * ringArea)) {
    diag.warning(std::string(what) + "-invalid-geometry",
                 std::string(what) + " " + label + " has an invalid polygon (" + v.reason + where.str() +
                     "); repaired, moving " + how.str() + " of its area",
                 obj.sourceFile, obj.sourceLine, obj.id);
    m = std::move(fixed);
    return true;
  }
  diag.error(std::string(what) + "-invalid-geometry",
             std::string(what) + " " + label + " has an invalid polygon (" + v.reason + where.str() +
                 ") whose repair would move " + how.str() +
                 " of its area (more than 1 m² and 0.01 %); not imported — fix the source",
             obj.sourceFile, obj.sourceLine, obj.id);
  return false;
}

// The plane outline of an object from its polygons at `lod`: the polygons as they are (flat data:
// parcels, districts) or, with `project`, the union of their ground projections (solids).
bool planOutline(const CityObject& obj, int lod, PlaneTransform& t, bool project, MultiPoly& out, double& zmin,
                 double& zmax, DiagnosticSink& diag) {
  std::vector<Poly> polys;
  size_t failed = 0;
  forEachLodGeometry(obj, lod, [&](const Geometry& g) { failed += projectPolygons(g, t, polys, zmin, zmax); });
  if (failed) {
    diag.error("coordinates-untransformable",
               std::to_string(failed) +
                   " coordinates could not be transformed to the store's CRS (absurd values or "
                   "a wrong CRS); the polygons that use them are left out",
               obj.sourceFile, obj.sourceLine, obj.id);
  }
  if (!project) {
    out.assign(polys.begin(), polys.end());
    return !out.empty();
  }
  std::vector<MultiPoly> parts;
  for (auto& p : polys) {
    if (std::abs(signedArea(p.outer)) < 1e-4) continue;  // walls project to slivers
    MultiPoly m{p};
    if (!checkValid(m).valid) m = makeValid(m);
    if (!m.empty()) parts.push_back(std::move(m));
  }
  if (parts.empty()) return false;
  out = unite(parts);
  return !out.empty();
}

}  // namespace twin
