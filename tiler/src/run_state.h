#pragma once
// Private: what a conversion keeps beside its tileset (OUT/.twin/) so that later runs can build on
// it: re-running with a few changed inputs (incremental), and joining shard outputs (twin merge).
//
//   .twin/state.json         options, inputs (fingerprint + packs), schema keys, every tile (hash,
//                            box, error, bytes) — see RunState
//   .twin/packs/NAME.bin     converted features of one input (one pack per input and thread):
//                            records as the tiler spills them
//   .twin/packs/NAME.idx     their FeatureRefs (position, size, ordering keys)
//   .twin/packs/NAME.keys    the attribute keys the records' indices stand for, with value kinds
//   .twin/coarse/NODE.bin    coarse forms of each tile's buildings (levels of detail)

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "twin/city_model.h"

namespace twin::tiler {

struct FeatureRef {
  uint32_t pack;   // index into the run's pack table
  uint32_t input;  // index into the run's input table
  uint64_t offset;
  uint32_t size;
  // Implicit tiling: the deepest quadtree level whose cell holds the whole feature (set when the
  // tile index is sorted; 0 otherwise). Fits in the padding after `size`.
  uint8_t level;
  double lon, lat;  // centre, degrees
  float diagonal;   // bounding-box diagonal, metres
  uint64_t idHash;  // FNV-1a of the id: a stable tie-break for ordering
};

// An attribute key a pack's records use: record index -> name and the value kinds seen
// (bits: 1 integer within int32, 2 integer beyond int32, 4 double, 8 string).
struct PackKey {
  uint32_t index;
  std::string name;
  uint8_t kinds;
};

bool writePackIndex(const std::string& path, const std::vector<FeatureRef>& refs, std::string& error);
bool readPackIndex(const std::string& path, std::vector<FeatureRef>& refs, std::string& error);
bool writePackKeys(const std::string& path, const std::vector<PackKey>& keys, std::string& error);
bool readPackKeys(const std::string& path, std::vector<PackKey>& keys, std::string& error);

struct InputState {
  std::string uri;
  uint64_t size = 0;
  int64_t mtime = 0;               // nanoseconds
  std::vector<std::string> packs;  // pack names (files under .twin/packs/)
  uint64_t triangles = 0, dropped = 0;
  std::vector<std::string> crs;  // source CRSs its objects used
  std::string geoid;             // geoid grid applied
  uint64_t fingerprint() const;  // of uri, size and mtime
};

struct TileState {
  std::string key;    // node key: "L/x/y" or "top"
  uint64_t hash = 0;  // of what the tile is made from
  bool content = false;
  bool boxSet = false;
  std::array<double, 12> box{};
  double error = 0;
  uint64_t bytes = 0;
  uint64_t textures = 0;
  uint64_t shown = 0;
};

struct RunState {
  static constexpr int kVersion = 1;
  std::string optionsJson;  // the options that shape the output (must match to reuse)
  std::vector<InputState> inputs;
  std::vector<TileState> tiles;

  bool load(const std::string& stateDir, std::string& error);
  bool save(const std::string& stateDir, std::string& error) const;
};

// Size and modification time of an input (of the archive for "archive.zip!/entry"). The time is
// the newest of the file and of its PLATEAU appearance folder (NAME_appearance/ beside it: the
// textures), so that replacing a texture counts as a change of the input.
void statInput(const std::string& uri, uint64_t& size, int64_t& mtime);

// A pack of the previous run is usable when its files are there and its records file is as long
// as its index says (a damaged state makes its input read again, never a failed run).
bool packIntact(const std::string& base);

// 64-bit hash mixing (for tile hashes).
inline uint64_t hashMix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 33);
}

}  // namespace twin::tiler
