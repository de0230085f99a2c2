#pragma once
// A stable 64-bit hash of identifiers (FNV-1a): the same on every platform and run, so it can
// order output deterministically and key compact lookup tables.

#include <cstdint>
#include <string_view>

namespace twin {

inline uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace twin
