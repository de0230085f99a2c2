#include "test_support.h"

#include <meshoptimizer.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "twin/converters/registry.h"

namespace twin::test {

std::string samples(const std::string& rel) { return std::string(TWIN_SAMPLES) + "/" + rel; }
std::string testData(const std::string& rel) { return std::string(TWIN_TEST_DATA) + "/" + rel; }

std::string tempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("twin-tests-" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

RunResult run(const std::string& cmd) {
  RunResult r;
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const char* twinExe() {
  const char* e = std::getenv("TWIN_EXE_UNDER_TEST");
  return e && *e ? e : TWIN_EXE;
}

RunResult runTwin(const std::string& args) { return run(std::string("'") + twinExe() + "' " + args); }

namespace {
bool holdsTileset(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(dir)) return false;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename() == "tileset.json") return true;
  return false;
}
}  // namespace

void validateOutput(const std::string& dir) {
  const std::string node = "node '" + std::string(TWIN_SOURCE_DIR) + "/tests/node/";
  // The Khronos glTF validator on every glb.
  auto v = run(node + "validate-gltf.mjs' '" + dir + "'");
  INFO(v.output);
  const bool tileset = holdsTileset(dir);
  // A 3D Tiles 1.0 tileset holds b3dm, no .glb: the 3D Tiles validator checks the glb inside.
  if (!(tileset && v.output.find("\"files\":0,") != std::string::npos)) {
    CHECK(v.exitCode == 0);
    CHECK(v.output.find("\"errors\":0") != std::string::npos);
  }
  if (!tileset) return;
  // The CesiumGS 3D Tiles validator on every tileset.json: 0 errors, 0 warnings.
  auto t = run(node + "validate-3dtiles.mjs' '" + dir + "'");
  INFO(t.output);
  CHECK(t.exitCode == 0);
  CHECK(t.output.find("\"errors\":0,\"warnings\":0") != std::string::npos);
  // loaders.gl: every content loads and lies inside the volume it derives for its tile.
  auto c = run(node + "tiles-client.mjs' '" + dir + "'");
  INFO(c.output);
  CHECK(c.exitCode == 0);
  CHECK(c.output.find("\"problems\":0") != std::string::npos);
}

namespace {}  // namespace

std::vector<CityObject> readAll(const std::string& uri, DiagnosticCollector& diag, ReadStats* stats,
                                const std::string& crs, const std::vector<std::string>& types) {
  const auto& reg = converters::builtinFormats();
  auto items = converters::expandInputs({uri}, reg, diag);
  CollectSink sink;
  ReadStats st;
  ReadOptions ro;
  ro.crsOverride = crs;
  ro.objectTypes = types;
  for (auto& i : items) i.format->create()->read(i.uri, ro, sink, diag, st);
  if (stats) *stats = st;
  return std::move(sink.objects);
}

Glb readGlb(const std::string& path) {
  Glb g;
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (b.size() < 20) return g;
  uint32_t magic, version, length, jsonLen, jsonType;
  std::memcpy(&magic, &b[0], 4);
  std::memcpy(&version, &b[4], 4);
  std::memcpy(&length, &b[8], 4);
  std::memcpy(&jsonLen, &b[12], 4);
  std::memcpy(&jsonType, &b[16], 4);
  if (magic != 0x46546C67 || version != 2 || length != b.size() || jsonType != 0x4E4F534A) return g;
  g.json = nlohmann::json::parse(b.begin() + 20, b.begin() + 20 + jsonLen);
  size_t off = 20 + jsonLen;
  if (off + 8 <= b.size()) {
    uint32_t binLen;
    std::memcpy(&binLen, &b[off], 4);
    g.bin.assign(b.begin() + off + 8, b.begin() + off + 8 + binLen);
  }
  g.ok = true;
  return g;
}

std::vector<double> accessorValues(const Glb& g, int index) {
  std::vector<double> out;
  const auto& a = g.json["accessors"][index];
  if (!a.contains("bufferView")) return out;
  const auto& v = g.json["bufferViews"][a["bufferView"].get<int>()];
  int comps = a["type"] == "SCALAR" ? 1 : a["type"] == "VEC2" ? 2 : a["type"] == "VEC3" ? 3 : 4;
  int ct = a["componentType"];
  size_t csize = (ct == 5120 || ct == 5121) ? 1 : (ct == 5122 || ct == 5123) ? 2 : 4;
  size_t stride = v.value("byteStride", size_t(0));
  if (stride == 0) stride = csize * comps;
  const size_t count = a["count"];
  // EXT_meshopt_compression: decode the view first
  std::vector<uint8_t> decoded;
  const uint8_t* base = nullptr;
  if (v.contains("extensions") && v["extensions"].contains("EXT_meshopt_compression")) {
    const auto& m = v["extensions"]["EXT_meshopt_compression"];
    size_t n = m["count"], mstride = m["byteStride"];
    decoded.resize(n * mstride);
    const uint8_t* src = &g.bin[m.value("byteOffset", size_t(0))];
    size_t len = m["byteLength"];
    int rc = m["mode"] == "TRIANGLES" ? meshopt_decodeIndexBuffer(decoded.data(), n, mstride, src, len)
                                      : meshopt_decodeVertexBuffer(decoded.data(), n, mstride, src, len);
    if (rc != 0) return out;
    base = decoded.data() + a.value("byteOffset", size_t(0));
    if (!v.contains("byteStride")) stride = csize * comps;
  } else {
    base = &g.bin[v.value("byteOffset", size_t(0)) + a.value("byteOffset", size_t(0))];
  }
  const bool normalized = a.value("normalized", false);
  for (size_t i = 0; i < count; ++i)
    for (int c = 0; c < comps; ++c) {
      const uint8_t* p = base + i * stride + c * csize;
      double x = 0;
      switch (ct) {
        case 5126: {
          float f;
          std::memcpy(&f, p, 4);
          x = f;
          break;
        }
        case 5125: {
          uint32_t u;
          std::memcpy(&u, p, 4);
          x = u;
          break;
        }
        case 5123: {
          uint16_t u;
          std::memcpy(&u, p, 2);
          x = normalized ? u / 65535.0 : u;
          break;
        }
        case 5122: {
          int16_t u;
          std::memcpy(&u, p, 2);
          x = normalized ? std::max(u / 32767.0, -1.0) : u;
          break;
        }
        case 5121: {
          x = normalized ? *p / 255.0 : *p;
          break;
        }
        case 5120: {
          int8_t u;
          std::memcpy(&u, p, 1);
          x = normalized ? std::max(u / 127.0, -1.0) : u;
          break;
        }
      }
      out.push_back(x);
    }
  return out;
}

void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << text;
}

std::string readText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace twin::test

namespace twin::test {

std::string cityModel(const std::string& members, const std::string& srs) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0" xmlns:gml="http://www.opengis.net/gml" xmlns:gen="http://www.opengis.net/citygml/generics/2.0" xmlns:app="http://www.opengis.net/citygml/appearance/2.0" xmlns:uro="https://www.geospatial.jp/iur/uro/3.1" xmlns:xlink="http://www.w3.org/1999/xlink">
  <gml:boundedBy><gml:Envelope srsName=")" +
         srs +
         R"(" srsDimension="3"><gml:lowerCorner>0 0 0</gml:lowerCorner><gml:upperCorner>1 1 1</gml:upperCorner></gml:Envelope></gml:boundedBy>
)" + members +
         "\n</core:CityModel>\n";
}

std::string boxBuilding(const std::string& id, double lat, double lon, double z0, double h, const std::string& extra,
                        double size) {
  double dlat = size / 111000.0, dlon = size / 91000.0;
  char buf[64];
  auto P = [&](double la, double lo, double z) {
    std::snprintf(buf, sizeof buf, "%.9f %.9f %.3f ", la, lo, z);
    return std::string(buf);
  };
  double la0 = lat, la1 = lat + dlat, lo0 = lon, lo1 = lon + dlon, z1 = z0 + h;
  auto poly = [&](std::vector<std::string> pts) {
    std::string s = "<gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>";
    for (auto& p : pts) s += p;
    s += pts[0];
    return s + "</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>\n";
  };
  std::string faces;
  faces += poly({P(la0, lo0, z0), P(la1, lo0, z0), P(la1, lo1, z0), P(la0, lo1, z0)});  // bottom
  faces += poly({P(la0, lo0, z1), P(la0, lo1, z1), P(la1, lo1, z1), P(la1, lo0, z1)});  // top
  faces += poly({P(la0, lo0, z0), P(la0, lo1, z0), P(la0, lo1, z1), P(la0, lo0, z1)});
  faces += poly({P(la0, lo1, z0), P(la1, lo1, z0), P(la1, lo1, z1), P(la0, lo1, z1)});
  faces += poly({P(la1, lo1, z0), P(la1, lo0, z0), P(la1, lo0, z1), P(la1, lo1, z1)});
  faces += poly({P(la1, lo0, z0), P(la0, lo0, z0), P(la0, lo0, z1), P(la1, lo0, z1)});
  return "<core:cityObjectMember><bldg:Building gml:id=\"" + id + "\">" + extra + "<bldg:measuredHeight uom=\"m\">" +
         std::to_string(h) + "</bldg:measuredHeight><bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>\n" +
         faces +
         "</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid></bldg:Building></"
         "core:cityObjectMember>\n";
}

static const char* kHeader =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<地図 xmlns=\"http://www.moj.go.jp/MINJI/tizuxml\" "
    "xmlns:zmn=\"http://www.moj.go.jp/MINJI/tizuzumen\">\n<version>ver1.0</version>\n<地図名>t</地図名>\n"
    "<市区町村コード>12103</市区町村コード>\n<市区町村名>千葉市稲毛区</市区町村名>\n";

static std::string point(const char* id, double x, double y) {
  return std::string("<zmn:GM_Point id=\"") + id + "\"><zmn:GM_Point.position><zmn:DirectPosition><zmn:X>" +
         std::to_string(x) + "</zmn:X><zmn:Y>" + std::to_string(y) +
         "</zmn:Y></zmn:DirectPosition></zmn:GM_Point.position></zmn:GM_Point>\n";
}

static std::string curve(const char* id, const char* a, const char* b) {
  return std::string("<zmn:GM_Curve id=\"") + id +
         "\"><zmn:GM_Curve.segment><zmn:GM_LineString><zmn:GM_LineString.controlPoint>"
         "<zmn:GM_PointArray.column><zmn:GM_Position.indirect><zmn:GM_PointRef.point idref=\"" +
         a +
         "\"/></zmn:GM_Position.indirect></zmn:GM_PointArray.column><zmn:GM_PointArray.column>"
         "<zmn:GM_Position.indirect><zmn:GM_PointRef.point idref=\"" +
         b +
         "\"/></zmn:GM_Position.indirect></zmn:GM_PointArray.column></zmn:GM_LineString.controlPoint>"
         "</zmn:GM_LineString></zmn:GM_Curve.segment></zmn:GM_Curve>\n";
}

// A square parcel of 10 m in zone IX (or `crs`), whose surface uses curves c1..c4.
std::string mojxmlSquareMap(const std::string& crs, const char* missingCurve) {
  std::string s = kHeader;
  s += "<座標系>" + crs + "</座標系>\n<空間属性>\n";
  s +=
      point("p1", -42000, 26000) + point("p2", -42000, 26010) + point("p3", -41990, 26010) + point("p4", -41990, 26000);
  s += curve("c1", "p1", "p2") + curve("c2", "p2", "p3") + curve("c3", "p3", "p4") + curve("c4", "p4", "p1");
  s += "<zmn:GM_Surface id=\"s1\"><zmn:GM_Surface.patch><zmn:GM_Polygon><zmn:GM_Polygon.boundary>"
       "<zmn:GM_SurfaceBoundary><zmn:GM_SurfaceBoundary.exterior><zmn:GM_Ring>";
  for (const char* c : {"c1", "c2", "c3", "c4"})
    s += std::string("<zmn:GM_CompositeCurve.generator idref=\"") +
         (missingCurve && !std::strcmp(c, "c3") ? missingCurve : c) + "\"/>";
  s += "</zmn:GM_Ring></zmn:GM_SurfaceBoundary.exterior></zmn:GM_SurfaceBoundary></zmn:GM_Polygon.boundary>"
       "</zmn:GM_Polygon></zmn:GM_Surface.patch></zmn:GM_Surface>\n</空間属性>\n<主題属性>\n"
       "<筆 id=\"H1\"><大字コード>015</大字コード><大字名>作草部町</大字名><地番>12-3</地番><形状 idref=\"s1\"/></筆>\n"
       "</主題属性>\n</地図>\n";
  return s;
}

}  // namespace twin::test
