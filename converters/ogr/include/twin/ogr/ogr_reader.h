#pragma once
// GDAL/OGR vector data (GeoJSON, GeoPackage, Shapefile, FlatGeobuf, ...): every polygon feature of
// every layer becomes a city object of type "Feature" with its attributes (typed as OGR types
// them) and its polygons as LOD0 geometry, in the layer's CRS. What the features mean (parcels,
// zoning, roads) is decided by the command that reads them (`twin parcels import`, ...).
// Lines and points are counted and skipped. Features with no usable geometry are reported with
// the layer name and feature id.

#include <memory>
#include <string_view>

#include "twin/reader.h"

namespace twin::ogr {

std::unique_ptr<Reader> createReader();
bool sniff(std::string_view head);  // GeoJSON FeatureCollection / GeoPackage / FlatGeobuf / Shapefile

}  // namespace twin::ogr
