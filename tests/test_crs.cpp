// Coordinates: srsName parsing, and positions against PROJ's own transforms.
#include <proj.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "twin/crs.h"

using namespace twin;

namespace {

// PROJ's own transform, built independently of twin: (lon, lat, h) in `from` -> ECEF.
Vec3 projEcef(const char* from, double lon, double lat, double h) {
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* p = proj_create_crs_to_crs(ctx, from, "EPSG:4978", nullptr);
  REQUIRE(p != nullptr);
  PJ* n = proj_normalize_for_visualization(ctx, p);
  PJ_COORD c = proj_coord(lon, lat, h, 0);
  PJ_COORD r = proj_trans(n, PJ_FWD, c);
  proj_destroy(n);
  proj_destroy(p);
  proj_context_destroy(ctx);
  return {r.xyz.x, r.xyz.y, r.xyz.z};
}

// PROJ's own projected -> geographic (easting, northing) -> (lon, lat) degrees.
std::pair<double, double> projLonLat(const char* projected, const char* geographic, double east, double north) {
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* op = proj_create_crs_to_crs(ctx, projected, geographic, nullptr);
  REQUIRE(op != nullptr);
  PJ* n = proj_normalize_for_visualization(ctx, op);
  PJ_COORD ll = proj_trans(n, PJ_FWD, proj_coord(east, north, 0, 0));
  proj_destroy(n);
  proj_destroy(op);
  proj_context_destroy(ctx);
  return {ll.lpz.lam, ll.lpz.phi};
}

double dist(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

TEST_CASE("srsName forms become canonical EPSG ids", "[crs]") {
  CHECK(canonicalSrs("http://www.opengis.net/def/crs/EPSG/0/6697") == "EPSG:6697");
  CHECK(canonicalSrs("EPSG:6697") == "EPSG:6697");
  CHECK(canonicalSrs("6697") == "EPSG:6697");
  CHECK(canonicalSrs("urn:ogc:def:crs:EPSG::6697") == "EPSG:6697");
  CHECK(canonicalSrs("urn:ogc:def:crs:EPSG:6.12:25832") == "EPSG:25832");
  CHECK(canonicalSrs("urn:ogc:def:crs,crs:EPSG::25832,crs:EPSG::5783") == "EPSG:25832+5783");
  CHECK(canonicalSrs("urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH") == "EPSG:25832+5783");
  CHECK(canonicalSrs("urn:adv:crs:ETRS89_UTM33*DE_DHHN2016_NH") == "EPSG:25833+7837");
  CHECK(canonicalSrs("urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH") == "EPSG:31468+5783");  // Gauss-Krueger zone 4
  CHECK(canonicalSrs("urn:adv:crs:DE_DHDN_3GK2") == "EPSG:31466");
  CHECK(canonicalSrs("EPSG:25833") == "EPSG:25833");
  CHECK(canonicalSrs(
            "http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/EPSG/0/25832&2=http://www.opengis.net/def/crs/EPSG/0/5783") ==
        "EPSG:25832+5783");
  CHECK_FALSE(canonicalSrs("urn:ogc:def:crs:local:my-site").has_value());
  CHECK_FALSE(canonicalSrs("").has_value());
}

TEST_CASE("EPSG:6697 (JGD2011 + T.P. height) to ECEF applies the geoid, matching PROJ within 1 cm", "[crs]") {
  auto t = CrsTransform::create("http://www.opengis.net/def/crs/EPSG/0/6697");
  REQUIRE(t.ok());
  CHECK((*t)->geoidGrid() == "egm96_15.gtx");
  // Points from the PLATEAU samples: Yokosuka, Osaka, Tokyo (lat, lon, T.P. height: 6697 axis order)
  const Vec3 pts[] = {{35.25962954418222, 139.73892268006682, 10.500850847558837},
                      {34.70123, 135.49876, 3.2},
                      {35.6812, 139.7671, 40.0}};
  for (const Vec3& src : pts) {
    Vec3 p = src;
    REQUIRE((*t)->toEcef(&p, 1) == 0);
    // PROJ's reference: JGD2011 + EGM96 height (EPSG:5773) -> ECEF, which applies egm96_15.gtx
    Vec3 ref = projEcef("EPSG:6668+5773", src[1], src[0], src[2]);
    INFO("lat " << src[0] << " lon " << src[1]);
    CHECK(dist(p, ref) < 0.01);
    // The trap: PROJ's plain EPSG:6697 -> 4978 ignores the geoid. We must differ by ~N (30-40 m).
    Vec3 naive = projEcef("EPSG:6697", src[1], src[0], src[2]);
    CHECK(dist(p, naive) > 30.0);
    CHECK(dist(p, naive) < 45.0);
  }
}

TEST_CASE("A user geoid grid given as a path gives the same heights as the default grid name", "[crs]") {
  GeoidOptions g;
  g.gridFile = "/usr/share/proj/egm96_15.gtx";
  auto a = CrsTransform::create("EPSG:6697", g);
  auto b = CrsTransform::create("EPSG:6697");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Vec3 p{35.6812, 139.7671, 40.0}, q = p;
  (*a)->toEcef(&p, 1);
  (*b)->toEcef(&q, 1);
  CHECK(dist(p, q) < 1e-6);
  CHECK((*a)->geoidGrid() == "/usr/share/proj/egm96_15.gtx");
}

TEST_CASE("ETRS89 / UTM 32N + DHHN92 (FZK-Haus) matches PROJ through EGM96 within 1 cm", "[crs]") {
  auto t = CrsTransform::create("urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH");
  REQUIRE(t.ok());
  Vec3 p{458877.0, 5438353.0, 110.0};  // Karlsruhe, easting, northing, height
  Vec3 src = p;
  REQUIRE((*t)->toEcef(&p, 1) == 0);
  // Reference: the same point as geographic ETRS89 through PROJ, then EGM96 height.
  auto [lon, lat] = projLonLat("EPSG:25832", "EPSG:4258", src[0], src[1]);
  Vec3 ref = projEcef("EPSG:4258+5773", lon, lat, src[2]);
  CHECK(dist(p, ref) < 0.01);
  Vec3 llh = ecefToLonLatHeight(p);
  CHECK(llh[0] == Approx(8.4357).margin(0.01));
  CHECK(llh[1] == Approx(49.0914).margin(0.01));
  CHECK(llh[2] > 150.0);  // + geoid of ~47.6 m in Karlsruhe
}

TEST_CASE("A 3D geographic CRS (ellipsoidal heights) is transformed without a geoid", "[crs]") {
  auto t = CrsTransform::create("EPSG:4979");
  REQUIRE(t.ok());
  CHECK((*t)->geoidGrid().empty());
  Vec3 p{35.0, 139.0, 100.0};  // EPSG:4979 is lat, lon, h
  (*t)->toEcef(&p, 1);
  Vec3 llh = ecefToLonLatHeight(p);
  CHECK(llh[0] == Approx(139.0).margin(1e-9));
  CHECK(llh[1] == Approx(35.0).margin(1e-9));
  CHECK(llh[2] == Approx(100.0).margin(1e-3));
}

TEST_CASE("Unknown CRS and missing geoid grid are clear errors", "[crs]") {
  auto t = CrsTransform::create("urn:ogc:def:crs:local:my-site");
  REQUIRE_FALSE(t.ok());
  CHECK(t.diagnostics.at(0).code == "crs-unknown");
  CHECK(t.errorMessage().find("--crs") != std::string::npos);
  GeoidOptions g;
  g.gridFile = "/nonexistent/geoid.gtx";
  auto u = CrsTransform::create("EPSG:6697", g);
  REQUIRE_FALSE(u.ok());
  CHECK(u.diagnostics.at(0).code == "geoid-missing");
}

TEST_CASE("Absurd coordinates fail instead of producing garbage", "[crs]") {
  auto t = CrsTransform::create("EPSG:6697");
  REQUIRE(t.ok());
  Vec3 p[2] = {{999.0, 139.0, 10.0}, {35.0, 139.0, 1e9}};
  CHECK((*t)->toEcef(p, 2) == 2);
  CHECK(std::isnan(p[0][0]));
  CHECK(std::isnan(p[1][0]));
}

TEST_CASE("ECEF <-> geodetic helpers round-trip", "[crs]") {
  Vec3 llh{139.7671, 35.6812, 76.5};
  Vec3 back = ecefToLonLatHeight(lonLatHeightToEcef(llh));
  CHECK(back[0] == Approx(llh[0]).margin(1e-10));
  CHECK(back[1] == Approx(llh[1]).margin(1e-10));
  CHECK(back[2] == Approx(llh[2]).margin(1e-6));
}

TEST_CASE("A building's worth of points in one batch matches PROJ point by point within 1 cm", "[crs]") {
  // 7 x 7 points over ~200 m, once inside one EGM96 cell and once across a cell boundary
  // (EGM96 15' cells: 35.75 N is a boundary).
  for (double lat0 : {35.6812, 35.7490}) {
    auto t = CrsTransform::create("EPSG:6697");
    REQUIRE(t.ok());
    std::vector<Vec3> pts, src;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 7; ++j) src.push_back({lat0 + i * 0.0003, 139.7671 + j * 0.0004, 5.0 + i + j});
    pts = src;
    REQUIRE((*t)->toEcef(pts.data(), pts.size()) == 0);
    PJ_CONTEXT* ctx = proj_context_create();
    PJ* ref = proj_normalize_for_visualization(ctx, proj_create_crs_to_crs(ctx, "EPSG:6668+5773", "EPSG:4978", nullptr));
    double worst = 0;
    for (size_t k = 0; k < src.size(); ++k) {
      PJ_COORD r = proj_trans(ref, PJ_FWD, proj_coord(src[k][1], src[k][0], src[k][2], 0));
      worst = std::max(worst, dist(pts[k], {r.xyz.x, r.xyz.y, r.xyz.z}));
    }
    proj_destroy(ref);
    proj_context_destroy(ctx);
    INFO("lat0 " << lat0 << " worst " << worst);
    CHECK(worst < 0.01);
  }
}

TEST_CASE("JGD2011 plane rectangular zone IX + JGD2011 height matches PROJ through EGM96 within 1 cm", "[crs]") {
  auto t = CrsTransform::create("urn:ogc:def:crs,crs:EPSG::6677,crs:EPSG::6695");
  REQUIRE(t.ok());
  CHECK((*t)->srs() == "EPSG:6677+6695");
  CHECK_FALSE((*t)->heightAssumed());
  Vec3 p{-35000.0, -6000.0, 12.5};  // (x northing, y easting) of zone IX: Tokyo
  Vec3 src = p;
  REQUIRE((*t)->toEcef(&p, 1) == 0);
  auto [lon, lat] = projLonLat("EPSG:6677", "EPSG:6668", src[1], src[0]);  // normalised: easting first
  Vec3 ref = projEcef("EPSG:6668+5773", lon, lat, src[2]);
  CHECK(dist(p, ref) < 0.01);
  Vec3 llh = ecefToLonLatHeight(p);
  CHECK(llh[0] == Approx(139.83).margin(0.2));
  CHECK(llh[1] == Approx(35.68).margin(0.2));
  // The same zone without a vertical CRS: heights taken as orthometric, and said so.
  auto t2 = CrsTransform::create("EPSG:6677");
  REQUIRE(t2.ok());
  CHECK((*t2)->heightAssumed());
  Vec3 q = src;
  (*t2)->toEcef(&q, 1);
  CHECK(dist(p, q) < 0.01);
}
