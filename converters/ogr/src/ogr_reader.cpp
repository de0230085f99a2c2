// OGR vector reader.
#include "twin/ogr/ogr_reader.h"

#include <cstdio>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

namespace twin::ogr {

namespace {

std::once_flag gRegister;

// "archive.zip!/entry" (twin's archive syntax) -> GDAL's /vsizip/.
std::string gdalPath(const std::string& uri) {
  auto bang = uri.find("!/");
  if (bang == std::string::npos) return uri;
  return "/vsizip/" + uri.substr(0, bang) + "/" + uri.substr(bang + 2);
}

std::string srsOf(OGRSpatialReferenceH srs) {
  if (!srs) return {};
  const char* name = OSRGetAuthorityName(srs, nullptr);
  const char* code = OSRGetAuthorityCode(srs, nullptr);
  if (name && code && std::string(name) == "EPSG") return std::string("EPSG:") + code;
  if (OSRAutoIdentifyEPSG(srs) == OGRERR_NONE) {
    name = OSRGetAuthorityName(srs, nullptr);
    code = OSRGetAuthorityCode(srs, nullptr);
    if (name && code) return std::string(name) + ":" + code;
  }
  char* wkt = nullptr;
  const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
  if (OSRExportToWktEx(srs, &wkt, opts) == OGRERR_NONE && wkt) {
    std::string s = wkt;
    CPLFree(wkt);
    return s;
  }
  return {};
}

// City objects keep coordinates in their CRS's own axis order; GDAL layers hand them out in the
// data's order (for GeoJSON and most drivers: easting/longitude first). `swap` bridges the two.
thread_local bool tSwap = false;
thread_local bool tNorthFirst = false;  // the CRS's own order is latitude/northing first

void addRing(OGRGeometryH ring, Geometry& g) {
  int n = OGR_G_GetPointCount(ring);
  size_t start = g.points.size();
  for (int i = 0; i < n; ++i) {
    double x = OGR_G_GetX(ring, i), y = OGR_G_GetY(ring, i), z = OGR_G_GetZ(ring, i);
    if (tSwap) std::swap(x, y);
    g.points.push_back({x, y, z});
  }
  if (g.points.size() - start > 1 && g.points.back() == g.points[start]) g.points.pop_back();
  g.ringStart.push_back(uint32_t(g.points.size()));
}

// Appends the polygons of `geom` (Polygon, MultiPolygon, collections, curves linearised).
int addPolygons(OGRGeometryH geom, Geometry& g) {
  if (!geom) return 0;
  OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(geom));
  if (t == wkbPolygon) {
    int rings = OGR_G_GetGeometryCount(geom);
    if (rings == 0) return 0;
    Polygon p;
    p.firstRing = uint32_t(g.ringCount());
    p.ringCount = uint32_t(rings);
    for (int r = 0; r < rings; ++r) addRing(OGR_G_GetGeometryRef(geom, r), g);
    g.polygons.push_back(p);
    return 1;
  }
  if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
    int n = 0;
    for (int i = 0; i < OGR_G_GetGeometryCount(geom); ++i) n += addPolygons(OGR_G_GetGeometryRef(geom, i), g);
    return n;
  }
  if (t == wkbCurvePolygon || t == wkbMultiSurface || t == wkbPolyhedralSurface || t == wkbTIN) {
    OGRGeometryH lin = OGR_G_GetLinearGeometry(geom, 0, nullptr);
    OGRGeometryH flat = lin ? OGR_G_ForceToMultiPolygon(lin) : nullptr;
    int n = addPolygons(flat, g);
    if (flat) OGR_G_DestroyGeometry(flat);
    return n;
  }
  return 0;
}

// A field's numeric value (by the given name, else the usual ones, case-insensitive).
bool fieldNumber(const CityObject& obj, const std::string& given, std::initializer_list<const char*> usual, double& v) {
  auto match = [&](const std::string& want) -> const Attribute* {
    for (auto& a : obj.attributes) {
      if (a.key.size() != want.size()) continue;
      bool same = true;
      for (size_t i = 0; i < want.size() && same; ++i)
        same = std::tolower(static_cast<unsigned char>(a.key[i])) == std::tolower(static_cast<unsigned char>(want[i]));
      if (same) return &a;
    }
    return nullptr;
  };
  const Attribute* a = nullptr;
  if (!given.empty())
    a = match(given);
  else
    for (const char* u : usual)
      if ((a = match(u))) break;
  if (!a) return false;
  if (a->type == AttributeType::Integer)
    v = double(a->integer);
  else if (a->type == AttributeType::Double)
    v = a->number;
  else {
    char* e = nullptr;
    v = std::strtod(a->text.c_str(), &e);
    if (!e || *e || a->text.empty()) return false;
  }
  return std::isfinite(v);
}

// LOD1 solid of a footprint: each polygon extruded from its own height (0 when 2D) by the
// building's height (field, else storeys × floor height). Faces wound outwards (the footprint's
// orientation is read in east/north terms: `swapped` says the CRS order is north first; points
// are in the CRS's order here).
bool extrude(CityObject& obj, const Geometry& foot, const std::string& heightField, const std::string& storeysField,
             double floorHeight, bool swapped) {
  double h = 0, storeys = 0;
  bool have = fieldNumber(obj, heightField,
                          {"height", "measuredHeight", "bldg:measuredHeight", "measured_height", "高さ"}, h) &&
              h > 0 && h < 1000;
  bool estimated = false;
  if (!have &&
      fieldNumber(obj, storeysField, {"storeys", "storeysAboveGround", "bldg:storeysAboveGround", "floors", "階数"},
                  storeys) &&
      storeys > 0 && storeys < 300) {
    h = storeys * floorHeight;
    have = estimated = true;
  }
  if (!have) return false;
  if (estimated) {
    // Not a measured height: said so, for whoever reads it (the land-use checks take it as an
    // estimate that cannot decide a verdict on its own).
    Attribute a;
    a.key = "twin:heightEstimate";
    a.type = AttributeType::String;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%g storeys × %g m (no height in the data)", storeys, floorHeight);
    a.text = buf;
    obj.attributes.push_back(std::move(a));
  }
  bool hasMeasured = false;
  for (auto& a : obj.attributes) hasMeasured = hasMeasured || a.key == "bldg:measuredHeight";
  if (!hasMeasured && !estimated) {
    Attribute a;
    a.key = "bldg:measuredHeight";
    a.type = AttributeType::Double;
    a.number = h;
    a.uom = "m";
    obj.attributes.push_back(std::move(a));
  }
  Geometry g;
  g.lod = 1;
  auto addRing = [&](const std::vector<Vec3>& pts) {
    for (auto& p : pts) g.points.push_back(p);
    g.ringStart.push_back(uint32_t(g.points.size()));
  };
  for (auto& poly : foot.polygons) {
    // The rings oriented once: outer counter-clockwise, holes clockwise, seen from above.
    std::vector<std::vector<Vec3>> rings;
    for (uint32_t r = 0; r < poly.ringCount; ++r) {
      uint32_t ri = poly.firstRing + r;
      std::vector<Vec3> ring(foot.points.begin() + foot.ringStart[ri], foot.points.begin() + foot.ringStart[ri + 1]);
      if (ring.size() < 3) continue;
      double area = 0;
      for (size_t i = 0; i < ring.size(); ++i)
        area += ring[i][0] * ring[(i + 1) % ring.size()][1] - ring[(i + 1) % ring.size()][0] * ring[i][1];
      bool ccw = (area > 0) != swapped;  // counter-clockwise in east/north terms
      if (ccw != (r == 0)) std::reverse(ring.begin(), ring.end());
      for (auto& p : ring)
        if (!std::isfinite(p[2])) p[2] = 0;
      rings.push_back(std::move(ring));
    }
    if (rings.empty()) continue;
    // Walls: for each edge a->b, the quad (a, b, b', a') faces outwards.
    for (auto& ring : rings)
      for (size_t i = 0; i < ring.size(); ++i) {
        const Vec3& a = ring[i];
        const Vec3& b = ring[(i + 1) % ring.size()];
        Polygon wall;
        wall.firstRing = uint32_t(g.ringCount());
        wall.ringCount = 1;
        wall.surface = SurfaceType::Wall;
        addRing({a, b, {b[0], b[1], b[2] + h}, {a[0], a[1], a[2] + h}});
        g.polygons.push_back(wall);
      }
    // Roof (as oriented, raised by h) and floor (reversed: facing down).
    for (SurfaceType surface : {SurfaceType::Roof, SurfaceType::Ground}) {
      Polygon face;
      face.firstRing = uint32_t(g.ringCount());
      face.ringCount = uint32_t(rings.size());
      face.surface = surface;
      for (auto ring : rings) {
        if (surface == SurfaceType::Roof)
          for (auto& p : ring) p[2] += h;
        else
          std::reverse(ring.begin(), ring.end());
        addRing(ring);
      }
      g.polygons.push_back(face);
    }
  }
  if (g.polygons.empty()) return false;
  obj.geometries.push_back(std::move(g));
  return true;
}

// Ground heights from a DEM raster (any GDAL raster with a CRS), bilinear, band 1.
class Dem {
 public:
  bool open(const std::string& path, std::string& error) {
    ds_ = GDALOpen(path.c_str(), GA_ReadOnly);
    if (!ds_) return error = "GDAL cannot open the DEM '" + path + "'", false;
    if (GDALGetGeoTransform(ds_, gt_) != CE_None) return error = "the DEM '" + path + "' has no geotransform", false;
    const char* wkt = GDALGetProjectionRef(ds_);
    if (!wkt || !*wkt) return error = "the DEM '" + path + "' has no CRS", false;
    srs_ = OSRNewSpatialReference(wkt);
    OSRSetAxisMappingStrategy(srs_, OAMS_TRADITIONAL_GIS_ORDER);
    band_ = GDALGetRasterBand(ds_, 1);
    int has = 0;
    nodata_ = GDALGetRasterNoDataValue(band_, &has);
    hasNodata_ = has != 0;
    return true;
  }
  ~Dem() {
    if (ct_) OCTDestroyCoordinateTransformation(ct_);
    if (from_) OSRDestroySpatialReference(from_);
    if (srs_) OSRDestroySpatialReference(srs_);
    if (ds_) GDALClose(ds_);
  }
  // The layer's CRS (points arrive east/longitude first).
  bool setSource(OGRSpatialReferenceH layerSrs) {
    if (ct_) OCTDestroyCoordinateTransformation(ct_), ct_ = nullptr;
    if (from_) OSRDestroySpatialReference(from_), from_ = nullptr;
    if (!layerSrs) return false;
    from_ = OSRClone(layerSrs);
    OSRSetAxisMappingStrategy(from_, OAMS_TRADITIONAL_GIS_ORDER);
    ct_ = OCTNewCoordinateTransformation(from_, srs_);
    return ct_ != nullptr;
  }
  // Height at (east, north) of the layer's CRS; NaN outside the raster or on nodata.
  double at(double x, double y) {
    if (!ct_ || !OCTTransform(ct_, 1, &x, &y, nullptr)) return NAN;
    double det = gt_[1] * gt_[5] - gt_[2] * gt_[4];
    if (det == 0) return NAN;
    double dx = x - gt_[0], dy = y - gt_[3];
    double col = (gt_[5] * dx - gt_[2] * dy) / det - 0.5, row = (-gt_[4] * dx + gt_[1] * dy) / det - 0.5;
    int c0 = int(std::floor(col)), r0 = int(std::floor(row));
    int w = GDALGetRasterBandXSize(band_), h = GDALGetRasterBandYSize(band_);
    c0 = std::clamp(c0, 0, std::max(0, w - 2)), r0 = std::clamp(r0, 0, std::max(0, h - 2));
    if (col < -0.5 || row < -0.5 || col > w - 0.5 || row > h - 0.5) return NAN;
    float tmp[4];
    int cw = std::min(2, w), rh = std::min(2, h);
    if (GDALRasterIO(band_, GF_Read, c0, r0, cw, rh, tmp, cw, rh, GDT_Float32, 0, 0) != CE_None) return NAN;
    // v: this cell, the next column, the next row, both (a one-pixel-wide raster repeats its edge).
    float v[4];
    v[0] = tmp[0];
    v[1] = cw > 1 ? tmp[1] : tmp[0];
    v[2] = rh > 1 ? tmp[cw] : tmp[0];
    v[3] = rh > 1 ? tmp[cw + (cw > 1 ? 1 : 0)] : v[1];
    for (float f : v)
      if (!std::isfinite(f) || (hasNodata_ && f == float(nodata_))) return NAN;
    double fx = std::clamp(col - c0, 0.0, 1.0), fy = std::clamp(row - r0, 0.0, 1.0);
    return (v[0] * (1 - fx) + v[1] * fx) * (1 - fy) + (v[2] * (1 - fx) + v[3] * fx) * fy;
  }

 private:
  GDALDatasetH ds_ = nullptr;
  GDALRasterBandH band_ = nullptr;
  OGRSpatialReferenceH srs_ = nullptr, from_ = nullptr;
  OGRCoordinateTransformationH ct_ = nullptr;
  double gt_[6] = {0, 1, 0, 0, 0, 1};
  double nodata_ = 0;
  bool hasNodata_ = false;
};

// Puts the footprint on the DEM: every point at the lowest ground height under the outline (a
// flat base, as LOD1 solids have). False when the DEM does not cover it.
bool putOnGround(Geometry& g, Dem& dem, bool northFirst) {
  double lowest = INFINITY;
  for (auto& p : g.points) {
    double x = northFirst ? p[1] : p[0], y = northFirst ? p[0] : p[1];
    double z = dem.at(x, y);
    if (!std::isfinite(z)) return false;
    lowest = std::min(lowest, z);
  }
  if (!std::isfinite(lowest)) return false;
  for (auto& p : g.points) p[2] = lowest;
  return true;
}

class OgrReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    std::call_once(gRegister, [] { GDALAllRegister(); });
    // Vector features carry no city object type: they are read only when asked for ("Feature"
    // or "*"), so a directory of mixed data converts its buildings without them.
    // Buildings (footprints extruded to their height) when buildings are asked for — the
    // default of `twin convert`; plain features for `twin parcels/zoning/roads import` ("*").
    bool buildings = options.objectTypes.empty(), features = false;
    for (auto& t : options.objectTypes) {
      buildings = buildings || t == "Building";
      features = features || t == "*" || t == "Feature";
    }
    if (!buildings && !features) return true;
    auto opt = [&](const char* k) {
      auto it = options.formatOptions.find(k);
      return it == options.formatOptions.end() ? std::string() : it->second;
    };
    const std::string heightField = opt("ogr.height-field"), storeysField = opt("ogr.storeys-field");
    double floorHeight = 3.0;
    if (!opt("ogr.floor-height").empty()) floorHeight = std::atof(opt("ogr.floor-height").c_str());
    if (!(floorHeight > 0 && floorHeight < 100)) floorHeight = 3.0;
    std::unique_ptr<Dem> dem;
    if (buildings && !opt("ogr.dem").empty()) {
      dem = std::make_unique<Dem>();
      std::string err;
      if (!dem->open(opt("ogr.dem"), err)) {
        diag.error("dem-unreadable", err + "; footprints stay at 0 m", uri);
        dem.reset();
      }
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(gdalPath(uri).c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    if (!ds) {
      std::string e = CPLGetLastErrorMsg();
      CPLPopErrorHandler();
      diag.error("ogr-unreadable", "GDAL cannot open this file as vector data" + (e.empty() ? "" : ": " + e), uri);
      return false;
    }
    bool stop = false;
    for (int li = 0; li < GDALDatasetGetLayerCount(ds) && !stop; ++li) {
      OGRLayerH layer = GDALDatasetGetLayer(ds, li);
      std::string layerName = OGR_L_GetName(layer);
      OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(layer);
      std::string srs = options.crsOverride.empty() ? srsOf(lsrs) : options.crsOverride;
      // Data axis 1 is the CRS's second axis (e.g. easting first for EPSG:6677, longitude first for
      // EPSG:6668): swap into the CRS's order. With --crs the data is taken as x = easting/longitude.
      tSwap = false;
      tNorthFirst = lsrs && (OSREPSGTreatsAsLatLong(lsrs) || OSREPSGTreatsAsNorthingEasting(lsrs));
      if (options.crsOverride.empty() && lsrs) {
        int count = 0;
        const int* map = OSRGetDataAxisToSRSAxisMapping(lsrs, &count);
        tSwap = map && count >= 2 && map[0] == 2 && map[1] == 1;
      } else if (!options.crsOverride.empty()) {
        OGRSpatialReferenceH o = OSRNewSpatialReference(nullptr);
        if (OSRSetFromUserInput(o, options.crsOverride.c_str()) == OGRERR_NONE)
          tSwap = tNorthFirst = OSREPSGTreatsAsLatLong(o) || OSREPSGTreatsAsNorthingEasting(o);
        OSRDestroySpatialReference(o);
      }
      OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
      OGR_L_ResetReading(layer);
      bool srsReported = false;
      if (dem && !dem->setSource(lsrs)) {
        diag.error("dem-crs",
                   "no transformation from layer " + layerName + "'s CRS to the DEM's; footprints stay at 0 m", uri);
        dem.reset();
      }
      OGRFeatureH f;
      while (!stop && (f = OGR_L_GetNextFeature(layer)) != nullptr) {
        if (options.cancel && options.cancel->load()) stop = true;
        GIntBig fid = OGR_F_GetFID(f);
        CityObject obj;
        obj.type = "Feature";
        obj.sourceFile = uri;
        obj.sourceLine = 0;
        obj.srs = srs;
        obj.id = layerName + "." + std::to_string(fid);
        for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
          if (!OGR_F_IsFieldSetAndNotNull(f, i)) continue;
          OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
          Attribute a;
          a.key = OGR_Fld_GetNameRef(fd);
          a.text = OGR_F_GetFieldAsString(f, i);
          switch (OGR_Fld_GetType(fd)) {
            case OFTInteger:
            case OFTInteger64:
              if (OGR_Fld_GetSubType(fd) == OFSTBoolean) {
                a.type = AttributeType::Boolean;
                a.boolean = OGR_F_GetFieldAsInteger(f, i) != 0;
              } else {
                a.type = AttributeType::Integer;
                a.integer = OGR_F_GetFieldAsInteger64(f, i);
              }
              break;
            case OFTReal:
              a.type = AttributeType::Double;
              a.number = OGR_F_GetFieldAsDouble(f, i);
              break;
            case OFTDate:
            case OFTDateTime:
              a.type = AttributeType::Date;
              break;
            default:
              a.type = AttributeType::String;
          }
          if (a.key == "id" || a.key == "gml_id" || a.key == "ID") obj.id = a.text;
          obj.attributes.push_back(std::move(a));
        }
        Geometry g;
        g.lod = 0;
        OGRGeometryH geom = OGR_F_GetGeometryRef(f);
        int n = addPolygons(geom, g);
        if (n == 0) {
          OGRwkbGeometryType t = geom ? wkbFlatten(OGR_G_GetGeometryType(geom)) : wkbNone;
          if (t == wkbNone)
            diag.warning("ogr-no-geometry", "feature has no geometry; skipped (layer " + layerName + ")", uri, 0,
                         obj.id);
          stats.skippedByType[t == wkbNone ? "NoGeometry" : OGRGeometryTypeToName(t)]++;
          OGR_F_Destroy(f);
          continue;
        }
        if (srs.empty() && !srsReported) {
          diag.error("crs-missing", "layer " + layerName + " has no CRS; give one with --crs EPSG:n", uri);
          srsReported = true;
        }
        if (buildings) {
          obj.type = "Building";
          if (dem && !putOnGround(g, *dem, tNorthFirst))
            diag.warning("dem-outside", "footprint outside the DEM (or on its no-data cells); left at 0 m", uri, 0,
                         obj.id);
          if (!extrude(obj, g, heightField, storeysField, floorHeight, tNorthFirst))
            diag.warning("footprint-no-height",
                         "footprint has no usable height" +
                             (heightField.empty() ? std::string(" (name its field with --height-field)")
                                                  : " in field '" + heightField + "'") +
                             "; kept as a flat outline (LOD0)",
                         uri, 0, obj.id);
        }
        obj.geometries.insert(obj.geometries.begin(), std::move(g));
        stats.objectsByType[obj.type]++;
        OGR_F_Destroy(f);
        if (srs.empty()) continue;
        if (!sink.accept(std::move(obj))) stop = true;
      }
    }
    GDALClose(ds);
    CPLPopErrorHandler();
    return true;
  }
};

}  // namespace

std::unique_ptr<Reader> createReader() { return std::make_unique<OgrReader>(); }

bool sniff(std::string_view head) {
  if (head.size() >= 16 && head.substr(0, 16) == std::string_view("SQLite format 3\0", 16)) return true;
  if (head.size() >= 4 && head.substr(0, 4) == "fgb\x03") return true;
  // Shapefile main file: big-endian file code 9994.
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x00\x00\x27\x0a", 4)) return true;
  return head.find("\"FeatureCollection\"") != std::string_view::npos ||
         head.find("\"Feature\"") != std::string_view::npos;
}

}  // namespace twin::ogr
