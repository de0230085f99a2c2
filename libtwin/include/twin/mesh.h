#pragma once
// Turns a city object whose coordinates are already ECEF into a triangle mesh per appearance
// (texture or colour), with flat vertex normals: the unit of content in a tile.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "twin/city_model.h"
#include "twin/diagnostics.h"

namespace twin {

struct MeshGroup {
  std::string texture;                     // texture URI, empty for a plain colour
  std::array<float, 4> color{1, 1, 1, 1};  // linear RGBA
  std::vector<Vec3> positions;             // ECEF
  std::vector<std::array<float, 3>> normals;
  std::vector<Vec2f> uvs;  // glTF convention (v down); empty without texture
  std::vector<uint32_t> indices;
};

struct FeatureMesh {
  std::vector<MeshGroup> groups;
  Vec3 min{0, 0, 0}, max{0, 0, 0};  // ECEF bounds
  size_t triangleCount() const;
  bool empty() const { return groups.empty(); }
};

struct MeshStats {
  uint64_t polygons = 0;
  uint64_t triangles = 0;
  uint64_t polygonsDropped = 0;
};

// The LOD to use for an object given the requested one (-1 = highest available): the requested
// LOD, else the highest below it; -1 when the object has none.
int chooseLod(const CityObject& obj, int requested);

// Default colour of an untextured surface by its semantic type.
std::array<float, 4> defaultColor(SurfaceType t);

// Builds the mesh of `obj` and its children at the chosen LOD. Coordinates must be ECEF.
// Degenerate polygons are dropped with a warning on `diag`.
void buildFeatureMesh(const CityObject& obj, int requestedLod, FeatureMesh& out, MeshStats& stats,
                      DiagnosticSink& diag);

}  // namespace twin
