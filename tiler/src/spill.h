#pragma once
// Private: the record a converted feature is spilled as (to a pack's .bin, see run_state.h) between
// the read phase and the tile phase: its id, attribute row and mesh groups.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bytes.h"
#include "twin/mesh.h"

namespace twin::tiler {

struct SpilledFeature {
  std::string id;
  PropertyRow attrs;
  std::vector<MeshGroup> groups;
};

// Appends the record of a feature to `w`.
void serialize(const std::string& id, const PropertyRow& attrs, const FeatureMesh& mesh, ByteWriter& w);
// Reads a record of `n` bytes back; false when it is damaged.
bool deserialize(const uint8_t* p, size_t n, SpilledFeature& f);

}  // namespace twin::tiler
