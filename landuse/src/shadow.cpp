// Shadow hours on the measuring plane (日影図 / 等時間日影) and 逆日影 columns: shadows are the
// solids' prisms swept along the sun's direction, filled into a grid per time step; the lowering
// walks rays from the receiving points toward the sun through the site's columns.
#include "twin/landuse/shadow.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "twin/sun.h"

namespace twin::landuse {

namespace {

constexpr double kDeg = 3.14159265358979323846 / 180;

// Cells of the grid whose centres lie in the polygon (even-odd rule), each visited once per call.
template <class Visit>
void fillPolygon(const std::vector<P2>& poly, double x0, double y0, double cell, int nx, int ny, Visit visit) {
  if (poly.size() < 3) return;
  double miny = INFINITY, maxy = -INFINITY;
  for (auto& p : poly) miny = std::min(miny, p[1]), maxy = std::max(maxy, p[1]);
  int j0 = std::max(0, int(std::ceil((miny - y0) / cell - 0.5)));
  int j1 = std::min(ny - 1, int(std::floor((maxy - y0) / cell - 0.5)));
  std::vector<double> xs;
  for (int j = j0; j <= j1; ++j) {
    double y = y0 + (j + 0.5) * cell;
    xs.clear();
    for (size_t k = 0, n = poly.size(); k < n; ++k) {
      const P2& a = poly[k];
      const P2& b = poly[(k + 1) % n];
      if ((a[1] <= y) != (b[1] <= y)) xs.push_back(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t k = 0; k + 1 < xs.size(); k += 2) {
      int i0 = std::max(0, int(std::ceil((xs[k] - x0) / cell - 0.5)));
      int i1 = std::min(nx - 1, int(std::floor((xs[k + 1] - x0) / cell - 0.5)));
      for (int i = i0; i <= i1; ++i) visit(i, j);
    }
  }
}

bool isConvex(const Ring& r) {
  int sign = 0;
  for (size_t k = 0, n = r.size(); k < n; ++k) {
    const P2 &a = r[k], &b = r[(k + 1) % n], &c = r[(k + 2) % n];
    double cr = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
    if (std::abs(cr) < 1e-12) continue;
    int sg = cr > 0 ? 1 : -1;
    if (sign && sg != sign) return false;
    sign = sg;
  }
  return true;
}

// Convex hull (Andrew's monotone chain), counter-clockwise.
std::vector<P2> hull(std::vector<P2> pts) {
  std::sort(pts.begin(), pts.end());
  if (pts.size() < 3) return pts;
  std::vector<P2> h(2 * pts.size());
  size_t k = 0;
  auto cross = [](const P2& o, const P2& a, const P2& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], pts[i]) <= 0) --k;
    h[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(h[k - 2], h[k - 1], pts[i - 1]) <= 0) --k;
    h[k++] = pts[i - 1];
  }
  h.resize(k - 1);
  return h;
}

// The shadow of one prism at one sun position, as polygons whose union it is: for a convex ring
// the hull of the ring at both ends of the sweep; otherwise the ring at both ends and each edge
// swept between them.
void shadowPolygons(const Solid& s, bool convex, double hm, const SunStep& st, std::vector<std::vector<P2>>& out) {
  out.clear();
  if (s.top <= hm || st.tanAltitude <= 0 || s.ring.size() < 3) return;
  double l1 = (s.top - hm) / st.tanAltitude;
  double l0 = std::max(0.0, (s.bottom - hm) / st.tanAltitude);
  auto moved = [&](const P2& p, double l) { return P2{p[0] - l * st.ux, p[1] - l * st.uy}; };
  if (convex) {
    std::vector<P2> pts;
    for (auto& p : s.ring) pts.push_back(moved(p, l0)), pts.push_back(moved(p, l1));
    out.push_back(hull(std::move(pts)));
    return;
  }
  std::vector<P2> a, b;
  for (auto& p : s.ring) a.push_back(moved(p, l0)), b.push_back(moved(p, l1));
  out.push_back(a);
  out.push_back(b);
  for (size_t k = 0, n = s.ring.size(); k < n; ++k) {
    const P2& p = s.ring[k];
    const P2& q = s.ring[(k + 1) % n];
    out.push_back({moved(p, l0), moved(q, l0), moved(q, l1), moved(p, l1)});
  }
}

double distanceToEdges(const std::vector<std::array<P2, 2>>& edges, const P2& p) {
  double best = INFINITY;
  for (auto& e : edges) best = std::min(best, distanceToSegment(p, e[0], e[1]));
  return best;
}

std::vector<std::array<P2, 2>> boundaryEdges(const MultiPoly& m) {
  std::vector<std::array<P2, 2>> edges;
  for (auto& poly : m) {
    auto add = [&](const Ring& r) {
      for (size_t i = 0; i < r.size(); ++i) edges.push_back({r[i], r[(i + 1) % r.size()]});
    };
    add(poly.outer);
    for (auto& h : poly.holes) add(h);
  }
  return edges;
}

}  // namespace

std::vector<SunStep> sunSteps(const ShadowSettings& s) {
  std::vector<SunStep> steps;
  double dt = s.stepMinutes / 60;
  int n = std::max(1, int(std::lround((s.end - s.start) / dt)));
  dt = (s.end - s.start) / n;
  for (int k = 0; k < n; ++k) {
    sun::Position p = sun::atTrueSolarTime(s.start + (k + 0.5) * dt, s.latitude, s.declination);
    double az = (p.azimuth - s.gridNorth) * kDeg;
    SunStep st;
    st.ux = std::sin(az), st.uy = std::cos(az);
    st.tanAltitude = p.altitude > 0 ? std::tan(p.altitude * kDeg) : 0;
    st.hours = dt;
    steps.push_back(st);
  }
  return steps;
}

Box2 shadowReach(const std::vector<Solid>& solids, double hm, const ShadowSettings& s) {
  Box2 b;
  std::vector<std::vector<P2>> polys;
  for (auto& st : sunSteps(s))
    for (auto& so : solids) {
      for (auto& p : so.ring) b.add(p);
      shadowPolygons(so, isConvex(so.ring), hm, st, polys);
      for (auto& poly : polys)
        for (auto& p : poly) b.add(p);
    }
  return b;
}

ShadowMap shadowTimes(const std::vector<Solid>& solids, double hm, const ShadowSettings& s, Box2 region) {
  ShadowMap m;
  m.cell = s.cell;
  m.measuringHeight = hm;
  if (!(region.maxx > region.minx)) region = shadowReach(solids, hm, s);
  if (!(region.maxx > region.minx)) return m;
  m.x0 = std::floor(region.minx / s.cell) * s.cell - s.cell;
  m.y0 = std::floor(region.miny / s.cell) * s.cell - s.cell;
  m.nx = int(std::ceil((region.maxx - m.x0) / s.cell)) + 1;
  m.ny = int(std::ceil((region.maxy - m.y0) / s.cell)) + 1;
  m.hours.assign(size_t(m.nx) * size_t(m.ny), 0.f);
  std::vector<int32_t> stamp(m.hours.size(), -1);
  std::vector<std::vector<P2>> polys;
  std::vector<char> convex;
  for (auto& so : solids) convex.push_back(isConvex(so.ring));
  auto steps = sunSteps(s);
  for (size_t k = 0; k < steps.size(); ++k) {
    const float dt = float(steps[k].hours);
    for (size_t si = 0; si < solids.size(); ++si) {
      const Solid& so = solids[si];
      shadowPolygons(so, convex[si], hm, steps[k], polys);
      for (auto& poly : polys)
        fillPolygon(poly, m.x0, m.y0, m.cell, m.nx, m.ny, [&](int i, int j) {
          size_t c = size_t(j) * size_t(m.nx) + size_t(i);
          if (stamp[c] != int32_t(k)) stamp[c] = int32_t(k), m.hours[c] += dt;
        });
    }
  }
  return m;
}

ShadowCheck checkShadowMap(const ShadowMap& map, const MultiPoly& site, double stepMinutes,
                           const std::function<bool(const P2&)>& counts) {
  ShadowCheck r;
  r.tolerance = (stepMinutes + 1) / 60;
  auto edges = boundaryEdges(site);
  for (int j = 0; j < map.ny; ++j)
    for (int i = 0; i < map.nx; ++i) {
      double h = map.at(i, j);
      if (h <= 0 || (h <= r.max5 && h <= r.max10)) continue;
      P2 c{map.x0 + (i + 0.5) * map.cell, map.y0 + (j + 0.5) * map.cell};
      if (contains(site, c)) continue;
      double d = distanceToEdges(edges, c);
      if (d <= 5 || (counts && !counts(c))) continue;
      if (d > 10) {
        if (h > r.max10) r.max10 = h, r.worst10 = c;
      } else if (d > 5) {
        if (h > r.max5) r.max5 = h, r.worst5 = c;
      }
    }
  return r;
}

ShadowEnvelope shadowEnvelopeOf(const MultiPoly& siteGeom, double x0, double y0, double cell, int nx, int ny,
                                std::vector<double> initial, const ShadowDesignation& d, const ShadowSettings& s,
                                const MultiPoly* linesFrom) {
  return shadowEnvelopeOf(siteGeom, x0, y0, cell, nx, ny, std::move(initial), std::vector<ShadowZone>{{d, {}}}, s,
                          linesFrom, 0);
}

ShadowEnvelope shadowEnvelopeOf(const MultiPoly& siteGeom, double x0, double y0, double cell, int nx, int ny,
                                std::vector<double> initial, const std::vector<ShadowZone>& zones,
                                const ShadowSettings& s, const MultiPoly* linesFrom, double lift) {
  // Receivers are measured from the (deemed) boundary; the columns are the site's cells as given.
  const MultiPoly& site = linesFrom ? *linesFrom : siteGeom;
  ShadowEnvelope e;
  e.x0 = x0, e.y0 = y0, e.cell = cell, e.nx = nx, e.ny = ny;
  e.initial = initial;
  e.height = std::move(initial);
  // The measuring planes (one per height the zones use) and which zone reads a point.
  std::vector<double> planes;
  std::vector<size_t> planeOf;
  for (auto& z : zones) {
    const double h = z.d.measuringHeight + lift;
    size_t p = 0;
    while (p < planes.size() && std::abs(planes[p] - h) > 1e-9) ++p;
    if (p == planes.size()) planes.push_back(h);
    planeOf.push_back(p);
  }
  auto zoneAt = [&](const P2& c) -> int {
    for (size_t k = 0; k < zones.size(); ++k)
      if (!zones[k].holds || zones[k].holds(c)) return int(k);
    return -1;
  };
  auto columns = [&](double hm) {
    std::vector<Solid> cols;
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        double h = e.height[size_t(j) * size_t(nx) + size_t(i)];
        if (!(h > hm)) continue;
        double a = x0 + i * cell, b = y0 + j * cell;
        cols.push_back({{{a, b}, {a + cell, b}, {a + cell, b + cell}, {a, b + cell}}, 0, h});
      }
    return cols;
  };
  auto steps = sunSteps(s);
  std::vector<ShadowMap> maps;
  for (double hm : planes) maps.push_back(shadowTimes(columns(hm), hm, s));
  auto edges = boundaryEdges(site);
  // One step's margin: the verification samples the same steps, the margin keeps cell-centre
  // effects between neighbouring receivers off the limit.
  const double dt = steps.empty() ? 1 : steps[0].hours;
  auto allowedSteps = [&](double limit) { return std::max(0, int(std::floor(limit / dt + 1e-9)) - 1); };
  const double gx1 = x0 + nx * cell, gy1 = y0 + ny * cell;
  // Walks the ray from p toward the sun through the columns; calls f(column index, entry distance).
  auto walk = [&](const P2& p, const SunStep& st, auto&& f) {
    double ux = st.ux, uy = st.uy;
    double tmin = 0, tmax = INFINITY;
    auto slab = [&](double o, double u, double lo, double hi) {
      if (std::abs(u) < 1e-12) return o >= lo && o <= hi;
      double t0 = (lo - o) / u, t1 = (hi - o) / u;
      if (t0 > t1) std::swap(t0, t1);
      tmin = std::max(tmin, t0), tmax = std::min(tmax, t1);
      return tmin <= tmax;
    };
    if (!slab(p[0], ux, x0, gx1) || !slab(p[1], uy, y0, gy1)) return;
    double t = tmin;
    double px = p[0] + ux * (t + 1e-9), py = p[1] + uy * (t + 1e-9);
    int i = std::clamp(int(std::floor((px - x0) / cell)), 0, nx - 1);
    int j = std::clamp(int(std::floor((py - y0) / cell)), 0, ny - 1);
    int si = ux > 0 ? 1 : -1, sj = uy > 0 ? 1 : -1;
    double tx = std::abs(ux) < 1e-12 ? INFINITY : ((x0 + (i + (ux > 0)) * cell) - p[0]) / ux;
    double ty = std::abs(uy) < 1e-12 ? INFINITY : ((y0 + (j + (uy > 0)) * cell) - p[1]) / uy;
    double dtx = std::abs(ux) < 1e-12 ? INFINITY : cell / std::abs(ux);
    double dty = std::abs(uy) < 1e-12 ? INFINITY : cell / std::abs(uy);
    while (i >= 0 && j >= 0 && i < nx && j < ny && t <= tmax) {
      f(size_t(j) * size_t(nx) + size_t(i), t);
      if (tx < ty)
        t = tx, tx += dtx, i += si;
      else
        t = ty, ty += dty, j += sj;
    }
  };
  struct Shaded {
    double cost;
    size_t step;
  };
  // Each step stands for its whole interval: its sun positions at sub-steps close enough that
  // neighbouring rays stay within half a cell of each other across the whole reach, so that
  // lowering for a step clears the interval, not only its midpoint.
  double reach = 0;
  for (auto& m : maps) reach = std::max(reach, std::hypot(m.nx * m.cell, m.ny * m.cell));
  std::vector<std::vector<SunStep>> sub(steps.size());
  {
    const double dth = steps.empty() ? 0 : steps[0].hours;
    for (size_t k = 0; k < steps.size(); ++k) {
      double t0 = s.start + k * dth;
      auto pos = [&](double t) {
        sun::Position p = sun::atTrueSolarTime(t, s.latitude, s.declination);
        double az = (p.azimuth - s.gridNorth) * kDeg;
        return SunStep{std::sin(az), std::cos(az), p.altitude > 0 ? std::tan(p.altitude * kDeg) : 0, 0};
      };
      SunStep a = pos(t0), b = pos(t0 + dth);
      double turn = std::acos(std::clamp(a.ux * b.ux + a.uy * b.uy, -1.0, 1.0));
      int n = std::max(2, int(std::ceil(turn * reach / (0.5 * cell))) + 1);
      for (int m = 0; m < n; ++m) sub[k].push_back(pos(t0 + dth * m / (n - 1)));
    }
  }
  // The lowest sun of each step's interval.
  std::vector<double> lowest(steps.size(), 0);
  for (size_t k = 0; k < steps.size(); ++k) {
    double low = INFINITY;
    for (auto& st : sub[k]) low = std::min(low, st.tanAltitude);
    lowest[k] = std::isfinite(low) ? low : 0;
  }
  std::vector<Shaded> shaded;
  // Verified at half the step (sampling between the steps the lowering used); where the
  // verification still finds a point over its limit (shadows broken into bursts the midpoint
  // count missed), the lowering runs again from the verification's map, at most 3 more times.
  ShadowSettings fine = s;
  fine.stepMinutes = s.stepMinutes / 2;
  for (int round = 0; round < 4; ++round) {
    for (size_t p = 0; p < planes.size(); ++p) {
      const ShadowMap& map = maps[p];
      const double hm = planes[p];
      for (int j = 0; j < map.ny; ++j)
        for (int i = 0; i < map.nx; ++i) {
          double have = map.at(i, j);
          if (have <= 0) continue;
          P2 c{map.x0 + (i + 0.5) * map.cell, map.y0 + (j + 0.5) * map.cell};
          if (contains(site, c)) continue;
          double dist = distanceToEdges(edges, c);
          if (dist <= 5) continue;
          const int z = zoneAt(c);
          if (z < 0 || planeOf[size_t(z)] != p) continue;  // not regulated, or read on another plane
          const ShadowDesignation& d = zones[size_t(z)].d;
          int allowed = allowedSteps(dist > 10 ? d.limit10 : d.limit5);
          // The midpoint count may miss a step's ends: only a point a whole step under its allowance
          // is surely within it.
          if (have + dt <= allowed * dt + 1e-9) continue;
          // The steps that shade it now (anywhere in their interval), and what clearing each costs.
          // Conservative within a step: a column its rays cross counts from its nearest point, at the
          // step's lowest sun, so that lowering under that line clears the whole interval.
          auto nearest = [&](size_t col) {
            double cx = x0 + (double(col % size_t(nx)) + 0.5) * cell, cy = y0 + (double(col / size_t(nx)) + 0.5) * cell;
            return std::hypot(std::max(0.0, std::abs(c[0] - cx) - cell / 2),
                              std::max(0.0, std::abs(c[1] - cy) - cell / 2));
          };
          shaded.clear();
          for (size_t k = 0; k < steps.size(); ++k) {
            bool hit = false;
            double cost = 0;
            const double tanLow = lowest[k];
            if (tanLow <= 0) continue;
            for (const SunStep& st : sub[k])
              walk(c, st, [&](size_t col, double) {
                double h = e.height[col];
                double cap = hm + nearest(col) * tanLow;
                if (h > cap) hit = true, cost += h - cap;
              });
            if (hit) shaded.push_back({cost, k});
          }
          if (int(shaded.size()) <= allowed) continue;
          std::sort(shaded.begin(), shaded.end(), [](const Shaded& a, const Shaded& b) { return a.cost < b.cost; });
          for (size_t n = 0; n < shaded.size() - size_t(allowed); ++n) {
            const double tanLow = lowest[shaded[n].step];
            for (const SunStep& st : sub[shaded[n].step])
              walk(c, st, [&](size_t col, double) {
                double cap = std::max(0.0, hm + nearest(col) * tanLow - 1e-6);
                if (e.height[col] > cap) e.height[col] = cap;
              });
          }
        }
    }
    for (size_t p = 0; p < planes.size(); ++p) maps[p] = shadowTimes(columns(planes[p]), planes[p], fine);
    bool within = true;
    double worst = -INFINITY;
    e.perZone.assign(zones.size(), ShadowCheck{});
    for (size_t z = 0; z < zones.size(); ++z) {
      const ShadowDesignation& d = zones[z].d;
      ShadowCheck c = zones.size() == 1 && !zones[0].holds
                          ? checkShadowMap(maps[planeOf[z]], site, fine.stepMinutes)
                          : checkShadowMap(maps[planeOf[z]], site, fine.stepMinutes,
                                           [&](const P2& q) { return zoneAt(q) == int(z); });
      within = within && c.max5 <= d.limit5 && c.max10 <= d.limit10;
      const double excess = std::max(c.max5 - d.limit5, c.max10 - d.limit10);
      if (excess > worst) worst = excess, e.verified = c, e.verifiedZone = z;
      e.perZone[z] = c;
    }
    e.rounds = round + 1;
    if (within) break;
  }
  for (size_t k = 0; k < e.height.size(); ++k)
    if (std::isfinite(e.initial[k])) e.lowered += (e.initial[k] - e.height[k]) * cell * cell;
  return e;
}

}  // namespace twin::landuse
