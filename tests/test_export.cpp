// twin export (issue 6): a selection of the bundled PLATEAU sample as GLB and OBJ (local ENU
// frame; positions checked against PROJ), GeoJSON and GeoPackage footprints (counts, CRS,
// attributes, areas); a CityJSON input exports the same way; empty selections and unknown
// formats write nothing.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "test_support.h"
#include "twin/crs.h"

using namespace twin;
using namespace twin::test;
using nlohmann::json;
namespace sfs = std::filesystem;

namespace {

const char* kA = "bldg_787d830e-2534-410a-8a2a-a531efeb2533";
const char* kB = "bldg_120c3411-e603-489c-a8b4-a960aca9ce32";

std::string sample() { return std::string(TWIN_SOURCE_DIR) + "/samples/plateau-yokosuka"; }

// A vertex of the building's highest LOD, through PROJ to ECEF.
Vec3 firstVertexEcef(const std::string& id) {
  DiagnosticCollector diag;
  auto objs = readAll(sample(), diag);
  for (auto& o : objs)
    if (o.id == id) {
      int lod = o.maxLod();
      const Geometry* g = o.geometry(lod);
      if (!g && !o.children.empty()) g = o.children[0].geometry(o.children[0].maxLod());
      REQUIRE(g);
      Vec3 p = g->points[0];
      auto t = CrsTransform::create(o.srs);
      REQUIRE(t.value);
      (*t.value)->toEcef(&p, 1);
      return p;
    }
  FAIL("no building " << id);
  return {};
}

Vec3 toEnu(const Vec3& ecef, const Vec3& originLlh) {
  Vec3 o = lonLatHeightToEcef(originLlh), e, n, u;
  enuFrame(o, e, n, u);
  Vec3 d{ecef[0] - o[0], ecef[1] - o[1], ecef[2] - o[2]};
  auto dot = [&](const Vec3& a) { return d[0] * a[0] + d[1] * a[1] + d[2] * a[2]; };
  return {dot(e), dot(n), dot(u)};
}

}  // namespace

TEST_CASE("twin export GLB and OBJ: the selected buildings in a local ENU frame", "[export]") {
  std::string dir = tempDir("export-mesh");
  auto r = runTwin("export " + sample() + " -o " + dir + "/sel.glb --ids " + kA + "," + kB + " --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  validateOutput(dir);
  auto g = readGlb(dir + "/sel.glb");
  REQUIRE(g.ok);
  auto& origin = g.json["asset"]["extras"]["twin"]["origin"];
  Vec3 llh{origin["longitude"].get<double>(), origin["latitude"].get<double>(),
           origin["ellipsoidalHeight"].get<double>()};
  CHECK(llh[0] == Approx(139.74).margin(0.01));
  CHECK(llh[1] == Approx(35.26).margin(0.01));
  // One node per building (plus the root), named by id, attributes as extras.
  std::set<std::string> names;
  size_t positions = 0;
  bool found = false;
  Vec3 want = toEnu(firstVertexEcef(kA), llh);
  for (auto& node : g.json["nodes"]) {
    if (!node.contains("mesh")) continue;
    names.insert(node["name"].get<std::string>());
    CHECK(node["extras"]["gml:id"] == node["name"]);
    if (node["name"] == kA) CHECK(node["extras"]["bldg:measuredHeight"].get<double>() == Approx(6.0));
    for (auto& prim : g.json["meshes"][node["mesh"].get<int>()]["primitives"]) {
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      positions += pos.size() / 3;
      if (node["name"] != kA) continue;
      for (size_t i = 0; i + 2 < pos.size(); i += 3)  // glTF y-up: (east, up, -north)
        if (std::hypot(pos[i] - want[0], pos[i + 1] - want[2], pos[i + 2] + want[1]) < 0.02) found = true;
    }
  }
  CHECK(names == std::set<std::string>{kA, kB});
  CHECK(found);
  CHECK(g.json.contains("images"));  // the sample's textures, embedded

  r = runTwin("export " + sample() + " -o " + dir + "/sel.obj --ids " + kA + "," + kB + " --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  std::ifstream obj(dir + "/sel.obj");
  std::string line;
  size_t objects = 0, vertices = 0;
  bool objFound = false;
  std::vector<std::string> maps;
  while (std::getline(obj, line)) {
    if (line.rfind("o ", 0) == 0) ++objects;
    if (line.rfind("v ", 0) == 0) {
      ++vertices;
      double x, y, z;
      std::sscanf(line.c_str() + 2, "%lf %lf %lf", &x, &y, &z);  // z-up: east, north, up
      if (std::hypot(x - want[0], y - want[1], z - want[2]) < 0.02) objFound = true;
    }
  }
  CHECK(objects == 2);
  CHECK(vertices == positions);
  CHECK(objFound);
  std::ifstream mtl(dir + "/sel.mtl");
  while (std::getline(mtl, line))
    if (line.rfind("map_Kd ", 0) == 0) maps.push_back(line.substr(7));
  REQUIRE(!maps.empty());
  for (auto& m : maps) CHECK(sfs::file_size(dir + "/" + m) > 1000);
}

TEST_CASE("twin export GeoJSON and GeoPackage footprints with attributes", "[export]") {
  std::string dir = tempDir("export-footprints");
  auto r = runTwin("export " + sample() + " -o " + dir + "/fp.geojson --bbox 139.73,35.25,139.75,35.27 --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  auto fc = json::parse(readText(dir + "/fp.geojson"));
  REQUIRE(fc["features"].size() == 13);
  for (auto& f : fc["features"]) {
    auto& p = f["properties"];
    INFO(p.dump());
    CHECK(p.contains("gml:id"));
    double area = p["twin:buildingArea"].get<double>();
    CHECK(area > 5);
    // The footprint's area from its longitude/latitude (local equirectangular, < 0.1 % here).
    double a = 0;
    json polys = f["geometry"]["coordinates"];
    if (f["geometry"]["type"] == "Polygon") polys = json::array({polys});
    CHECK((f["geometry"]["type"] == "Polygon" || f["geometry"]["type"] == "MultiPolygon"));
    for (auto& poly : polys) {
      for (size_t ri = 0; ri < poly.size(); ++ri) {
        auto& ring = poly[ri];
        double s = 0;
        for (size_t i = 0; i + 1 < ring.size(); ++i) {
          double lat0 = 35.26 * M_PI / 180;
          double x0 = ring[i][0].get<double>() * M_PI / 180 * 6378137 * std::cos(lat0),
                 y0 = ring[i][1].get<double>() * M_PI / 180 * 6378137;
          double x1 = ring[i + 1][0].get<double>() * M_PI / 180 * 6378137 * std::cos(lat0),
                 y1 = ring[i + 1][1].get<double>() * M_PI / 180 * 6378137;
          s += x0 * y1 - x1 * y0;
        }
        a += (ri == 0 ? 1 : -1) * std::abs(s) / 2;
      }
    }
    CHECK(a == Approx(area).epsilon(0.01));
  }
  // A box that holds none of them: nothing written, exit 1.
  r = runTwin("export " + sample() + " -o " + dir + "/none.geojson --bbox 135,34,135.1,34.1 --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("export-empty") != std::string::npos);
  CHECK_FALSE(sfs::exists(dir + "/none.geojson"));

  r = runTwin("export " + sample() + " -o " + dir + "/fp.gpkg --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  auto info = run("ogrinfo -so " + dir + "/fp.gpkg buildings");
  CHECK(info.output.find("Feature Count: 13") != std::string::npos);
  CHECK(info.output.find("Japan Plane Rectangular CS zone IX") != std::string::npos);  // EPSG:6677 near Yokosuka
  CHECK(info.output.find("bldg:measuredHeight: Real") != std::string::npos);
  r = runTwin("export " + sample() + " -o " + dir + "/fp6676.gpkg --to-crs EPSG:6676 --no-progress");
  REQUIRE(r.exitCode == 0);
  info = run("ogrinfo -so " + dir + "/fp6676.gpkg buildings");
  CHECK(info.output.find("zone VIII") != std::string::npos);
}

TEST_CASE("twin export from CityJSON, and refusals", "[export]") {
  std::string dir = tempDir("export-cityjson");
  auto r =
      runTwin("export " + samples("cityjson-cjio/zurich_subset_lod2.json") + " -o " + dir + "/z.glb --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  validateOutput(dir);
  auto g = readGlb(dir + "/z.glb");
  size_t meshNodes = 0;
  for (auto& n : g.json["nodes"]) meshNodes += n.contains("mesh");
  CHECK(meshNodes == 49);
  r = runTwin("export " + sample() + " -o " + dir + "/x.dwg --no-progress");
  CHECK(r.exitCode == 2);
  r = runTwin("export " + sample() + " -o " + dir + "/y.glb --ids no-such-building --no-progress");
  CHECK(r.exitCode == 1);
  CHECK_FALSE(sfs::exists(dir + "/y.glb"));
  CHECK_FALSE(sfs::exists(dir + "/y.part.glb"));
}
