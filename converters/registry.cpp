#include "twin/converters/registry.h"

#include "twin/citygml/citygml_reader.h"
#include "twin/cityjson/cityjson_reader.h"
#include "twin/mesh/mesh_reader.h"
#include "twin/mojxml/mojxml_reader.h"
#include "twin/ogr/ogr_reader.h"

namespace twin::converters {

namespace {

using Kind = ReaderOption::Kind;

// The settings the vector footprint reader takes (GDAL/OGR).
std::vector<ReaderOption> ogrOptions() {
  return {{"ogr.height-field", "height-field",
           "Vector footprints (GeoJSON, GeoPackage, Shapefile, ...): the field with the building height in metres "
           "(default: height, measuredHeight, bldg:measuredHeight, 高さ)"},
          {"ogr.storeys-field", "storeys-field",
           "Vector footprints: the field with storeys above ground, used × --floor-height where no height is given "
           "(default: storeys, storeysAboveGround, floors, 階数)"},
          {"ogr.floor-height", "floor-height", "Vector footprints: metres per storey (default 3)", Kind::Number},
          {"ogr.dem", "dem",
           "Vector footprints: a DEM raster (GeoTIFF or any GDAL raster with a CRS; orthometric heights) to stand "
           "them on (the lowest ground under each outline); default 0 m",
           Kind::Path}};
}

// Placement of meshes and point clouds, which carry no CRS of their own.
std::vector<ReaderOption> placementOptions(bool meshes) {
  std::vector<ReaderOption> o = {
      {"mesh.origin", "origin",
       "Meshes and point clouds: where their (0,0,0) is: easting,northing,height in a projected --crs (model axes "
       "along the CRS's), or longitude,latitude,ellipsoidal height in a geographic --crs (model axes east, north, "
       "up; what twin export writes)"},
      {"mesh.up",
       "up",
       "Meshes and point clouds: the model's up axis (default z; y for glTF/GLB)",
       Kind::Choice,
       {"y", "z"}}};
  if (meshes) {
    o.push_back({"mesh.split",
                 "mesh-split",
                 "Meshes: one feature per object (OBJ o/g, glTF node; default) or per file",
                 Kind::Choice,
                 {"object", "file"}});
    o.push_back({"mesh.lod",
                 "mesh-lod",
                 "Meshes: the level of detail they are given as (default 2)",
                 Kind::Choice,
                 {"0", "1", "2", "3", "4"}});
  }
  return o;
}

}  // namespace

const FormatRegistry& builtinFormats() {
  static const FormatRegistry registry = [] {
    FormatRegistry r;
    r.add({"citygml",
           "CityGML 1.0/2.0/3.0 (PLATEAU i-UR 1.x-3.x): buildings with LOD0-4, textures, attributes",
           {".gml", ".citygml", ".xml"},
           &citygml::createReader,
           &citygml::sniff});
    r.add({"cityjson",
           "CityJSON 1.0/1.1/2.0 and CityJSONSeq: city objects with semantics, materials, textures, templates",
           {".json", ".city.json", ".jsonl", ".city.jsonl"},
           &cityjson::createReader,
           &cityjson::sniff,
           false,
           {{"cityjson.theme", "theme", "CityJSON: the appearance theme to use (default: the first by name)"}}});
    r.add({"mojxml",
           "Cadastral map XML of the Ministry of Justice (地図XML): parcels (筆) with 地番 (--types parcel)",
           {".xml"},
           &mojxml::createReader,
           &mojxml::sniff});
    r.add({"ogr",
           "GDAL/OGR vector data (GeoJSON, GeoPackage, Shapefile, FlatGeobuf): polygons with attributes, for "
           "parcels, zoning and roads (twin parcels/zoning/roads import)",
           {".geojson", ".json", ".gpkg", ".shp", ".fgb"},
           &ogr::createReader,
           &ogr::sniff,
           false,
           ogrOptions()});
    r.add({"mesh",
           "3D meshes placed with --crs and --origin: OBJ (+MTL, textures; a feature per object), glTF/GLB (a "
           "feature per node), PLY, OFF (Open3D)",
           {".obj", ".gltf", ".glb", ".ply", ".off"},
           &mesh::createMeshReader,
           &mesh::sniffMesh,
           false,
           placementOptions(true)});
    r.add({"stl",
           "STL meshes (Open3D) placed with --crs and --origin, a feature per file",
           {".stl"},
           &mesh::createMeshReader,
           nullptr,
           false,
           placementOptions(true)});
    FormatInfo points{"pointcloud",
                      "Point clouds (Open3D: PLY without faces, PCD, XYZ, XYZN, XYZRGB, PTS) placed with --crs and "
                      "--origin: tiled as glTF points with voxel-subsampled levels of detail",
                      {".ply", ".pcd", ".xyz", ".xyzn", ".xyzrgb", ".pts"},
                      &mesh::createPointReader,
                      &mesh::sniffPoints};
    points.pointCloud = true;
    points.options = placementOptions(false);
    r.add(points);
    return r;
  }();
  return registry;
}

}  // namespace twin::converters
