#pragma once
// Private: Draco encoding of one mesh primitive (keeps draco headers out of public headers).
#include <cstdint>
#include <string>
#include <vector>

namespace twin {

struct DracoInput {
  const float* positions;   // xyz (already y-up)
  const float* normals;     // may be null
  const float* uvs;         // may be null
  const uint8_t* colors;    // RGBA8, may be null
  const float* featureIds;  // one per vertex
  size_t vertexCount;
  const uint32_t* indices;
  size_t indexCount;
};

struct DracoEncoded {
  std::vector<uint8_t> data;
  int positionId = -1, normalId = -1, uvId = -1, colorId = -1, featureId = -1;
};

bool dracoEncode(const DracoInput& in, int positionBits, int normalBits, int uvBits, int speed, DracoEncoded& out,
                 std::string& error);

}  // namespace twin
