#pragma once
// Private: hierarchical levels of detail. Every leaf tile holds full-detail buildings; every
// parent holds a merged, simplified version of the buildings below it, chosen per building for a
// target geometric error e (metres):
//   - a building whose bounding-box diagonal is at most e is left out (drawing nothing is an
//     error of at most its size);
//   - else the cheapest (fewest triangles) of what is within e of the full building: its mesh
//     simplified by meshoptimizer's edge collapse down to the error left in the budget (e minus
//     the error already spent at lower levels), its block (convex hull of its footprint extruded
//     from its lowest to its highest point: an LOD1 shape, 3k-2 triangles), or its box (the
//     minimum-area rectangle around the footprint, extruded: 10 triangles).
// The error of a representation is a bound on its distance from the full-detail building:
// for blocks the symmetric distance measured between the block and the mesh (vertices to block
// surface, and block corners/edge midpoints to the nearest triangle); for simplified meshes the
// sum over levels of the deviation meshoptimizer reports. A tile's geometric error is the largest
// error of what it shows or leaves out, so it comes from the data, never from a constant.
// Parents carry the same feature ids and property rows as the leaves for what they show, so
// picking works at every level. Simplified meshes keep their texture coordinates (corners of
// different coordinates are seams the simplifier keeps) and are textured in overviews from a small
// atlas of downsampled textures; blocks, boxes and untextured surfaces carry vertex colours
// (COLOR_0), textured ones sampled from their textures.

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "twin/glb_writer.h"
#include "twin/mesh.h"

namespace twin::tiler {

struct CoarseFeature {
  Vec3 origin{0, 0, 0};                         // ECEF centre of the building: positions are relative to it
  float diagonal = 0;                           // full-detail bounding-box diagonal, metres
  float error = 0;                              // bound on the distance of `positions/indices` from full detail, metres
  float blockError = 0;                         // same for the block (hull footprint)
  float boxError = 0;                           // same for the box (rectangle footprint)
  uint8_t shape = 0;                            // what the mesh is now: 0 (simplified) mesh, 1 block, 2 box
  uint32_t blockColor = 0;                      // RGBA8 (linear): area-weighted mean colour
  float zmin = 0, zmax = 0;                     // block extent along the local up axis
  std::vector<std::array<float, 2>> hull;       // block footprint, local east/north, counter-clockwise
  std::vector<std::array<float, 2>> rect;       // box footprint (4 corners), counter-clockwise
  std::vector<std::array<float, 3>> positions;  // welded mesh, ECEF axes, relative to origin
  std::vector<uint32_t> colors;                 // RGBA8 per vertex (used where not textured)
  std::vector<std::array<float, 2>> uvs;        // per vertex: texture coordinates
  std::vector<int16_t> slots;                   // per vertex: index into `textures`, -1 none
  std::vector<std::string> textures;            // texture URIs the mesh uses
  std::vector<uint32_t> indices;
  std::vector<uint8_t> row;  // the feature's serialised property row

  size_t triangles() const { return indices.size() / 3; }
};

// Decoded textures of one tile, for colour sampling (decoded once per tile).
class TextureSampler {
 public:
  // Linear RGBA8 colour of `uri` at (u, v) (glTF convention); false when the image is unusable.
  bool sample(const std::string& uri, float u, float v, std::array<float, 4>& rgba);

 private:
  std::unordered_map<std::string, RgbaImage> images_;  // empty image: failed to decode
};

// Builds the coarse form (welded mesh with vertex colours, block) of a full-detail building.
CoarseFeature makeCoarse(const std::vector<MeshGroup>& groups, TextureSampler& textures, std::vector<uint8_t> row);

// What a feature becomes in a tile of target error e.
enum class Representation { Dropped, Block, Mesh };

// Reduces `f` for error `e` in place; returns its representation (Dropped leaves `f` as is).
Representation coarsen(CoarseFeature& f, float e);

// Estimated glb bytes of `f` as written by appendCoarse (flat-shaded, uncompressed).
size_t estimatedBytes(const CoarseFeature& f);

// Appends `f` (flat shading: corners shared only within a face plane) with feature id
// `featureId`, positions relative to `center`: textured triangles to `textured` (coordinates moved
// into the tile's atlas by `placements`, by URI), the others to `colored` (vertex colours). Returns
// the ECEF points written (for the tile's bounding volume) through `placed`, and the triangles
// appended (degenerate ones are skipped).
size_t appendCoarse(const CoarseFeature& f, const Vec3& center, float featureId, GlbPrimitive& colored,
                    GlbPrimitive* textured, const std::unordered_map<std::string, TexturePlacement>* placements,
                    std::vector<Vec3>& placed);

void serializeCoarse(const CoarseFeature& f, std::vector<uint8_t>& out);
bool deserializeCoarse(const uint8_t*& p, const uint8_t* end, CoarseFeature& f);

}  // namespace twin::tiler
