// Triangulation of planar polygons as real city models have them.
#include <catch2/catch.hpp>
#include <cmath>

#include "twin/triangulate.h"

using namespace twin;

namespace {

double area3(const std::vector<Vec3>& p, const std::vector<uint32_t>& t) {
  double a = 0;
  for (size_t i = 0; i + 2 < t.size(); i += 3) {
    const Vec3 &A = p[t[i]], &B = p[t[i + 1]], &C = p[t[i + 2]];
    Vec3 u{B[0] - A[0], B[1] - A[1], B[2] - A[2]}, v{C[0] - A[0], C[1] - A[1], C[2] - A[2]};
    Vec3 c{u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    a += 0.5 * std::sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
  }
  return a;
}

// All triangles face the same way as the normal.
bool orientedLike(const std::vector<Vec3>& p, const std::vector<uint32_t>& t, const Vec3& n) {
  for (size_t i = 0; i + 2 < t.size(); i += 3) {
    const Vec3 &A = p[t[i]], &B = p[t[i + 1]], &C = p[t[i + 2]];
    Vec3 u{B[0] - A[0], B[1] - A[1], B[2] - A[2]}, v{C[0] - A[0], C[1] - A[1], C[2] - A[2]};
    Vec3 c{u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    if (c[0] * n[0] + c[1] * n[1] + c[2] * n[2] < -1e-12) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("A vertical wall with a window hole keeps its area", "[triangulate]") {
  // 10 x 5 wall in the x-z plane with a 2 x 1 hole; exterior CCW seen from -y.
  std::vector<Vec3> p = {{0, 0, 0}, {10, 0, 0}, {10, 0, 5}, {0, 0, 5}, {4, 0, 2}, {4, 0, 3}, {6, 0, 3}, {6, 0, 2}};
  std::vector<uint32_t> rings = {0, 4, 8};
  std::vector<uint32_t> tris;
  Vec3 n;
  REQUIRE(triangulatePolygon(p.data(), rings.data(), 2, tris, n) == TriangulationStatus::Ok);
  CHECK(area3(p, tris) == Approx(48.0).epsilon(1e-9));
  CHECK(n[1] == Approx(-1.0));
  CHECK(orientedLike(p, tris, n));
}

TEST_CASE("Duplicate points, collinear runs and slight non-planarity survive", "[triangulate]") {
  std::vector<Vec3> p = {{0, 0, 0},       {5, 0, 0.001}, {5, 0, 0.001}, {10, 0, 0},
                         {10, 5, -0.002}, {10, 10, 0},   {0, 10, 0.001}};
  std::vector<uint32_t> rings = {0, uint32_t(p.size())};
  std::vector<uint32_t> tris;
  Vec3 n;
  REQUIRE(triangulatePolygon(p.data(), rings.data(), 1, tris, n) == TriangulationStatus::Ok);
  CHECK(area3(p, tris) == Approx(100.0).epsilon(1e-3));
  CHECK(n[2] == Approx(1.0).margin(1e-3));
}

TEST_CASE("A concave L-shaped roof", "[triangulate]") {
  std::vector<Vec3> p = {{0, 0, 3}, {6, 0, 3}, {6, 2, 3}, {2, 2, 3}, {2, 6, 3}, {0, 6, 3}};
  std::vector<uint32_t> rings = {0, 6};
  std::vector<uint32_t> tris;
  Vec3 n;
  REQUIRE(triangulatePolygon(p.data(), rings.data(), 1, tris, n) == TriangulationStatus::Ok);
  CHECK(tris.size() == 12);
  CHECK(area3(p, tris) == Approx(20.0));
}

TEST_CASE("Zero-area and too-small polygons are reported, not crashed on", "[triangulate]") {
  std::vector<Vec3> line = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3}};
  std::vector<uint32_t> rings = {0, 4};
  std::vector<uint32_t> tris;
  Vec3 n;
  CHECK(triangulatePolygon(line.data(), rings.data(), 1, tris, n) == TriangulationStatus::ZeroArea);
  std::vector<uint32_t> two = {0, 2};
  CHECK(triangulatePolygon(line.data(), two.data(), 1, tris, n) == TriangulationStatus::TooFewPoints);
  std::vector<Vec3> nan = {{0, 0, 0}, {NAN, 0, 0}, {1, 1, 0}};
  std::vector<uint32_t> r3 = {0, 3};
  CHECK(triangulatePolygon(nan.data(), r3.data(), 1, tris, n) != TriangulationStatus::Ok);
  CHECK(tris.empty());
}

TEST_CASE("A large polygon at ECEF magnitude triangulates precisely", "[triangulate]") {
  // 64-gon circle of radius 50 m around an ECEF point in Tokyo, tilted plane.
  std::vector<Vec3> p;
  const double cx = -3959786.0, cy = 3352557.0, cz = 3697463.0;
  for (int i = 0; i < 64; ++i) {
    double a = 2 * M_PI * i / 64;
    p.push_back({cx + 50 * std::cos(a), cy + 50 * std::sin(a) * 0.8, cz + 50 * std::sin(a) * 0.6});
  }
  std::vector<uint32_t> rings = {0, 64};
  std::vector<uint32_t> tris;
  Vec3 n;
  REQUIRE(triangulatePolygon(p.data(), rings.data(), 1, tris, n) == TriangulationStatus::Ok);
  CHECK(tris.size() == 62 * 3);
  double expected = 0.5 * 64 * 50 * 50 * std::sin(2 * M_PI / 64);
  CHECK(area3(p, tris) == Approx(expected).epsilon(1e-6));
}
