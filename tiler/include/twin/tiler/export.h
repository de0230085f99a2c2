#pragma once
// `twin export`: a selection of a city (by bounding box, ids, object types) written for other
// tools instead of as 3D Tiles:
//   - GLB (glTF 2.0) and OBJ (+ MTL and texture files) for CAD and 3D tools: one node / object
//     per building named by its id (GLB: the attributes as the node's extras), textures and
//     colours kept, coordinates in metres in a local east-north-up frame whose origin (longitude,
//     latitude, ellipsoidal height and ECEF) is written in the file (GLB: asset.extras.twin;
//     OBJ: a header comment). GLB is y-up as glTF requires (x east, y up, z south); OBJ is z-up
//     (x east, y north, z up), as CAD tools expect.
//   - GeoJSON (RFC 7946, longitude/latitude) and GeoPackage (a projected CRS in metres: the
//     JGD2011 plane zone or UTM zone of the data, or --to-crs) footprints with every attribute
//     flattened into typed fields, plus height, building area and storeys as twin derives them
//     for the rule checks.
// The selection is held in memory (it is meant for a district, not a whole prefecture); files
// are written under a temporary name and renamed when complete.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/reader.h"
#include "twin/tiler/convert.h"

namespace twin::tiler {

struct ExportOptions {
  std::string format;                         // "glb", "obj", "geojson", "gpkg"; empty: from the file name
  std::set<std::string> ids;                  // empty: any (a building is selected by its own or a part's id)
  std::optional<std::array<double, 4>> bbox;  // west, south, east, north (degrees): objects touching it
  std::vector<std::string> objectTypes;       // see ReadOptions::objectTypes; empty: buildings
  int lod = -1;                               // GLB/OBJ: -1 the highest each object has
  std::string crsOverride;
  std::string geoidFile;
  std::string dataDir;  // GeoidOptions::dataDir
  std::map<std::string, std::string> formatOptions;
  std::string planeCrs;      // GeoPackage CRS; empty: chosen near the data (chooseProjectedCrs)
  double floorHeight = 3.0;  // storeys estimate for footprints without a storeys attribute
  std::function<void(const Progress&)> progress;
  const std::atomic<bool>* cancel = nullptr;
};

struct ExportResult {
  bool ok = false;
  ReadStats read;
  uint64_t selected = 0;  // objects in the selection
  uint64_t written = 0;   // objects written (with geometry)
  uint64_t skipped = 0;   // selected but without usable geometry
  std::string format;
  std::array<double, 3> origin{0, 0, 0};  // GLB/OBJ: the frame's origin (lon, lat, ellipsoidal height)
  std::string crs;                        // GeoJSON/GeoPackage: the output CRS
  std::vector<std::string> files;         // what was written
};

// The format for an output path by its extension ("glb", "obj", "geojson", "gpkg"), or empty.
std::string exportFormatFor(const std::string& path);

ExportResult exportSelection(const std::vector<InputFile>& inputs, const std::string& output,
                             const ExportOptions& options, DiagnosticSink& diag);

}  // namespace twin::tiler
