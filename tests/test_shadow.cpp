// The sun (twin/sun.h) against published tables, and 日影規制 (建築基準法第56条の2): shadow-time maps
// of box buildings against an independent ray computation, and 逆日影 columns verified forward.
#include <catch2/catch.hpp>
#include <cmath>

#include "twin/landuse/shadow.h"
#include "twin/landuse/sky.h"
#include "twin/sun.h"

using namespace twin;
using namespace twin::landuse;

namespace {
constexpr double kDeg = 3.14159265358979323846 / 180;
}

TEST_CASE("sun position against Meeus' worked examples", "[landuse][shadow]") {
  // Meeus, Astronomical Algorithms (2nd ed.), example 25.a: 1992 October 13, 0h TD: apparent
  // longitude 199.90895° (low-accuracy method 199.90988°), declination −7.78507°.
  double t = sun::unixTime(1992, 10, 13, 0);
  auto p = sun::at(t, 0, 0);
  CHECK(std::abs(p.declination - -7.78507) < 0.01);
  CHECK(std::abs(sun::apparentLongitude(t) - 199.909) < 0.01);
  // Example 28.a: the same instant: equation of time +13m 42.6s = 13.71 min.
  auto q = sun::at(t, 0, 0);
  CHECK(std::abs(q.equationOfTime - 13.71) < 0.1);
}

TEST_CASE("sun: winter solstice instant and Tokyo's sunrise and sunset from the national almanac",
          "[landuse][shadow]") {
  // 国立天文台 暦計算室: the December solstice of 2023 was 12月22日 12:27 JST (03:27 UTC); Tokyo
  // (35°39′N 139°44′E) rose at 6:47 and set at 16:32 JST that day (published to the minute).
  double sol = sun::decemberSolstice(2023);
  double expect = sun::unixTime(2023, 12, 22, 3 + 27 / 60.0);
  CHECK(std::abs(sol - expect) < 5 * 60);
  double lat = 35 + 39 / 60.0, lon = 139 + 44 / 60.0;
  auto rise = sun::riseOrSet(2023, 12, 22, lat, lon, 9, true);
  auto set = sun::riseOrSet(2023, 12, 22, lat, lon, 9, false);
  REQUIRE(rise);
  REQUIRE(set);
  CHECK(std::abs(*rise - (6 + 47 / 60.0)) < 1 / 60.0);
  CHECK(std::abs(*set - (16 + 32 / 60.0)) < 1 / 60.0);
  // Osaka (34°41′N 135°31′E), 2011-12-22: 7:01 and 16:51 JST.
  auto orise = sun::riseOrSet(2011, 12, 22, 34 + 41 / 60.0, 135 + 31 / 60.0, 9, true);
  auto oset = sun::riseOrSet(2011, 12, 22, 34 + 41 / 60.0, 135 + 31 / 60.0, 9, false);
  REQUIRE(orise);
  REQUIRE(oset);
  CHECK(std::abs(*orise - (7 + 1 / 60.0)) < 1 / 60.0);
  CHECK(std::abs(*oset - (16 + 51 / 60.0)) < 1 / 60.0);
  // Declination at the solstice is minus the obliquity of the ecliptic (23.44° in 2023).
  CHECK(std::abs(sun::at(sol, 35, 139).declination - -23.436) < 0.01);
}

TEST_CASE("sun at true solar time: culmination due south at 90° − latitude + declination", "[landuse][shadow]") {
  // At 12:00 真太陽時 the sun is due south; its altitude is 90 − 35.68 − 23.44 = 30.88°.
  auto p = sun::atTrueSolarTime(12, 35.68, -23.44);
  CHECK(std::abs(p.azimuth - 180) < 1e-6);
  CHECK(std::abs(p.altitude - 30.88) < 1e-6);  // with δ = −23.44
  // Symmetric about noon: 8:00 and 16:00 mirror each other (azimuths 180 ∓ a).
  auto m = sun::atTrueSolarTime(8, 35.68, -23.44), e = sun::atTrueSolarTime(16, 35.68, -23.44);
  CHECK(std::abs(m.altitude - e.altitude) < 1e-9);
  CHECK(std::abs((m.azimuth - 180) + (e.azimuth - 180)) < 1e-9);
  CHECK(m.azimuth < 180);  // morning sun in the south-east
  // sin(alt) = sin φ sin δ + cos φ cos δ cos 60° at 8:00.
  double s = std::sin(35.68 * kDeg) * std::sin(-23.44 * kDeg) + std::cos(35.68 * kDeg) * std::cos(-23.44 * kDeg) * 0.5;
  CHECK(std::abs(m.altitude - std::asin(s) / kDeg) < 1e-9);
}

namespace {
// Independent of the swept-polygon raster: a ray from (x, y, hm) toward the sun, tested against
// the box [x0,x1]×[y0,y1]×[0,h] with slabs, every 10 s of true solar time.
double boxShadowHours(double x, double y, double hm, double x0, double y0, double x1, double y1, double h,
                      const ShadowSettings& s) {
  int n = int(std::lround((s.end - s.start) * 360));
  int hits = 0;
  for (int k = 0; k < n; ++k) {
    double t = s.start + (k + 0.5) / 360.0;
    auto p = sun::atTrueSolarTime(t, s.latitude, s.declination);
    double az = (p.azimuth - s.gridNorth) * kDeg, alt = p.altitude * kDeg;
    double d[3] = {std::cos(alt) * std::sin(az), std::cos(alt) * std::cos(az), std::sin(alt)};
    double o[3] = {x, y, hm}, lo[3] = {x0, y0, 0}, hi[3] = {x1, y1, h};
    double tmin = 0, tmax = INFINITY;
    bool ok = true;
    for (int a = 0; a < 3 && ok; ++a) {
      if (std::abs(d[a]) < 1e-15) {
        ok = o[a] >= lo[a] && o[a] <= hi[a];
        continue;
      }
      double ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
      if (ta > tb) std::swap(ta, tb);
      tmin = std::max(tmin, ta), tmax = std::min(tmax, tb);
      ok = tmin <= tmax;
    }
    hits += ok;
  }
  return hits / 360.0;
}
}  // namespace

TEST_CASE("日影: a box's shadow-time map against an independent ray computation, within 5 minutes per cell",
          "[landuse][shadow]") {
  // A 20 m × 12 m box, 25 m tall, measured on the 4 m plane in Tokyo on the solstice, 8:00-16:00,
  // with grid north 0.3° west of true north (a plane-rectangular zone's convergence).
  ShadowSettings s;
  s.latitude = 35.68;
  s.gridNorth = -0.3;
  s.cell = 2;
  Solid box{{{0, 0}, {20, 0}, {20, 12}, {0, 12}}, 0, 25};
  ShadowMap m = shadowTimes({box}, 4, s);
  REQUIRE(m.nx > 0);
  // The shadow reaches north-west at 8:00: altitude 8.1°, azimuth 126.9°: a 21 m rise above the
  // plane throws 147 m toward 306.9°, 88 m of it northward; never south of the box in winter.
  CHECK(m.y0 + m.ny * m.cell > 12 + 85);
  for (int j = 0; j < m.ny; ++j)
    for (int i = 0; i < m.nx; ++i)
      if (m.y0 + (j + 0.5) * m.cell < 0) CHECK(m.at(i, j) == 0);
  double worst = 0;
  int compared = 0, shaded = 0;
  for (int j = 0; j < m.ny; j += 3)
    for (int i = 0; i < m.nx; i += 3) {
      double x = m.x0 + (i + 0.5) * m.cell, y = m.y0 + (j + 0.5) * m.cell;
      if (x >= 0 && x <= 20 && y >= 0 && y <= 12) continue;  // inside the building
      double ref = boxShadowHours(x, y, 4, 0, 0, 20, 12, 25, s);
      worst = std::max(worst, std::abs(ref - m.at(i, j)));
      ++compared;
      shaded += ref > 0;
    }
  INFO("cells compared " << compared << ", shaded " << shaded << ", worst difference " << worst * 60 << " min");
  CHECK(shaded > 100);
  CHECK(worst <= 5 / 60.0);
  // Just north of the box's middle the shadow lasts most of the day: the point 2 m north of the
  // north wall's middle is in the box's shadow from well before 9:00 to well after 15:00.
  double mid = boxShadowHours(10, 14, 4, 0, 0, 20, 12, 25, s);
  CHECK(mid > 6);
}

TEST_CASE("日影: the check reads the longest shadow beyond the 5 m and 10 m lines", "[landuse][shadow]") {
  ShadowSettings s;
  s.latitude = 35.68;
  // Site 30 m × 30 m; a 10 m × 10 m box of 20 m at its north edge.
  MultiPoly site{Poly{{{0, 0}, {30, 0}, {30, 30}, {0, 30}}, {}}};
  Solid box{{{10, 20}, {20, 20}, {20, 30}, {10, 30}}, 0, 20};
  ShadowMap m = shadowTimes({box}, 4, s);
  ShadowCheck c = checkShadowMap(m, site, s.stepMinutes);
  // The worst points lie due north: 5-10 m beyond the north boundary (y 35..40) and beyond 10 m.
  CHECK(c.max5 > c.max10);
  CHECK(c.worst5[1] > 35 - 1e-9);
  CHECK(c.worst5[1] <= 40 + 1);
  CHECK(c.worst10[1] > 40);
  double ref = boxShadowHours(c.worst5[0], c.worst5[1], 4, 10, 20, 20, 30, 20, s);
  CHECK(std::abs(ref - c.max5) <= 5 / 60.0);
  CHECK(c.tolerance > 0);
}

TEST_CASE("逆日影: columns lowered until their shadow keeps 4 h / 2.5 h, verified forward", "[landuse][shadow]") {
  ShadowSettings s;
  s.latitude = 35.68;
  s.stepMinutes = 2;
  MultiPoly site{Poly{{{0, 0}, {40, 0}, {40, 25}, {0, 25}}, {}}};  // 1,000 m²
  ShadowDesignation d;
  d.measuringHeight = 4, d.limit5 = 4, d.limit10 = 2.5;
  // Start from 45 m everywhere: far too tall for these limits.
  ShadowEnvelope e = shadowEnvelope(
      site, [](const P2&) { return 45.0; }, d, s, 1.0);
  CHECK(e.nx == 40);
  CHECK(e.ny == 25);
  // The initial columns break the limits; the result keeps them at the settings' step.
  std::vector<Solid> cols0{{{{0, 0}, {40, 0}, {40, 25}, {0, 25}}, 0, 45}};
  ShadowCheck before = checkShadowMap(shadowTimes(cols0, 4, s), site, s.stepMinutes);
  CHECK(before.max5 > 4);
  CHECK(e.verified.max5 <= 4 + 1e-4);  // float sums of 30 s steps
  CHECK(e.verified.max10 <= 2.5 + 1e-4);
  CHECK(e.lowered > 0);
  // Lowering is where it matters: the south edge keeps more height than the north edge.
  double south = 0, north = 0;
  for (int i = 0; i < e.nx; ++i)
    south += e.height[size_t(i)], north += e.height[size_t(e.ny - 1) * size_t(e.nx) + size_t(i)];
  CHECK(south > north);
  // Nothing was lowered below the measuring plane needlessly: some column stays above 4 m.
  double top = 0;
  for (double h : e.height) top = std::max(top, h);
  CHECK(top > 10);
  // Independently: every 30 s, a ray from points 5.5-8.5 m north of the site toward the sun,
  // tested against every column with slabs (as boxShadowHours does for one box).
  double worst = 0;
  for (int dy = 0; dy <= 3; dy += 3)
    for (int dx = -5; dx <= 45; dx += 5) {
      double x = dx + 0.5, y = 25 + 5.5 + dy;
      int hits = 0, n = 8 * 120;
      for (int k = 0; k < n; ++k) {
        auto p = sun::atTrueSolarTime(8 + (k + 0.5) / 120.0, s.latitude, s.declination);
        double az = p.azimuth * kDeg, alt = p.altitude * kDeg;
        double dir[3] = {std::cos(alt) * std::sin(az), std::cos(alt) * std::cos(az), std::sin(alt)};
        bool any = false;
        for (int j = 0; j < e.ny && !any; ++j)
          for (int i = 0; i < e.nx && !any; ++i) {
            double h = e.height[size_t(j) * size_t(e.nx) + size_t(i)];
            double o[3] = {x, y, 4}, lo[3] = {double(i), double(j), 0}, hi[3] = {i + 1.0, j + 1.0, h};
            double tmin = 0, tmax = INFINITY;
            bool ok = true;
            for (int a = 0; a < 3 && ok; ++a) {
              double ta = (lo[a] - o[a]) / dir[a], tb = (hi[a] - o[a]) / dir[a];
              if (ta > tb) std::swap(ta, tb);
              tmin = std::max(tmin, ta), tmax = std::min(tmax, tb);
              ok = tmin <= tmax;
            }
            any = ok;
          }
        hits += any;
      }
      worst = std::max(worst, hits / 120.0);
    }
  INFO("worst independent hours 5.5-8.5 m north: " << worst);
  CHECK(worst <= 4 + 2 / 60.0);
}

TEST_CASE("天空率: a box's sky factor against an independent integration over the projected hemisphere",
          "[landuse][sky]") {
  // A 10 m × 8 m box, 15 m tall, its near face 6 m from the point. Independent: the unit disk
  // (正射影 of the hemisphere) sampled at equal-area cells, each direction's ray tested against the
  // box with slabs.
  double x0 = -5, x1 = 5, y0 = 6, y1 = 14, h = 15;
  auto heightAt = [&](const P2& q) { return q[0] >= x0 && q[0] <= x1 && q[1] >= y0 && q[1] <= y1 ? h : 0.0; };
  SkySettings s;
  s.azimuthSteps = 7200;
  s.rayStep = 0.01;
  double ours = skyFactor({0, 0}, 0, heightAt, Box2{x0, y0, x1, y1}, s);
  const int nr = 1200, nt = 2400;
  long open = 0, all = 0;
  for (int i = 0; i < nr; ++i) {
    double r = std::sqrt((i + 0.5) / nr);  // equal-area rings
    double alt = std::acos(r);
    for (int k = 0; k < nt; ++k) {
      double az = (k + 0.5) * 2 * 3.14159265358979323846 / nt;
      double d[3] = {std::cos(alt) * std::sin(az), std::cos(alt) * std::cos(az), std::sin(alt)};
      double lo[3] = {x0, y0, 0}, hi[3] = {x1, y1, h};
      double tmin = 0, tmax = INFINITY;
      bool hit = true;
      for (int a = 0; a < 3 && hit; ++a) {
        if (std::abs(d[a]) < 1e-15) {
          hit = 0 >= lo[a] && 0 <= hi[a];
          continue;
        }
        double ta = lo[a] / d[a], tb = hi[a] / d[a];
        if (ta > tb) std::swap(ta, tb);
        tmin = std::max(tmin, ta), tmax = std::min(tmax, tb);
        hit = tmin <= tmax;
      }
      open += !hit;
      ++all;
    }
  }
  double reference = double(open) / all;
  INFO("ours " << ours * 100 << " %, reference " << reference * 100 << " %");
  CHECK(std::abs(ours - reference) < 0.001);
  CHECK(ours < 0.95);
  CHECK(ours > 0.5);
  // Nothing in the way: the whole sky.
  CHECK(skyFactor(
            {0, 0}, 0, [](const P2&) { return 0.0; }, Box2{x0, y0, x1, y1}, s) == Approx(1.0));
}

TEST_CASE("天空率 measurement points: on the road's far side, at most W/2 apart (令135条の9)", "[landuse][sky]") {
  // Frontage from (0,0) to (20,0), the site north of it (counter-clockwise ring), a 6 m road south.
  auto pts = roadSkyPoints({0, 0}, {20, 0}, 6);
  REQUIRE(pts.size() == 8);  // 20 / 3 → 7 intervals, 8 points
  for (auto& p : pts) CHECK(p[1] == Approx(-6));
  CHECK(pts.front()[0] == Approx(0));
  CHECK(pts.back()[0] == Approx(20));
  CHECK(pts[1][0] - pts[0][0] <= 3 + 1e-9);
  // Set back 1.5 m (法56条2項): the line moves out as far.
  for (auto& p : roadSkyPoints({0, 0}, {20, 0}, 6, 1.5)) CHECK(p[1] == Approx(-7.5));
}
