// Plane geometry: simple measures here, exact overlay through GEOS's reentrant C API.
#include "twin/geom2d.h"

#include <geos_c.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>

namespace twin {

Box2 bounds(const MultiPoly& m) {
  Box2 b;
  for (auto& p : m)
    for (auto& q : p.outer) b.add(q);
  return b;
}

double signedArea(const Ring& r) {
  double s = 0;
  size_t n = r.size();
  if (n < 3) return 0;
  // Relative to the first point: keeps precision with large projected coordinates.
  const P2 o = r[0];
  for (size_t i = 1; i + 1 < n; ++i)
    s += (r[i][0] - o[0]) * (r[i + 1][1] - o[1]) - (r[i + 1][0] - o[0]) * (r[i][1] - o[1]);
  return s / 2;
}

double area(const MultiPoly& m) {
  double a = 0;
  for (auto& p : m) {
    a += std::abs(signedArea(p.outer));
    for (auto& h : p.holes) a -= std::abs(signedArea(h));
  }
  return a;
}

namespace {
bool inRing(const Ring& r, const P2& p) {
  bool in = false;
  for (size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
    if (((r[i][1] > p[1]) != (r[j][1] > p[1])) &&
        (p[0] < (r[j][0] - r[i][0]) * (p[1] - r[i][1]) / (r[j][1] - r[i][1]) + r[i][0]))
      in = !in;
  }
  return in;
}
}  // namespace

bool contains(const MultiPoly& m, const P2& p) {
  for (auto& poly : m) {
    if (poly.outer.size() < 3 || !inRing(poly.outer, p)) continue;
    bool inHole = false;
    for (auto& h : poly.holes)
      if (h.size() >= 3 && inRing(h, p)) inHole = true;
    if (!inHole) return true;
  }
  return false;
}

P2 centroid(const MultiPoly& m) {
  double cx = 0, cy = 0, a = 0;
  for (auto& poly : m) {
    auto add = [&](const Ring& r, double sign) {
      if (r.size() < 3) return;
      const P2 o = r[0];
      for (size_t i = 1; i + 1 < r.size(); ++i) {
        double x1 = r[i][0] - o[0], y1 = r[i][1] - o[1], x2 = r[i + 1][0] - o[0], y2 = r[i + 1][1] - o[1];
        double c = (x1 * y2 - x2 * y1) / 2;
        double s = signedArea(r) >= 0 ? sign : -sign;
        cx += s * c * (o[0] + (x1 + x2) / 3);
        cy += s * c * (o[1] + (y1 + y2) / 3);
        a += s * c;
      }
    };
    add(poly.outer, 1);
    for (auto& h : poly.holes) add(h, -1);
  }
  if (a == 0) {
    Box2 b = bounds(m);
    return b.center();
  }
  return {cx / a, cy / a};
}

// ---- GEOS -------------------------------------------------------------------------------------

namespace {

struct Geos {
  GEOSContextHandle_t h;
  Geos() : h(GEOS_init_r()) {}
  ~Geos() { GEOS_finish_r(h); }
};
GEOSContextHandle_t ctx() {
  thread_local Geos g;
  return g.h;
}

struct GeomDeleter {
  void operator()(GEOSGeometry* g) const {
    if (g) GEOSGeom_destroy_r(ctx(), g);
  }
};
using GeomPtr = std::unique_ptr<GEOSGeometry, GeomDeleter>;

GEOSGeometry* makeRing(const Ring& r) {
  auto h = ctx();
  GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, unsigned(r.size() + 1), 2);
  for (size_t i = 0; i <= r.size(); ++i) {
    const P2& p = r[i % r.size()];
    GEOSCoordSeq_setXY_r(h, seq, unsigned(i), p[0], p[1]);
  }
  return GEOSGeom_createLinearRing_r(h, seq);
}

GeomPtr toGeos(const MultiPoly& m) {
  auto h = ctx();
  std::vector<GEOSGeometry*> polys;
  for (auto& p : m) {
    if (p.outer.size() < 3) continue;
    GEOSGeometry* shell = makeRing(p.outer);
    std::vector<GEOSGeometry*> holes;
    for (auto& r : p.holes)
      if (r.size() >= 3) holes.push_back(makeRing(r));
    polys.push_back(GEOSGeom_createPolygon_r(h, shell, holes.data(), unsigned(holes.size())));
  }
  return GeomPtr(GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys.data(), unsigned(polys.size())));
}

Ring fromRing(const GEOSGeometry* r) {
  auto h = ctx();
  Ring out;
  const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h, r);
  unsigned n = 0;
  GEOSCoordSeq_getSize_r(h, seq, &n);
  for (unsigned i = 0; i + 1 < n; ++i) {  // drop the closing point
    double x, y;
    GEOSCoordSeq_getXY_r(h, seq, i, &x, &y);
    out.push_back({x, y});
  }
  return out;
}

// Appends the polygonal parts of g (Polygon, MultiPolygon, or inside a collection).
void collect(const GEOSGeometry* g, MultiPoly& out) {
  if (!g) return;
  auto h = ctx();
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_POLYGON) {
    if (GEOSisEmpty_r(h, g)) return;
    Poly p;
    p.outer = fromRing(GEOSGetExteriorRing_r(h, g));
    int nh = GEOSGetNumInteriorRings_r(h, g);
    for (int i = 0; i < nh; ++i) p.holes.push_back(fromRing(GEOSGetInteriorRingN_r(h, g, i)));
    out.push_back(std::move(p));
  } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; ++i) collect(GEOSGetGeometryN_r(h, g, i), out);
  }
}

MultiPoly fromGeos(const GEOSGeometry* g) {
  MultiPoly m;
  collect(g, m);
  return m;
}

}  // namespace

Validity checkValid(const MultiPoly& m) {
  Validity v;
  for (auto& p : m)
    if (p.outer.size() < 3) {
      v.valid = false;
      v.reason = "ring with fewer than 3 distinct points";
      return v;
    }
  if (m.empty()) {
    v.valid = false;
    v.reason = "empty polygon";
    return v;
  }
  auto h = ctx();
  GeomPtr g = toGeos(m);
  char* reason = nullptr;
  GEOSGeometry* loc = nullptr;
  char ok = GEOSisValidDetail_r(h, g.get(), 0, &reason, &loc);
  if (ok != 1) {
    v.valid = false;
    v.reason = reason ? reason : "invalid geometry";
    if (loc) {
      double x, y;
      if (GEOSGeomGetX_r(h, loc, &x) && GEOSGeomGetY_r(h, loc, &y)) v.where = {x, y};
      GEOSGeom_destroy_r(h, loc);
    }
  }
  if (reason) GEOSFree_r(h, reason);
  return v;
}

MultiPoly makeValid(const MultiPoly& m) {
  GeomPtr g = toGeos(m);
  GeomPtr v(GEOSMakeValid_r(ctx(), g.get()));
  return fromGeos(v.get());
}

MultiPoly intersection(const MultiPoly& a, const MultiPoly& b) {
  GeomPtr ga = toGeos(a), gb = toGeos(b);
  GeomPtr r(GEOSIntersection_r(ctx(), ga.get(), gb.get()));
  return fromGeos(r.get());
}

P2 closestOnSegment(const P2& p, const P2& a, const P2& b) {
  double dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
  double t = l2 > 0 ? std::clamp(((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2, 0.0, 1.0) : 0.0;
  return {a[0] + t * dx, a[1] + t * dy};
}

double distanceToSegment(const P2& p, const P2& a, const P2& b) {
  P2 q = closestOnSegment(p, a, b);
  return std::hypot(p[0] - q[0], p[1] - q[1]);
}

MultiPoly difference(const MultiPoly& a, const MultiPoly& b) {
  if (b.empty() || !bounds(a).intersects(bounds(b))) return a;
  GeomPtr ga = toGeos(a), gb = toGeos(b);
  GeomPtr r(GEOSDifference_r(ctx(), ga.get(), gb.get()));
  return fromGeos(r.get());
}

double intersectionArea(const MultiPoly& a, const MultiPoly& b) {
  if (!bounds(a).intersects(bounds(b))) return 0;
  GeomPtr ga = toGeos(a), gb = toGeos(b);
  GeomPtr r(GEOSIntersection_r(ctx(), ga.get(), gb.get()));
  double ar = 0;
  if (r) GEOSArea_r(ctx(), r.get(), &ar);
  return ar;
}

MultiPoly unite(const std::vector<MultiPoly>& parts) {
  auto h = ctx();
  std::vector<GEOSGeometry*> gs;
  for (auto& p : parts) {
    GeomPtr g = toGeos(p);
    int n = GEOSGetNumGeometries_r(h, g.get());
    for (int i = 0; i < n; ++i) gs.push_back(GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, g.get(), i)));
  }
  GeomPtr coll(GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, gs.data(), unsigned(gs.size())));
  GeomPtr u(GEOSUnaryUnion_r(h, coll.get()));
  return fromGeos(u.get());
}

P2 pointInside(const MultiPoly& m) {
  GeomPtr g = toGeos(m);
  GeomPtr p(GEOSPointOnSurface_r(ctx(), g.get()));
  double x = NAN, y = NAN;
  if (p) GEOSGeomGetX_r(ctx(), p.get(), &x), GEOSGeomGetY_r(ctx(), p.get(), &y);
  return {x, y};
}

double rayInside(const MultiPoly& m, const P2& start, const P2& dir, double maxLen, double gap) {
  auto h = ctx();
  GeomPtr g = toGeos(m);
  GEOSCoordSequence* seq = GEOSCoordSeq_create_r(h, 2, 2);
  GEOSCoordSeq_setXY_r(h, seq, 0, start[0], start[1]);
  GEOSCoordSeq_setXY_r(h, seq, 1, start[0] + dir[0] * maxLen, start[1] + dir[1] * maxLen);
  GeomPtr ray(GEOSGeom_createLineString_r(h, seq));
  GeomPtr in(GEOSIntersection_r(h, g.get(), ray.get()));
  if (!in) return 0;
  // Parameter intervals [t0, t1] along the ray of the pieces inside.
  std::vector<std::pair<double, double>> spans;
  std::function<void(const GEOSGeometry*)> walk = [&](const GEOSGeometry* x) {
    int type = GEOSGeomTypeId_r(h, x);
    if (type == GEOS_LINESTRING) {
      const GEOSCoordSequence* cs = GEOSGeom_getCoordSeq_r(h, x);
      unsigned n = 0;
      GEOSCoordSeq_getSize_r(h, cs, &n);
      double lo = INFINITY, hi = -INFINITY;
      for (unsigned i = 0; i < n; ++i) {
        double px, py;
        GEOSCoordSeq_getXY_r(h, cs, i, &px, &py);
        double t = (px - start[0]) * dir[0] + (py - start[1]) * dir[1];
        lo = std::min(lo, t), hi = std::max(hi, t);
      }
      if (hi > lo) spans.push_back({lo, hi});
    } else if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
      for (int i = 0; i < GEOSGetNumGeometries_r(h, x); ++i) walk(GEOSGetGeometryN_r(h, x, i));
    }
  };
  walk(in.get());
  std::sort(spans.begin(), spans.end());
  double end = -1, begin = -1;
  for (auto& [a, b] : spans) {
    if (begin < 0) {
      if (a > gap) break;
      begin = a, end = b;
    } else if (a <= end + 1e-6) {
      end = std::max(end, b);  // touching pieces (road split into several polygons)
    } else {
      break;
    }
  }
  return begin < 0 ? 0 : end - begin;
}

double distance(const MultiPoly& a, const MultiPoly& b) {
  GeomPtr ga = toGeos(a), gb = toGeos(b);
  double d = INFINITY;
  GEOSDistance_r(ctx(), ga.get(), gb.get(), &d);
  return d;
}

MultiPoly buffer(const MultiPoly& m, double d) {
  GeomPtr g = toGeos(m);
  GeomPtr b(GEOSBufferWithStyle_r(ctx(), g.get(), d, 8, GEOSBUF_CAP_FLAT, GEOSBUF_JOIN_MITRE, 5.0));
  return fromGeos(b.get());
}

// ---- WKB --------------------------------------------------------------------------------------

namespace {
void putU32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void putF64(std::string& s, double v) { s.append(reinterpret_cast<const char*>(&v), 8); }
}  // namespace

std::string toWkb(const MultiPoly& m) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "WKB writer assumes a little-endian host");
  std::string s;
  s.push_back(1);
  putU32(s, 6);
  putU32(s, uint32_t(m.size()));
  for (auto& p : m) {
    s.push_back(1);
    putU32(s, 3);
    putU32(s, uint32_t(1 + p.holes.size()));
    auto ring = [&](const Ring& r) {
      putU32(s, uint32_t(r.size() + 1));
      for (size_t i = 0; i <= r.size(); ++i) {
        putF64(s, r[i % r.size()][0]);
        putF64(s, r[i % r.size()][1]);
      }
    };
    ring(p.outer);
    for (auto& h : p.holes) ring(h);
  }
  return s;
}

namespace {
struct WkbReader {
  const uint8_t* p;
  const uint8_t* end;
  bool little = true;
  bool ok = true;
  uint32_t u32() {
    if (end - p < 4) return ok = false, 0;
    uint32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    if (!little) v = __builtin_bswap32(v);
    return v;
  }
  double f64() {
    if (end - p < 8) return ok = false, 0;
    uint64_t v;
    std::memcpy(&v, p, 8);
    p += 8;
    if (!little) v = __builtin_bswap64(v);
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  bool header(uint32_t& type, int& dims) {
    if (p >= end) return ok = false;
    little = *p++ == 1;
    uint32_t t = u32();
    dims = 2;
    // ISO (1000s) and EWKB (high bits) flavours of Z/M.
    if (t & 0x80000000u) dims++;
    if (t & 0x40000000u) dims++;
    if (t & 0x20000000u) {  // EWKB SRID
      u32();
    }
    t &= 0x0fffffffu;
    if (t >= 3000)
      dims = 4, t -= 3000;
    else if (t >= 2000)
      dims = 3, t -= 2000;
    else if (t >= 1000)
      dims = 3, t -= 1000;
    type = t;
    return ok;
  }
  bool ring(Ring& r, int dims) {
    uint32_t n = u32();
    if (!ok || uint64_t(n) * dims * 8 > uint64_t(end - p)) return ok = false;
    r.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      double x = f64(), y = f64();
      for (int k = 2; k < dims; ++k) f64();
      r.push_back({x, y});
    }
    if (r.size() > 1 && r.front() == r.back()) r.pop_back();
    return ok;
  }
  bool polygon(Poly& poly, int dims) {
    uint32_t nr = u32();
    if (!ok || nr > uint64_t(end - p) / 4) return ok = false;
    for (uint32_t i = 0; i < nr; ++i) {
      Ring r;
      if (!ring(r, dims)) return false;
      if (i == 0)
        poly.outer = std::move(r);
      else
        poly.holes.push_back(std::move(r));
    }
    return true;
  }
};
}  // namespace

bool fromWkb(const uint8_t* data, size_t size, MultiPoly& out) {
  out.clear();
  WkbReader r{data, data + size};
  uint32_t type;
  int dims;
  if (!r.header(type, dims)) return false;
  if (type == 3) {
    Poly p;
    if (!r.polygon(p, dims)) return false;
    out.push_back(std::move(p));
    return true;
  }
  if (type != 6) return false;
  uint32_t n = r.u32();
  if (!r.ok || n > size) return false;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t t;
    int d;
    if (!r.header(t, d) || t != 3) return false;
    Poly p;
    if (!r.polygon(p, d)) return false;
    out.push_back(std::move(p));
  }
  return true;
}

std::string toGeoJson(const MultiPoly& m, int decimals) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(decimals);
  o << "{\"type\":\"MultiPolygon\",\"coordinates\":[";
  for (size_t i = 0; i < m.size(); ++i) {
    o << (i ? ",[" : "[");
    auto ring = [&](const Ring& r, bool first, bool ccw) {
      o << (first ? "[" : ",[");
      // RFC 7946: exterior rings counter-clockwise, holes clockwise.
      bool isCcw = signedArea(r) >= 0;
      for (size_t k = 0; k <= r.size(); ++k) {
        size_t j = k % r.size();
        if (isCcw != ccw) j = (r.size() - j) % r.size();
        o << (k ? ",[" : "[") << r[j][0] << "," << r[j][1] << "]";
      }
      o << "]";
    };
    ring(m[i].outer, true, true);
    for (auto& h : m[i].holes) ring(h, false, false);
    o << "]";
  }
  o << "]}";
  return o.str();
}

}  // namespace twin
