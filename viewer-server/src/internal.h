#pragma once
// Shared between the server's parts (not installed).
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "http.h"
#include "twin/landuse/rules.h"
#include "twin/landuse/store.h"
#include "twin/viewer/server.h"

namespace twin::viewer {

enum class Role { Public, Staff, Admin };
const char* roleName(Role r);

// Per-request identity, found from the Authorization header.
struct Caller {
  Role role = Role::Public;
  std::string user = "public";
};

// Rule results kept between requests (a building's check, its overall verdict), valid for one
// store revision (Store::revision, read on each request): when the store's data change — a
// re-import by this server's operator, another server or `twin` on the same store — the next
// request finds a newer revision and drops everything kept. Bounded in entries.
class ResultCache {
 public:
  // The kept check / verdict of `id` at `revision`, or null.
  std::optional<nlohmann::json> check(const std::string& id, int64_t revision);
  std::optional<std::string> verdict(const std::string& id, int64_t revision);
  // Kept only when `revision` is the newest seen (a result computed while the data changed
  // under it is not kept).
  void putCheck(const std::string& id, int64_t revision, const nlohmann::json& check);
  void putVerdict(const std::string& id, int64_t revision, const std::string& verdict);

 private:
  bool at(int64_t revision);  // with mutex_ held: true when `revision` is the one kept
  static constexpr size_t kMaxEntries = 50000;
  std::mutex mutex_;
  int64_t revision_ = -1;
  std::unordered_map<std::string, nlohmann::json> checks_;
  std::unordered_map<std::string, std::string> verdicts_;
};

// Request paths resolved to files under a root (safeFilePath), kept: resolving symlinks costs a
// readlink per path component. A path that later becomes a symlink out of the root is caught
// again when the entry is dropped; files themselves are re-checked with stat on every request.
// Bounded in bytes (4 MB, cleared when full), no key longer than 512 bytes: requests for many
// long made-up paths cannot grow the server's memory.
class SafePaths {
 public:
  std::filesystem::path resolve(const std::filesystem::path& rootCanonical, const std::string& rel);

 private:
  static constexpr size_t kMaxKey = 512, kMaxBytes = 4u << 20;
  std::mutex mutex_;
  std::unordered_map<std::string, std::filesystem::path> cache_;
  size_t bytes_ = 0;
};

// What every handler of one running server shares; the server keeps no state outside it. Stores
// are per thread (SQLite connections and PostgreSQL sessions are not shared between threads);
// the rules are read once.
struct Context {
  Context();
  ~Context();
  ServeOptions options;
  landuse::RuleSet rules;
  std::string storeCrs;
  landuse::Store& store();           // this thread's connection
  twin::PlaneTransform& toStore();   // EPSG:6668/4326 (lat, lon) -> store CRS
  twin::PlaneTransform& toLonLat();  // store CRS -> lon/lat
  std::string geographicCrs;         // the lat/lon CRS toStore reads
  ResultCache results;
  SafePaths paths;
  std::atomic<uint64_t> incidents{0};  // 500s answered, numbered for the log

 private:
  struct ThreadState;  // this thread's store connection and transforms
  ThreadState& thisThread();
  std::mutex threadsMutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<ThreadState>> threads_;
};

// Writes {"error": {"status", "code", "message"}}.
void jsonError(http::Response& res, int status, const std::string& code, const std::string& message);
void jsonReply(http::Response& res, const nlohmann::json& body, int status = 200);
Caller callerOf(Context& ctx, const http::Request& req);

void addApiRoutes(http::Router& server, Context& ctx);

// What the file handler uses, exposed for tests and fuzzing: a "bytes=" Range header against a
// file of `size` bytes (0: send the whole file, 1: [first, last], -1: unsatisfiable), and the
// file under a canonical `root` a request path names (empty when it would leave the root).
int parseByteRange(const std::string& h, int64_t size, int64_t& first, int64_t& last);
std::filesystem::path safeFilePath(const std::filesystem::path& root, const std::string& rel);

}  // namespace twin::viewer
