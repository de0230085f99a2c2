#pragma once
// CityGML 1.0 / 2.0 reader (PLATEAU i-UR 1.x-3.x included): a streaming libxml2 SAX2 parser.
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
