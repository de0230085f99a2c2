#pragma once
// Point clouds to a 3D Tiles 1.1 tileset of glTF point primitives (mode POINTS, COLOR_0,
// KHR_materials_unlit), with levels of detail by voxel subsampling (refine ADD, as Potree and
// Entwine do): the root keeps one point per voxel of a 128-cell grid over its cube, each child
// level halves the voxel, and the points a level does not keep go down to the octant children;
// a tile with at most ConvertOptions::maxPointsPerTile points keeps them all. Every point is
// written exactly once. A tile's geometric error is its voxel size; boxes are tight east-north-up
// boxes around each tile's subtree.
//
// Points are transformed to ECEF (CRS and geoid as for city objects) and held in memory
// (about 40 bytes per point, as Open3D holds the file anyway).

#include <vector>

#include "twin/diagnostics.h"
#include "twin/tiler/convert.h"

namespace twin::tiler {

// Inputs must all be point-cloud formats (FormatInfo::pointCloud). ConvertResult::features is
// the number of points written.
ConvertResult convertPointCloud(const std::vector<InputFile>& inputs, const ConvertOptions& options,
                                DiagnosticSink& diag);

}  // namespace twin::tiler
