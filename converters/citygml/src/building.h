#pragma once
// Private: a city object as the parser collects it (ObjCtx: its geometry by LOD with the ids of
// rings and polygons, its surface references) and a top-level building read with its parts
// (PendingBuilding), which build() finishes: xlink:href surface references resolved, appearances
// applied, the CRS given.

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "appearance.h"
#include "twin/city_model.h"
#include "twin/diagnostics.h"

namespace twin::citygml {

struct Href {
  std::string id;
  int lod;
  SurfaceType surface;
  bool reversed;
};

struct ObjCtx {
  CityObject obj;
  int depth = 0;
  std::array<int, 5> geomIndex{-1, -1, -1, -1, -1};
  std::vector<std::vector<std::string>> ringIds;  // per geometry
  std::vector<std::vector<std::string>> polyIds;  // per geometry, per polygon
  std::vector<Href> hrefs;
  struct Aggregate {
    int lod;
    uint32_t first, last;  // polygon range in the LOD's geometry
  };
  std::unordered_map<std::string, Aggregate> aggregates;  // CompositeSurface, MultiSurface, ... by gml:id

  uint32_t polygonCount(int lod) const {
    return geomIndex[lod] < 0 ? 0u : static_cast<uint32_t>(obj.geometries[geomIndex[lod]].polygons.size());
  }

  Geometry& geometryFor(int lod) {
    if (geomIndex[lod] < 0) {
      geomIndex[lod] = static_cast<int>(obj.geometries.size());
      obj.geometries.emplace_back();
      obj.geometries.back().lod = lod;
      ringIds.emplace_back();
      polyIds.emplace_back();
    }
    return obj.geometries[geomIndex[lod]];
  }
};

// A building read completely but not yet finished: its xlink references and appearances are
// resolved by build() once the building and all its parts are read.
struct PendingBuilding {
  ObjCtx top;
  std::vector<ObjCtx> parts;
  AppearanceStore local;  // the building's own app:appearance
  std::string uri;
  std::string srs;  // the CRS to give objects without their own
  bool overrideSrs = false;
};

CityObject build(PendingBuilding& b, const AppearanceStore& global, DiagnosticSink& diag);

}  // namespace twin::citygml
