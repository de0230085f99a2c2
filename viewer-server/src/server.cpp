// viewer-server: static tiles and viewer files (ETag, Last-Modified, Cache-Control, gzip/brotli
// for text, ranges), the JSON API, access control and the access log, on cpp-httplib.
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

void jsonReply(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

void jsonError(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  jsonReply(res, {{"error", {{"status", status}, {"code", code}, {"message", message}}}}, status);
}

Caller callerOf(Context& ctx, const httplib::Request& req) {
  Caller c;
  std::string auth = req.get_header_value("Authorization");
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

// Resolving symlinks costs a readlink per path component: each answer is kept (a path that
// later becomes a symlink out of the root is caught again when the entry is dropped: the cache is
// bounded and cleared when full; files themselves are re-checked with stat on every request).
sfs::path safePath(const sfs::path& rootCanonical, const std::string& rel) {
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

void serveFile(FileCache& cache, const sfs::path& file, const httplib::Request& req, httplib::Response& res,
               const std::string& cacheControl) {
  auto e = cache.get(file);
  if (!e) {
    jsonError(res, 404, "not-found", "no such file");
    return;
  }
  res.set_header("ETag", e->etag);
  res.set_header("Last-Modified", e->lastModified);
  res.set_header("Cache-Control", cacheControl);
  std::string inm = req.get_header_value("If-None-Match");
  if ((!inm.empty() && (inm == e->etag || inm == "*")) ||
      (inm.empty() && req.get_header_value("If-Modified-Since") == e->lastModified)) {
    res.status = 304;
    return;
  }
  std::string type = contentType(file.string());
  bool text = type.rfind("application/json", 0) == 0 || type.rfind("text/", 0) == 0;
  if (text && e->data.size() < (4u << 20)) {
    res.set_content(e->data, type);  // small text: compressed (gzip/brotli) when the client accepts it
    return;
  }
  // Binary contents are written straight from the cache (no copy per request); ranges still apply.
  res.set_content_provider(e->data.size(), type, [e](size_t offset, size_t length, httplib::DataSink& sink) {
    return sink.write(e->data.data() + offset, length);
  });
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
  httplib::Server server;
  server.set_payload_max_length(o.maxBodyBytes);
  server.set_read_timeout(10, 0);
  server.set_write_timeout(30, 0);
  server.set_keep_alive_max_count(10000);
  server.set_keep_alive_timeout(5);
  // Headers and body go out in separate writes: without TCP_NODELAY each response waits for the
  // client's delayed ACK (~40 ms).
  server.set_tcp_nodelay(true);
  // cpp-httplib gives each connection a thread while it is open; keep-alive clients (a viewer
  // opens 6-16, a load test hundreds) need more threads than cores.
  size_t threads = o.threads > 0 ? size_t(o.threads) : 64;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

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

  static FileCache cache(256u << 20);
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
                    {"url", "tiles/" + std::to_string(i) + "/tileset.json"}});
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

  // Nothing hidden is ever served (a tileset's .twin/ state, staging directories).
  server.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.path.find("/.") != std::string::npos || req.path.find('\\') != std::string::npos) {
      jsonError(res, 404, "not-found", "no such file");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!o.corsOrigin.empty()) {
      res.set_header("Access-Control-Allow-Origin", o.corsOrigin);
      res.set_header("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range");
      if (o.corsOrigin != "*") res.set_header("Vary", "Origin");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Options(R"(.*)", [&](const httplib::Request&, httplib::Response& res) {
    if (!o.corsOrigin.empty()) {
      res.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, If-None-Match");
      res.set_header("Access-Control-Max-Age", "600");
    }
    res.status = 204;
  });

  // Tiles first: routes are matched in order, and tile requests are the most frequent.
  std::string tileCache = "public, max-age=" + std::to_string(o.cacheSeconds);
  server.Get(R"(/tiles/(\d+)/(.+))", [&, tileCache](const httplib::Request& req, httplib::Response& res) {
    size_t i = std::strtoul(req.matches[1].str().c_str(), nullptr, 10);
    if (i >= roots.size()) return jsonError(res, 404, "not-found", "no such tileset");
    sfs::path p = safePath(roots[i], req.matches[2].str());
    if (p.empty()) return jsonError(res, 404, "not-found", "no such file");
    // tileset.json and subtrees change when a city is converted again: always revalidated.
    bool index = p.extension() == ".json" || p.extension() == ".subtree";
    serveFile(cache, p, req, res, index ? "no-cache" : tileCache);
  });
  server.Get("/api/tilesets", [list](const httplib::Request&, httplib::Response& res) { jsonReply(res, list); });
  // What the viewer needs to start: tilesets, whether the land-use API is there, the base map.
  nlohmann::json config = {{"tilesets", list}, {"store", !o.store.empty()}, {"basemap", o.basemap}};
  server.Get("/api/config", [config](const httplib::Request&, httplib::Response& res) { jsonReply(res, config); });
  if (!o.store.empty()) addApiRoutes(server, ctx);
  server.Get(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) {
    jsonError(res, 404, "not-found", "no such API endpoint (see /api/openapi.json)");
  });
  if (!webRoot.empty())
    server.Get(R"(/(.*))", [&](const httplib::Request& req, httplib::Response& res) {
      std::string rel = req.matches[1].str();
      if (rel.empty()) rel = "index.html";
      sfs::path p = safePath(webRoot, rel);
      if (p.empty()) return jsonError(res, 404, "not-found", "no such file");
      bool lib = rel.rfind("cesium/", 0) == 0;
      serveFile(cache, p, req, res, lib ? "public, max-age=86400" : "no-cache");
    });

  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string msg = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const planning::StoreError& e) {
      msg = std::string("store error: ") + e.what();
    } catch (const std::exception& e) {
      msg = e.what();
    } catch (...) {
    }
    jsonError(res, 500, "internal", msg);
  });
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status >= 400) {
      const char* code = res.status == 413 ? "too-large" : res.status == 400 ? "bad-request" : "error";
      jsonError(res, res.status, code, res.status == 413 ? "request too large" : "HTTP " + std::to_string(res.status));
    }
  });
  if (o.accessLog)
    server.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
      // Path only (no query, body or Authorization), the role, not who.
      nlohmann::json j = {{"t", nowIso()},          {"ip", req.remote_addr},         {"method", req.method},
                          {"path", req.path},       {"status", res.status},          {"bytes", res.body.size()},
                          {"auth", req.has_header("Authorization")}};
      std::fprintf(stderr, "%s\n", j.dump().c_str());
    });

  int port = o.port;
  if (port == 0) {
    port = server.bind_to_any_port(o.host);
    if (port < 0) {
      error = "cannot listen on " + o.host;
      return 1;
    }
  } else if (!server.bind_to_port(o.host, o.port)) {
    error = "cannot listen on " + o.host + ":" + std::to_string(o.port);
    return 1;
  }
  if (o.onListening) o.onListening(port);
  std::thread watcher;
  std::atomic<bool> finished{false};
  if (o.stop)
    watcher = std::thread([&] {
      while (!finished.load() && !o.stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
    });
  server.listen_after_bind();
  finished = true;
  if (watcher.joinable()) watcher.join();
  return 0;
}

}  // namespace twin::viewer
