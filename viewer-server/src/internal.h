#pragma once
// Shared between the server's parts (not installed).
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "twin/planning/rules.h"
#include "twin/planning/store.h"
#include "http.h"
#include "twin/viewer/server.h"

namespace twin::viewer {

enum class Role { Public, Staff, Admin };
const char* roleName(Role r);

// Per-request identity, found from the Authorization header.
struct Caller {
  Role role = Role::Public;
  std::string user = "public";
};

// What every handler shares. Stores are per thread (SQLite connections and PostgreSQL sessions
// are not shared between threads); the rules are read once.
struct Context {
  ServeOptions options;
  planning::RuleSet rules;
  std::string storeCrs;
  planning::Store& store();  // this thread's connection
  twin::PlaneTransform& toStore();   // EPSG:6668/4326 (lat, lon) -> store CRS
  twin::PlaneTransform& toLonLat();  // store CRS -> lon/lat
  std::string geographicCrs;  // the lat/lon CRS toStore reads
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
