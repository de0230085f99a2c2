// OGR vector reader.
#include "twin/ogr/ogr_reader.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>

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

class OgrReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    std::call_once(gRegister, [] { GDALAllRegister(); });
    // Vector features carry no city object type: they are read only when asked for ("Feature"
    // or "*"), so a directory of mixed data converts its buildings without them.
    bool wanted = false;
    for (auto& t : options.objectTypes) wanted = wanted || t == "*" || t == "Feature";
    if (!wanted) {
      stats.skippedByType["Feature"] += 0;
      return true;
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
      if (options.crsOverride.empty() && lsrs) {
        int count = 0;
        const int* map = OSRGetDataAxisToSRSAxisMapping(lsrs, &count);
        tSwap = map && count >= 2 && map[0] == 2 && map[1] == 1;
      } else if (!options.crsOverride.empty()) {
        OGRSpatialReferenceH o = OSRNewSpatialReference(nullptr);
        if (OSRSetFromUserInput(o, options.crsOverride.c_str()) == OGRERR_NONE)
          tSwap = OSREPSGTreatsAsLatLong(o) || OSREPSGTreatsAsNorthingEasting(o);
        OSRDestroySpatialReference(o);
      }
      OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
      OGR_L_ResetReading(layer);
      bool srsReported = false;
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
            case OFTDateTime: a.type = AttributeType::Date; break;
            default: a.type = AttributeType::String;
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
            diag.warning("ogr-no-geometry", "feature has no geometry; skipped (layer " + layerName + ")", uri, 0, obj.id);
          stats.skippedByType[t == wkbNone ? "NoGeometry" : OGRGeometryTypeToName(t)]++;
          OGR_F_Destroy(f);
          continue;
        }
        if (srs.empty() && !srsReported) {
          diag.error("crs-missing", "layer " + layerName + " has no CRS; give one with --crs EPSG:n", uri);
          srsReported = true;
        }
        obj.geometries.push_back(std::move(g));
        stats.objectsByType["Feature"]++;
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
  return head.find("\"FeatureCollection\"") != std::string_view::npos ||
         head.find("\"Feature\"") != std::string_view::npos;
}

}  // namespace twin::ogr
