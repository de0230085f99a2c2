// Bad input: each gives a clear diagnostic (file, line, feature id) and the right exit code,
// nothing crashes, and nothing half-written is left behind.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "test_support.h"

using namespace twin;
using namespace twin::test;
namespace sfs = std::filesystem;

TEST_CASE("Truncated XML: a located error, the buildings before the cut survive", "[bad-input]") {
  std::string full = cityModel(boxBuilding("a", 35.68, 139.76, 3, 9) + boxBuilding("b", 35.681, 139.76, 3, 9) +
                               boxBuilding("c", 35.682, 139.76, 3, 9));
  std::string dir = tempDir("truncated");
  std::string path = dir + "/cut.gml";
  size_t cut = full.find("gml:id=\"c\"") + 200;
  writeText(path, full.substr(0, cut));
  DiagnosticCollector diag;
  auto objs = readAll(path, diag);
  REQUIRE(objs.size() == 2);
  CHECK(objs[0].id == "a");
  CHECK(objs[1].id == "b");
  REQUIRE(diag.hasCode("xml-malformed"));
  for (auto& d : diag.diagnostics())
    if (d.code == "xml-malformed") {
      CHECK(d.file == path);
      CHECK(d.line > 1);
      CHECK(d.featureId == "c");
    }
  // The CLI writes a tileset of what it could read and says so with exit code 3.
  auto r = runTwin("convert '" + path + "' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 3);
  CHECK(r.output.find("xml-malformed") != std::string::npos);
  CHECK(r.output.find("cut.gml:") != std::string::npos);
  CHECK(sfs::exists(dir + "/out/tileset.json"));
  validateOutput(dir + "/out");
}

TEST_CASE("Every prefix of a valid file reads without a crash", "[bad-input]") {
  std::string full = cityModel(boxBuilding("a", 35.68, 139.76, 3, 9) + boxBuilding("b", 35.681, 139.76, 3, 9));
  std::string dir = tempDir("prefixes");
  size_t last = 0;
  for (size_t cut = 0; cut < full.size(); cut += 97) {
    std::string path = dir + "/p.gml";
    writeText(path, full.substr(0, cut));
    DiagnosticCollector diag;
    auto objs = readAll(path, diag);
    CHECK(objs.size() >= last);  // more bytes never mean fewer buildings
    last = objs.size();
    CHECK(diag.errorCount() > 0);
  }
  CHECK(last == 2);
}

TEST_CASE("Unknown srsName: error naming the CRS, exit code 1, no output directory", "[bad-input]") {
  std::string dir = tempDir("unknown-crs");
  std::string path = dir + "/x.gml";
  writeText(path, cityModel(boxBuilding("a", 35.68, 139.76, 3, 9), "urn:ogc:def:crs:local:my-site"));
  auto r = runTwin("convert '" + path + "' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("crs-unknown") != std::string::npos);
  CHECK(r.output.find("my-site") != std::string::npos);
  CHECK(r.output.find("--crs") != std::string::npos);
  CHECK_FALSE(sfs::exists(dir + "/out"));
  // ... and --crs rescues it
  auto r2 = runTwin("convert '" + path + "' -o '" + dir + "/out' --crs 6697 --no-progress");
  CHECK(r2.exitCode == 0);
  CHECK(sfs::exists(dir + "/out/tileset.json"));
}

TEST_CASE("Missing srsName without --crs is an error", "[bad-input]") {
  std::string dir = tempDir("no-crs");
  std::string path = dir + "/x.gml";
  std::string doc = cityModel(boxBuilding("a", 35.68, 139.76, 3, 9), "");
  writeText(path, doc);
  auto r = runTwin("convert '" + path + "' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("crs-missing") != std::string::npos);
}

TEST_CASE("Dangling xlink: warning with the building id, the rest converts", "[bad-input]") {
  std::string extra =
      "<bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface>"
      "<gml:surfaceMember "
      "xlink:href=\"#does-not-exist\"/></gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>";
  std::string dir = tempDir("xlink");
  std::string path = dir + "/x.gml";
  writeText(path, cityModel(boxBuilding("bx", 35.68, 139.76, 3, 9, extra)));
  DiagnosticCollector diag;
  auto objs = readAll(path, diag);
  REQUIRE(objs.size() == 1);
  REQUIRE(diag.hasCode("xlink-unresolved"));
  for (auto& d : diag.diagnostics())
    if (d.code == "xlink-unresolved") {
      CHECK(d.featureId == "bx");
      CHECK(d.message.find("does-not-exist") != std::string::npos);
    }
}

TEST_CASE("Missing texture image: warning, building drawn untextured, glb still valid", "[bad-input]") {
  std::string dir = tempDir("missing-texture");
  // A textured wall whose image does not exist.
  std::string b = boxBuilding("tx", 35.68, 139.76, 3, 9);
  b.replace(b.find("<gml:LinearRing>"), 16, "<gml:LinearRing gml:id=\"ring1\">");
  std::string app =
      "<app:appearanceMember><app:Appearance><app:surfaceDataMember><app:ParameterizedTexture>"
      "<app:imageURI>tex/missing.jpg</app:imageURI><app:target uri=\"#p1\"><app:TexCoordList>"
      "<app:textureCoordinates ring=\"#ring1\">0 0 1 0 1 1 0 1 0 0</app:textureCoordinates>"
      "</app:TexCoordList></app:target></app:ParameterizedTexture></app:surfaceDataMember></app:Appearance>"
      "</app:appearanceMember>";
  writeText(dir + "/x.gml", cityModel(b + app));
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/x.gml", diag);
  REQUIRE(objs.size() == 1);
  REQUIRE(objs[0].textures.size() == 1);
  CHECK(objs[0].textures[0].uri == dir + "/tex/missing.jpg");
  auto r = runTwin("convert '" + dir + "/x.gml' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("texture-missing") != std::string::npos);
  CHECK(r.output.find("missing.jpg") != std::string::npos);
  validateOutput(dir + "/out");
}

TEST_CASE("NaN and absurd coordinates are dropped with a warning", "[bad-input]") {
  std::string dir = tempDir("nan");
  std::string bad = boxBuilding("nanb", 35.68, 139.76, 3, 9);
  bad.replace(bad.find("<gml:posList>") + 13, 4, "NaN ");
  std::string absurd = boxBuilding("far", 935.68, 139.76, 3, 9);  // latitude 935
  std::string good = boxBuilding("ok", 35.681, 139.76, 3, 9);
  writeText(dir + "/x.gml", cityModel(bad + absurd + good));
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/x.gml", diag);
  CHECK(objs.size() == 3);
  CHECK(diag.hasCode("coordinate-invalid"));
  auto r = runTwin("convert '" + dir + "/x.gml' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("coordinate-out-of-range") != std::string::npos);
  CHECK(r.output.find("far") != std::string::npos);
  CHECK(r.output.find("written    2 buildings") != std::string::npos);  // NaN building keeps 5 faces
  validateOutput(dir + "/out");
}

TEST_CASE("Empty file, non-CityGML XML, missing path, bad usage: clear errors and exit codes", "[bad-input]") {
  std::string dir = tempDir("empty");
  writeText(dir + "/empty.gml", "");
  auto r = runTwin("convert '" + dir + "/empty.gml' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("file-empty") != std::string::npos);
  CHECK_FALSE(sfs::exists(dir + "/out"));

  writeText(dir + "/other.gml", "<?xml version=\"1.0\"?><html><body/></html>");
  r = runTwin("convert '" + dir + "/other.gml' -o '" + dir + "/out' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("citygml-not") != std::string::npos);

  r = runTwin("convert '" + dir + "/nope.gml' -o '" + dir + "/out'");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("input-missing") != std::string::npos);

  r = runTwin("convert --lod 7 x.gml -o y");
  CHECK(r.exitCode == 2);
  r = runTwin("convert");
  CHECK(r.exitCode == 2);
  r = runTwin("--help");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("convert") != std::string::npos);
  r = runTwin("convert --help");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("citygml") != std::string::npos);  // formats listed from the registry
}

TEST_CASE("An output directory that is not a twin tileset is never overwritten", "[bad-input]") {
  std::string dir = tempDir("protect");
  writeText(dir + "/precious/notes.txt", "keep me");
  writeText(dir + "/x.gml", cityModel(boxBuilding("a", 35.68, 139.76, 3, 9)));
  auto r = runTwin("convert '" + dir + "/x.gml' -o '" + dir + "/precious' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("output-dir") != std::string::npos);
  CHECK(readText(dir + "/precious/notes.txt") == "keep me");
  // A failed run leaves a previous tileset untouched.
  r = runTwin("convert '" + dir + "/x.gml' -o '" + dir + "/tiles' --no-progress");
  REQUIRE(r.exitCode == 0);
  std::string before = readText(dir + "/tiles/tileset.json");
  writeText(dir + "/empty.gml", "");
  r = runTwin("convert '" + dir + "/empty.gml' -o '" + dir + "/tiles' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(readText(dir + "/tiles/tileset.json") == before);
  // No staging directories left behind.
  for (auto& e : sfs::directory_iterator(dir))
    CHECK(e.path().filename().string().find("twin-tmp") == std::string::npos);
}

TEST_CASE("Malformed XML in the appearance section is reported at its true line", "[bad-input]") {
  std::string b = boxBuilding("a", 35.68, 139.76, 3, 9);
  std::string app =
      "<app:appearanceMember><app:Appearance><app:surfaceDataMember><app:ParameterizedTexture>\n"
      "<app:imageURI>tex/a.jpg</app:imageURIX>\n"
      "</app:ParameterizedTexture></app:surfaceDataMember></app:Appearance></app:appearanceMember>";
  std::string doc = cityModel(b + app);
  size_t at = doc.find("</app:imageURIX>");
  int64_t expectedLine = 1 + std::count(doc.begin(), doc.begin() + at, '\n');
  std::string dir = tempDir("bad-appearance");
  writeText(dir + "/x.gml", doc);
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/x.gml", diag);
  CHECK(objs.size() == 1);  // the building before the broken appearance is kept
  REQUIRE(diag.hasCode("xml-malformed"));
  for (auto& d : diag.diagnostics())
    if (d.code == "xml-malformed") CHECK(d.line == expectedLine);
}
