#pragma once
// Writes binary glTF 2.0 (.glb) tile contents with one feature per building:
// EXT_mesh_features (feature-ID vertex attribute _FEATURE_ID_0) and EXT_structural_metadata
// (one property table, rows = features). Optional Draco compression (KHR_draco_mesh_compression).
//
// Coordinates: `positions` and `normals` are given in ECEF axes (z-up), positions relative to
// `center` (ECEF, metres). The writer stores them y-up as glTF requires and puts `center` in the
// node's translation, so a 3D Tiles client (which rotates y-up to z-up) places them in ECEF.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "twin/city_model.h"
#include "twin/diagnostics.h"
#include "twin/metadata.h"

namespace twin {

struct GlbPrimitive {
  std::vector<float> positions;   // x,y,z per vertex, ECEF axes, relative to GlbScene::center
  std::vector<float> normals;     // unit, ECEF axes
  std::vector<float> uvs;         // empty, or u,v per vertex (glTF convention: v down)
  std::vector<uint8_t> colors;    // empty, or RGBA8 per vertex (linear; written as COLOR_0)
  std::vector<float> featureIds;  // one per vertex: row in the property table
  std::vector<uint32_t> indices;  // triangles
  int material = 0;
};

struct GlbMaterial {
  std::array<float, 4> baseColor{1, 1, 1, 1};
  int image = -1;  // index into GlbScene::images
};

struct GlbImage {
  std::string mimeType;  // image/jpeg or image/png
  std::vector<uint8_t> data;
};

// One property table: column c of row r is values[r][c] (monostate-like: missing -> noData).
struct GlbPropertyTable {
  std::string className = "building";
  const std::vector<PropertyDef>* schema = nullptr;  // the class's properties (shared by all tiles)
  uint32_t rowCount = 0;
  // Sparse rows: (property index, value).
  std::vector<std::vector<std::pair<uint32_t, PropertyValue>>> rows;
};

struct GlbScene {
  Vec3 center{0, 0, 0};
  std::vector<GlbPrimitive> primitives;
  std::vector<GlbMaterial> materials;
  std::vector<GlbImage> images;
  GlbPropertyTable table;
  std::string copyright;
};

struct GlbOptions {
  bool draco = false;
  // KHR_mesh_quantization: 16-bit positions on a grid of the mesh's extent / 65534 (a 1 km tile:
  // 1.5 cm steps), 8-bit normals. Ignored with Draco.
  bool quantize = false;
  // EXT_meshopt_compression of every vertex and index buffer (implies quantize). Ignored with Draco.
  bool meshopt = false;
  // 3D Tiles 1.0: feature ids as _BATCHID, no EXT_mesh_features / EXT_structural_metadata (the
  // properties go into the b3dm batch table: wrapB3dm).
  bool batchIds = false;
  int dracoPositionBits = 16;  // 16 bits over a 1 km tile: 1.5 cm steps
  int dracoNormalBits = 10;
  int dracoUvBits = 12;
  int dracoSpeed = 5;
};

// The GLB container: the 12-byte header, the JSON chunk (padded with spaces) and the BIN chunk
// (padded with zeros), 4-byte aligned. For writers that build their own glTF JSON (export, point
// tiles).
std::vector<uint8_t> glbContainer(std::string json, std::vector<uint8_t> bin);

// Serialises the scene. Never throws; returns an empty vector and reports on `diag` on failure.
std::vector<uint8_t> writeGlb(const GlbScene& scene, const GlbOptions& options, DiagnosticSink* diag);

// Wraps a glb written with GlbOptions::batchIds as a 3D Tiles 1.0 Batched 3D Model (b3dm): feature
// table with BATCH_LENGTH = table.rowCount, batch table with one array per property (original
// names, null where missing).
std::vector<uint8_t> wrapB3dm(const std::vector<uint8_t>& glb, const GlbPropertyTable& table);

// Reads a texture image file (JPEG, PNG as-is; TIFF, BMP, GIF, ... converted to PNG or JPEG).
// `uri` is a path, or "archive.zip!/entry". Returns false with a message on failure.
bool loadTextureImage(const std::string& uri, GlbImage& out, std::string& error);

// Decodes a texture image file (JPEG, PNG, TIFF, ...) into 8-bit RGBA pixels, row 0 at the top.
// `maxDim` > 0 allows a JPEG to be decoded at a reduced scale (1/2 .. 1/8) as long as its longer
// side keeps at least `maxDim` pixels (for colour sampling, far cheaper than a full decode).
struct RgbaImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4
};
bool decodeTextureImage(const std::string& uri, RgbaImage& out, std::string& error, int maxDim = 0);

// The texture images of one tile. Textures whose coordinates stay within [0, 1] are packed into
// one atlas (a single material: fewer draw calls, one download); others stay alone (they repeat).
// No image exceeds maxSize pixels on a side: larger ones, and atlases that would, are downsampled.
struct TextureSetOptions {
  int maxSize = 4096;  // WebGL 1 devices guarantee 4096
  bool atlas = true;
  bool webp = false;  // encode re-encoded images as WebP (EXT_texture_webp) instead of JPEG/PNG
  int quality = 85;
  // Overviews: every image downsampled to at most imageMaxSize on a side (0: no limit but
  // maxSize), JPEGs decoded at a reduced scale down to decodeMaxDim (DCT scaling: cheap).
  int imageMaxSize = 0;
  int decodeMaxDim = 0;
};
struct TextureUse {
  std::string uri;
  float uMin = 0, uMax = 1, vMin = 0, vMax = 1;  // range of the coordinates that use it
};
struct TexturePlacement {
  int image = -1;                // index into the images built; -1: unusable (reported in `errors`)
  float scaleU = 1, scaleV = 1;  // uv' = uv * scale + offset
  float offsetU = 0, offsetV = 0;
};
std::vector<GlbImage> buildTileTextures(const std::vector<TextureUse>& uses, const TextureSetOptions& options,
                                        std::vector<TexturePlacement>& placements,
                                        std::vector<std::pair<std::string, std::string>>& errors);

// noData sentinels written into the schema.
constexpr int32_t kNoDataInt32 = -2147483647 - 1;
constexpr double kNoDataFloat64 = -1.7976931348623157e308;

}  // namespace twin
