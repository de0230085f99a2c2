// GDAL/OGR vector footprints as buildings (toward issue 6): the LOD1 footprints of the bundled
// PLATEAU sample, exported from the land-use store to GeoJSON and GeoPackage with ogr2ogr, are
// converted back into a tileset: same building count, valid glTF, heights extruded from the
// height field on the geoid; footprints without height, and broken files, are reported.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "test_support.h"
#include "twin/crs.h"

using namespace twin;
using namespace twin::test;
using nlohmann::json;

namespace {

struct Heights {
  double min = INFINITY, max = -INFINITY;
  size_t features = 0;
};

// Ellipsoidal heights of every leaf vertex, and the leaves' feature count.
Heights leafHeights(const std::string& dir) {
  Heights h;
  auto ts = json::parse(readText(dir + "/tileset.json"));
  std::function<void(const json&)> walk = [&](const json& t) {
    if (t.contains("children") && !t["children"].empty()) {
      for (auto& c : t["children"]) walk(c);
      return;
    }
    if (!t.contains("content")) return;
    auto g = readGlb(dir + "/" + t["content"]["uri"].get<std::string>());
    REQUIRE(g.ok);
    auto tr = g.json["nodes"][0].value("translation", json::array({0, 0, 0}));
    for (auto& prim : g.json["meshes"][0]["primitives"]) {
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      for (size_t i = 0; i + 2 < pos.size(); i += 3) {
        // Node translation and positions are glTF y-up; 3D Tiles turns them z-up: (x, y, z) -> (x, -z, y).
        double x = tr[0].get<double>() + pos[i], y = tr[1].get<double>() + pos[i + 1],
               z = tr[2].get<double>() + pos[i + 2];
        Vec3 ecef{x, -z, y};
        double hz = ecefToLonLatHeight(ecef)[2];
        h.min = std::min(h.min, hz), h.max = std::max(h.max, hz);
      }
    }
    h.features += g.json["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"].get<size_t>();
  };
  walk(ts["root"]);
  return h;
}

}  // namespace

TEST_CASE("Vector footprints (GeoJSON, GeoPackage) become LOD1 buildings", "[ogr]") {
  std::string dir = tempDir("ogr-footprints");
  std::string sample = std::string(TWIN_SOURCE_DIR) + "/samples/plateau-yokosuka";
  REQUIRE(runTwin("buildings import " + sample + " --store " + dir + "/s.gpkg --store-crs EPSG:6677 -q").exitCode == 0);
  for (const char* fmt : {"GeoJSON", "GPKG"}) {
    std::string out = dir + (std::string(fmt) == "GPKG" ? "/fp.gpkg" : "/fp.geojson");
    auto r = run("ogr2ogr -f " + std::string(fmt) + " " + out + " " + dir +
                 "/s.gpkg buildings -select id,height,storeys_above,usage");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
  }
  auto hs = run("sqlite3 " + dir + "/s.gpkg 'SELECT max(height) FROM buildings'");
  double tallest = std::atof(hs.output.c_str());
  REQUIRE(tallest > 10);
  // The geoid at the site: footprints are 2D, their base is 0 m above it (orthometric). They are
  // in a JGD2011 plane zone, so the geoid is GSIGEO2011's (JGD2011 geographic here, latitude first).
  auto t = CrsTransform::create("EPSG:6668");
  REQUIRE(t.value);
  CHECK((*t.value)->geoidGrid().rfind("jp_gsi_gsigeo2011.tif", 0) == 0);
  Vec3 site{35.26, 139.74, 0.0};
  (*t.value)->toLonLatHeight(&site, 1);
  double geoid = site[2];
  CHECK(geoid == Approx(35.99).margin(0.05));  // GSIGEO2011 near Yokosuka (EGM96 says 35.32)
  for (const char* in : {"/fp.geojson", "/fp.gpkg"}) {
    std::string tiles = dir + "/tiles" + std::string(in).substr(3);
    auto r = runTwin(std::string("convert ") + dir + in + " -o " + tiles + " --no-progress -q --height-field height");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    validateOutput(tiles);
    Heights h = leafHeights(tiles);
    CHECK(h.features == 13);
    CHECK(h.min == Approx(geoid).margin(0.05));
    CHECK(h.max == Approx(geoid + tallest).margin(0.05));
  }
  // A Shapefile inside a zip (read in place through GDAL's /vsizip/): the same buildings.
  {
    auto r = run("ogr2ogr -f 'ESRI Shapefile' " + dir + "/shp " + dir +
                 "/s.gpkg buildings -select id,height -nln footprints");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    r = run("cd " + dir +
            "/shp && python3 -c \"import zipfile,glob; z=zipfile.ZipFile('../fp-shp.zip','w'); "
            "[z.write(f, 'data/' + f) for f in sorted(glob.glob('footprints.*'))]\"");
    REQUIRE(r.exitCode == 0);
    std::string tiles = dir + "/tiles-shp";
    r = runTwin("convert " + dir + "/fp-shp.zip -o " + tiles + " --no-progress -q --height-field height");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    Heights h = leafHeights(tiles);
    CHECK(h.features == 13);
    CHECK(h.max == Approx(geoid + tallest).margin(0.05));
  }
  // On a DEM: a raster 12.5 m high everywhere in the sample's area raises every footprint by it.
  {
    auto env = run("ogrinfo -so -al " + dir + "/fp.geojson | grep Extent");
    double x0, y0, x1, y1;
    REQUIRE(std::sscanf(env.output.c_str() + env.output.find('('), "(%lf, %lf) - (%lf, %lf)", &x0, &y0, &x1, &y1) == 4);
    char cmd[512];
    std::snprintf(cmd, sizeof cmd,
                  "gdal_create -q -of GTiff -outsize 40 40 -bands 1 -ot Float32 -burn 12.5 -a_srs EPSG:6677 "
                  "-a_ullr %.3f %.3f %.3f %.3f %s/flat.tif",
                  x0 - 100, y1 + 100, x1 + 100, y0 - 100, dir.c_str());
    REQUIRE(run(cmd).exitCode == 0);
    std::string tiles = dir + "/tiles-dem";
    auto r = runTwin("convert " + dir + "/fp.geojson -o " + tiles + " --no-progress -q --height-field height --dem " +
                     dir + "/flat.tif");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    Heights h = leafHeights(tiles);
    CHECK(h.features == 13);
    CHECK(h.min == Approx(geoid + 12.5).margin(0.05));
    CHECK(h.max == Approx(geoid + 12.5 + tallest).margin(0.05));
    // Outside the DEM: reported, left at 0 m.
    std::snprintf(cmd, sizeof cmd,
                  "gdal_create -q -of GTiff -outsize 4 4 -bands 1 -ot Float32 -burn 3 -a_srs EPSG:6677 "
                  "-a_ullr %.3f %.3f %.3f %.3f %s/far.tif",
                  x0 + 5000, y1 + 5000, x1 + 5000, y0 + 5000, dir.c_str());
    REQUIRE(run(cmd).exitCode == 0);
    r = runTwin("convert " + dir + "/fp.geojson -o " + dir + "/tiles-far --no-progress --height-field height --dem " +
                dir + "/far.tif");
    CHECK(r.output.find("dem-outside") != std::string::npos);
    r = runTwin("convert " + dir + "/fp.geojson -o " + dir + "/tiles-nodem --no-progress --height-field height --dem " +
                dir + "/nothing.tif");
    CHECK(r.output.find("dem-unreadable") != std::string::npos);
  }
  // Storeys × floor height where no height field is named or found.
  auto r = runTwin("convert " + dir + "/fp.geojson -o " + dir +
                   "/tiles-storeys --no-progress -q --height-field nope "
                   "--storeys-field storeys_above --floor-height 4");
  INFO(r.output);
  CHECK(r.exitCode == 0);
  // Only the footprints without storeys either are reported.
  int noStoreys = std::atoi(
      run("sqlite3 " + dir + "/s.gpkg 'SELECT count(*) FROM buildings WHERE storeys_above IS NULL'").output.c_str());
  size_t at = r.output.find("footprint-no-height");  // the summary counts diagnostics by code
  int warned = at == std::string::npos ? 0 : std::atoi(r.output.c_str() + r.output.find_first_of("0123456789", at));
  CHECK(warned == noStoreys);
  // No height at all: reported per footprint and kept flat; a truncated file is an error.
  writeText(dir + "/flat.geojson",
            R"({"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::6677"}},
    "features":[{"type":"Feature","properties":{"id":"nohigh"},"geometry":{"type":"Polygon","coordinates":[[[-8590,-82133],[-8580,-82133],[-8580,-82123],[-8590,-82123],[-8590,-82133]]]}}]})");
  r = runTwin("convert " + dir + "/flat.geojson -o " + dir + "/tiles-flat --no-progress");
  INFO(r.output);
  CHECK(r.output.find("footprint-no-height") != std::string::npos);
  CHECK(r.output.find("nohigh") != std::string::npos);
  std::string text = readText(dir + "/fp.geojson");
  writeText(dir + "/cut.geojson", text.substr(0, text.size() / 2));
  r = runTwin("convert " + dir + "/cut.geojson -o " + dir + "/tiles-cut --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("ogr-unreadable") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir + "/tiles-cut/tileset.json"));
}
