#pragma once
// Private: the spatial split of a conversion. The sorted tile index (see sort.h) is cut into a
// quadtree of longitude/latitude cells (QuadNode, each a contiguous range of the index); the
// tree gives the tiles' URIs, the coarse files of levels of detail, and the explicit tileset.

#include <cstdint>
#include <string>
#include <vector>

#include "run_state.h"
#include "sort.h"
#include "twin/tiler/convert.h"
#include "twin/tileset.h"

namespace twin::tiler {

struct QuadNode {
  int level = 0;
  uint32_t x = 0, y = 0;
  double west, south, east, north;
  uint64_t begin = 0, end = 0;  // its features and its descendants': a range of the sorted tile index
  // Its own content is [begin, contentEnd): the whole range for a leaf; for a parent under
  // implicit tiling, the features that cross its children's cells (none otherwise).
  uint64_t contentEnd = 0;
  std::vector<QuadNode> children;
  float maxDiagonal = 0;
  bool top = false;  // the overview parent added above a root that is a single leaf
  // results of writing
  OrientedBox box;
  bool written = false;  // has content
  bool boxSet = false;
  double error = 0;    // geometric error
  uint64_t bytes = 0;  // content bytes
  uint64_t textures = 0;
  uint64_t shown = 0;  // features in the content
};

struct LonLatExtent {
  double west, south, east, north;  // degrees
};

// A feature's longitude/latitude extent, conservatively: its ECEF box lies within a ball of half
// its diagonal about its centre, and a degree of latitude is at least 110,574 m (on the equator),
// one of longitude at least 111,319 m × cos(latitude) at the ball's most poleward latitude.
LonLatExtent featureExtent(const FeatureRef& r);

// Splits `node` (a range of the sorted tile index) into quadrants while it is too large. One
// sequential scan per node gives its size and where each quadrant's range starts (the index is
// sorted by Morton code, so a quadrant is a contiguous range).
//
// Under implicit tiling (o.implicit) every feature carries the deepest level whose cell holds it
// whole (FeatureRef::level) and the index is sorted so that a node's own features come first in
// its range: those that do not fit in one of its quadrants stay in the node (its content), the
// rest go to the quadrants. Every content then lies inside the cell that a client derives for
// its tile from the root region, as the specification requires.
bool split(QuadNode& node, const RefFile& refs, const ConvertOptions& o, std::string& error);

// The tiles written at full detail: the leaves, and parents with content of their own (implicit
// tiling: the features that cross their children's cells).
void collectLeaves(QuadNode& n, std::vector<QuadNode*>& out);

// The parents (nodes with children), by depth from the tree's root.
void collectParents(QuadNode& n, std::vector<std::vector<QuadNode*>>& byLevel, int depth);

// Content files: glb (3D Tiles 1.1) or b3dm (1.0).
const char* contentExtension(const ConvertOptions& o);

// A tile's content file, relative to the output directory.
std::string tileUri(const QuadNode& n, const ConvertOptions& o);
// The file of a tile's coarse buildings (levels of detail) in `spillDir`.
std::string coarsePath(const std::string& spillDir, const QuadNode& n);
// A node's key in the run's state: "L/x/y" or "top".
std::string nodeKey(const QuadNode& n);

// The explicit tileset's tree of tiles for the written quadtree.
TileNode assemble(const QuadNode& q, const ConvertOptions& o);

}  // namespace twin::tiler
