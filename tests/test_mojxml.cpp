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

std::vector<CityObject> readParcels(const std::string& path, DiagnosticCollector& diag, ReadStats& stats) {
  std::string head = readText(path).substr(0, 4096);
  auto* fmt = converters::builtinFormats().forFile(path, head);
  REQUIRE(fmt != nullptr);
  CHECK(fmt->id == "mojxml");
  ReadOptions ro;
  ro.objectTypes = {"Parcel"};
  CollectSink sink;
  fmt->create()->read(path, ro, sink, diag, stats);
  return std::move(sink.objects);
}

std::string attribute(const CityObject& o, const std::string& key) {
  const Attribute* a = o.attribute(key);
  return a ? a->text : std::string();
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
  validateOutput(base + "/parcels");
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
  writeText(base + "/ok.xml", mojxmlSquareMap("公共座標9系"));
  DiagnosticCollector d0;
  ReadStats s0;
  auto ok = readParcels(base + "/ok.xml", d0, s0);
  REQUIRE(ok.size() == 1);
  CHECK(attribute(ok[0], "地番") == "12-3");
  CHECK(ok[0].geometries[0].points.size() == 4);

  // 任意座標系: reported, not placed.
  writeText(base + "/local.xml", mojxmlSquareMap("任意座標系"));
  DiagnosticCollector d1;
  ReadStats s1;
  CHECK(readParcels(base + "/local.xml", d1, s1).empty());
  REQUIRE(d1.hasCode("mojxml-arbitrary-crs"));
  CHECK(s1.skippedByType["Parcel"] == 1);

  // A surface referring to a curve that does not exist: the parcel's id and line.
  writeText(base + "/broken.xml", mojxmlSquareMap("公共座標9系", "nowhere"));
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
  std::string doc = mojxmlSquareMap("公共座標9系");
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
