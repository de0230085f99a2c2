#pragma once
// The conversion pipeline: readers -> (CRS, triangulation, metadata) -> spill -> spatial split
// -> glb tiles + tileset.json. Threads: with many input files each thread reads whole files; with
// few, each file is parsed in parts on all threads; either way the thread that parses a building
// converts it. Memory stays bounded: each converted building is spilled to disk at once, and
// tiles are written one by one from the spill.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/reader.h"

namespace twin::tiler {

struct Progress {
  std::string phase;  // "reading", "writing tiles"
  uint64_t done = 0;
  uint64_t total = 0;
  uint64_t features = 0;
};

struct ConvertOptions {
  std::string outDir;
  int lod = -1;  // -1: the highest each building has
  bool draco = false;
  bool meshopt = false;   // EXT_meshopt_compression + KHR_mesh_quantization
  bool quantize = false;  // KHR_mesh_quantization only
  // "1.1" (glb with EXT_mesh_features / EXT_structural_metadata) or "1.0" (b3dm with batch tables,
  // for clients without 1.1).
  std::string tilesVersion = "1.1";
  // Textures: per leaf tile an atlas of those used within [0, 1] (others alone), none larger than
  // maxTextureSize on a side (downsampled); WebP (EXT_texture_webp) instead of JPEG/PNG for
  // re-encoded images.
  int maxTextureSize = 4096;
  // Overviews (parent tiles) are textured from their buildings' textures downsampled to at most
  // this many pixels on a side, in one atlas per tile; 0: vertex colours only.
  int overviewTextureSize = 256;
  bool atlas = true;
  bool webp = false;
  // Implicit tiling (3D Tiles 1.1 subtrees) instead of an explicit tileset.json tree. The root
  // region is the quadtree's root cell; each feature goes to the deepest tile whose cell holds it
  // whole (features crossing a cell's quadrants stay in it), so every content lies inside the
  // volume a client derives for its tile. Implies refine ADD without levels of detail.
  bool implicit = false;
  int subtreeLevels = 4;
  std::string geoidFile;                 // empty: the default of GeoidOptions (GSIGEO2011 in Japan, else EGM96)
  std::string dataDir;                   // GeoidOptions::dataDir (twin's own data; not part of the run's identity)
  std::string crsOverride;               // empty: the files' srsName
  std::vector<std::string> objectTypes;  // see ReadOptions::objectTypes; empty: buildings
  std::map<std::string, std::string> formatOptions;  // see ReadOptions::formatOptions
  std::string className = "building";                // metadata class of the features
  int threads = 1;
  uint64_t maxTileBytes = 2u << 20;  // split a tile whose content would exceed this (estimate)
  uint32_t maxFeaturesPerTile = 2000;
  uint32_t maxPointsPerTile = 100000;  // point clouds: a tile with more is subsampled and split
  double maxLeafDegrees = 0.02;        // split leaves wider than this (latitude/longitude degrees, ~2 km)
  // Hierarchical levels of detail: parents hold simplified, merged versions of their children
  // (refine REPLACE). Off: a flat tileset, full-detail leaves under empty parents (refine ADD).
  bool levelsOfDetail = true;
  double parentFraction = 0.25;  // a parent's content is at most this share of its children's bytes
  // Keep the run's state (OUT/.twin: converted features per input, tile hashes) so that a later
  // run can reuse it; and reuse a previous run's state in outDir when its options match.
  bool keepState = true;
  bool incremental = true;
  bool allowEmpty = false;
  // Records (64 bytes each) sorted in memory per run of the tile index's external sort.
  size_t sortRunRecords = size_t(1) << 20;  // no features is not an error (a shard whose share is empty): state only
  std::function<void(const Progress&)> progress;  // called about 5 times a second from one thread
  const std::atomic<bool>* cancel = nullptr;
};

struct ConvertResult {
  bool ok = false;
  bool points = false;  // a point-cloud tileset: features are points
  ReadStats read;
  uint64_t features = 0;         // buildings written
  uint64_t featuresDropped = 0;  // buildings without usable geometry
  uint64_t triangles = 0;
  uint64_t tiles = 0;         // tiles with content
  uint64_t tilesWritten = 0;  // tiles made in this run
  uint64_t tilesReused = 0;   // tiles kept from the previous run (unchanged inputs)
  uint64_t inputs = 0;        // input files of the tileset
  uint64_t inputsReused = 0;  // inputs not read again (unchanged since the previous run)
  uint64_t textures = 0;      // texture images embedded (per tile)
  uint64_t outputBytes = 0;
  uint64_t leafBytes = 0;  // full-detail content bytes
  uint64_t rootBytes = 0;  // the root tile's content bytes
  double rootError = 0;    // the root tile's geometric error, metres
  uint64_t inputBytes = 0;
  double seconds = 0;
  double readSeconds = 0;    // reading, placing, triangulating, spilling
  double tileSeconds = 0;    // splitting and writing tiles
  double leafSeconds = 0;    // of which writing full-detail leaves (and their coarse forms)
  double parentSeconds = 0;  // of which writing overviews
  std::set<std::string> sourceCrs;
  std::string geoid;                              // the grids applied, "; "-separated
  std::map<std::string, std::string> geoidByCrs;  // source CRS -> geoid grid (none: ellipsoidal)
};

// Turns a --types list ("building", "road,landuse", "relief", "zoning", "all", element names) into
// ReadOptions::objectTypes; empty for buildings only.
std::vector<std::string> objectTypesFromList(const std::string& list);

// Converts city objects to a tileset; inputs that are all point clouds are tiled as points
// (convertPointCloud); a mix of both is refused ("inputs-mixed").
ConvertResult convert(const std::vector<InputFile>& inputs, const ConvertOptions& options, DiagnosticSink& diag);

// Joins the outputs of shard runs (`twin convert --shard I/N`, kept state) into one tileset, the
// same as one run over all their inputs would make. Options that shape the output come from the
// shards (which must agree); outDir, threads, progress and cancel from `options`.
ConvertResult merge(const std::vector<std::string>& shardDirs, const ConvertOptions& options, DiagnosticSink& diag);

}  // namespace twin::tiler
