#pragma once
// Small geometric helpers shared by the tiler and the tools.

#include "twin/city_model.h"

namespace twin {

// Distance from p to the triangle abc (closest point by Voronoi regions, Ericson, Real-Time
// Collision Detection 5.1.5).
double pointTriangleDistance(const Vec3& p, const Vec3& a, const Vec3& b, const Vec3& c);

}  // namespace twin
