#pragma once
// Triangulation of planar polygons with holes, robust to what real city models contain:
// duplicate points, collinear runs, slightly non-planar rings, zero-area rings.
// Ear clipping with hole bridging (the algorithm of mapbox/earcut), on the polygon projected to
// its best-fit plane (Newell normal).

#include <cstdint>
#include <vector>

#include "twin/city_model.h"

namespace twin {

enum class TriangulationStatus : uint8_t {
  Ok,
  TooFewPoints,  // exterior ring has fewer than 3 distinct points
  ZeroArea,      // the polygon has no area (all points collinear or coincident)
  Failed,        // the algorithm could not triangulate (self-intersections it cannot cure)
};
const char* triangulationStatusName(TriangulationStatus s);

// Triangulates a 2D polygon. `xy` holds x,y pairs of all rings one after another;
// `ringStart` has ringCount + 1 entries (ring r spans [ringStart[r], ringStart[r+1]) points);
// ring 0 is the exterior. Appends triangles (indices into the points) to `out`; orientation of
// the output is not defined. Returns false when nothing could be produced.
bool triangulate2d(const double* xy, const uint32_t* ringStart, size_t ringCount, std::vector<uint32_t>& out);

// Triangulates a planar 3D polygon (rings as in Geometry: ring r spans
// points[ringStart[r] - ringStart[0] ..]). Output indices are relative to the first point of the
// polygon; triangles are wound counter-clockwise seen from the side `normal` points to.
// `normal` receives the unit Newell normal of the exterior ring (zero when degenerate).
TriangulationStatus triangulatePolygon(const Vec3* points, const uint32_t* ringStart, size_t ringCount,
                                       std::vector<uint32_t>& out, Vec3& normal);

}  // namespace twin
