// CityGML 3.0 (issue 6): the OGC sample building that ../shared/samples/citygml3-ogc-examples
// holds in both CityGML 2.0 and 3.0 gives the same model from either (objects, parts, surfaces
// with their semantics and orientation, points, the attributes rule checks read); the other 3.0
// examples read with their generic attributes, interior skipped, and no objects made of
// versioning or CRS definitions.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "test_support.h"

using namespace twin;
using namespace twin::test;

namespace {

std::string diagText(const DiagnosticCollector& diag) {
  std::string s;
  for (auto& d : diag.diagnostics()) s += d.format() + "\n";
  return s;
}

// One polygon as text: surface type, its exterior ring's points rounded to the millimetre and
// rotated to start at the smallest, and the direction of its normal (orientation matters).
std::string polygonKey(const Geometry& g, const Polygon& p) {
  uint32_t b = g.ringStart[p.firstRing], e = g.ringStart[p.firstRing + 1];
  std::vector<std::array<long long, 3>> pts;
  for (uint32_t i = b; i < e; ++i)
    pts.push_back({std::llround(g.points[i][0] * 1000), std::llround(g.points[i][1] * 1000),
                   std::llround(g.points[i][2] * 1000)});
  auto first = std::min_element(pts.begin(), pts.end()) - pts.begin();
  std::rotate(pts.begin(), pts.begin() + first, pts.end());
  double n[3] = {0, 0, 0};  // Newell normal
  for (uint32_t i = b; i < e; ++i) {
    const Vec3 &c = g.points[i], &d = g.points[i + 1 < e ? i + 1 : b];
    n[0] += (c[1] - d[1]) * (c[2] + d[2]);
    n[1] += (c[2] - d[2]) * (c[0] + d[0]);
    n[2] += (c[0] - d[0]) * (c[1] + d[1]);
  }
  double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  std::ostringstream s;
  s << surfaceTypeName(p.surface) << " holes " << (p.ringCount - 1) << " n";
  for (double x : n) s << " " << std::lround(len > 0 ? x / len * 100 : 0);
  s << " :";
  for (auto& q : pts) s << " " << q[0] << "," << q[1] << "," << q[2];
  return s.str();
}

// The model as comparable text lines, objects and parts by id.
void describe(const CityObject& o, const std::string& indent, std::vector<std::string>& out) {
  out.push_back(indent + o.type + " " + o.id + " srs " + o.srs);
  for (const char* key : {"bldg:measuredHeight", "bldg:function", "bldg:roofType", "bldg:storeysAboveGround",
                          "bldg:storeyHeightsAboveGround", "bldg:yearOfConstruction"})
    if (auto* a = o.attribute(key)) out.push_back(indent + "  " + key + " = " + a->text);
  std::vector<const Geometry*> geoms;
  for (auto& g : o.geometries) geoms.push_back(&g);
  std::sort(geoms.begin(), geoms.end(), [](auto* a, auto* b) { return a->lod < b->lod; });
  for (auto* g : geoms) {
    std::vector<std::string> polys;
    for (auto& p : g->polygons) polys.push_back(polygonKey(*g, p));
    std::sort(polys.begin(), polys.end());
    out.push_back(indent + "  lod" + std::to_string(g->lod) + " " + std::to_string(polys.size()) + " polygons");
    for (auto& p : polys) out.push_back(indent + "    " + p);
  }
  std::vector<const CityObject*> kids;
  for (auto& c : o.children) kids.push_back(&c);
  std::sort(kids.begin(), kids.end(), [](auto* a, auto* b) { return a->id < b->id; });
  for (auto* c : kids) describe(*c, indent + "  ", out);
}

std::vector<std::string> model(const std::string& file, DiagnosticCollector& diag) {
  auto objs = readAll(file, diag, nullptr, {}, {"*"});
  std::sort(objs.begin(), objs.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::vector<std::string> out;
  for (auto& o : objs) describe(o, "", out);
  return out;
}

}  // namespace

TEST_CASE("CityGML 2.0 and 3.0 of the same building give the same model", "[citygml3]") {
  std::string base = samples("citygml3-ogc-examples/from-citygml2-sample-building/");
  for (const char* name : {"Building_LOD0-EPSG25832.gml", "Building_LOD1-EPSG25832.gml", "Building_LOD2-EPSG25832.gml",
                           "Building_LOD3-EPSG25832.gml", "Building_and_garage_LOD2-EPSG25832.gml"}) {
    INFO(name);
    DiagnosticCollector d2, d3;
    auto m2 = model(base + "CityGMLv2/" + name, d2);
    auto m3 = model(base + "CityGMLv3/" + name, d3);
    INFO(diagText(d2) + diagText(d3));
    CHECK(d2.errorCount() == 0);
    CHECK(d3.errorCount() == 0);
    REQUIRE(m2.size() > 3);
    // Line by line, so that a difference shows where it is.
    for (size_t i = 0; i < std::max(m2.size(), m3.size()); ++i) {
      std::string a = i < m2.size() ? m2[i] : "(none)", b = i < m3.size() ? m3[i] : "(none)";
      if (a != b) {
        INFO("line " << i << "\n2.0: " << a << "\n3.0: " << b);
        CHECK(a == b);
        break;
      }
    }
    CHECK(m2.size() == m3.size());
  }
}

TEST_CASE("CityGML 3.0: attributes, semantics and what is not a city object", "[citygml3]") {
  std::string base = samples("citygml3-ogc-examples/from-citygml2-sample-building/CityGMLv3/");
  {
    DiagnosticCollector diag;
    auto objs = readAll(base + "Building_and_garage_LOD2-EPSG25832.gml", diag);
    REQUIRE(objs.size() == 1);
    const CityObject& b = objs[0];
    CHECK(b.srs == "EPSG:25832+5783");
    // con:height (status measured) and con:dateOfConstruction under their 2.0 names.
    REQUIRE(b.attribute("bldg:measuredHeight"));
    CHECK(b.attribute("bldg:measuredHeight")->number == 6.0);
    REQUIRE(b.attribute("bldg:yearOfConstruction"));
    CHECK(b.attribute("bldg:yearOfConstruction")->integer == 1985);
    REQUIRE(b.children.size() == 1);
    CHECK(b.children[0].type == "BuildingPart");
    CHECK(b.children[0].attribute("bldg:measuredHeight")->number == 2.5);
  }
  {  // LOD3: windows and doors from con:fillingSurface; the room and its furniture are skipped
    DiagnosticCollector diag;
    ReadStats stats;
    auto objs = readAll(base + "Building_LOD3-EPSG25832.gml", diag, &stats);
    REQUIRE(objs.size() == 1);
    std::map<SurfaceType, int> bySurface;
    for (auto& g : objs[0].geometries)
      for (auto& p : g.polygons) bySurface[p.surface]++;
    CHECK(bySurface[SurfaceType::Window] > 0);
    CHECK(bySurface[SurfaceType::Door] > 0);
    CHECK(bySurface[SurfaceType::Interior] == 0);
    CHECK(stats.skippedByType["BuildingRoom"] == 1);
  }
  {  // generic attributes in the 3.0 form (gen:name child) with their types
    DiagnosticCollector diag;
    auto objs = readAll(samples("citygml3-ogc-examples/Building_CityGML3.0_LOD2_with_several_attributes.gml"), diag);
    INFO(diagText(diag));
    REQUIRE(objs.size() == 1);
    CHECK(objs[0].srs == "EPSG:31468+5783");  // urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH
    size_t generic = 0;
    for (auto& a : objs[0].attributes)
      if (a.key.rfind("gen:", 0) == 0) {
        ++generic;
        CHECK(a.key.size() > 4);
        CHECK(!a.text.empty());
      }
    CHECK(generic > 0);
    REQUIRE(objs[0].attribute("gen:Gemeindeschluessel"));
    CHECK(objs[0].attribute("gen:Gemeindeschluessel")->type == AttributeType::String);
    CHECK(objs[0].attribute("gen:Gemeindeschluessel")->text == "09175128");  // leading zero kept
  }
  {  // versioning: versions and transitions are not buildings; the buildings are
    DiagnosticCollector diag;
    ReadStats stats;
    auto objs = readAll(samples("citygml3-ogc-examples/historicalSuccession_CityGML_3.0_LOD2_Versioning.gml"), diag,
                        &stats, "EPSG:3946");
    INFO(diagText(diag));
    CHECK_FALSE(diag.hasCode("object-no-id"));
    CHECK(objs.size() >= 2);
    for (auto& o : objs) CHECK(o.type == "Building");
  }
}

TEST_CASE("CityGML 3.0 appearances: X3DMaterial targets by xlink:href, ParameterizedTexture by ring", "[citygml3]") {
  // The OGC LOD2 building with a 3.0 appearance added (the examples hold none): the roof
  // polygon (GML_ec6a8966...) red, and the ground slab's ring textured.
  std::string dir = tempDir("citygml3-app");
  std::string gml =
      readText(samples("citygml3-ogc-examples/from-citygml2-sample-building/CityGMLv3/Building_LOD2-EPSG25832.gml"));
  size_t ring = gml.find("<gml:LinearRing>");
  REQUIRE(ring != std::string::npos);
  gml.replace(ring, 16, "<gml:LinearRing gml:id=\"ground-ring\">");
  std::string app = R"(<appearance><app:Appearance><app:theme>rgb</app:theme>
  <app:surfaceData><app:X3DMaterial><app:diffuseColor>1 0 0</app:diffuseColor>
    <app:target xlink:href="#GML_ec6a8966-58d9-4894-8edd-9aceb91b923f"/></app:X3DMaterial></app:surfaceData>
  <app:surfaceData><app:ParameterizedTexture><app:imageURI>ground.png</app:imageURI><app:mimeType>image/png</app:mimeType>
    <app:textureParameterization><app:TextureAssociation><app:target xlink:href="#GML_d3981803-d4b0-4b5b-969c-53f657594757"/>
      <app:textureParameterization><app:TexCoordList>
        <app:textureCoordinates ring="#ground-ring">0 0 0 1 1 1 1 0 0 0</app:textureCoordinates>
      </app:TexCoordList></app:textureParameterization></app:TextureAssociation></app:textureParameterization>
  </app:ParameterizedTexture></app:surfaceData></app:Appearance></appearance>
    </bldg:Building>)";
  size_t end = gml.find("</bldg:Building>");
  REQUIRE(end != std::string::npos);
  gml.replace(end, std::string("</bldg:Building>").size(), app);
  writeText(dir + "/b.gml", gml);
  writeText(dir + "/ground.png", readText(std::string(TWIN_SOURCE_DIR) + "/viewer-server/web/index.html").substr(0, 0));
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/b.gml", diag);
  INFO(diagText(diag));
  REQUIRE(objs.size() == 1);
  const CityObject& b = objs[0];
  const Geometry* g = b.geometry(2);
  REQUIRE(g);
  bool red = false, textured = false;
  for (auto& p : g->polygons) {
    if (p.material >= 0 && b.materials[p.material].diffuse == std::array<float, 3>{1, 0, 0}) {
      CHECK(p.surface == SurfaceType::Roof);
      red = true;
    }
    if (p.texture >= 0) {
      CHECK(p.surface == SurfaceType::Ground);
      CHECK(b.textures[p.texture].uri.find("ground.png") != std::string::npos);
      uint32_t s0 = g->ringStart[p.firstRing];
      CHECK(g->uvs[s0 + 2][0] == 1.0f);
      CHECK(g->uvs[s0 + 2][1] == 1.0f);
      textured = true;
    }
  }
  CHECK(red);
  CHECK(textured);
}
