// Appearance and CityGML versions: X3DMaterial colours, TIFF textures converted, CityGML 1.0.
#include <tiffio.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_support.h"
#include "twin/glb_writer.h"

using namespace twin;
using namespace twin::test;

TEST_CASE("CityGML 1.0 documents read like 2.0", "[citygml]") {
  std::string doc = cityModel(boxBuilding("v1", 35.68, 139.76, 3, 9));
  for (auto [from, to] : {std::pair<std::string, std::string>{"citygml/2.0", "citygml/1.0"},
                          {"citygml/building/2.0", "citygml/building/1.0"},
                          {"citygml/generics/2.0", "citygml/generics/1.0"},
                          {"citygml/appearance/2.0", "citygml/appearance/1.0"}})
    for (size_t p; (p = doc.find(from)) != std::string::npos;) doc.replace(p, from.size(), to);
  REQUIRE(doc.find("citygml/2.0") == std::string::npos);
  std::string dir = tempDir("citygml10");
  writeText(dir + "/v1.gml", doc);
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/v1.gml", diag);
  REQUIRE(objs.size() == 1);
  CHECK(objs[0].id == "v1");
  CHECK(objs[0].geometry(1)->polygons.size() == 6);
  CHECK(objs[0].attribute("bldg:measuredHeight")->number == 9.0);
}

TEST_CASE("X3DMaterial colours the polygons it targets, down to the glb material", "[citygml]") {
  std::string b = boxBuilding("red", 35.68, 139.76, 3, 9);
  b.replace(b.find("<gml:Polygon>"), 13, "<gml:Polygon gml:id=\"roofpoly\">");
  std::string app =
      "<app:appearanceMember><app:Appearance><app:surfaceDataMember><app:X3DMaterial>"
      "<app:diffuseColor>1 0 0</app:diffuseColor><app:target>#roofpoly</app:target>"
      "</app:X3DMaterial></app:surfaceDataMember></app:Appearance></app:appearanceMember>";
  std::string dir = tempDir("x3d");
  writeText(dir + "/x.gml", cityModel(b + app));
  DiagnosticCollector diag;
  auto objs = readAll(dir + "/x.gml", diag);
  REQUIRE(objs.size() == 1);
  REQUIRE(objs[0].materials.size() == 1);
  CHECK(objs[0].materials[0].diffuse == std::array<float, 3>{1, 0, 0});
  const Geometry* g = objs[0].geometry(1);
  CHECK(g->polygons[0].material == 0);
  CHECK(g->polygons[1].material == -1);
  auto r = runTwin("convert '" + dir + "/x.gml' -o '" + dir + "/out' --no-progress");
  REQUIRE(r.exitCode == 0);
  bool red = false;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir + "/out"))
    if (e.path().extension() == ".glb") {
      Glb glb = readGlb(e.path().string());
      for (auto& m : glb.json["materials"])
        red = red || m["pbrMetallicRoughness"]["baseColorFactor"] == nlohmann::json::array({1.0, 0.0, 0.0, 1.0});
    }
  CHECK(red);
  validateOutput(dir + "/out");
}

TEST_CASE("TIFF textures are converted for glTF; JPEG and PNG pass through", "[citygml]") {
  std::string dir = tempDir("tiff");
  std::string path = dir + "/t.tif";
  TIFF* t = TIFFOpen(path.c_str(), "w");
  REQUIRE(t);
  const uint32_t w = 16, h = 8;
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
  std::vector<uint8_t> row(w * 3);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) row[3 * x] = uint8_t(x * 16), row[3 * x + 1] = uint8_t(y * 32), row[3 * x + 2] = 7;
    TIFFWriteScanline(t, row.data(), y, 0);
  }
  TIFFClose(t);
  GlbImage img;
  std::string err;
  REQUIRE(loadTextureImage(path, img, err));
  CHECK(img.mimeType == "image/jpeg");
  REQUIRE(img.data.size() > 100);
  CHECK(img.data[0] == 0xFF);
  CHECK(img.data[1] == 0xD8);

  GlbImage jpg;
  REQUIRE(loadTextureImage(
      samples("plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_appearance/14201-bldg-110968-1.jpg"), jpg, err));
  CHECK(jpg.mimeType == "image/jpeg");
  CHECK(jpg.data.size() == 5763);  // as it is

  writeText(dir + "/broken.jpg", "\xFF\xD8\xFFnot really");
  GlbImage broken;
  CHECK_FALSE(loadTextureImage(dir + "/broken.jpg", broken, err));
  CHECK(err.find("JPEG") != std::string::npos);
}
