#pragma once
// Private: the quadtree written as 3D Tiles 1.1 implicit tiling (subtree files and the tileset
// JSON with its root region), instead of an explicit tree of tiles.

#include <array>
#include <string>

#include "quadtree.h"
#include "twin/tiler/convert.h"
#include "twin/tileset.h"

namespace twin::tiler {

// The quadtree as 3D Tiles 1.1 implicit tiling: tile and content availability in subtree files
// (subtreeLevels levels each), content at tiles/{level}/{x}/{y}.glb. Every available tile carries
// its real box and geometric error as tile metadata (semantics TILE_BOUNDING_BOX,
// TILE_GEOMETRIC_ERROR), so volumes and errors stay those of the explicit tree: a building cut by
// a quadrant boundary stays inside its tile's box, and errors are the measured ones rather than
// the root's halved per level. Levels the tree skips (one-child chains) are available tiles
// without content, with the box and error of the tile below them.
//
// `grid` is the root cell the quadtree subdivided (west, south, east, north in degrees): the root
// region is exactly that rectangle, so that a client halving it level by level finds the cell
// each tile's features were assigned to. Its heights hold every tile's box.
// Writes the subtree files under `outDir` and returns the tileset JSON (empty on failure: `error`).
std::string implicitTileset(const QuadNode& tree, const std::array<double, 4>& grid, const std::string& refine,
                            const TilesetInfo& info, const std::string& outDir, const ConvertOptions& o,
                            std::string& error);

}  // namespace twin::tiler
