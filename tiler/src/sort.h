#pragma once
// Private: the tile index on disk. Every converted feature's FeatureRef, keyed by the Morton code
// of its position in the root square, sorted by an external merge sort (runs of a fixed number of
// records sorted in memory and written out, then merged), so that memory does not grow with the
// number of features: a quadtree node is a contiguous range of the sorted file.

#include <cstdint>
#include <string>
#include <vector>

#include "run_state.h"

namespace twin::tiler {

struct SortedRef {
  uint64_t morton = 0;  // 31 bits of x and y interleaved (x in the even bits), root square
  FeatureRef ref{};
};

// Deterministic order: position (Morton), then level (implicit tiling: a node's own features,
// whose code is its cell's followed by zeros, before those of its descendants), then size, then
// id hash.
inline bool sortedBefore(const SortedRef& a, const SortedRef& b) {
  if (a.morton != b.morton) return a.morton < b.morton;
  if (a.ref.level != b.ref.level) return a.ref.level < b.ref.level;
  if (a.ref.size != b.ref.size) return a.ref.size < b.ref.size;
  if (a.ref.idHash != b.ref.idHash) return a.ref.idHash < b.ref.idHash;
  if (a.ref.pack != b.ref.pack) return a.ref.pack < b.ref.pack;
  return a.ref.offset < b.ref.offset;
}

class RefSorter {
 public:
  // Runs of `runRecords` records (64 bytes each) go to files in `dir`.
  explicit RefSorter(std::string dir, size_t runRecords = size_t(1) << 20);
  ~RefSorter();
  bool add(const SortedRef& r, std::string& error);
  // Writes the sorted records to `path`; removes the runs.
  bool finish(const std::string& path, std::string& error);
  uint64_t count() const { return count_; }

 private:
  std::string dir_;
  size_t runRecords_;
  std::vector<SortedRef> buffer_;
  std::vector<std::string> runs_;
  uint64_t count_ = 0;
  bool flush(std::string& error);
};

// Read access to a sorted file (thread-safe: positioned reads).
class RefFile {
 public:
  bool open(const std::string& path, std::string& error);
  ~RefFile();
  uint64_t size() const { return count_; }
  bool read(uint64_t begin, uint64_t n, std::vector<SortedRef>& out) const;

 private:
  int fd_ = -1;
  uint64_t count_ = 0;
};

// Interleaves the low 31 bits of x and y (x in the even bits).
uint64_t morton31(uint32_t x, uint32_t y);

}  // namespace twin::tiler
