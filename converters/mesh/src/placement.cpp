#include "placement.h"

#include <cmath>
#include <cstdlib>

#include "twin/crs.h"

namespace twin::mesh {

std::string optionOr(const ReadOptions& o, const std::string& key, const std::string& fallback) {
  auto it = o.formatOptions.find(key);
  return it == o.formatOptions.end() || it->second.empty() ? fallback : it->second;
}

std::string fileStem(const std::string& uri) {
  size_t slash = uri.find_last_of("/!");
  std::string name = slash == std::string::npos ? uri : uri.substr(slash + 1);
  size_t dot = name.find('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

Vec3 Placement::place(double x, double y, double z) const {
  double e = x, n = y, u = z;
  if (yUp) n = -z, u = y;
  if (enu) {
    Vec3 llh = ecefToLonLatHeight(frame.toEcef({e, n, u}));
    return {llh[1], llh[0], llh[2]};  // EPSG:4979: latitude first
  }
  Vec3 p{origin[0] + e, origin[1] + n, origin[2] + u};
  if (northFirst) std::swap(p[0], p[1]);
  return p;
}

bool makePlacement(const std::string& uri, const ReadOptions& options, bool defaultYUp, Placement& p,
                   DiagnosticSink& diag) {
  if (options.crsOverride.empty()) {
    diag.error("crs-missing",
               "a mesh or point cloud has no CRS: place it with --crs EPSG:n and --origin (easting,northing,height "
               "for a projected CRS; longitude,latitude,ellipsoidal height for a geographic one)",
               uri);
    return false;
  }
  std::string crs = canonicalSrs(options.crsOverride).value_or(options.crsOverride);
  std::string origin = optionOr(options, "mesh.origin", "0,0,0");
  double v[3] = {0, 0, 0};
  char* end = nullptr;
  const char* s = origin.c_str();
  for (int k = 0; k < 3; ++k) {
    v[k] = std::strtod(s, &end);
    if (end == s || !std::isfinite(v[k]) || (k < 2 && *end != ',') || (k == 2 && *end != 0)) {
      diag.error("mesh-origin", "--origin wants three numbers x,y,z, got '" + origin + "'", uri);
      return false;
    }
    s = end + 1;
  }
  std::string up = optionOr(options, "mesh.up", defaultYUp ? "y" : "z");
  p.yUp = up == "y";
  p.origin = {v[0], v[1], v[2]};
  if (crsIsGeographic(crs)) {
    if (std::abs(v[1]) > 90 || std::abs(v[0]) > 180) {
      diag.error("mesh-origin", "--origin for a geographic CRS is longitude,latitude,height; got '" + origin + "'",
                 uri);
      return false;
    }
    p.enu = true;
    p.srs = "EPSG:4979";
    p.frame = LocalFrame::at(lonLatHeightToEcef({v[0], v[1], v[2]}));
  } else {
    p.srs = crs;
    p.northFirst = crsNorthFirst(crs);
  }
  return true;
}

}  // namespace twin::mesh
