#pragma once
// CityGML 1.0 / 2.0 / 3.0 reader (PLATEAU i-UR 1.x-3.x included): a streaming libxml2 SAX2 parser.
//
// CityGML 3.0 is read by the same parser: core:boundary with con: surfaces (con:fillingSurface
// windows and doors), bldg:buildingPart / buildingInstallation / buildingConstructiveElement,
// core lodN properties (a building's own lod0MultiSurface is its footprint), GML 3.2, 3.0 generic
// attributes (gen:name child) and appearances (app:target xlink:href). A measured con:Height and
// con:dateOfConstruction also appear as bldg:measuredHeight / bldg:yearOfConstruction, so a
// building gives the same model from 2.0 or 3.0. Rooms, furniture, storeys and units (interior)
// are skipped; versioning and CRS definitions are not city objects.
//
// Reads bldg:Building and bldg:BuildingPart with their LOD0-LOD4 geometry (solids,
// multi-surfaces, boundary surfaces with semantics, openings, xlink:href references within the
// building), typed attributes (gml:name, bldg:*, gen:*, uro:* groups), code lists (resolved via
// codeSpace when the dataset ships its codelists/ folder), and appearance
// (app:ParameterizedTexture with per-ring texture coordinates, app:X3DMaterial). Other city
// objects (roads, land use, relief, ...) are counted and skipped.
//
// Memory: one building at a time, plus the texture coordinates of the file's global
// appearances (read first in a separate pass over the appearance section only).

#include <memory>

#include "twin/reader.h"

namespace twin::citygml {

std::unique_ptr<Reader> createReader();
bool sniff(std::string_view head);  // true for CityGML 1.0/2.0 documents

}  // namespace twin::citygml
