// The lower envelope of height planes over a site, as a closed mesh: the site triangulated, each
// triangle split (convex clipping) wherever another plane becomes the lowest or a plane's region
// ends, tops at the active plane, walls on the boundary and at steps.
#include "envelope_mesh.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "twin/triangulate.h"

namespace twin::landuse {

namespace {

using Convex = std::vector<P2>;

// The part of `poly` where f(p) = nx x + ny y - d <= 0 (keep) and the rest (other).
void splitConvex(const Convex& poly, double nx, double ny, double d, Convex& keep, Convex& other) {
  keep.clear(), other.clear();
  if (std::abs(nx) < 1e-12 && std::abs(ny) < 1e-12) {
    // No line (two parallel planes): all on one side; where f = 0 everywhere (the same plane twice)
    // `other`, so that a piece is never kept on both sides.
    (-d < 0 ? keep : other) = poly;
    return;
  }
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

std::vector<std::array<P2, 3>> triangles(const MultiPoly& m) {
  std::vector<std::array<P2, 3>> out;
  if (m.empty() || m[0].outer.empty()) return out;
  const P2 o = m[0].outer[0];  // triangulated near the origin: plane coordinates are large
  std::vector<double> xy;
  std::vector<uint32_t> rs, tri;
  for (auto& poly : m) {
    xy.clear();
    rs.assign(1, 0);
    auto addRing = [&](const Ring& r) {
      for (auto& p : r) xy.push_back(p[0] - o[0]), xy.push_back(p[1] - o[1]);
      rs.push_back(uint32_t(xy.size() / 2));
    };
    addRing(poly.outer);
    for (auto& h : poly.holes) addRing(h);
    tri.clear();
    triangulate2d(xy.data(), rs.data(), rs.size() - 1, tri);
    for (size_t t = 0; t + 2 < tri.size(); t += 3) {
      std::array<P2, 3> c;
      for (int k = 0; k < 3; ++k) c[size_t(k)] = {xy[2 * tri[t + k]] + o[0], xy[2 * tri[t + k] + 1] + o[1]};
      double area2 = (c[1][0] - c[0][0]) * (c[2][1] - c[0][1]) - (c[2][0] - c[0][0]) * (c[1][1] - c[0][1]);
      if (std::abs(area2) < 2e-9) continue;
      if (area2 < 0) std::swap(c[1], c[2]);
      out.push_back(c);
    }
  }
  return out;
}

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
  std::vector<Piece> pieces;
  for (auto& t : triangles(site)) pieces.push_back({Convex(t.begin(), t.end()), 0});
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
  // The lowest plane covering p (-1: none).
  auto lowestAt = [&](const P2& p) {
    int best = -1;
    double z = INFINITY;
    for (size_t i = 0; i < planes.size(); ++i)
      if (planes[i].covers(p) && planes[i].at(p) < z) z = planes[i].at(p), best = int(i);
    return best;
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
  // The pieces' corners in a 1 m grid, to find those lying on an edge (T-junctions).
  std::unordered_map<uint64_t, std::vector<P2>> grid;
  auto cellKey = [](double x, double y) {
    return (uint64_t(uint32_t(int32_t(std::floor(x)))) << 32) | uint32_t(int32_t(std::floor(y)));
  };
  for (auto& pc : pieces)
    for (auto& p : pc.poly) grid[cellKey(p[0], p[1])].push_back(p);
  // The corners strictly inside segment p-q, ordered from p, with their position along it (0..1).
  auto onEdge = [&](const P2& p, const P2& q) {
    std::vector<std::pair<double, P2>> out;
    double dx = q[0] - p[0], dy = q[1] - p[1], len2 = dx * dx + dy * dy, len = std::sqrt(len2);
    int x0 = int(std::floor(std::min(p[0], q[0]) - 1e-6)), x1 = int(std::floor(std::max(p[0], q[0]) + 1e-6));
    int y0 = int(std::floor(std::min(p[1], q[1]) - 1e-6)), y1 = int(std::floor(std::max(p[1], q[1]) + 1e-6));
    if (len < 1e-9 || double(x1 - x0 + 1) * double(y1 - y0 + 1) > 1e6) return out;
    for (int cx = x0; cx <= x1; ++cx)
      for (int cy = y0; cy <= y1; ++cy) {
        auto it = grid.find(cellKey(cx, cy));
        if (it == grid.end()) continue;
        for (auto& v : it->second) {
          double t = ((v[0] - p[0]) * dx + (v[1] - p[1]) * dy) / len2;
          if (t * len < 1e-7 || (1 - t) * len < 1e-7) continue;
          if (std::abs((v[0] - p[0]) * dy - (v[1] - p[1]) * dx) / len > 1e-7) continue;
          out.push_back({t, v});
        }
      }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
    std::vector<std::pair<double, P2>> uniq;
    for (auto& e : out)
      if (uniq.empty() || (e.first - uniq.back().first) * len > 1e-7) uniq.push_back(e);
    return uniq;
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
      // A step inside the site (a constraint's region ends): wall down to the neighbour. Its foot
      // follows the neighbour's top from vertex to vertex where the neighbour's pieces meet this
      // edge (T-junctions), so that the solid stays closed. The neighbour's plane along a stretch is
      // found 1 µm outside it, 0.1 mm in from its ends (at a corner several pieces meet), and taken
      // at the stretch's ends.
      double dx = q[0] - p[0], dy = q[1] - p[1], len = std::hypot(dx, dy);
      if (len < 1e-9) continue;
      const double ux = dx / len, uy = dy / len, ox = uy * 1e-6, oy = -ux * 1e-6;
      std::vector<std::pair<double, P2>> at = onEdge(p, q);
      at.push_back({1.0, q});
      P2 x0 = p;
      double t0 = 0;
      for (auto& [t1, x1] : at) {
        double in = std::min(1e-4, (t1 - t0) * len / 4);
        int n0 = lowestAt({x0[0] + ux * in + ox, x0[1] + uy * in + oy});
        int n1 = lowestAt({x1[0] - ux * in + ox, x1[1] - uy * in + oy});
        double z0 = std::max(0.0, a.at(x0)), z1 = std::max(0.0, a.at(x1));
        double b0 = n0 < 0 ? 0.0 : std::max(0.0, planes[size_t(n0)].at(x0));
        double b1 = n1 < 0 ? 0.0 : std::max(0.0, planes[size_t(n1)].at(x1));
        if (z0 > b0 + 1e-3 || z1 > b1 + 1e-3) quad(x0, x1, std::min(b0, z0), std::min(b1, z1), z0, z1);
        x0 = x1, t0 = t1;
      }
    }
  }
  return m;
}

}  // namespace twin::landuse
