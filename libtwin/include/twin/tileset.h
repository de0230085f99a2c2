#pragma once
// 3D Tiles 1.1 tileset.json: tiles with oriented bounding boxes in ECEF.

#include <array>
#include <map>
#include <string>
#include <vector>

#include "twin/city_model.h"

namespace twin {

struct OrientedBox {
  Vec3 center{0, 0, 0};
  std::array<Vec3, 3> halfAxes{};  // columns: x, y, z half-axis vectors (ECEF)

  std::array<double, 12> toArray() const;
  std::array<Vec3, 8> corners() const;
  // True when p lies inside the box grown by `tolerance` metres.
  bool contains(const Vec3& p, double tolerance = 1e-3) const;
  static OrientedBox fromArray(const std::array<double, 12>& a);
};

// The smallest box aligned with the local east-north-up axes at `origin` that holds all points,
// grown by `margin` metres on each side.
OrientedBox enuBox(const Vec3& origin, const Vec3* points, size_t n, double margin);

struct TileNode {
  OrientedBox box;
  double geometricError = 0;
  std::string contentUri;  // empty: no content
  std::string refine;      // "ADD" / "REPLACE" / empty (inherit)
  std::vector<TileNode> children;
};

struct TilesetInfo {
  std::string generator = "twin";
  std::string version = "1.1";  // asset.version: "1.1", or "1.0" for b3dm content
  std::string tilesetVersion;
  std::vector<std::string> sourceCrs;             // source CRSs
  std::string geoid;                              // geoid grids applied ("; "-separated), or empty
  std::map<std::string, std::string> geoidByCrs;  // source CRS -> geoid grid, when known
  std::map<std::string, double> numbers;          // extra summary numbers (features, ...)
  // City object types converted (ReadOptions::objectTypes; empty: buildings), so that a viewer
  // can tell a terrain (ReliefFeature) tileset from buildings.
  std::vector<std::string> objectTypes;
  double geometricError = -1;  // the tileset's (error when nothing is drawn); < 0: the root's
};

// Serialises a tileset.json.
std::string tilesetJson(const TileNode& root, const TilesetInfo& info);

// The root of an implicitly tiled (quadtree) tileset. Its tileset.json declares the tile
// metadata class `tile` whose properties carry the semantics TILE_BOUNDING_BOX and
// TILE_GEOMETRIC_ERROR, for subtrees that give each tile its own box and error.
struct ImplicitRoot {
  std::array<double, 6> region{};  // west, south, east, north (radians), minimum and maximum height
  double geometricError = 0;
  std::string refine = "REPLACE";
  std::string contentUri;  // template: "tiles/{level}/{x}/{y}.glb"
  std::string subtreeUri;  // template: "subtrees/{level}/{x}/{y}.subtree"
  int subtreeLevels = 4;
  int availableLevels = 1;
};
std::string implicitTilesetJson(const ImplicitRoot& root, const TilesetInfo& info);

}  // namespace twin
