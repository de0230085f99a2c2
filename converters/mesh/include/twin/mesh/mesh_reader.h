#pragma once
// Meshes and point clouds without a CRS of their own, placed by the user:
//   --crs a projected CRS and --origin E,N,H: model x, y, z are metres along the CRS's easting,
//     northing and height, added to the origin (the CRS's scale factor, ~1e-4, is not applied);
//   --crs a geographic CRS and --origin lon,lat,h: model x, y, z are metres east, north and up
//     about that point, h ellipsoidal (what `twin export` writes in its GLB/OBJ header).
// Model axes are z-up, except glTF/GLB (y-up, as glTF defines); --up y|z overrides.
//
// Meshes (format "mesh"):
//   - OBJ (+ MTL): one feature per object (`o`, else `g`), or per file with --mesh-split file;
//     materials (Kd, d) and textures (map_Kd with vt) kept; any polygon size.
//   - glTF 2.0 / GLB: one feature per node with a mesh (its name; node transforms applied),
//     triangles, baseColorFactor as the colour; Draco/meshopt-compressed files are refused with
//     a diagnostic, textures are not carried.
//   - PLY, STL, OFF (through Open3D): one feature per file, the mean vertex colour as its colour.
//   Features are of type "Building" (they tile and pick like buildings), LOD 2, with attributes
//   twin:sourceFile and name.
// Point clouds (format "pointcloud", through Open3D): PLY without faces, PCD, XYZ, XYZN,
// XYZRGB, PTS, with colours when present; delivered by readPoints() in batches and tiled as
// glTF point primitives (see tiler/pointcloud.h). Open3D reads a whole file into memory.

#include <memory>
#include <string_view>

#include "twin/reader.h"

namespace twin::mesh {

std::unique_ptr<Reader> createMeshReader();
std::unique_ptr<Reader> createPointReader();
bool sniffMesh(std::string_view head);    // OBJ text, PLY with faces, ASCII STL, OFF, GLB / glTF JSON
bool sniffPoints(std::string_view head);  // PLY without faces, PCD

}  // namespace twin::mesh
