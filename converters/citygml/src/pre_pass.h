#pragma once
// Private: the pre-pass over a CityGML file, before its city objects are read. A byte search finds
// where top-level city object members start (where the file can be cut into chunks parsed in
// parallel) and where its top-level appearances begin; those appearances are then parsed, so
// that every building can be given its textures as soon as it is read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "appearance.h"
#include "twin/diagnostics.h"
#include "twin/reader.h"

namespace twin::citygml {

// A file is parsed in chunks only when its first member starts within its first kLeadingBytes.
constexpr size_t kLeadingBytes = size_t(1) << 20;

// What the pre-pass learnt of a file: its global appearances and where it can be split. Written by
// the pre-pass, then only read (by several part parsers at once).
struct SharedAppearance {
  AppearanceStore store;
  bool found = false;         // the file has top-level appearances
  size_t tailFrom = 0;        // byte offset of the first top-level appearanceMember
  std::string rootClose;      // "</core:CityModel>"
  bool objectsAfter = false;  // city objects follow the appearances
  DiagnosticCollector diag;   // what the pre-pass saw (line numbers count from the root tag)
  // Where top-level city object members start (first one, then about every kMarkSpacing bytes),
  // with the number of newlines before each: places where the file can be split for parallel
  // parsing. Filled by the byte search before `located`.
  struct Mark {
    size_t offset;
    int64_t newlines;
  };
  std::vector<Mark> marks;
  size_t fileSize = 0;  // bytes scanned when no appearance was found (the whole file)
  // Newlines from the end of the root start tag to tailFrom: the lines before the appearances
  // which the appearance parse does not see (its line numbers lack them).
  int64_t skippedNewlines = 0;
  int64_t streamSize = -1;  // the file's size as its stream knows it (-1: unknown)
  // The file's first bytes (up to kLeadingBytes), kept when it may be parsed in chunks
  // (ReadOptions::parallelism > 1): each chunk's parser is fed them up to the first member.
  std::string leading;
};

// The pre-pass, in one read of the file. A byte search finds where top-level city object members
// start (SharedAppearance::marks, with the newlines before each) and the first top-level
// appearanceMember (with the newlines before it), keeps the file's size and its first bytes, and
// marks `shared` located; then the root start tag followed by everything from that
// appearanceMember to the end is parsed into shared.store, and `shared` is marked done (always,
// also on failure).
void appearancePrePass(const std::string& uri, const ReadOptions& options, SharedAppearance& shared);

}  // namespace twin::citygml
