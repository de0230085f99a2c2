// The lower envelope of height planes over a site, as a closed mesh: the site triangulated, each
// triangle split (convex clipping) wherever another plane becomes the lowest or a plane's region
// ends, tops at the active plane, walls on the boundary and at steps.
#include "envelope_mesh.h"

#include <algorithm>
#include <cmath>

#include "twin/triangulate.h"

namespace twin::landuse {

namespace {

using Convex = std::vector<P2>;

// The part of `poly` where f(p) = nx x + ny y - d <= 0 (keep) and the rest (other).
void splitConvex(const Convex& poly, double nx, double ny, double d, Convex& keep, Convex& other) {
  keep.clear(), other.clear();
  size_t n = poly.size();
  for (size_t i = 0; i < n; ++i) {
    const P2& p = poly[i];
    const P2& q = poly[(i + 1) % n];
    double fp = nx * p[0] + ny * p[1] - d, fq = nx * q[0] + ny * q[1] - d;
    if (fp <= 0) keep.push_back(p);
    if (fp >= 0) other.push_back(p);
    if ((fp < 0 && fq > 0) || (fp > 0 && fq < 0)) {
      double t = fp / (fp - fq);
      P2 x{p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])};
      keep.push_back(x);
      other.push_back(x);
    }
  }
  auto tidy = [](Convex& c) {
    Convex o;
    for (auto& p : c)
      if (o.empty() || std::hypot(o.back()[0] - p[0], o.back()[1] - p[1]) > 1e-9) o.push_back(p);
    while (o.size() > 1 && std::hypot(o.front()[0] - o.back()[0], o.front()[1] - o.back()[1]) <= 1e-9) o.pop_back();
    if (o.size() < 3 || std::abs(signedArea(o)) < 1e-9) o.clear();
    c = std::move(o);
  };
  tidy(keep), tidy(other);
}

struct Piece {
  Convex poly;
  int active;
};

}  // namespace

std::vector<std::array<P2, 2>> outerEdges(const MultiPoly& m) {
  std::vector<std::array<P2, 2>> edges;
  for (auto& poly : m) {
    Ring r = poly.outer;
    if (signedArea(r) < 0) std::reverse(r.begin(), r.end());
    for (size_t i = 0; i < r.size(); ++i) edges.push_back({r[i], r[(i + 1) % r.size()]});
  }
  return edges;
}

EnvelopeMesh lowerEnvelope(const MultiPoly& site, const std::vector<HeightPlane>& planes) {
  EnvelopeMesh m;
  if (site.empty() || planes.empty()) return m;
  const auto edges = outerEdges(site);
  // Lower envelope of the constraints over the site's triangles.
  std::vector<double> xy;
  std::vector<uint32_t> rs{0};
  std::vector<Piece> pieces;
  for (auto& poly : site) {
    xy.clear();
    rs.assign(1, 0);
    auto addRing = [&](const Ring& r) {
      for (auto& p : r) xy.push_back(p[0] - site[0].outer[0][0]), xy.push_back(p[1] - site[0].outer[0][1]);
      rs.push_back(uint32_t(xy.size() / 2));
    };
    addRing(poly.outer);
    for (auto& h : poly.holes) addRing(h);
    std::vector<uint32_t> tri;
    triangulate2d(xy.data(), rs.data(), rs.size() - 1, tri);
    P2 o = site[0].outer[0];
    for (size_t t = 0; t + 2 < tri.size(); t += 3) {
      Convex c;
      for (int k = 0; k < 3; ++k) c.push_back({xy[2 * tri[t + k]] + o[0], xy[2 * tri[t + k] + 1] + o[1]});
      if (signedArea(c) < 0) std::swap(c[1], c[2]);
      if (std::abs(signedArea(c)) > 1e-9) pieces.push_back({c, 0});
    }
  }
  Convex keep, other;
  for (int ci = 1; ci < int(planes.size()); ++ci) {
    const HeightPlane& c = planes[size_t(ci)];
    std::vector<Piece> next;
    for (auto& pc : pieces) {
      // Split off the parts outside the constraint's region.
      Convex inside = pc.poly;
      bool empty = false;
      for (auto& h : c.region) {
        splitConvex(inside, h[0], h[1], h[2], keep, other);
        if (!other.empty()) next.push_back({other, pc.active});
        inside = keep;
        if (inside.empty()) {
          empty = true;
          break;
        }
      }
      if (empty) continue;
      // Inside: where this plane is lower it becomes the active one.
      const HeightPlane& a = planes[size_t(pc.active)];
      splitConvex(inside, c.a - a.a, c.b - a.b, a.c - c.c, keep, other);
      if (!keep.empty()) next.push_back({keep, ci});
      if (!other.empty()) next.push_back({other, pc.active});
    }
    pieces = std::move(next);
  }
  auto envAt = [&](const P2& p) {
    double z = INFINITY;
    for (auto& c : planes)
      if (c.covers(p)) z = std::min(z, c.at(p));
    return std::max(0.0, z);
  };
  auto onBoundary = [&](const P2& p, const P2& q) {
    for (auto& edge : edges) {
      const P2 &ea = edge[0], &eb = edge[1];
      double dx = eb[0] - ea[0], dy = eb[1] - ea[1], len = std::hypot(dx, dy);
      if (len == 0) continue;
      auto off = [&](const P2& x) { return std::abs((x[0] - ea[0]) * dy - (x[1] - ea[1]) * dx) / len; };
      auto along = [&](const P2& x) { return ((x[0] - ea[0]) * dx + (x[1] - ea[1]) * dy) / (len * len); };
      if (off(p) < 1e-6 && off(q) < 1e-6 && along(p) > -1e-9 && along(p) < 1 + 1e-9 && along(q) > -1e-9 &&
          along(q) < 1 + 1e-9)
        return true;
    }
    return false;
  };
  auto vertex = [&](const P2& p, double z) {
    m.vertices.push_back({p[0], p[1], z});
    m.top = std::max(m.top, z);
    return uint32_t(m.vertices.size() - 1);
  };
  auto quad = [&](const P2& p, const P2& q, double p0, double q0, double p1, double q1) {
    if (p1 - p0 < 1e-6 && q1 - q0 < 1e-6) return;
    uint32_t a = vertex(p, p0), b = vertex(q, q0), c = vertex(q, q1), d = vertex(p, p1);
    m.triangles.insert(m.triangles.end(), {a, b, c, a, c, d});
    m.trianglePlane.insert(m.trianglePlane.end(), {-1, -1});
  };
  for (auto& pc : pieces) {
    const HeightPlane& a = planes[size_t(pc.active)];
    size_t n = pc.poly.size();
    std::vector<uint32_t> topIdx, botIdx;
    for (auto& p : pc.poly) topIdx.push_back(vertex(p, std::max(0.0, a.at(p))));
    for (auto& p : pc.poly) botIdx.push_back(vertex(p, 0));
    for (size_t i = 1; i + 1 < n; ++i) {
      m.triangles.insert(m.triangles.end(), {topIdx[0], topIdx[i], topIdx[i + 1]});
      m.triangles.insert(m.triangles.end(), {botIdx[0], botIdx[i + 1], botIdx[i]});
      m.trianglePlane.insert(m.trianglePlane.end(), {pc.active, -1});
      // The prism under this top triangle (its top is planar: the mean height times the area).
      const auto &p0 = m.vertices[topIdx[0]], &p1 = m.vertices[topIdx[i]], &p2 = m.vertices[topIdx[i + 1]];
      double area = std::abs((p1[0] - p0[0]) * (p2[1] - p0[1]) - (p2[0] - p0[0]) * (p1[1] - p0[1])) / 2;
      m.volume += area * (p0[2] + p1[2] + p2[2]) / 3;
    }
    for (size_t i = 0; i < n; ++i) {
      const P2& p = pc.poly[i];
      const P2& q = pc.poly[(i + 1) % n];
      double zp = std::max(0.0, a.at(p)), zq = std::max(0.0, a.at(q));
      if (onBoundary(p, q)) {
        quad(p, q, 0, 0, zp, zq);
        continue;
      }
      // A step inside the site (a constraint's region ends): wall down to the neighbour.
      double dx = q[0] - p[0], dy = q[1] - p[1], len = std::hypot(dx, dy);
      if (len < 1e-9) continue;
      // Probe 1 µm outside; a real step (a region's end) is centimetres or more, a slope over 1 µm
      // is micrometres.
      double ox = dy / len * 1e-6, oy = -dx / len * 1e-6;
      double np = envAt({p[0] + ox, p[1] + oy}), nq = envAt({q[0] + ox, q[1] + oy});
      if (zp > np + 1e-3 || zq > nq + 1e-3) quad(p, q, std::min(np, zp), std::min(nq, zq), zp, zq);
    }
  }
  return m;
}

}  // namespace twin::landuse
