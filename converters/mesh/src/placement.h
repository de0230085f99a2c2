#pragma once
// Where a model's local coordinates go (see mesh_reader.h).
#include <string>

#include "twin/city_model.h"
#include "twin/crs.h"
#include "twin/diagnostics.h"
#include "twin/reader.h"

namespace twin::mesh {

struct Placement {
  std::string srs;   // the CRS of the placed coordinates (EPSG:4979 for east-north-up)
  bool enu = false;  // geographic origin: local metres east, north, up about it
  bool yUp = false;  // model y is up (glTF)
  bool northFirst = false;
  Vec3 origin{0, 0, 0};  // easting, northing, height / longitude, latitude, ellipsoidal height
  LocalFrame frame;      // enu: the east-north-up frame at the origin

  // Model coordinates -> coordinates in `srs`, in its axis order.
  Vec3 place(double x, double y, double z) const;
};

// Reads --crs (ReadOptions::crsOverride), "mesh.origin" and "mesh.up". False (with an error on
// `diag` naming `uri`) when no usable CRS is given.
bool makePlacement(const std::string& uri, const ReadOptions& options, bool defaultYUp, Placement& p,
                   DiagnosticSink& diag);

std::string optionOr(const ReadOptions& o, const std::string& key, const std::string& fallback);
std::string fileStem(const std::string& uri);

}  // namespace twin::mesh
