#pragma once
// CityJSON 1.0, 1.1 and 2.0 (".json", ".city.json") and CityJSONSeq (".jsonl", ".city.jsonl": a
// CityJSON header line, then one CityJSONFeature per line, read line by line so that memory
// follows the largest feature, not the file).
//
// Every city object becomes a CityObject of the same type ("Building", "Road", "TINRelief", ...);
// parts ("BuildingPart", "BridgePart", ...) become children of their parent, installations and
// constructive elements add their surfaces to their parent, rooms, storeys, units and furniture
// are counted and skipped. Geometry: MultiSurface, CompositeSurface, Solid (outer shell),
// MultiSolid, CompositeSolid and GeometryInstance (templates), with semantic surfaces, one
// appearance theme of materials and textures (format option "cityjson.theme", else the first
// theme by name), and the transform applied. LOD "2.2" is LOD 2; where an object has several
// geometries of one LOD the highest refinement is kept. Attributes keep their JSON types; the
// Building attributes CityGML defines (measuredHeight, storeysAboveGround, roofType, ...) get
// their CityGML names ("bldg:measuredHeight") so rule checks read them as from CityGML.
//
// The CRS is metadata.referenceSystem (or --crs); x and y are easting/longitude and
// northing/latitude and are put into the CRS's axis order. A whole CityJSON file is parsed in
// memory (about ten times its size); convert large data as CityJSONSeq.

#include <memory>
#include <string_view>

#include "twin/reader.h"

namespace twin::cityjson {

std::unique_ptr<Reader> createReader();
bool sniff(std::string_view head);  // "CityJSON", "CityJSONFeature" or a "CityObjects" member

}  // namespace twin::cityjson
