// The cadastral map XML reader (地図XML, Ministry of Justice): real sample, placement, and broken
// files. Parcels are the first input of issue 4 (parcels, zoning and land-use rules).
#include <proj.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "test_support.h"
#include "twin/converters/registry.h"
#include "twin/crs.h"

using namespace twin;
using namespace twin::test;
namespace sfs = std::filesystem;

namespace {

struct Collect : ObjectSink {
  std::vector<CityObject> objects;
  bool accept(CityObject&& o) override {
    objects.push_back(std::move(o));
    return true;
  }
};

std::vector<CityObject> readParcels(const std::string& path, DiagnosticCollector& diag, ReadStats& stats) {
  std::string head = readText(path).substr(0, 4096);
  auto* fmt = converters::builtinFormats().forFile(path, head);
  REQUIRE(fmt != nullptr);
  CHECK(fmt->id == "mojxml");
  ReadOptions ro;
  ro.objectTypes = {"Parcel"};
  Collect sink;
  fmt->create()->read(path, ro, sink, diag, stats);
  return std::move(sink.objects);
}

std::string attribute(const CityObject& o, const std::string& key) {
  const Attribute* a = o.attribute(key);
  return a ? a->text : std::string();
}

const char* kHeader =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<地図 xmlns=\"http://www.moj.go.jp/MINJI/tizuxml\" "
    "xmlns:zmn=\"http://www.moj.go.jp/MINJI/tizuzumen\">\n<version>ver1.0</version>\n<地図名>t</地図名>\n"
    "<市区町村コード>12103</市区町村コード>\n<市区町村名>千葉市稲毛区</市区町村名>\n";

std::string point(const char* id, double x, double y) {
  return std::string("<zmn:GM_Point id=\"") + id + "\"><zmn:GM_Point.position><zmn:DirectPosition><zmn:X>" +
         std::to_string(x) + "</zmn:X><zmn:Y>" + std::to_string(y) +
         "</zmn:Y></zmn:DirectPosition></zmn:GM_Point.position></zmn:GM_Point>\n";
}

std::string curve(const char* id, const char* a, const char* b) {
  return std::string("<zmn:GM_Curve id=\"") + id +
         "\"><zmn:GM_Curve.segment><zmn:GM_LineString><zmn:GM_LineString.controlPoint>"
         "<zmn:GM_PointArray.column><zmn:GM_Position.indirect><zmn:GM_PointRef.point idref=\"" + a +
         "\"/></zmn:GM_Position.indirect></zmn:GM_PointArray.column><zmn:GM_PointArray.column>"
         "<zmn:GM_Position.indirect><zmn:GM_PointRef.point idref=\"" + b +
         "\"/></zmn:GM_Position.indirect></zmn:GM_PointArray.column></zmn:GM_LineString.controlPoint>"
         "</zmn:GM_LineString></zmn:GM_Curve.segment></zmn:GM_Curve>\n";
}

// A square parcel of 10 m in zone IX (or `crs`), whose surface uses curves c1..c4.
std::string squareMap(const std::string& crs, const char* missingCurve = nullptr) {
  std::string s = kHeader;
  s += "<座標系>" + crs + "</座標系>\n<空間属性>\n";
  s += point("p1", -42000, 26000) + point("p2", -42000, 26010) + point("p3", -41990, 26010) + point("p4", -41990, 26000);
  s += curve("c1", "p1", "p2") + curve("c2", "p2", "p3") + curve("c3", "p3", "p4") + curve("c4", "p4", "p1");
  s += "<zmn:GM_Surface id=\"s1\"><zmn:GM_Surface.patch><zmn:GM_Polygon><zmn:GM_Polygon.boundary>"
       "<zmn:GM_SurfaceBoundary><zmn:GM_SurfaceBoundary.exterior><zmn:GM_Ring>";
  for (const char* c : {"c1", "c2", "c3", "c4"})
    s += std::string("<zmn:GM_CompositeCurve.generator idref=\"") + (missingCurve && !std::strcmp(c, "c3") ? missingCurve : c) +
         "\"/>";
  s += "</zmn:GM_Ring></zmn:GM_SurfaceBoundary.exterior></zmn:GM_SurfaceBoundary></zmn:GM_Polygon.boundary>"
       "</zmn:GM_Polygon></zmn:GM_Surface.patch></zmn:GM_Surface>\n</空間属性>\n<主題属性>\n"
       "<筆 id=\"H1\"><大字コード>015</大字コード><大字名>作草部町</大字名><地番>12-3</地番><形状 idref=\"s1\"/></筆>\n"
       "</主題属性>\n</地図>\n";
  return s;
}

}  // namespace

TEST_CASE("地図XML: the real sample's parcel with its 地番, placed in plane rectangular zone IX", "[mojxml]") {
  DiagnosticCollector diag;
  ReadStats stats;
  auto parcels = readParcels(samples("moj-cadastral/mojxml-py/12103-0400-76/12103-0400-76.xml"), diag, stats);
  CHECK(diag.errorCount() == 0);
  REQUIRE(parcels.size() == 1);
  const CityObject& p = parcels[0];
  CHECK(p.type == "Parcel");
  CHECK(p.id == "H000000001");
  CHECK(p.srs == "EPSG:6677");
  CHECK(attribute(p, "地番") == "194-1");
  CHECK(attribute(p, "大字名") == "作草部町");
  CHECK(attribute(p, "大字コード") == "015");
  CHECK(attribute(p, "精度区分") == "甲一");
  CHECK(attribute(p, "市区町村名") == "千葉市稲毛区");
  REQUIRE(p.geometries.size() == 1);
  const Geometry& g = p.geometries[0];
  CHECK(g.lod == 0);
  REQUIRE(g.polygons.size() == 1);
  CHECK(g.points.size() >= 4);
  // Coordinates as in the file (X north, Y east) within the map sheet.
  for (auto& pt : g.points) {
    CHECK(pt[0] < -42250.0);
    CHECK(pt[0] > -42260.0);
    CHECK(pt[1] > 26390.0);
    CHECK(pt[1] < 26400.0);
  }

  // Converted: the parcel lands where PROJ puts the file's first point (JGD2011 / zone IX ->
  // geographic), in 作草部町, Chiba.
  std::string base = tempDir("mojxml");
  auto r = runTwin("convert '" + samples("moj-cadastral/mojxml-py/12103-0400-76.zip") + "' --types parcel -o '" + base +
                   "/parcels' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  PJ_CONTEXT* ctx = proj_context_create();
  PJ* pj = proj_create_crs_to_crs(ctx, "EPSG:6677", "EPSG:6668", nullptr);
  PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(g.points[0][0], g.points[0][1], 0, 0));  // northing, easting
  proj_destroy(pj);
  proj_context_destroy(ctx);
  double lat = c.v[0], lon = c.v[1];  // EPSG:6668: latitude first
  CHECK(lat == Approx(35.62).margin(0.01));
  CHECK(lon == Approx(140.12).margin(0.01));
  std::string ts = readText(base + "/parcels/tileset.json");
  CHECK(ts.find("EPSG:6677") != std::string::npos);
  validateGltf(base + "/parcels");
  DiagnosticCollector d2;
  auto transform = CrsTransform::create("EPSG:6677", {});
  REQUIRE(transform);
  Vec3 q = g.points[0];
  (*transform)->toEcef(&q, 1);
  Vec3 llh = ecefToLonLatHeight(q);
  CHECK(std::abs(llh[0] - lon) * 111000 * std::cos(lat * M_PI / 180) < 0.01);  // within 1 cm
  CHECK(std::abs(llh[1] - lat) * 111000 < 0.01);
}

TEST_CASE("地図XML: arbitrary coordinates, broken references and broken XML are reported", "[mojxml]") {
  std::string base = tempDir("mojxml-bad");
  // A well-formed square first: it reads, 10 m x 10 m.
  writeText(base + "/ok.xml", squareMap("公共座標9系"));
  DiagnosticCollector d0;
  ReadStats s0;
  auto ok = readParcels(base + "/ok.xml", d0, s0);
  REQUIRE(ok.size() == 1);
  CHECK(attribute(ok[0], "地番") == "12-3");
  CHECK(ok[0].geometries[0].points.size() == 4);

  // 任意座標系: reported, not placed.
  writeText(base + "/local.xml", squareMap("任意座標系"));
  DiagnosticCollector d1;
  ReadStats s1;
  CHECK(readParcels(base + "/local.xml", d1, s1).empty());
  REQUIRE(d1.hasCode("mojxml-arbitrary-crs"));
  CHECK(s1.skippedByType["Parcel"] == 1);

  // A surface referring to a curve that does not exist: the parcel's id and line.
  writeText(base + "/broken.xml", squareMap("公共座標9系", "nowhere"));
  DiagnosticCollector d2;
  ReadStats s2;
  CHECK(readParcels(base + "/broken.xml", d2, s2).empty());
  REQUIRE(d2.hasCode("mojxml-broken-reference"));
  for (auto& d : d2.diagnostics())
    if (d.code == "mojxml-broken-reference") {
      CHECK(d.featureId == "H1");
      CHECK(d.line > 1);
      CHECK(d.file == base + "/broken.xml");
    }

  // Truncated: a clear error with a line, no crash; the CLI writes nothing and exits 1.
  std::string doc = squareMap("公共座標9系");
  writeText(base + "/cut.xml", doc.substr(0, doc.size() / 2));
  DiagnosticCollector d3;
  ReadStats s3;
  CHECK(readParcels(base + "/cut.xml", d3, s3).empty());
  CHECK(d3.hasCode("xml-malformed"));
  auto r = runTwin("convert '" + base + "/cut.xml' --types parcel -o '" + base + "/out' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("xml-malformed") != std::string::npos);
  CHECK_FALSE(sfs::exists(base + "/out"));
}
