#pragma once
// Helpers shared by the tests: temporary directories, running `twin`, reading glb files.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "twin/city_model.h"
#include "twin/diagnostics.h"
#include "twin/reader.h"

namespace twin::test {

std::string samples(const std::string& rel);   // ../shared/samples/<rel>
std::string testData(const std::string& rel);  // tests/data/<rel>
std::string tempDir(const std::string& name);  // fresh, empty directory under the build's temp area

struct RunResult {
  int exitCode = -1;
  std::string output;  // stdout + stderr
};
RunResult run(const std::string& commandLine);  // runs a shell command
// The twin program under test: $TWIN_EXE_UNDER_TEST (e.g. build/tools/twin-asan),
// else the one built with the tests.
const char* twinExe();
RunResult runTwin(const std::string& args);  // runs the twin executable
// Runs the Khronos glTF validator (npm gltf-validator) on every glb under `dir`: CHECKs zero errors.
// Validates what a test wrote under `dir` against the outside: the Khronos glTF validator on every
// glb and, for every tileset.json, the CesiumGS 3D Tiles validator (0 errors, 0 warnings) and
// loaders.gl (tests/node/tiles-client.mjs: contents load, lie inside the volumes the client
// derives, feature ids within their tables).
void validateOutput(const std::string& dir);

// Keeps every object a reader delivers.
struct CollectSink : ObjectSink {
  std::vector<CityObject> objects;
  bool accept(CityObject&& o) override {
    objects.push_back(std::move(o));
    return true;
  }
};

// Reads every object of a file through the registry.
std::vector<CityObject> readAll(const std::string& uri, DiagnosticCollector& diag, ReadStats* stats = nullptr,
                                const std::string& crs = {}, const std::vector<std::string>& types = {});

struct Glb {
  nlohmann::json json;
  std::vector<uint8_t> bin;
  bool ok = false;
};
Glb readGlb(const std::string& path);
// Typed view of accessor data (non-compressed only).
std::vector<double> accessorValues(const Glb& g, int accessor);

void writeText(const std::string& path, const std::string& text);
std::string readText(const std::string& path);

}  // namespace twin::test

namespace twin::test {
// A minimal CityGML 2.0 document (EPSG:6697 unless `srs` is given) holding `members`
// (each a complete <core:cityObjectMember>...</core:cityObjectMember>).
std::string cityModel(const std::string& members,
                      const std::string& srs = "http://www.opengis.net/def/crs/EPSG/0/6697");
// A box building of `size` metres (roughly) at lat/lon with an LOD1 solid, height h above z0.
std::string boxBuilding(const std::string& id, double lat, double lon, double z0, double h,
                        const std::string& extra = "", double size = 10.0);
}  // namespace twin::test

namespace twin::test {
// A 地図XML document with one 10 m square parcel (地番 12-3, id H1) in `crs` ("公共座標9系",
// "任意座標系", ...); with `missingCurve`, the surface refers to that curve instead of c3.
std::string mojxmlSquareMap(const std::string& crs, const char* missingCurve = nullptr);
}  // namespace twin::test
