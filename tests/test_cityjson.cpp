// CityJSON 1.0/1.1/2.0 and CityJSONSeq (issue 6), on the cjio test files in ../shared/samples:
// counts, parts, semantics, materials, textures, sub-LODs, CRS and positions; a CityJSONSeq made
// from a CityJSON file gives the same objects; broken files give diagnostics with the line or id.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "test_support.h"
#include "twin/cityjson/cityjson_reader.h"
#include "twin/crs.h"

using namespace twin;
using namespace twin::test;
using nlohmann::json;

namespace {

std::vector<CityObject> readCityJson(const std::string& path, DiagnosticCollector& diag, ReadStats& stats,
                                     const std::string& crs = {}, std::vector<std::string> types = {}) {
  ReadOptions ro;
  ro.crsOverride = crs;
  ro.objectTypes = std::move(types);
  CollectSink sink;
  cityjson::createReader()->read(path, ro, sink, diag, stats);
  return std::move(sink.objects);
}

std::map<SurfaceType, size_t> polygonsBySurface(const std::vector<CityObject>& objs) {
  std::map<SurfaceType, size_t> m;
  std::function<void(const CityObject&)> walk = [&](const CityObject& o) {
    for (auto& g : o.geometries)
      for (auto& p : g.polygons) m[p.surface]++;
    for (auto& c : o.children) walk(c);
  };
  for (auto& o : objs) walk(o);
  return m;
}

bool hasPoint(const std::vector<CityObject>& objs, const Vec3& p, double tol) {
  std::function<bool(const CityObject&)> walk = [&](const CityObject& o) {
    for (auto& g : o.geometries)
      for (auto& q : g.points)
        if (std::abs(q[0] - p[0]) < tol && std::abs(q[1] - p[1]) < tol && std::abs(q[2] - p[2]) < tol) return true;
    for (auto& c : o.children)
      if (walk(c)) return true;
    return false;
  };
  for (auto& o : objs)
    if (walk(o)) return true;
  return false;
}

std::string diagText(const DiagnosticCollector& diag) {
  std::string s;
  for (auto& d : diag.diagnostics()) s += d.format() + "\n";
  return s;
}

}  // namespace

TEST_CASE("CityJSON 1.1 with a CRS: Zurich LOD2 buildings, their parts and semantic surfaces", "[cityjson]") {
  DiagnosticCollector diag;
  ReadStats stats;
  auto objs = readCityJson(samples("cityjson-cjio/zurich_subset_lod2.json"), diag, stats);
  INFO(diagText(diag));
  CHECK(diag.errorCount() == 0);
  REQUIRE(objs.size() == 49);
  size_t parts = 0;
  for (auto& o : objs) {
    CHECK(o.type == "Building");
    CHECK(o.srs == "EPSG:2056");
    for (auto& c : o.children) {
      CHECK(c.type == "BuildingPart");
      CHECK(c.maxLod() == 2);
      ++parts;
    }
  }
  CHECK(parts == 161);
  CHECK(stats.objectsByType["Building"] == 49);
  CHECK(stats.objectsByType["BuildingPart"] == 161);
  // Counted with Python from the file: 2039 surfaces, 1340 walls, 644 roofs, 55 grounds.
  auto bySurface = polygonsBySurface(objs);
  CHECK(bySurface[SurfaceType::Wall] == 1340);
  CHECK(bySurface[SurfaceType::Roof] == 644);
  CHECK(bySurface[SurfaceType::Ground] == 55);
  // Attributes: CityGML's building attributes under their CityGML names, the rest as they are.
  auto it = std::find_if(objs.begin(), objs.end(),
                         [](auto& o) { return o.id == "UUID_04153856-c970-4f34-a0cf-ff14691e3841"; });
  REQUIRE(it != objs.end());
  REQUIRE(it->attribute("bldg:class"));
  CHECK(it->attribute("bldg:class")->text == "BB01");
  REQUIRE(it->attribute("QualitaetStatus"));
  CHECK(it->attribute("QualitaetStatus")->type == AttributeType::Integer);
  CHECK(it->attribute("QualitaetStatus")->integer == 1);
  REQUIRE(it->attribute("creationDate"));
  CHECK(it->attribute("creationDate")->type == AttributeType::Date);
  CHECK(it->children.size() == 3);
  // vertices[0] with the transform applied (scale 0.001, translate 2677116.375 1241839.025 0),
  // easting first as EPSG:2056 orders its axes.
  CHECK_FALSE(crsNorthFirst("EPSG:2056"));
  CHECK(hasPoint(objs, {2684572.779, 1246324.502, 448.781}, 1e-6));
}

TEST_CASE("CityJSON 2.0 textures; a file without a CRS needs --crs", "[cityjson]") {
  std::string file = samples("cityjson-cjio/rotterdam_subset.json");
  {
    DiagnosticCollector diag;
    ReadStats stats;
    auto objs = readCityJson(file, diag, stats);
    CHECK(objs.empty());
    CHECK(diag.hasCode("crs-missing"));
  }
  DiagnosticCollector diag;
  ReadStats stats;
  auto objs = readCityJson(file, diag, stats, "EPSG:7415");
  INFO(diagText(diag));
  CHECK(diag.errorCount() == 0);
  REQUIRE(objs.size() == 16);
  auto raw = json::parse(readText(file));
  const auto& app = raw["appearance"];
  size_t textured = 0;
  std::set<std::string> images;
  for (auto& o : objs) {
    CHECK(o.srs == "EPSG:7415");
    for (auto& g : o.geometries) {
      CHECK(g.lod == 2);
      bool any = false;
      for (auto& p : g.polygons)
        if (p.texture >= 0) {
          any = true;
          ++textured;
          REQUIRE(size_t(p.texture) < o.textures.size());
          CHECK(o.textures[p.texture].mimeType == "image/jpeg");
        }
      if (any) CHECK(g.uvs.size() == g.points.size());
    }
    for (auto& t : o.textures) images.insert(std::filesystem::path(t.uri).filename().string());
  }
  CHECK(textured > 0);
  CHECK(images.size() == app["textures"].size());  // all 74 images are used by some surface
  CHECK(images.count("0320_7_8.jpg") == 1);
  // The first surface of {19935DFC-...}: texture 24, uv indices 288..293 of vertices-texture.
  auto it =
      std::find_if(objs.begin(), objs.end(), [](auto& o) { return o.id == "{19935DFC-F7B3-4D6E-92DD-C48EE1D1519A}"; });
  REQUIRE(it != objs.end());
  const Geometry& g = it->geometries[0];
  REQUIRE(!g.uvs.empty());
  const Polygon& p0 = g.polygons[0];
  REQUIRE(p0.texture >= 0);
  CHECK(std::filesystem::path(it->textures[p0.texture].uri).filename() ==
        std::filesystem::path(app["textures"][24]["image"].get<std::string>()).filename());
  uint32_t b = g.ringStart[p0.firstRing];
  for (int k = 0; k < 6; ++k) {
    CHECK(g.uvs[b + k][0] == Approx(app["vertices-texture"][288 + k][0].get<double>()));
    CHECK(g.uvs[b + k][1] == Approx(app["vertices-texture"][288 + k][1].get<double>()));
  }
}

TEST_CASE("CityJSON materials, parents and children; sub-LODs keep the finest of each LOD", "[cityjson]") {
  {
    DiagnosticCollector diag;
    ReadStats stats;
    auto objs = readCityJson(samples("cityjson-cjio/DH_01_subs.city.json"), diag, stats, "EPSG:28992");
    INFO(diagText(diag));
    REQUIRE(objs.size() == 4);
    size_t parts = 0, withMaterial = 0;
    bool red = false;
    for (auto& o : objs) {
      for (auto& c : o.children) {
        ++parts;
        for (auto& g : c.geometries)
          for (auto& p : g.polygons)
            if (p.material >= 0) {
              ++withMaterial;
              auto& m = c.materials[p.material];
              if (std::abs(m.diffuse[0] - 0.502f) < 1e-4 && m.diffuse[1] == 0 && m.diffuse[2] == 0) red = true;
            }
      }
    }
    CHECK(parts == 8);
    CHECK(withMaterial > 0);
    CHECK(red);  // appearance.materials[1] is diffuseColor [0.502, 0, 0]
  }
  {
    std::string file = samples("cityjson-cjio/multi_lod.json");
    DiagnosticCollector diag;
    ReadStats stats;
    auto objs = readCityJson(file, diag, stats, "EPSG:28992");
    REQUIRE(objs.size() == 10);
    auto raw = json::parse(readText(file));
    for (auto& o : objs) {
      INFO(o.id);
      REQUIRE(o.geometries.size() == 2);
      const Geometry* lod1 = o.geometry(1);
      const Geometry* lod2 = o.geometry(2);
      REQUIRE(lod1);
      REQUIRE(lod2);
      // LOD 1.3 replaces 1.2: as many polygons as the 1.3 solid has surfaces.
      for (auto& gj : raw["CityObjects"][o.id]["geometry"]) {
        std::string lod = gj["lod"];
        if (lod == "1.3") CHECK(lod1->polygons.size() == gj["boundaries"][0].size());
        if (lod == "2.2") CHECK(lod2->polygons.size() == gj["boundaries"][0].size());
      }
    }
  }
}

TEST_CASE("CityJSON: every object type on request, buildings by default", "[cityjson]") {
  std::string file = samples("cityjson-cjio/delft.json");
  DiagnosticCollector diag;
  ReadStats all;
  auto objs = readCityJson(file, diag, all, {}, {"*"});
  INFO(diagText(diag));
  CHECK(diag.errorCount() == 0);
  CHECK(objs.size() == 570);
  CHECK(all.objectsByType["Building"] == 160);
  CHECK(all.objectsByType["Road"] == 143);
  CHECK(all.objectsByType["PlantCover"] == 126);
  CHECK(all.objectsByType["LandUse"] == 81);
  CHECK(all.objectsByType["GenericCityObject"] == 54);
  CHECK(all.objectsByType["Bridge"] == 3);
  CHECK(all.objectsByType["WaterBody"] == 3);
  CHECK(objs[0].srs == "EPSG:7415");
  ReadStats buildings;
  auto only = readCityJson(file, diag, buildings);
  CHECK(only.size() == 160);
  CHECK(buildings.skippedByType["Road"] == 143);
}

TEST_CASE("CityJSONSeq: read line by line, the same objects as the CityJSON file", "[cityjson]") {
  // Made here from rotterdam_subset.json as cjio would write it: a header line with the
  // transform and CRS, then one CityJSONFeature per building with its own vertices.
  std::string dir = tempDir("cityjsonseq");
  std::string file = samples("cityjson-cjio/rotterdam_subset.json");
  auto raw = json::parse(readText(file));
  json header = {{"type", "CityJSON"},
                 {"version", "2.0"},
                 {"transform", raw["transform"]},
                 {"metadata", {{"referenceSystem", "https://www.opengis.net/def/crs/EPSG/0/7415"}}},
                 {"CityObjects", json::object()},
                 {"vertices", json::array()}};
  std::string seq = header.dump() + "\n";
  size_t features = 0;
  for (auto& [id, o] : raw["CityObjects"].items()) {
    json f = {{"type", "CityJSONFeature"}, {"id", id}, {"CityObjects", json::object()}, {"vertices", json::array()}};
    std::map<int, int> remap;
    json obj = o;
    std::function<void(json&)> reindex = [&](json& b) {
      if (b.is_number_integer()) {
        auto [it, fresh] = remap.try_emplace(b.get<int>(), int(remap.size()));
        if (fresh) f["vertices"].push_back(raw["vertices"][b.get<int>()]);
        b = it->second;
      } else if (b.is_array()) {
        for (auto& x : b) reindex(x);
      }
    };
    for (auto& g : obj["geometry"]) reindex(g["boundaries"]);
    f["CityObjects"][id] = obj;
    f["appearance"] = raw["appearance"];
    seq += f.dump() + "\n";
    if (++features == 8) seq += "{\"type\": \"CityJSONFeature\", \"CityObjects\": {\"broken\n";  // a broken line
  }
  writeText(dir + "/rotterdam.city.jsonl", seq);

  DiagnosticCollector ref;
  ReadStats refStats;
  auto expected = readCityJson(file, ref, refStats, "EPSG:7415");
  DiagnosticCollector diag;
  ReadStats stats;
  auto got = readAll(dir + "/rotterdam.city.jsonl", diag, &stats);
  INFO(diagText(diag));
  // The broken line (line 10: header, 8 features, then it) is reported and the rest still read.
  auto ds = diag.diagnostics();
  auto broken = std::find_if(ds.begin(), ds.end(), [](auto& d) { return d.code == "json-malformed"; });
  REQUIRE(broken != ds.end());
  CHECK(broken->line == 10);
  REQUIRE(got.size() == expected.size());
  std::map<std::string, const CityObject*> byId;
  for (auto& o : got) byId[o.id] = &o;
  for (auto& e : expected) {
    INFO(e.id);
    REQUIRE(byId.count(e.id));
    const CityObject& o = *byId[e.id];
    CHECK(o.srs == e.srs);
    REQUIRE(o.geometries.size() == e.geometries.size());
    const Geometry &a = o.geometries[0], &b = e.geometries[0];
    REQUIRE(a.points.size() == b.points.size());
    for (size_t i = 0; i < a.points.size(); ++i)
      for (int k = 0; k < 3; ++k) CHECK(a.points[i][k] == Approx(b.points[i][k]).margin(1e-9));
    CHECK(a.polygons.size() == b.polygons.size());
    CHECK(a.uvs.size() == b.uvs.size());
    CHECK(o.sourceLine > 1);  // the feature's line in the sequence
  }                           // The same sequence under a .json name is recognised by its first line.
  writeText(dir + "/rotterdam-seq.json", seq);
  DiagnosticCollector diag2;
  auto again = readAll(dir + "/rotterdam-seq.json", diag2);
  CHECK(again.size() == expected.size());
}

TEST_CASE("Broken CityJSON gives diagnostics naming the line or the object", "[cityjson][bad-input]") {
  std::string dir = tempDir("cityjson-bad");
  auto cube = readText(samples("cityjson-cjio/cube.json"));
  auto read = [&](const std::string& name, const std::string& text, DiagnosticCollector& diag) {
    writeText(dir + "/" + name, text);
    ReadStats stats;
    return readCityJson(dir + "/" + name, diag, stats, "EPSG:28992");
  };
  {  // truncated: the error names the last line
    DiagnosticCollector diag;
    auto objs = read("truncated.json", cube.substr(0, cube.size() / 2), diag);
    CHECK(objs.empty());
    auto ds = diag.diagnostics();
    REQUIRE(!ds.empty());
    CHECK(ds[0].code == "json-malformed");
    CHECK(ds[0].line > 1);
  }
  {  // a vertex index past the end of "vertices"
    auto j = json::parse(cube);
    j["CityObjects"]["id-1"]["geometry"][0]["boundaries"][0][0][0][0] = 999;
    DiagnosticCollector diag;
    auto objs = read("bad-index.json", j.dump(1), diag);
    REQUIRE(objs.size() == 1);
    CHECK(objs[0].geometries[0].polygons.size() == 5);  // the other five faces of the cube
    auto ds = diag.diagnostics();
    auto d = std::find_if(ds.begin(), ds.end(), [](auto& x) { return x.code == "cityjson-bad-vertex"; });
    REQUIRE(d != ds.end());
    CHECK(d->featureId == "id-1");
  }
  {  // members of the wrong JSON type do not throw
    auto j = json::parse(cube);
    j["CityObjects"]["id-1"]["type"] = 5;
    j["CityObjects"]["id-1"]["geometry"][0]["lod"] = json::object();
    j["CityObjects"]["id-2"] = {{"type", "Building"}, {"geometry", "none"}, {"attributes", {{"a", nullptr}}}};
    DiagnosticCollector diag;
    ReadStats stats;
    writeText(dir + "/types.json", j.dump());
    CollectSink sink;
    ReadOptions ro;
    ro.crsOverride = "EPSG:28992";
    ro.objectTypes = {"*"};
    CHECK(cityjson::createReader()->read(dir + "/types.json", ro, sink, diag, stats));
    CHECK(diag.hasCode("cityjson-bad-lod"));
  }
  {  // not CityJSON, unknown version
    DiagnosticCollector diag;
    read("geojson.json", R"({"type":"FeatureCollection","features":[]})", diag);
    CHECK(diag.hasCode("cityjson-malformed"));
    auto j = json::parse(cube);
    j["version"] = "3.7";
    DiagnosticCollector diag2;
    auto objs = read("v37.json", j.dump(), diag2);
    CHECK(objs.size() == 1);
    CHECK(diag2.hasCode("cityjson-version"));
  }
  {  // a sequence without its header line
    DiagnosticCollector diag;
    read("noheader.city.jsonl",
         R"({"type":"CityJSONFeature","id":"a","CityObjects":{},"vertices":[]})"
         "\n",
         diag);
    CHECK(diag.hasCode("cityjson-seq-header"));
  }
}

TEST_CASE("CityJSON through twin convert: a valid tileset at the place PROJ puts it", "[cityjson]") {
  std::string dir = tempDir("cityjson-convert");
  std::string file = samples("cityjson-cjio/zurich_subset_lod2.json");
  auto r = runTwin("convert " + file + " -o " + dir + "/tiles --no-progress -q");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  validateOutput(dir + "/tiles");
  // The first vertex of the file through PROJ (EPSG:2056, heights taken as orthometric with the
  // default geoid, as for any 2D CRS) must be a vertex of some tile within 2 cm.
  auto t = CrsTransform::create("EPSG:2056");
  REQUIRE(t.value);
  Vec3 p{2684572.779, 1246324.502, 448.781};
  (*t.value)->toEcef(&p, 1);
  bool found = false;
  size_t features = 0;
  std::function<void(const json&)> walk = [&](const json& tile) {
    if (tile.contains("children") && !tile["children"].empty()) {
      for (auto& c : tile["children"]) walk(c);
      return;
    }
    if (!tile.contains("content")) return;
    auto g = readGlb(dir + "/tiles/" + tile["content"]["uri"].get<std::string>());
    REQUIRE(g.ok);
    features += g.json["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"].get<size_t>();
    auto tr = g.json["nodes"][0].value("translation", json::array({0, 0, 0}));
    for (auto& prim : g.json["meshes"][0]["primitives"]) {
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      for (size_t i = 0; i + 2 < pos.size() && !found; i += 3) {
        double x = tr[0].get<double>() + pos[i], y = tr[1].get<double>() + pos[i + 1],
               z = tr[2].get<double>() + pos[i + 2];
        Vec3 ecef{x, -z, y};  // glTF y-up to 3D Tiles z-up
        if (std::hypot(ecef[0] - p[0], ecef[1] - p[1], ecef[2] - p[2]) < 0.02) found = true;
      }
    }
  };
  walk(json::parse(readText(dir + "/tiles/tileset.json"))["root"]);
  CHECK(found);
  CHECK(features == 49);
}

TEST_CASE("CityJSON 1.0 (numeric lod, URN CRS) and geometry templates", "[cityjson]") {
  std::string dir = tempDir("cityjson-10");
  auto cube = json::parse(readText(samples("cityjson-cjio/cube.json")));
  cube["version"] = "1.0";
  cube["metadata"] = {{"referenceSystem", "urn:ogc:def:crs:EPSG::28992"}};
  cube["CityObjects"]["id-1"]["geometry"][0]["lod"] = 2;
  // A second building placed by a template: the unit triangle scaled x2 and moved to a vertex.
  cube["geometry-templates"] = {
      {"templates", json::array({{{"type", "MultiSurface"}, {"lod", 1}, {"boundaries", {{{0, 1, 2}}}}}})},
      {"vertices-templates", {{0.0, 0.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}}}};
  cube["CityObjects"]["tpl"] = {
      {"type", "Building"},
      {"geometry", json::array({{{"type", "GeometryInstance"},
                                 {"template", 0},
                                 {"boundaries", {0}},
                                 {"transformationMatrix", {2, 0, 0, 10, 0, 2, 0, 20, 0, 0, 1, 0, 0, 0, 0, 1}}}})}};
  writeText(dir + "/c.json", cube.dump());
  DiagnosticCollector diag;
  ReadStats stats;
  auto objs = readCityJson(dir + "/c.json", diag, stats);
  INFO(diagText(diag));
  CHECK(diag.errorCount() == 0);
  REQUIRE(objs.size() == 2);
  std::map<std::string, const CityObject*> byId;
  for (auto& o : objs) byId[o.id] = &o;
  REQUIRE(byId.count("id-1"));
  CHECK(byId["id-1"]->srs == "EPSG:28992");
  CHECK(byId["id-1"]->maxLod() == 2);
  REQUIRE(byId.count("tpl"));
  const Geometry* g = byId["tpl"]->geometry(1);
  REQUIRE(g);
  REQUIRE(g->points.size() == 3);
  // vertices[0] of the cube with its transform, plus (2x + 10, 2y + 20, z).
  auto& v0 = cube["vertices"][0];
  double s = cube["transform"]["scale"][0],
         t[3] = {cube["transform"]["translate"][0], cube["transform"]["translate"][1],
                 cube["transform"]["translate"][2]};
  Vec3 ref{v0[0].get<double>() * s + t[0], v0[1].get<double>() * s + t[1], v0[2].get<double>() * s + t[2]};
  CHECK(g->points[0][0] == Approx(ref[0] + 10));
  CHECK(g->points[0][1] == Approx(ref[1] + 20));
  CHECK(g->points[1][0] == Approx(ref[0] + 12));
  CHECK(g->points[2][1] == Approx(ref[1] + 22));
}
