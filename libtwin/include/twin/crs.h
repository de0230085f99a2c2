#pragma once
// Coordinate reference systems: from a source CRS (as CityGML's srsName names it) to
// Earth-centred, Earth-fixed coordinates (EPSG:4978), which 3D Tiles uses.
//
// Heights: a source CRS whose vertical part is a gravity-related (orthometric) height, e.g.
// EPSG:6697 = JGD2011 + JGD2011 (vertical) height (T.P.), has its heights turned into ellipsoidal
// heights with a geoid model: h = H + N(lon, lat). The default model depends on the datum: for
// JGD2011 and JGD2000 (Japan; PLATEAU's EPSG:6697 heights are T.P., referred to GSI's geoid)
// GSIGEO2011, which twin ships (fs::dataFile "geoid/jp_gsi_gsigeo2011.tif"), inside its grid and
// EGM96 outside it; for every other datum EGM96 (egm96_15.gtx from proj-data). A user may give
// another grid (JPGEO2024, ... as GTX or GeoTIFF), which then applies alone. A 2D source CRS says nothing about its
// heights: they are taken as orthometric and the geoid is applied, and `heightAssumed()` reports that. A 3D geographic
// source CRS (ellipsoidal heights) is transformed without geoid.
//
// Not thread-safe: make one CrsTransform per thread (`clone()`).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "twin/city_model.h"
#include "twin/diagnostics.h"

namespace twin {

// Turns an srsName into a canonical id PROJ understands: "EPSG:6697", "EPSG:25832+5783".
// Accepts a bare EPSG code, EPSG:n, urn:ogc:def:crs:EPSG:[v]:n, http(s)://www.opengis.net/def/crs/EPSG/0/n,
// compound URNs (urn:ogc:def:crs,crs:EPSG::a,crs:EPSG::b), OGC crs-compound URLs, and the
// German AdV ids (urn:adv:crs:ETRS89_UTM32*DE_DHHN92_NH, ...). Returns nullopt when unknown.
std::optional<std::string> canonicalSrs(std::string_view srsName);

struct GeoidOptions {
  // Grid file for N(lon, lat): a file name PROJ finds on its search path, or a path.
  // Empty means the default: GSIGEO2011 (EGM96 outside its extent) for JGD2000/JGD2011, else
  // EGM96 ("egm96_15.gtx").
  std::string gridFile;
  // Where twin's own data lies (its GSIGEO2011 grid under geoid/), searched before the install
  // prefix and the source tree (fs::dataFile); empty: those only.
  std::string dataDir;
};

class CrsTransform {
 public:
  ~CrsTransform();
  CrsTransform(const CrsTransform&) = delete;
  CrsTransform& operator=(const CrsTransform&) = delete;

  // Builds the transform from `srs` (a canonical id or any srsName canonicalSrs accepts, or
  // anything PROJ accepts) to ECEF. Fails with "crs-unknown" or "geoid-missing".
  static Result<std::unique_ptr<CrsTransform>> create(const std::string& srs, const GeoidOptions& geoid = {});

  std::unique_ptr<CrsTransform> clone() const;

  // Transforms n points in place from source coordinates (the CRS's own axis order) to ECEF.
  // Returns the number of points that failed (set to NaN), e.g. outside the geoid grid.
  size_t toEcef(Vec3* points, size_t n);

  // Source coordinates → geographic longitude, latitude (degrees) and ellipsoidal height.
  size_t toLonLatHeight(Vec3* points, size_t n);

  const std::string& srs() const { return srs_; }
  // The geoid grid applied ("jp_gsi_gsigeo2011.tif (egm96_15.gtx outside its extent)",
  // "egm96_15.gtx", or the file given), or empty when heights are ellipsoidal already.
  const std::string& geoidGrid() const { return geoid_; }
  bool heightAssumed() const { return heightAssumed_; }
  std::string description() const;

 private:
  CrsTransform() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string srs_;
  std::string geoid_;
  GeoidOptions geoidOptions_;
  bool heightAssumed_ = false;
};

// Geodetic helpers on the WGS84 ellipsoid (GRS80 differs by < 0.1 mm here).
Vec3 ecefToLonLatHeight(const Vec3& ecef);  // degrees, degrees, metres
Vec3 lonLatHeightToEcef(const Vec3& llh);
// East, north, up unit vectors at an ECEF point.
void enuFrame(const Vec3& ecef, Vec3& east, Vec3& north, Vec3& up);

// A local east-north-up frame (metres) at an ECEF origin, both ways.
struct LocalFrame {
  Vec3 origin{0, 0, 0};  // ECEF
  Vec3 east{1, 0, 0}, north{0, 1, 0}, up{0, 0, 1};
  static LocalFrame at(const Vec3& originEcef);
  Vec3 toEnu(const Vec3& ecef) const;  // ECEF point -> east, north, up
  Vec3 toEcef(const Vec3& enu) const;  // east, north, up -> ECEF point
  Vec3 dirToEnu(const Vec3& d) const;  // ECEF direction -> east, north, up components
};

}  // namespace twin

namespace twin {

// A 2D transform between a source CRS (coordinates in its own axis order, as in CityObject) and a
// projected CRS (easting, northing in metres), for areas and polygon overlay. Heights pass through
// untouched. Not thread-safe: one per thread.
class PlaneTransform {
 public:
  ~PlaneTransform();
  PlaneTransform(const PlaneTransform&) = delete;
  PlaneTransform& operator=(const PlaneTransform&) = delete;

  // `projected` must be a projected CRS ("EPSG:6677"). Fails with "crs-unknown" / "crs-unsupported".
  static Result<std::unique_ptr<PlaneTransform>> create(const std::string& source, const std::string& projected);

  // Source coordinates -> easting, northing (z kept). Returns how many points failed (set to NaN).
  size_t forward(Vec3* p, size_t n);
  // Easting, northing -> longitude, latitude in degrees on the projected CRS's datum (z kept).
  size_t toLonLat(Vec3* p, size_t n);

 private:
  PlaneTransform() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The projected CRS twin works in near (lon, lat): in Japan the JGD2011 plane rectangular zone
// (EPSG:6669..6687, 公共座標系 I..XIX) whose central meridian is nearest, elsewhere the WGS 84 UTM
// zone. Scale error in both stays below 1e-4 near the data, far below survey tolerances for areas.
std::string chooseProjectedCrs(double lon, double lat);
// The WKT (OGC 01-009 / WKT1, as GeoPackage wants) of a CRS, or empty.
std::string crsWkt1(const std::string& crs);
// True when the CRS's first axis points north (EPSG:6697, EPSG:4326: latitude first; some
// projected CRSs: northing first). Formats that always store easting/longitude first (CityJSON,
// GeoJSON) swap their x and y into the CRS's order with it.
bool crsNorthFirst(const std::string& crs);
// True for a geographic CRS (latitude/longitude), also as the horizontal part of a compound one.
bool crsIsGeographic(const std::string& crs);

}  // namespace twin
