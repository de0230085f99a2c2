// viewer-server: static tiles and viewer files (ETag, Last-Modified, Cache-Control, gzip/brotli
// for text, ranges), the JSON API, access control and the access log, on the event-loop server of
// http.h: static files are answered on the loops, API requests on worker threads.
#include "twin/viewer/server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <list>
#include <thread>
#include <unordered_map>

#include "http.h"
#include "internal.h"

namespace twin::viewer {

namespace sfs = std::filesystem;

const char* roleName(Role r) { return r == Role::Admin ? "admin" : r == Role::Staff ? "staff" : "public"; }

std::string newToken() {
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1) return {};
  static const char* hex = "0123456789abcdef";
  std::string s = "twn_";
  for (unsigned char c : b) s += hex[c >> 4], s += hex[c & 15];
  return s;
}

std::string tokenHash(const std::string& token) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) s += hex[md[i] >> 4], s += hex[md[i] & 15];
  return s;
}

void jsonReply(http::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.setContent(body.dump(), "application/json; charset=utf-8");
}

void jsonError(http::Response& res, int status, const std::string& code, const std::string& message) {
  jsonReply(res, {{"error", {{"status", status}, {"code", code}, {"message", message}}}}, status);
}

Caller callerOf(Context& ctx, const http::Request& req) {
  Caller c;
  std::string auth = req.header("Authorization");
  if (auth.rfind("Bearer ", 0) != 0 || ctx.options.store.empty()) return c;
  std::string token = auth.substr(7);
  std::string h = tokenHash(token);
  auto t = ctx.store().token(h);
  // The lookup is by hash; comparing the hashes again in constant time keeps timing independent of
  // how much of a wrong token matches.
  if (!t || t->hash.size() != h.size() || CRYPTO_memcmp(t->hash.data(), h.data(), h.size()) != 0) {
    c.user = "invalid-token";
    return c;
  }
  c.user = t->user;
  c.role = t->role == "admin" ? Role::Admin : t->role == "staff" ? Role::Staff : Role::Public;
  return c;
}

namespace {

// Static files from memory, revalidated against the file's size and modification time.
class FileCache {
 public:
  struct Entry {
    std::string data, etag, lastModified;
    int64_t mtime = 0, size = 0;
    // Compressed copies for text files, made on first request.
    mutable std::mutex zipMutex;
    mutable std::shared_ptr<const std::string> gzip, brotli;
  };
  explicit FileCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const Entry> get(const sfs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    std::string key = p.string();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(key);
      if (it != map_.end() && it->second.entry->mtime == mtime && it->second.entry->size == st.st_size) {
        lru_.splice(lru_.begin(), lru_, it->second.pos);
        return it->second.entry;
      }
    }
    auto e = std::make_shared<Entry>();
    std::ifstream f(p, std::ios::binary);
    if (!f) return nullptr;
    e->data.assign(std::istreambuf_iterator<char>(f), {});
    e->size = st.st_size, e->mtime = mtime;
    char tag[64];
    std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(mtime));
    e->etag = tag;
    char date[64];
    std::tm tm{};
    time_t secs = st.st_mtim.tv_sec;
    gmtime_r(&secs, &tm);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    e->lastModified = date;
    if (e->data.size() > capacity_ / 4) return e;  // too large to keep
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(key);
    if (it != map_.end()) {
      bytes_ -= it->second.entry->data.size();
      lru_.erase(it->second.pos);
      map_.erase(it);
    }
    lru_.push_front(key);
    map_[key] = {e, lru_.begin()};
    bytes_ += e->data.size();
    while (bytes_ > capacity_ && !lru_.empty()) {
      auto& k = lru_.back();
      auto m = map_.find(k);
      bytes_ -= m->second.entry->data.size();
      map_.erase(m);
      lru_.pop_back();
    }
    return e;
  }

 private:
  struct Slot {
    std::shared_ptr<const Entry> entry;
    std::list<std::string>::iterator pos;
  };
  size_t capacity_, bytes_ = 0;
  std::mutex mutex_;
  std::list<std::string> lru_;
  std::unordered_map<std::string, Slot> map_;
};

const char* contentType(const std::string& path) {
  auto ext = sfs::path(path).extension().string();
  if (ext == ".json" || ext == ".geojson") return "application/json";
  if (ext == ".glb") return "model/gltf-binary";
  if (ext == ".gltf") return "model/gltf+json";
  if (ext == ".subtree" || ext == ".b3dm" || ext == ".i3dm" || ext == ".pnts" || ext == ".cmpt") return "application/octet-stream";
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".ktx2") return "image/ktx2";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".wasm") return "application/wasm";
  if (ext == ".xml") return "application/xml";
  return "application/octet-stream";
}

// `rel` below `root`, or empty when it would leave it (.., hidden names, symlinks out of root).
sfs::path safePathUncached(const sfs::path& rootCanonical, const std::string& rel);

}  // namespace

// Resolving symlinks costs a readlink per path component: each answer is kept (a path that
// later becomes a symlink out of the root is caught again when the entry is dropped: the cache is
// bounded and cleared when full; files themselves are re-checked with stat on every request).
sfs::path safeFilePath(const sfs::path& rootCanonical, const std::string& rel) {
  static std::mutex m;
  static std::unordered_map<std::string, sfs::path> cache;
  std::string key = rootCanonical.string() + '\n' + rel;
  {
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  sfs::path p = safePathUncached(rootCanonical, rel);
  if (!p.empty()) {
    std::lock_guard<std::mutex> lock(m);
    if (cache.size() > 100000) cache.clear();
    cache[key] = p;
  }
  return p;
}

namespace {

sfs::path safePathUncached(const sfs::path& rootCanonical, const std::string& rel) {
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) return {};
  sfs::path p = rootCanonical;
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t e = rel.find('/', pos);
    if (e == std::string::npos) e = rel.size();
    std::string seg = rel.substr(pos, e - pos);
    pos = e + 1;
    if (seg.empty()) continue;
    if (seg[0] == '.') return {};  // "..", ".twin", hidden files
    p /= seg;
  }
  std::error_code ec;
  sfs::path c = sfs::canonical(p, ec);
  if (ec) return {};
  std::string cs = c.string(), rs = rootCanonical.string();
  if (cs != rs && cs.rfind(rs + "/", 0) != 0) return {};
  return c;
}

}  // namespace

int parseByteRange(const std::string& h, int64_t size, int64_t& first, int64_t& last) {
  if (h.rfind("bytes=", 0) != 0 || h.find(',') != std::string::npos) return 0;  // several ranges: whole file
  std::string r = h.substr(6);
  size_t dash = r.find('-');
  if (dash == std::string::npos) return 0;
  std::string a = r.substr(0, dash), b = r.substr(dash + 1);
  auto num = [](const std::string& t, int64_t& v) {
    if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos) return false;
    v = std::stoll(t);
    return true;
  };
  if (a.empty()) {  // suffix: the last N bytes
    int64_t n;
    if (!num(b, n)) return 0;
    if (n == 0 || size == 0) return -1;
    first = std::max<int64_t>(0, size - n), last = size - 1;
    return 1;
  }
  if (!num(a, first)) return 0;
  if (b.empty()) last = size - 1;
  else if (!num(b, last) || last < first) return 0;
  if (first >= size) return -1;
  last = std::min(last, size - 1);
  return 1;
}

namespace {

void serveFile(FileCache& cache, const sfs::path& file, const http::Request& req, http::Response& res,
               const std::string& cacheControl) {
  auto e = cache.get(file);
  if (!e) return jsonError(res, 404, "not-found", "no such file");
  res.setHeader("ETag", e->etag);
  res.setHeader("Last-Modified", e->lastModified);
  res.setHeader("Cache-Control", cacheControl);
  std::string inm = req.header("If-None-Match");
  if ((!inm.empty() && (inm == e->etag || inm == "*")) ||
      (inm.empty() && req.header("If-Modified-Since") == e->lastModified)) {
    res.status = 304;
    return;
  }
  std::string type = contentType(file.string());
  res.setHeader("Content-Type", type);
  std::shared_ptr<const std::string> data(e, &e->data);  // shares the cache entry, no copy
  bool text = type.rfind("application/json", 0) == 0 || type.rfind("text/", 0) == 0;
  std::string range = req.header("Range");
  if (text && range.empty() && e->data.size() >= 1024) {
    res.setHeader("Vary", "Accept-Encoding");
    std::string enc = http::acceptedEncoding(req);
    if (!enc.empty()) {
      std::lock_guard<std::mutex> lock(e->zipMutex);
      auto& z = enc == "br" ? e->brotli : e->gzip;
      if (!z) z = std::make_shared<const std::string>(http::compress(e->data, enc, false));
      if (!z->empty()) {
        res.setHeader("Content-Encoding", enc);
        res.shared = z, res.sharedOffset = 0, res.sharedLength = z->size();
        return;
      }
    }
  }
  res.setHeader("Accept-Ranges", "bytes");
  res.shared = data, res.sharedOffset = 0, res.sharedLength = data->size();
  if (!range.empty()) {
    int64_t first = 0, last = 0, size = int64_t(data->size());
    int r = parseByteRange(range, size, first, last);
    if (r < 0) {
      jsonError(res, 416, "range", "the range is outside the file");
      res.setHeader("Content-Range", "bytes */" + std::to_string(size));
    } else if (r > 0) {
      res.status = 206;
      res.setHeader("Content-Range",
                    "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
      res.sharedOffset = size_t(first), res.sharedLength = size_t(last - first + 1);
    }
  }
}

// "terrain" for a tileset of relief only (the viewer drapes parcels and zoning on it and does not
// open building panels for it), "points" for a point cloud (twin convert of PLY/PCD/XYZ: drawn
// with distance-sized points, no panels, no colouring), else "buildings". From asset.extras.twin.objectTypes, which twin
// convert writes; tilesets from elsewhere count as buildings.
std::string tilesetKind(const sfs::path& tilesetJson) {
  std::ifstream f(tilesetJson, std::ios::binary);
  auto j = nlohmann::json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "buildings";
  auto types = j.value("/asset/extras/twin/objectTypes"_json_pointer, nlohmann::json::array());
  if (!types.is_array() || types.empty()) return "buildings";
  if (types.size() == 1 && types[0] == "PointCloud") return "points";
  for (auto& t : types)
    if (!t.is_string() || (t != "ReliefFeature" && t != "TINRelief")) return "buildings";
  return "terrain";
}

std::string nowIso() {
  auto t = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char b[40];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", b, int(ms));
  return out;
}

}  // namespace

// ---- per-thread store connections -------------------------------------------------------------

namespace {
struct ThreadState {
  const Context* owner = nullptr;
  std::unique_ptr<planning::Store> store;
  std::unique_ptr<twin::PlaneTransform> toStore, toLonLat;
};
thread_local ThreadState tState;

ThreadState& threadState(const Context* ctx) {
  if (tState.owner != ctx) {
    tState = ThreadState{};
    tState.owner = ctx;
  }
  return tState;
}
}  // namespace

planning::Store& Context::store() {
  auto& t = threadState(this);
  if (!t.store) t.store = planning::Store::open(options.store);
  return *t.store;
}
twin::PlaneTransform& Context::toStore() {
  auto& t = threadState(this);
  if (!t.toStore) {
    auto r = twin::PlaneTransform::create(geographicCrs, storeCrs);
    if (!r.value) throw planning::StoreError("no transformation from " + geographicCrs + " to " + storeCrs);
    t.toStore = std::move(*r.value);
  }
  return *t.toStore;
}
twin::PlaneTransform& Context::toLonLat() {
  auto& t = threadState(this);
  if (!t.toLonLat) {
    auto r = twin::PlaneTransform::create(storeCrs, storeCrs);
    if (!r.value) throw planning::StoreError("no transformation for " + storeCrs);
    t.toLonLat = std::move(*r.value);
  }
  return *t.toLonLat;
}

int serve(const ServeOptions& o, std::string& error) {
  Context ctx;
  ctx.options = o;
  if (!o.store.empty()) {
    auto rules = planning::RuleSet::load(o.rulesPath.empty() ? planning::RuleSet::defaultPath() : o.rulesPath);
    if (!rules.value) {
      error = rules.diagnostics.empty() ? "cannot read the rules file" : rules.diagnostics[0].message;
      return 1;
    }
    ctx.rules = *rules.value;
    try {
      ctx.storeCrs = ctx.store().crs();
    } catch (const planning::StoreError& e) {
      error = e.what();
      return 1;
    }
    if (ctx.storeCrs.empty()) {
      error = "the store " + o.store + " is empty: import parcels, zoning and buildings first (twin parcels import ...)";
      return 1;
    }
    int epsg = std::atoi(ctx.storeCrs.c_str() + ctx.storeCrs.find(':') + 1);
    ctx.geographicCrs = (epsg >= 6669 && epsg <= 6692) ? "EPSG:6668" : "EPSG:4326";
  }

  FileCache cache(256u << 20);
  std::vector<sfs::path> roots;
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < o.tiles.size(); ++i) {
    std::error_code ec;
    if (!sfs::exists(sfs::path(o.tiles[i]) / "tileset.json", ec)) {
      error = o.tiles[i] + " holds no tileset.json";
      return 1;
    }
    roots.push_back(sfs::canonical(o.tiles[i], ec));
    list.push_back({{"name", sfs::path(o.tiles[i]).filename().string()},
                    {"url", "tiles/" + std::to_string(i) + "/tileset.json"},
                    {"kind", tilesetKind(sfs::path(o.tiles[i]) / "tileset.json")}});
  }
  sfs::path webRoot;
  if (!o.webDir.empty()) {
    std::error_code ec;
    webRoot = sfs::canonical(o.webDir, ec);
    if (ec || !sfs::exists(webRoot / "index.html", ec)) {
      error = "viewer files not found in " + o.webDir + " (build the project first)";
      return 1;
    }
  }
  // What the viewer needs to start: tilesets, whether the land-use API is there, the base map.
  std::string listJson = list.dump();
  std::string configJson = nlohmann::json{{"tilesets", list}, {"store", !o.store.empty()}, {"basemap", o.basemap}}.dump();
  std::string tileCache = "public, max-age=" + std::to_string(o.cacheSeconds);

  http::Router api;
  if (!o.store.empty()) addApiRoutes(api, ctx);

  http::Handlers h;
  // On the event loops: files, the two fixed JSON documents, CORS preflight. Nothing here waits.
  h.fast = [&](http::Request& req, http::Response& res) {
    // Nothing hidden is ever served (a tileset's .twin/ state, staging directories).
    if (req.path.find("/.") != std::string::npos || req.path.find('\\') != std::string::npos) {
      jsonError(res, 404, "not-found", "no such file");
      return true;
    }
    if (req.method == "OPTIONS") {
      if (!o.corsOrigin.empty()) {
        res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, OPTIONS");
        res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, If-None-Match");
        res.setHeader("Access-Control-Max-Age", "600");
      }
      res.status = 204;
      return true;
    }
    if (req.method != "GET" && req.method != "HEAD") return false;
    if (req.path.rfind("/tiles/", 0) == 0) {
      size_t slash = req.path.find('/', 7);
      std::string index = req.path.substr(7, slash == std::string::npos ? std::string::npos : slash - 7);
      char* end = nullptr;
      size_t i = std::strtoul(index.c_str(), &end, 10);
      if (index.empty() || *end || slash == std::string::npos || i >= roots.size()) {
        jsonError(res, 404, "not-found", "no such tileset");
        return true;
      }
      sfs::path p = safeFilePath(roots[i], req.path.substr(slash + 1));
      if (p.empty()) {
        jsonError(res, 404, "not-found", "no such file");
        return true;
      }
      // tileset.json and subtrees change when a city is converted again: always revalidated.
      bool isIndex = p.extension() == ".json" || p.extension() == ".subtree";
      serveFile(cache, p, req, res, isIndex ? "no-cache" : tileCache);
      return true;
    }
    if (req.path == "/api/tilesets" || req.path == "/api/config") {
      res.setContent(req.path == "/api/config" ? configJson : listJson, "application/json; charset=utf-8");
      return true;
    }
    if (req.path.rfind("/api/", 0) == 0) return false;
    if (webRoot.empty()) {
      jsonError(res, 404, "not-found", "no such file");
      return true;
    }
    std::string rel = req.path.substr(1);
    if (rel.empty()) rel = "index.html";
    sfs::path p = safeFilePath(webRoot, rel);
    if (p.empty()) {
      jsonError(res, 404, "not-found", "no such file");
      return true;
    }
    bool lib = rel.rfind("cesium/", 0) == 0;
    serveFile(cache, p, req, res, lib ? "public, max-age=86400" : "no-cache");
    return true;
  };
  // On the workers: the API.
  h.slow = [&](const http::Request& request, http::Response& res) {
    http::Request& req = const_cast<http::Request&>(request);  // the router fills in `matches`
    try {
      if (api.dispatch(req, res)) return;
      if (req.path.rfind("/api/", 0) == 0) jsonError(res, 404, "not-found", "no such API endpoint (see /api/openapi.json)");
      else if (req.method == "POST" || req.method == "PUT" || req.method == "DELETE" || req.method == "PATCH")
        jsonError(res, 405, "method-not-allowed", req.method + " is not allowed here");
      else jsonError(res, 501, "not-implemented", "unknown method " + req.method);
    } catch (const planning::StoreError& e) {
      res = http::Response{};
      jsonError(res, 500, "internal", std::string("store error: ") + e.what());
      std::fprintf(stderr, "twin serve: %s %s: store error: %s\n", req.method.c_str(), req.path.c_str(), e.what());
    } catch (const std::exception& e) {
      res = http::Response{};
      jsonError(res, 500, "internal", e.what());
      std::fprintf(stderr, "twin serve: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
    }
  };
  h.finish = [&](const http::Request&, http::Response& res) {
    if (!o.corsOrigin.empty()) {
      res.setHeader("Access-Control-Allow-Origin", o.corsOrigin);
      res.setHeader("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range");
      if (o.corsOrigin != "*") res.setHeader("Vary", "Origin");
    }
  };
  if (o.accessLog)
    h.log = [](const http::Request& req, const http::Response& res, size_t bytes) {
      // Path only (no query, body or Authorization), the role, not who.
      nlohmann::json j = {{"t", nowIso()},    {"ip", req.remoteAddr},   {"method", req.method},
                          {"path", req.path}, {"status", res.status},   {"bytes", bytes},
                          {"auth", req.hasHeader("Authorization")}};
      std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fwrite(line.data(), 1, line.size(), stderr);
    };

  http::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.workers = o.threads;
  so.maxBodyBytes = o.maxBodyBytes;
  so.stop = o.stop;
  so.onListening = o.onListening;
  return http::run(so, h, error);
}

}  // namespace twin::viewer
