// CityGML reader on real PLATEAU and KIT data: counts, attributes with types, textures, geometry.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "test_support.h"
#include "twin/converters/registry.h"
#include "twin/metadata.h"

using namespace twin;
using namespace twin::test;

namespace {
const Attribute* findAttr(const std::vector<Attribute>& attrs, const std::string& key) {
  for (auto& a : attrs)
    if (a.key == key) return &a;
  return nullptr;
}
size_t countPolygons(const CityObject& o, int lod) {
  size_t n = 0;
  if (auto* g = o.geometry(lod)) n += g->polygons.size();
  for (auto& c : o.children) n += countPolygons(c, lod);
  return n;
}
}  // namespace

TEST_CASE("The registry picks the CityGML reader by extension and content", "[citygml]") {
  const auto& reg = converters::builtinFormats();
  REQUIRE(reg.find("citygml") != nullptr);
  std::string head = "<?xml version=\"1.0\"?><core:CityModel xmlns:core=\"http://www.opengis.net/citygml/2.0\">";
  CHECK(reg.forFile("a/b/c.gml", head) == reg.find("citygml"));
  CHECK(reg.forFile("a/b/c.txt", "hello") == nullptr);
}

TEST_CASE("PLATEAU Yokosuka LOD2 with textures: buildings, parts, attributes, textures", "[citygml]") {
  DiagnosticCollector diag;
  ReadStats stats;
  auto objs = readAll(samples("plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml"), diag, &stats);
  REQUIRE(objs.size() == 13);
  CHECK(stats.objectsByType["Building"] == 13);
  CHECK(stats.objectsByType["BuildingPart"] == 2);
  CHECK(diag.errorCount() == 0);

  const CityObject& museum = objs[0];
  CHECK(museum.id == "bldg_787d830e-2534-410a-8a2a-a531efeb2533");
  CHECK(museum.srs == "EPSG:6697");
  CHECK(museum.sourceLine == 10);
  auto* name = museum.attribute("gml:name");
  REQUIRE(name);
  CHECK(name->text == "横須賀美術館");
  auto* h = museum.attribute("bldg:measuredHeight");
  REQUIRE(h);
  CHECK(h->type == AttributeType::Double);
  CHECK(h->number == 6.0);
  CHECK(h->uom == "m");
  auto* storeys = museum.attribute("bldg:storeysAboveGround");
  REQUIRE(storeys);
  CHECK(storeys->type == AttributeType::Integer);
  CHECK(storeys->integer == 1);
  auto* figure = museum.attribute("gen:図形ID");
  REQUIRE(figure);
  CHECK(figure->type == AttributeType::Integer);
  CHECK(figure->integer == 16943);
  auto* coef = museum.attribute("gen:床面積換算係数");
  REQUIRE(coef);
  CHECK(coef->type == AttributeType::Double);
  CHECK(coef->number == 0.9);
  auto* usage = museum.attribute("bldg:usage");
  REQUIRE(usage);
  CHECK(usage->type == AttributeType::Code);
  CHECK(usage->text == "422");  // the sample ships no codelists/: the code stays as it is

  // LOD0, 1 and 2 are all read; LOD2 comes from boundedBy surfaces with semantics, not doubled
  // by the lod2Solid's xlink references to them.
  CHECK(museum.geometry(0) != nullptr);
  CHECK(museum.geometry(1) != nullptr);
  REQUIRE(museum.geometry(2) != nullptr);
  const Geometry& g2 = *museum.geometry(2);
  size_t roofs = 0, walls = 0, grounds = 0;
  for (auto& p : g2.polygons) {
    roofs += p.surface == SurfaceType::Roof;
    walls += p.surface == SurfaceType::Wall;
    grounds += p.surface == SurfaceType::Ground;
  }
  CHECK(roofs > 0);
  CHECK(walls > 0);
  CHECK(grounds > 0);
  CHECK(roofs + walls + grounds == g2.polygons.size());

  // Textures: 3 images in the file, each used by some building; texture coordinates per ring.
  std::set<std::string> images;
  size_t texturedRings = 0;
  std::function<void(const CityObject&)> visit = [&](const CityObject& o) {
    for (auto& g : o.geometries)
      for (auto& p : g.polygons)
        if (p.texture >= 0) {
          texturedRings += p.ringCount;
          images.insert(o.textures[p.texture].uri);
          REQUIRE(g.uvs.size() == g.points.size());
        }
    for (auto& c : o.children) visit(c);
  };
  for (auto& o : objs) visit(o);
  CHECK(images.size() == 3);
  CHECK(texturedRings == 335);  // one per app:textureCoordinates in the file
  for (auto& uri : images) CHECK(std::filesystem::exists(uri));

  // Bounds: every point lies inside the file's gml:Envelope (lat, lon, T.P. height), and the
  // buildings reach its corners.
  double lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1e9, -1e9, -1e9};
  std::function<void(const CityObject&)> bounds = [&](const CityObject& o) {
    for (auto& g : o.geometries)
      for (auto& p : g.points)
        for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], p[k]), hi[k] = std::max(hi[k], p[k]);
    for (auto& c : o.children) bounds(c);
  };
  for (auto& o : objs) bounds(o);
  const double envLo[3] = {35.258297338392, 139.73724371347967, 2.19367718697};
  const double envHi[3] = {35.261543955192025, 139.74055489539032, 21.72735546832999};
  for (int k = 0; k < 3; ++k) {
    CHECK(lo[k] >= envLo[k] - 1e-9);
    CHECK(hi[k] <= envHi[k] + 1e-9);
    CHECK(lo[k] == Approx(envLo[k]).margin(k < 2 ? 1e-4 : 0.5));
    CHECK(hi[k] == Approx(envHi[k]).margin(k < 2 ? 1e-4 : 0.5));
  }

  // Building parts are children of their building.
  size_t withParts = 0;
  for (auto& o : objs)
    if (!o.children.empty()) {
      ++withParts;
      for (auto& c : o.children) CHECK(c.type == "BuildingPart");
    }
  CHECK(withParts >= 1);
}

TEST_CASE("PLATEAU Osaka LOD1: i-UR 3.1 attributes as typed groups", "[citygml]") {
  DiagnosticCollector diag;
  auto objs = readAll(samples("plateau-osaka-lod1/udx/bldg/51357309_bldg_6697_op.gml"), diag);
  REQUIRE(objs.size() == 63);
  const CityObject& b = objs[0];
  CHECK(b.id == "bldg_fdbf34c2-400a-4ce6-aa4c-898f17fa4d78");
  auto* created = b.attribute("core:creationDate");
  REQUIRE(created);
  CHECK(created->type == AttributeType::Date);
  CHECK(created->text == "2023-03-22");
  auto* ward = b.attribute("gen:区名");
  REQUIRE(ward);
  CHECK(ward->text == "住吉区");
  auto* detail = b.attribute("uro:BuildingDetailAttribute");
  REQUIRE(detail);
  REQUIRE(detail->type == AttributeType::Group);
  auto* rate = findAttr(detail->children, "uro:specifiedBuildingCoverageRate");
  REQUIRE(rate);
  CHECK(rate->type == AttributeType::Integer);
  CHECK(rate->integer == 80);
  auto* roofEdge = findAttr(detail->children, "uro:buildingRoofEdgeArea");
  REQUIRE(roofEdge);
  CHECK(roofEdge->type == AttributeType::Double);
  CHECK(roofEdge->number == Approx(34.9985481981));
  // Every Osaka building states a designated coverage rate of 80 (see samples/README.md).
  for (auto& o : objs) {
    auto* d = o.attribute("uro:BuildingDetailAttribute");
    REQUIRE(d);
    auto* r = findAttr(d->children, "uro:specifiedBuildingCoverageRate");
    REQUIRE(r);
    CHECK(r->integer == 80);
  }
  // Repeated groups (two river-flooding risks) stay distinct once flattened.
  auto flat = flattenAttributes(b);
  std::set<std::string> keys;
  for (auto& f : flat) keys.insert(f.key);
  CHECK(keys.count("uro:RiverFloodingRiskAttribute/uro:depth"));
  CHECK(keys.count("uro:RiverFloodingRiskAttribute[2]/uro:depth"));
  CHECK(keys.count("gml:id"));
  CHECK(b.maxLod() == 1);
}

TEST_CASE("Code lists next to the data resolve codes to names", "[citygml]") {
  std::string dir = tempDir("codelist-dataset");
  std::filesystem::create_directories(dir + "/codelists");
  std::filesystem::copy_file(testData("codelist-dataset/codelists/Building_usage.xml"),
                             dir + "/codelists/Building_usage.xml");
  std::string usage = "<bldg:usage codeSpace=\"../../codelists/Building_usage.xml\">411</bldg:usage>";
  writeText(dir + "/udx/bldg/test_bldg_6697_op.gml", cityModel(boxBuilding("b1", 35.68, 139.76, 3.0, 9.0, usage)));
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/udx/bldg/test_bldg_6697_op.gml", diag);
  REQUIRE(objs.size() == 1);
  auto* u = objs[0].attribute("bldg:usage");
  REQUIRE(u);
  CHECK(u->type == AttributeType::Code);
  CHECK(u->text == "411");
  CHECK(u->codeName == "住宅");
  CHECK(u->displayValue() == "住宅");
}

TEST_CASE("FZK-Haus: ETRS89/UTM32 + DHHN92 compound CRS, LOD0-3 with openings", "[citygml]") {
  DiagnosticCollector diag;
  auto lod3 = readAll(samples("kit-fzk-haus/fzk_haus_lod3_v2.gml"), diag);
  REQUIRE(lod3.size() == 1);
  CHECK(lod3[0].srs == "EPSG:25832+5783");
  CHECK(lod3[0].maxLod() == 3);
  const Geometry* g = lod3[0].geometry(3);
  REQUIRE(g);
  size_t windows = 0, doors = 0;
  for (auto& p : g->polygons) {
    windows += p.surface == SurfaceType::Window;
    doors += p.surface == SurfaceType::Door;
  }
  CHECK(windows > 0);
  CHECK(doors > 0);
  CHECK_FALSE(diag.hasCode("xlink-unresolved"));  // CompositeSurface references resolve
  // Easting, northing, height exactly as the first gml:pos of the LOD3 geometry gives them
  std::string gml = readText(samples("kit-fzk-haus/fzk_haus_lod3_v2.gml"));
  size_t at = gml.find("<gml:pos", gml.find("<bldg:lod3"));  // this file uses gml:pos
  at = gml.find('>', at) + 1;
  double x, y, z;
  REQUIRE(std::sscanf(gml.c_str() + at, "%lf %lf %lf", &x, &y, &z) == 3);
  bool found = false;
  for (auto& p : g->points) found = found || (p[0] == x && p[1] == y && p[2] == z);
  CHECK(found);

  DiagnosticCollector d0;
  auto lod0 = readAll(samples("kit-fzk-haus/fzk_haus_lod0_v2.gml"), d0);
  REQUIRE(lod0.size() == 1);
  CHECK(lod0[0].maxLod() == 0);
}

TEST_CASE("A PLATEAU zip as distributed is read in place; other feature types are counted", "[citygml]") {
  DiagnosticCollector diag;
  ReadStats stats;
  auto objs = readAll(samples("plateau-kawasaki-zip/kawasaki-shi.zip"), diag, &stats);
  CHECK(objs.empty());  // this dataset holds city furniture and zoning, no buildings
  CHECK(stats.skippedByType["UseDistrict"] == 4);
  CHECK(stats.skippedByType["CityFurniture"] > 0);
  CHECK(diag.errorCount() == 0);
}

TEST_CASE("Unknown ADE objects are skipped, geometry is never an attribute, PLATEAU's unknowns stay unknown",
          "[citygml]") {
  // A made file (tests/data/ade): an ADE BuildingUnit with its own solid, an ADE attribute, an
  // ADE property holding only a surface, and -9999 / 9999 where PLATEAU means "unknown".
  DiagnosticCollector diag;
  auto objs = readAll(std::string(TWIN_TEST_DATA) + "/ade/ade_building.gml", diag);
  REQUIRE(objs.size() == 2);
  const CityObject& b = objs[0];
  CHECK(b.id == "bldg_ade_1");
  // The ADE attribute is kept; the ADE object and the geometry-only property are not attributes.
  auto* energy = b.attribute("test:energyDemand");
  REQUIRE(energy);
  CHECK(energy->type == AttributeType::Double);
  CHECK(energy->number == Approx(1234.5));
  CHECK_FALSE(b.attribute("test:footprintExtra"));
  CHECK_FALSE(b.attribute("test:buildingUnit"));
  CHECK_FALSE(b.attribute("test:BuildingUnit"));
  for (auto& f : flattenAttributes(b)) {
    INFO(f.key);
    CHECK(f.key.find("posList") == std::string::npos);
    CHECK(f.key.find("BuildingUnit") == std::string::npos);
    CHECK(f.key.find("gml:") == (f.key == "gml:id" ? 0 : std::string::npos));
  }
  // The building's own solid is read; the unit's is not added to it.
  REQUIRE(b.geometry(1));
  CHECK(b.geometry(1)->polygons.size() == 6);
  CHECK_FALSE(b.geometry(2));
  // PLATEAU's unknowns: not values.
  CHECK_FALSE(b.attribute("bldg:measuredHeight"));
  CHECK_FALSE(b.attribute("bldg:storeysAboveGround"));
  auto* detail = b.attribute("uro:BuildingDetailAttribute");
  REQUIRE(detail);
  CHECK_FALSE(findAttr(detail->children, "uro:totalFloorArea"));
  CHECK(findAttr(detail->children, "uro:surveyYear"));
  // Each said, with file, line and object.
  std::map<std::string, int> codes;
  for (auto& d : diag.diagnostics()) {
    codes[d.code]++;
    if (d.code == "ade-object-skipped") {
      CHECK(d.severity == Severity::Warning);
      CHECK(d.featureId == "bldg_ade_1");
      CHECK(d.line > 0);
      CHECK(d.file.find("ade_building.gml") != std::string::npos);
      CHECK(d.message.find("test:BuildingUnit") != std::string::npos);
    }
  }
  CHECK(codes["ade-object-skipped"] == 1);
  CHECK(codes["attribute-geometry-dropped"] == 1);
  CHECK(codes["unknown-value"] == 3);
  // Other CityGML modules are not ADEs: PLATEAU roads (tran:) give no such diagnostic.
  DiagnosticCollector roadDiag;
  auto roads = readAll(samples("plateau-tran-tokyo"), roadDiag, nullptr, "", {"Road"});
  CHECK(roads.size() == 9);
  for (auto& d : roadDiag.diagnostics()) {
    INFO(d.format());
    CHECK(d.code != "ade-object-skipped");
    CHECK(!(d.code == "attribute-geometry-dropped" && d.severity == Severity::Warning));
  }
  // Into tiles: no metadata property is a coordinate list or an ADE object's.
  std::string out = tempDir("ade") + "/tiles";
  auto r = runTwin("convert '" + std::string(TWIN_TEST_DATA) + "/ade/ade_building.gml' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("ade-object-skipped") != std::string::npos);
  for (auto& e : std::filesystem::recursive_directory_iterator(out)) {
    if (e.path().extension() != ".glb") continue;
    Glb g = readGlb(e.path().string());
    REQUIRE(g.ok);
    auto& props = g.json["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["building"]["properties"];
    CHECK(props.contains("test_energyDemand"));
    for (auto& [id, p] : props.items()) {
      INFO(id);
      CHECK(id.find("posList") == std::string::npos);
      CHECK(id.find("BuildingUnit") == std::string::npos);
      CHECK(id != "bldg_measuredHeight");  // -9999 everywhere here: not a value, so not a property
    }
  }
  validateOutput(out);
}
