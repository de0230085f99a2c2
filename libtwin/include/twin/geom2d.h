#pragma once
// Plane geometry for land-use work: polygons in one projected CRS (metres), areas, overlay.
// Exact overlay (intersection, union, validity) is done by GEOS inside libtwin; its headers stay
// out of this one.

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace twin {

using P2 = std::array<double, 2>;  // easting, northing (metres)
using Ring = std::vector<P2>;      // not closed: the first point is not repeated

struct Poly {
  Ring outer;
  std::vector<Ring> holes;
};
using MultiPoly = std::vector<Poly>;

struct Box2 {
  double minx = std::numeric_limits<double>::infinity(), miny = std::numeric_limits<double>::infinity();
  double maxx = -std::numeric_limits<double>::infinity(), maxy = -std::numeric_limits<double>::infinity();
  void add(const P2& p) {
    minx = std::min(minx, p[0]), miny = std::min(miny, p[1]);
    maxx = std::max(maxx, p[0]), maxy = std::max(maxy, p[1]);
  }
  void add(const Box2& b) {
    minx = std::min(minx, b.minx), miny = std::min(miny, b.miny);
    maxx = std::max(maxx, b.maxx), maxy = std::max(maxy, b.maxy);
  }
  bool empty() const { return !(minx <= maxx && miny <= maxy); }
  bool intersects(const Box2& o) const { return minx <= o.maxx && o.minx <= maxx && miny <= o.maxy && o.miny <= maxy; }
  Box2 grown(double d) const { return {minx - d, miny - d, maxx + d, maxy + d}; }
  P2 center() const { return {(minx + maxx) / 2, (miny + maxy) / 2}; }
};

Box2 bounds(const MultiPoly& m);
// Signed area of a ring (counter-clockwise positive).
double signedArea(const Ring& r);
// Area of a valid polygon set: outer rings minus holes.
double area(const MultiPoly& m);
// Even-odd point-in-polygon test (boundary points may go either way).
bool contains(const MultiPoly& m, const P2& p);
P2 centroid(const MultiPoly& m);

// Validity (OGC simple features) with GEOS's reason and location when invalid.
struct Validity {
  bool valid = true;
  std::string reason;  // e.g. "Self-intersection"
  P2 where{NAN, NAN};
};
Validity checkValid(const MultiPoly& m);
// GEOS MakeValid, keeping only the polygonal part.
MultiPoly makeValid(const MultiPoly& m);

// Exact overlay. Inputs must be valid.
MultiPoly intersection(const MultiPoly& a, const MultiPoly& b);
double intersectionArea(const MultiPoly& a, const MultiPoly& b);
MultiPoly unite(const std::vector<MultiPoly>& parts);
// `a` without `b`.
MultiPoly difference(const MultiPoly& a, const MultiPoly& b);
// A point guaranteed inside the polygon set (GEOS PointOnSurface).
P2 pointInside(const MultiPoly& m);
// How far a ray from `start` along unit `dir` runs inside `m` (the first stretch of it that begins
// within `gap` metres of `start`), up to `maxLen`: a road's width measured across it.
double rayInside(const MultiPoly& m, const P2& start, const P2& dir, double maxLen, double gap = 1.0);
// The point of segment a-b nearest to p, and its distance.
P2 closestOnSegment(const P2& p, const P2& a, const P2& b);
double distanceToSegment(const P2& p, const P2& a, const P2& b);
// Shortest distance between two polygon sets (0 when they touch or overlap).
double distance(const MultiPoly& a, const MultiPoly& b);
// A polygon set grown (d > 0) or shrunk by d metres.
MultiPoly buffer(const MultiPoly& m, double d);

// Well-known binary (ISO, little-endian, 2D MultiPolygon) and back. fromWkb accepts Polygon and
// MultiPolygon (2D, Z, M or ZM; extra ordinates dropped); it returns false on malformed input.
std::string toWkb(const MultiPoly& m);
bool fromWkb(const uint8_t* data, size_t size, MultiPoly& out);
// GeoJSON geometry object text ("MultiPolygon") with coordinates as given.
std::string toGeoJson(const MultiPoly& m, int decimals = 3);

}  // namespace twin
