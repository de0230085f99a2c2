// Coordinates: srsName parsing, and positions against PROJ's own transforms.
#include <proj.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

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

// PROJ's own transform (coordinates in the CRS's axis order: EPSG:6697 is latitude first) with
// twin's GSIGEO2011 grid on its search path: PROJ then picks, from the
// EPSG database, the operation through GSIGEO2011 for JGD2011 heights (it falls back to none,
// i.e. heights taken as ellipsoidal, when the grid is missing, which is the trap).
Vec3 projEcefGsi(const char* from, double x, double y, double h) {
  PJ_CONTEXT* ctx = proj_context_create();
  const std::string grids = std::string(TWIN_SOURCE_DIR) + "/libtwin/data/geoid";
  const char* sys = proj_info().searchpath;
  std::vector<std::string> paths{grids};
  for (std::string rest = sys ? sys : ""; !rest.empty();) {
    size_t c = rest.find(':');
    paths.push_back(rest.substr(0, c));
    rest = c == std::string::npos ? "" : rest.substr(c + 1);
  }
  std::vector<const char*> ptrs;
  for (auto& s : paths) ptrs.push_back(s.c_str());
  proj_context_set_search_paths(ctx, int(ptrs.size()), ptrs.data());
  PJ* p = proj_create_crs_to_crs(ctx, from, "EPSG:4978", nullptr);  // the CRS's own axis order
  REQUIRE(p != nullptr);
  PJ_COORD r = proj_trans(p, PJ_FWD, proj_coord(x, y, h, 0));
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
  CHECK(canonicalSrs("http://www.opengis.net/def/crs-compound?1=http://www.opengis.net/def/crs/EPSG/0/25832&2=http://"
                     "www.opengis.net/def/crs/EPSG/0/5783") == "EPSG:25832+5783");
  CHECK_FALSE(canonicalSrs("urn:ogc:def:crs:local:my-site").has_value());
  CHECK_FALSE(canonicalSrs("").has_value());
}

TEST_CASE("EPSG:6697 (JGD2011 + T.P. height) to ECEF applies GSIGEO2011, matching PROJ within 1 cm", "[crs]") {
  auto t = CrsTransform::create("http://www.opengis.net/def/crs/EPSG/0/6697");
  REQUIRE(t.ok());
  CHECK((*t)->geoidGrid() == "jp_gsi_gsigeo2011.tif (egm96_15.gtx outside its extent)");
  // Yokosuka (a PLATEAU sample vertex), Osaka, Tokyo, Naha, Sapporo (lat, lon, T.P. height: 6697
  // axis order), with GSIGEO2011 - EGM96 there as measured with PROJ vgridshift on both grids.
  struct P {
    Vec3 src;
    double gsiMinusEgm;
  };
  const P pts[] = {{{35.25962954418222, 139.73892268006682, 10.500850847558837}, 0.66},
                   {{34.70123, 135.49876, 3.2}, 0.52},
                   {{35.6812, 139.7671, 40.0}, 0.22},
                   {{26.2124, 127.6809, 5.0}, 1.34},
                   {{43.0621, 141.3544, 20.0}, 0.04}};
  for (const P& pt : pts) {
    const Vec3& src = pt.src;
    Vec3 p = src;
    REQUIRE((*t)->toEcef(&p, 1) == 0);
    INFO("lat " << src[0] << " lon " << src[1]);
    // PROJ's reference: its own EPSG:6697 -> ECEF operation, which goes through GSIGEO2011 once
    // the grid is on its search path.
    Vec3 ref = projEcefGsi("EPSG:6697", src[0], src[1], src[2]);
    CHECK(dist(p, ref) < 0.01);
    // EGM96 (JGD2011 + EGM96 height, EPSG:5773) differs by the geoid models' difference.
    Vec3 egm = projEcef("EPSG:6668+5773", src[1], src[0], src[2]);
    CHECK(dist(p, egm) == Approx(pt.gsiMinusEgm).margin(0.05));
    // The trap: PROJ's plain EPSG:6697 -> 4978 without the grid ignores the geoid (30-40 m off).
    Vec3 naive = projEcef("EPSG:6697", src[1], src[0], src[2]);
    CHECK(dist(p, naive) > 25.0);
    CHECK(dist(p, naive) < 45.0);
  }
}

TEST_CASE("JGD2011 heights outside GSIGEO2011's grid use EGM96; other datums use EGM96", "[crs]") {
  auto t = CrsTransform::create("EPSG:6697");
  REQUIRE(t.ok());
  // The open sea south of Honshu: inside the grid's rectangle, in its no-data cells.
  Vec3 sea{30.0, 145.0, 0.0}, p = sea;
  REQUIRE((*t)->toEcef(&p, 1) == 0);
  CHECK(dist(p, projEcef("EPSG:6668+5773", sea[1], sea[0], sea[2])) < 0.01);
  // A batch of points (a building) astride the edge of the grid's data goes through one model.
  std::vector<Vec3> batch;
  for (int i = 0; i < 6; ++i) batch.push_back({30.0 + i * 0.001, 145.0, 1.0 * i});
  auto copy = batch;
  REQUIRE((*t)->toEcef(batch.data(), batch.size()) == 0);
  for (size_t i = 0; i < batch.size(); ++i)
    CHECK(dist(batch[i], projEcef("EPSG:6668+5773", copy[i][1], copy[i][0], copy[i][2])) < 0.01);
  // ETRS89 + DHHN92 (Germany): EGM96, as before.
  auto de = CrsTransform::create("EPSG:25832+5783");
  REQUIRE(de.ok());
  CHECK((*de)->geoidGrid() == "egm96_15.gtx");
}

TEST_CASE("A user geoid grid replaces the default: EGM96 given as a path gives PROJ's EGM96 heights", "[crs]") {
  GeoidOptions g;
  g.gridFile = "/usr/share/proj/egm96_15.gtx";
  auto a = CrsTransform::create("EPSG:6697", g);
  auto b = CrsTransform::create("EPSG:6697");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  Vec3 src{35.6812, 139.7671, 40.0}, p = src, q = src;
  (*a)->toEcef(&p, 1);
  (*b)->toEcef(&q, 1);
  CHECK(dist(p, projEcef("EPSG:6668+5773", src[1], src[0], src[2])) < 0.01);
  CHECK(dist(p, q) > 0.1);  // the default here is GSIGEO2011: 0.22 m apart in Tokyo
  CHECK((*a)->geoidGrid() == "/usr/share/proj/egm96_15.gtx");
}

TEST_CASE("ECEF <-> geodetic helpers round-trip", "[crs]") {
  Vec3 llh{139.7671, 35.6812, 76.5};
  Vec3 back = ecefToLonLatHeight(lonLatHeightToEcef(llh));
  CHECK(back[0] == Approx(llh[0]).margin(1e-10));
  CHECK(back[1] == Approx(llh[1]).margin(1e-10));
  CHECK(back[2] == Approx(llh[2]).margin(1e-6));
}

TEST_CASE("A building's worth of points in one batch matches PROJ point by point within 1 cm", "[crs]") {
  // 7 x 7 points over ~200 m, once inside one grid cell and once across cell boundaries
  // (GSIGEO2011 1' x 1.5' cells: 35.75 N and 139.775 E are boundaries).
  for (double lat0 : {35.6812, 35.7490}) {
    auto t = CrsTransform::create("EPSG:6697");
    REQUIRE(t.ok());
    std::vector<Vec3> pts, src;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 7; ++j) src.push_back({lat0 + i * 0.0003, 139.7671 + j * 0.0004, 5.0 + i + j});
    pts = src;
    REQUIRE((*t)->toEcef(pts.data(), pts.size()) == 0);
    double worst = 0;
    for (size_t k = 0; k < src.size(); ++k)
      worst = std::max(worst, dist(pts[k], projEcefGsi("EPSG:6697", src[k][0], src[k][1], src[k][2])));
    INFO("lat0 " << lat0 << " worst " << worst);
    CHECK(worst < 0.01);
  }
}

TEST_CASE("JGD2011 plane rectangular zone IX + JGD2011 height matches PROJ through GSIGEO2011 within 1 cm", "[crs]") {
  auto t = CrsTransform::create("urn:ogc:def:crs,crs:EPSG::6677,crs:EPSG::6695");
  REQUIRE(t.ok());
  CHECK((*t)->srs() == "EPSG:6677+6695");
  CHECK_FALSE((*t)->heightAssumed());
  Vec3 p{-35000.0, -6000.0, 12.5};  // (x northing, y easting) of zone IX: Tokyo
  Vec3 src = p;
  REQUIRE((*t)->toEcef(&p, 1) == 0);
  auto [lon, lat] = projLonLat("EPSG:6677", "EPSG:6668", src[1], src[0]);  // normalised: easting first
  Vec3 ref = projEcefGsi("EPSG:6697", lat, lon, src[2]);
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
