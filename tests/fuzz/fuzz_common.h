#pragma once
// Shared by the libFuzzer targets: readers take file names, so each input is written to a file
// in /dev/shm first (one per process and extension); objects are counted and dropped.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "twin/reader.h"

namespace twin::fuzz {

inline std::string inputFile(const uint8_t* data, size_t size, const std::string& ext) {
  std::string path = "/dev/shm/twin-fuzz-" + std::to_string(getpid()) + ext;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return path;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

struct CountingSink : ObjectSink {
  size_t objects = 0, points = 0;
  bool accept(CityObject&& o) override {
    ++objects;
    for (auto& g : o.geometries) points += g.points.size();
    return true;
  }
};

struct QuietDiagnostics : DiagnosticSink {
  size_t count = 0;
  void report(Diagnostic d) override {
    ++count;
    // Every diagnostic must say what is wrong: a code and a message.
    if (d.code.empty() || d.message.empty()) __builtin_trap();
  }
};

}  // namespace twin::fuzz
