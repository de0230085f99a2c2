#pragma once
// Private: the read phase of a conversion. Reader threads hand city objects to workers (one per
// thread); a worker transforms them to ECEF, meshes them, cuts very large ones into pieces and
// spills each feature at once to a pack on disk (see run_state.h). Shared holds what the workers of
// a run have in common.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bytes.h"
#include "run_state.h"
#include "twin/crs.h"
#include "twin/mesh.h"
#include "twin/metadata.h"
#include "twin/reader.h"
#include "twin/tiler/convert.h"

namespace twin::tiler {

struct Shared {
  const ConvertOptions& options;
  DiagnosticSink& diag;
  std::mutex mutex;  // guards everything below
  SchemaBuilder schema;
  std::set<std::string> reportedOnce;
  ReadStats read;
  // per input (index): what its packs' state records
  std::map<uint32_t, uint64_t> inputTriangles, inputDropped;
  std::map<uint32_t, std::set<std::string>> inputCrs;
  std::map<uint32_t, std::string> inputGeoid;
  std::atomic<uint64_t> features{0};
  std::atomic<uint64_t> bytesRead{0};

  Shared(const ConvertOptions& o, DiagnosticSink& d) : options(o), diag(d) {}

  bool once(const std::string& key) {
    std::lock_guard lock(mutex);
    return reportedOnce.insert(key).second;
  }
};

// The converted features of one input file written by one worker: a pack (see run_state.h).
struct PackOut {
  std::string name;
  int fd = -1;
  uint64_t offset = 0;
  std::vector<FeatureRef> refs;
  std::unordered_map<uint32_t, uint8_t> kinds;  // attribute index -> value kinds seen
  uint64_t triangles = 0;
};

class Worker {
 public:
  Worker(Shared& shared, uint32_t index, std::string packsDir)
      : s_(shared), index_(index), packsDir_(std::move(packsDir)) {}
  ~Worker();
  bool ok() const { return !writeFailed_; }

  // Closes this worker's packs: writes their index and key files. Returns (input, pack name).
  std::vector<std::pair<uint32_t, std::string>> finish();

  void process(CityObject& obj, uint32_t input);

  static constexpr double kPieceMetres = 500;
  static constexpr double kSplitAboveMetres = 1500;

  static double diagonalOf(const FeatureMesh& m);

  // Cuts `mesh` into pieces on a kPieceMetres grid (local east/north at its centre) by triangle
  // centroid; `out` is left empty when the mesh is small enough to stay whole.
  static void splitLarge(const FeatureMesh& mesh, std::vector<FeatureMesh>& out);

  uint32_t keyIndex(const std::string& key, const PropertyValue& value);

  void write(const CityObject& obj, const FeatureMesh& mesh, const PropertyRow& attrs, uint32_t input);

 private:
  Shared& s_;
  uint32_t index_;
  std::string packsDir_;
  bool writeFailed_ = false;
  uint32_t input_ = 0;
  std::map<uint32_t, PackOut> packs_;
  std::set<std::pair<uint32_t, std::string>> inputCrs_;
  std::map<uint32_t, std::string> inputGeoid_;
  std::unordered_map<std::string, std::unique_ptr<CrsTransform>> crs_;
  std::unordered_map<std::string, std::pair<uint32_t, uint8_t>> keyCache_;
  FeatureMesh mesh_;
  MeshStats stats_;
  PropertyRow attrs_;
  std::vector<FeatureMesh> pieces_;

  void drop();
  PackOut& packFor(uint32_t input, const CityObject& obj);
  CrsTransform* transformFor(const CityObject& obj);
  void transformTree(CityObject& obj, CrsTransform& crs, size_t& failed);
};

class DirectSink : public ObjectSink {
 public:
  DirectSink(Worker& w, const std::atomic<bool>* cancel) : w_(w), cancel_(cancel) {}
  uint32_t input = 0;
  bool accept(CityObject&& o) override;

 private:
  Worker& w_;
  const std::atomic<bool>* cancel_;
};

// Takes objects from several reader threads at once (ReadOptions::parallelism): each thread is
// given a worker of its own on its first call.
class ConcurrentSink : public ObjectSink {
 public:
  ConcurrentSink(std::vector<std::unique_ptr<Worker>>& workers, const std::atomic<bool>* cancel, uint32_t input)
      : workers_(workers), cancel_(cancel), input_(input) {}
  bool accept(CityObject&& o) override;

 private:
  std::vector<std::unique_ptr<Worker>>& workers_;
  const std::atomic<bool>* cancel_;
  uint32_t input_;
  std::mutex mutex_;
  std::unordered_map<std::thread::id, Worker*> byThread_;
  Worker* workerForThisThread();
};

}  // namespace twin::tiler
