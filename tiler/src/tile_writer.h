#pragma once
// Private: the tile phase of a conversion. A TileWriter (one per thread) reads a node's features
// back from the packs and writes its content: a leaf's full-detail buildings with their textures
// (and, with levels of detail, their coarse forms for the parent), or a parent's overview of its
// children's buildings merged and simplified to a byte budget, with a small texture atlas.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lod.h"
#include "quadtree.h"
#include "sort.h"
#include "twin/glb_writer.h"
#include "twin/metadata.h"
#include "twin/tiler/convert.h"

namespace twin::tiler {

struct Shared;

// A pack open for reading in the tile phase.
struct PackIn {
  std::string name;
  uint32_t input = 0;
  int fd = -1;
  std::vector<uint32_t> remap;  // record attribute index -> schema position (UINT32_MAX: none)
};

class TileWriter {
 public:
  TileWriter(const RefFile& refs, const std::vector<PackIn>& packs, const std::vector<PropertyDef>& schema,
             const ConvertOptions& o, const std::string& outDir, const std::string& spillDir, DiagnosticSink& diag,
             Shared& shared)
      : refs_(refs),
        packs_(packs),
        schema_(schema),
        o_(o),
        outDir_(outDir),
        spillDir_(spillDir),
        diag_(diag),
        shared_(shared) {}

  // A leaf: full-detail buildings, with textures. With levels of detail, also the coarse forms of
  // its buildings for the parent.
  bool write(QuadNode& leaf);

  // A parent: the buildings of its children merged and simplified (see lod.h) so that its content
  // is at most `parentFraction` of its children's bytes.
  bool writeParent(QuadNode& node, bool isRoot);

 private:
  // Margin of a tile's box around its vertices: 1 cm, plus the step of 16-bit quantisation
  // (Draco, KHR_mesh_quantization) over the content's extent, where vertices may move by half.
  double boxMargin(const std::vector<Vec3>& pts) const;

  // An overview's textures: one small atlas of the textures its buildings' meshes use, each
  // downsampled to at most overviewTextureSize pixels (JPEGs decoded at 1/2..1/8 scale), made
  // once per parent and shared by every attempt at a target error.
  struct OverviewTextures {
    std::vector<GlbImage> images;
    std::unordered_map<std::string, TexturePlacement> placements;
    uint64_t bytes = 0;
  };

  OverviewTextures overviewTextures(const std::vector<CoarseFeature>& input);

  std::vector<uint8_t> parentContent(const std::vector<CoarseFeature>& kept, const OverviewTextures* tex,
                                     std::vector<Vec3>& placed);

  // A tile's content bytes: glb, or b3dm around a glb with batch ids (3D Tiles 1.0).
  // `fullDetail`: a leaf's, or (implicit tiling) a parent's own buildings. Such content wider
  // than 2.5 km (an implicit parent holds the buildings along its cell's midlines, which can run
  // across a city) is written without mesh quantization or Draco, whose 16-bit grids over that
  // extent would move vertices by more than 2 cm; overviews keep compression (their errors are
  // metres).
  std::vector<uint8_t> encode(const GlbScene& scene, bool fullDetail = false);

  bool writeContent(const std::vector<uint8_t>& bytes, QuadNode& node);

  bool writeCoarse(const QuadNode& node, const std::vector<uint8_t>& data);

 private:
  const RefFile& refs_;
  const std::vector<PackIn>& packs_;
  const std::vector<PropertyDef>& schema_;
  const ConvertOptions& o_;
  std::string outDir_;
  std::string spillDir_;
  DiagnosticSink& diag_;
  Shared& shared_;
};

}  // namespace twin::tiler
