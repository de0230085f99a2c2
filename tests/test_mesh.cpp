// Meshes and point clouds (issue 6), made from the bundled PLATEAU sample so that the expected
// positions are known: `twin export` writes its 13 buildings as OBJ and GLB in an east-north-up
// frame; converting those back with --crs EPSG:4979 --origin (the frame's origin) must put every
// building where PROJ puts the CityGML (2 cm); PLY/STL meshes (Open3D) and a projected placement
// likewise; point clouds sampled on the buildings' surfaces become a point tileset with every
// point written once, inside its tile's box, with voxel-subsampled levels of detail.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
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

std::string sample() { return std::string(TWIN_SOURCE_DIR) + "/samples/plateau-yokosuka"; }

Vec3 vertexEcef(const std::string& id) {
  DiagnosticCollector diag;
  for (auto& o : readAll(sample(), diag))
    if (o.id == id) {
      Vec3 p = o.geometry(o.maxLod())->points[0];
      auto t = CrsTransform::create(o.srs);
      (*t.value)->toEcef(&p, 1);
      return p;
    }
  return {NAN, NAN, NAN};
}

struct TileWalk {
  size_t features = 0, points = 0, tiles = 0;  // features: in leaf tiles
  std::vector<Vec3> ecef;                      // every vertex / point
  bool outside = false;                        // some point outside its tile's box
  bool errorGrows = false;                     // a child's geometric error above its parent's
};

// Walks a tileset: positions to ECEF, point containment in the tile box.
TileWalk walk(const std::string& dir) {
  TileWalk w;
  auto ts = json::parse(readText(dir + "/tileset.json"));
  std::function<void(const json&, double)> rec = [&](const json& t, double parentError) {
    double err = t["geometricError"].get<double>();
    if (err > parentError + 1e-9) w.errorGrows = true;
    if (t.contains("content")) {
      auto g = readGlb(dir + "/" + t["content"]["uri"].get<std::string>());
      REQUIRE(g.ok);
      ++w.tiles;
      bool leaf = !t.contains("children") || t["children"].empty();
      if (leaf && g.json.contains("extensions") && g.json["extensions"].contains("EXT_structural_metadata"))
        w.features += g.json["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"].get<size_t>();
      auto tr = g.json["nodes"][0].value("translation", json::array({0, 0, 0}));
      auto& box = t["boundingVolume"]["box"];
      for (auto& prim : g.json["meshes"][0]["primitives"]) {
        auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
        if (prim.value("mode", 4) == 0) w.points += pos.size() / 3;
        for (size_t i = 0; i + 2 < pos.size(); i += 3) {
          double x = tr[0].get<double>() + pos[i], y = tr[1].get<double>() + pos[i + 1],
                 z = tr[2].get<double>() + pos[i + 2];
          Vec3 p{x, -z, y};
          w.ecef.push_back(p);
          if (box.is_array()) {  // inside the oriented box: |d . axis| <= |axis|^2 for each half axis
            Vec3 d{p[0] - box[0].get<double>(), p[1] - box[1].get<double>(), p[2] - box[2].get<double>()};
            for (int a = 0; a < 3; ++a) {
              double ax[3] = {box[3 + 3 * a].get<double>(), box[4 + 3 * a].get<double>(), box[5 + 3 * a].get<double>()};
              double len2 = ax[0] * ax[0] + ax[1] * ax[1] + ax[2] * ax[2];
              if (std::abs(d[0] * ax[0] + d[1] * ax[1] + d[2] * ax[2]) > len2 + 1e-3) w.outside = true;
            }
          }
        }
      }
    }
    for (auto& c : t.value("children", json::array())) rec(c, err);
  };
  rec(ts["root"], ts["geometricError"].get<double>());
  return w;
}

bool near(const std::vector<Vec3>& pts, const Vec3& p, double tol) {
  for (auto& q : pts)
    if (std::hypot(q[0] - p[0], q[1] - p[1], q[2] - p[2]) < tol) return true;
  return false;
}

// The origin of an OBJ written by twin export: "--origin lon,lat,h".
std::string objOrigin(const std::string& obj) {
  std::ifstream f(obj);
  std::string line;
  while (std::getline(f, line)) {
    double lon, lat, h;
    auto pos = line.find("about longitude ");
    if (pos != std::string::npos &&
        std::sscanf(line.c_str() + pos, "about longitude %lf, latitude %lf, ellipsoidal height %lf", &lon, &lat, &h) ==
            3) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%.9f,%.9f,%.3f", lon, lat, h);
      return buf;
    }
  }
  return {};
}

struct ObjMesh {
  std::vector<Vec3> v;
  std::vector<std::array<int, 3>> tri;  // first object's triangles
};

ObjMesh readObjMesh(const std::string& path, bool firstObjectOnly) {
  ObjMesh m;
  std::ifstream f(path);
  std::string line;
  int objects = 0;
  while (std::getline(f, line)) {
    if (line.rfind("o ", 0) == 0) ++objects;
    if (line.rfind("v ", 0) == 0) {
      Vec3 p;
      std::sscanf(line.c_str() + 2, "%lf %lf %lf", &p[0], &p[1], &p[2]);
      m.v.push_back(p);
    } else if (line.rfind("f ", 0) == 0 && (!firstObjectOnly || objects == 1)) {
      std::array<int, 3> t;
      std::istringstream s(line.substr(2));
      for (int k = 0; k < 3; ++k) {
        std::string tok;
        s >> tok;
        t[k] = std::stoi(tok.substr(0, tok.find('/'))) - 1;
      }
      m.tri.push_back(t);
    }
  }
  return m;
}

Vec3 enuToEcef(const Vec3& e, const std::string& origin) {
  double lon, lat, h;
  std::sscanf(origin.c_str(), "%lf,%lf,%lf", &lon, &lat, &h);
  Vec3 o = lonLatHeightToEcef({lon, lat, h}), ea, no, up;
  enuFrame(o, ea, no, up);
  return {o[0] + e[0] * ea[0] + e[1] * no[0] + e[2] * up[0], o[1] + e[0] * ea[1] + e[1] * no[1] + e[2] * up[1],
          o[2] + e[0] * ea[2] + e[1] * no[2] + e[2] * up[2]};
}

}  // namespace

TEST_CASE("OBJ and GLB meshes come back where the city model was", "[mesh]") {
  std::string dir = tempDir("mesh-roundtrip");
  REQUIRE(runTwin("export " + sample() + " -o " + dir + "/city.obj -q --no-progress").exitCode == 0);
  REQUIRE(runTwin("export " + sample() + " -o " + dir + "/city.glb -q --no-progress").exitCode == 0);
  std::string origin = objOrigin(dir + "/city.obj");
  REQUIRE(!origin.empty());
  Vec3 want = vertexEcef(kA);
  for (const char* in : {"city.obj", "city.glb"}) {
    INFO(in);
    std::string out = dir + "/tiles-" + std::string(in).substr(5);
    auto r = runTwin(std::string("convert ") + dir + "/" + in + " --crs EPSG:4979 --origin " + origin + " -o " + out +
                     " --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    validateOutput(out);
    auto w = walk(out);
    CHECK(w.features == 13);  // one feature per OBJ object / glTF node
    CHECK_FALSE(w.outside);
    CHECK(near(w.ecef, want, 0.02));
    if (std::string(in) == "city.obj") CHECK(r.output.find(" 0 textures") == std::string::npos);  // map_Kd carried
  }
  // One feature per file on request.
  auto r = runTwin("convert " + dir + "/city.obj --crs EPSG:4979 --origin " + origin + " --mesh-split file -o " + dir +
                   "/tiles-one --no-progress");
  REQUIRE(r.exitCode == 0);
  CHECK(walk(dir + "/tiles-one").features == 1);
}

TEST_CASE("PLY and STL meshes (Open3D), and a projected placement", "[mesh]") {
  std::string dir = tempDir("mesh-open3d");
  REQUIRE(
      runTwin("export " + sample() + " --ids " + std::string(kA) + " -o " + dir + "/a.obj -q --no-progress").exitCode ==
      0);
  std::string origin = objOrigin(dir + "/a.obj");
  auto m = readObjMesh(dir + "/a.obj", true);
  REQUIRE(m.tri.size() >= 4);
  {
    std::ofstream ply(dir + "/a.ply");
    ply << "ply\nformat ascii 1.0\nelement vertex " << m.v.size()
        << "\nproperty double x\nproperty double y\nproperty double z\nelement face " << m.tri.size()
        << "\nproperty list uchar int vertex_indices\nend_header\n";
    ply.precision(10);
    for (auto& p : m.v) ply << p[0] << " " << p[1] << " " << p[2] << "\n";
    for (auto& t : m.tri) ply << "3 " << t[0] << " " << t[1] << " " << t[2] << "\n";
    std::ofstream stl(dir + "/a.stl");
    stl.precision(10);
    stl << "solid a\n";
    for (auto& t : m.tri) {
      stl << "facet normal 0 0 0\nouter loop\n";
      for (int k = 0; k < 3; ++k)
        stl << "vertex " << m.v[t[k]][0] << " " << m.v[t[k]][1] << " " << m.v[t[k]][2] << "\n";
      stl << "endloop\nendfacet\n";
    }
    stl << "endsolid a\n";
  }
  Vec3 want = enuToEcef(m.v[m.tri[0][0]], origin);
  for (const char* in : {"a.ply", "a.stl"}) {
    INFO(in);
    std::string out = dir + "/t-" + std::string(in).substr(2);
    auto r = runTwin(std::string("convert ") + dir + "/" + in + " --crs EPSG:4979 --origin " + origin + " -o " + out +
                     " --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    validateOutput(out);
    auto w = walk(out);
    CHECK(w.features == 1);
    CHECK(near(w.ecef, want, 0.02));
  }
  // Projected: a 10 m cube whose (0,0,0) is at easting -8600, northing -82100, 20 m in EPSG:6677
  // (Japan Plane IX, whose axes are northing first).
  {
    std::ofstream obj(dir + "/cube.obj");
    obj << "o cube\n";
    for (int i = 0; i < 8; ++i)
      obj << "v " << (i & 1) * 10 << " " << ((i >> 1) & 1) * 10 << " " << ((i >> 2) & 1) * 10 << "\n";
    obj << "f 1 3 4 2\nf 5 6 8 7\nf 1 2 6 5\nf 3 7 8 4\nf 1 5 7 3\nf 2 4 8 6\n";
  }
  auto r = runTwin("convert " + dir + "/cube.obj --crs EPSG:6677 --origin -8600,-82100,20 -o " + dir +
                   "/t-cube --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  auto t = CrsTransform::create("EPSG:6677");
  REQUIRE(t.value);
  Vec3 corner{-82100 + 10, -8600 + 10, 30};  // northing, easting, height: model (10, 10, 10)
  (*t.value)->toEcef(&corner, 1);
  auto w = walk(dir + "/t-cube");
  CHECK(w.features == 1);
  CHECK(near(w.ecef, corner, 0.02));
}

TEST_CASE("Point clouds become a point tileset with voxel levels of detail", "[mesh][pointcloud]") {
  std::string dir = tempDir("pointcloud");
  REQUIRE(runTwin("export " + sample() + " -o " + dir + "/city.obj -q --no-progress").exitCode == 0);
  std::string origin = objOrigin(dir + "/city.obj");
  auto m = readObjMesh(dir + "/city.obj", false);
  // 60 points on each triangle of the 13 buildings (deterministic), coloured by height.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Vec3> pts;
  for (auto& t : m.tri)
    for (int k = 0; k < 60; ++k) {
      double a = u(rng), b = u(rng);
      if (a + b > 1) a = 1 - a, b = 1 - b;
      const Vec3 &p0 = m.v[t[0]], &p1 = m.v[t[1]], &p2 = m.v[t[2]];
      pts.push_back({p0[0] + a * (p1[0] - p0[0]) + b * (p2[0] - p0[0]),
                     p0[1] + a * (p1[1] - p0[1]) + b * (p2[1] - p0[1]),
                     p0[2] + a * (p1[2] - p0[2]) + b * (p2[2] - p0[2])});
    }
  REQUIRE(pts.size() > 50000);
  {
    std::ofstream ply(dir + "/cloud.ply"), xyz(dir + "/cloud.xyz"), pcd(dir + "/cloud.pcd");
    ply << "ply\nformat ascii 1.0\nelement vertex " << pts.size()
        << "\nproperty double x\nproperty double y\nproperty double z\nproperty uchar red\nproperty uchar green\n"
           "property uchar blue\nend_header\n";
    pcd << "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z\nSIZE 8 8 8\nTYPE F F F\nCOUNT 1 1 1\nWIDTH " << pts.size()
        << "\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS " << pts.size() << "\nDATA ascii\n";
    for (auto* s : {&ply, &xyz, &pcd}) s->precision(10);
    for (auto& p : pts) {
      ply << p[0] << " " << p[1] << " " << p[2] << " " << int(std::clamp(p[2] * 8, 0.0, 255.0)) << " 120 80\n";
      xyz << p[0] << " " << p[1] << " " << p[2] << "\n";
      pcd << p[0] << " " << p[1] << " " << p[2] << "\n";
    }
  }
  Vec3 want = enuToEcef(pts[0], origin);
  for (const char* in : {"cloud.ply", "cloud.xyz", "cloud.pcd"}) {
    INFO(in);
    std::string out = dir + "/t-" + std::string(in).substr(6);
    auto r = runTwin(std::string("convert ") + dir + "/" + in + " --crs EPSG:4979 --origin " + origin +
                     " --max-points 5000 -o " + out + " --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    validateOutput(out);
    auto w = walk(out);
    CHECK(w.points == pts.size());  // refine ADD: every point exactly once
    CHECK(w.tiles > 8);             // split: 5000 points at most per leaf
    CHECK_FALSE(w.outside);
    CHECK_FALSE(w.errorGrows);
    CHECK(near(w.ecef, want, 0.01));
    auto ts = json::parse(readText(out + "/tileset.json"));
    CHECK(ts["asset"]["version"] == "1.1");
    CHECK(ts["root"]["refine"] == "ADD");
    CHECK(ts["root"]["geometricError"].get<double>() > 0);  // the root keeps a subsample
    auto root = readGlb(out + "/" + ts["root"]["content"]["uri"].get<std::string>());
    CHECK(root.json["meshes"][0]["primitives"][0]["mode"] == 0);
    if (std::string(in) == "cloud.ply")
      CHECK(root.json["meshes"][0]["primitives"][0]["attributes"].contains("COLOR_0"));
  }
}

TEST_CASE("Broken meshes and point clouds give diagnostics", "[mesh][bad-input]") {
  std::string dir = tempDir("mesh-bad");
  writeText(dir + "/bad.obj", "o x\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\nf 1 2 3\n");
  auto r =
      runTwin("convert " + dir + "/bad.obj --crs EPSG:6677 --origin -8600,-82100,0 -o " + dir + "/t1 --no-progress");
  INFO(r.output);
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("obj-bad-face") != std::string::npos);
  CHECK(r.output.find("bad.obj:5") != std::string::npos);  // file and line
  r = runTwin("convert " + dir + "/bad.obj -o " + dir + "/t2 --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("crs-missing") != std::string::npos);
  writeText(dir + "/trunc.glb", std::string("glTF\x02\0\0\0\xff\xff\0\0", 12));
  r = runTwin("convert " + dir + "/trunc.glb --crs EPSG:6677 -o " + dir + "/t3 --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("gltf-malformed") != std::string::npos);
  writeText(
      dir + "/empty.ply",
      "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nend_header\n");
  r = runTwin("convert " + dir + "/empty.ply --crs EPSG:6677 -o " + dir + "/t4 --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("pointcloud-unreadable") != std::string::npos);
  writeText(dir + "/p.xyz", "1 2 3\n4 5 6\n");
  r = runTwin("convert " + dir + "/p.xyz " + sample() + " --crs EPSG:6677 -o " + dir + "/t5 --no-progress");
  CHECK(r.exitCode == 2);  // point clouds and city objects do not mix
  CHECK(r.output.find("inputs-mixed") != std::string::npos);
  CHECK_FALSE(sfs::exists(dir + "/t5"));
}
