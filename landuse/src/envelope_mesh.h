#pragma once
// The geometry of an envelope (not installed): the solid between the ground (z = 0) and the lowest
// of a set of height planes over a site's polygons. The law (which planes, where) is envelope.cpp's.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "twin/geom2d.h"

namespace twin::landuse {

// z = a x + b y + c, over the part of the plane where every half-plane nx x + ny y <= d of
// `region` holds (no region: everywhere).
struct HeightPlane {
  double a = 0, b = 0, c = 0;
  std::vector<std::array<double, 3>> region;  // nx, ny, d
  std::string what;
  std::string rule;  // which limit made it: height-limit, cap, road-slant, adjacent-slant, north-slant, setback
  double at(const P2& p) const { return a * p[0] + b * p[1] + c; }
  bool covers(const P2& p) const {
    for (auto& h : region)
      if (h[0] * p[0] + h[1] * p[1] > h[2] + 1e-9) return false;
    return true;
  }
};

// `m` cut into triangles, each counter-clockwise (degenerate ones left out).
std::vector<std::array<P2, 3>> triangles(const MultiPoly& m);

// The edges of the outer rings of `m`, each ring counter-clockwise.
std::vector<std::array<P2, 2>> outerEdges(const MultiPoly& m);

struct EnvelopeMesh {
  std::vector<std::array<double, 3>> vertices;  // x, y as the site, z above its ground
  std::vector<uint32_t> triangles;              // counter-clockwise seen from outside
  double top = 0;                               // highest z
  double volume = 0;                            // m³
  std::vector<int> trianglePlane;               // per triangle: the plane its top lies on, -1 for walls and base
};

// The closed solid over `site` whose top is, at every point, the lowest of `planes` covering it
// (never below 0). planes[0] must cover the whole site (the height limit or the cap). Walls stand on
// the site's boundary and where a plane's region ends inside the site.
EnvelopeMesh lowerEnvelope(const MultiPoly& site, const std::vector<HeightPlane>& planes);

}  // namespace twin::landuse
