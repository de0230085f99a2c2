// viewer-server: static tiles and viewer files (ETag, Last-Modified, Cache-Control, gzip/brotli
// for text, ranges), the JSON API, access control and the access log, on the event-loop server of
// http.h: static files are answered on the loops, API requests on worker threads.
#include "twin/viewer/server.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <regex>
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

std::string isoNow(int plusDays) {
  std::time_t t = std::time(nullptr) + std::time_t(plusDays) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

IssuedToken issueToken(landuse::Store& store, const std::string& user, const std::string& role, int days,
                       const std::string& actor) {
  IssuedToken out{newToken(), days > 0 ? isoNow(days) : std::string()};
  landuse::Token t{tokenHash(out.token), user, role, ""};
  t.expiresAt = out.expiresAt;
  store.putToken(t, actor);
  return out;
}

Caller callerOf(Context& ctx, const http::Request& req) {
  Caller c;
  std::string auth = req.header("Authorization");
  if (auth.empty() || ctx.options.store.empty()) return c;
  // The scheme is case-insensitive (RFC 9110 11.1); anything but Bearer is not a token we know,
  // and is refused as one rather than served as public.
  size_t sp = auth.find(' ');
  std::string scheme = auth.substr(0, sp);
  for (auto& ch : scheme) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  size_t at = sp == std::string::npos ? std::string::npos : auth.find_first_not_of(' ', sp);
  if (scheme != "bearer" || at == std::string::npos) {
    c.user = "invalid-token";
    return c;
  }
  std::string token = auth.substr(at);
  std::string h = tokenHash(token);
  auto t = ctx.store().token(h);
  // The lookup is by hash; comparing the hashes again in constant time keeps timing independent of
  // how much of a wrong token matches.
  if (!t || t->hash.size() != h.size() || CRYPTO_memcmp(t->hash.data(), h.data(), h.size()) != 0 ||
      !t->validAt(isoNow(0))) {  // unknown, revoked or expired
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
    bool cached = false;  // kept in the cache (files too large to keep are never compressed)
    // Compressed copies for text files, made once per file off the event loop (Compressor);
    // until one is there the file goes out as it is.
    mutable std::mutex zipMutex;
    mutable std::shared_ptr<const std::string> gzip, brotli;
    mutable bool gzipPending = false, brotliPending = false;
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
    e->cached = true;
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

// For the classes below that own a thread: sets `stop` under `m`, wakes the thread, waits for it.
void stopThread(std::mutex& m, std::condition_variable& cv, bool& stop, std::thread& thread) {
  {
    std::lock_guard<std::mutex> lock(m);
    stop = true;
  }
  cv.notify_all();
  thread.join();
}

// The access log, written by a thread of its own: the event loops only queue a line, so a slow
// stderr (a full pipe, a disk busy writing back) never holds the requests of a loop. At most
// 16 MB of lines wait; past that lines are dropped, and how many is logged. Lines still waiting
// are written when the server stops.
class AccessLog {
 public:
  AccessLog() : thread_([this] { work(); }) {}
  ~AccessLog() { stopThread(m_, cv_, stop_, thread_); }
  void add(std::string line) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(m_);
      if (bytes_ + line.size() > kMaxWaiting) {
        ++dropped_;
        return;
      }
      wake = lines_.empty();  // the writer takes all waiting lines at once: one wake-up per batch
      bytes_ += line.size();
      lines_.push_back(std::move(line));
    }
    if (wake) cv_.notify_one();
  }

 private:
  static constexpr size_t kMaxWaiting = 16u << 20;
  void work() {
    for (;;) {
      std::string batch;
      uint64_t dropped = 0;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || !lines_.empty() || dropped_ > 0; });
        if (lines_.empty() && dropped_ == 0) return;  // stopping, nothing left
        batch.reserve(bytes_);
        for (auto& l : lines_) batch += l;
        lines_.clear();
        bytes_ = 0;
        std::swap(dropped, dropped_);
      }
      if (dropped > 0)
        batch += "twin serve: access log: " + std::to_string(dropped) + " lines dropped (stderr did not keep up)\n";
      std::fwrite(batch.data(), 1, batch.size(), stderr);
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  size_t bytes_ = 0;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// Makes compressed copies of cached text files on its own thread, one at a time, so that no
// request waits for one (a 70 MB JSON file takes seconds to brotli): the first requests for a
// file get it uncompressed, the later ones the copy. A bounded queue: when full, files wait for
// a later request.
class Compressor {
 public:
  Compressor() : thread_([this] { work(); }) {}
  ~Compressor() { stopThread(m_, cv_, stop_, thread_); }
  // Schedules `enc` ("br"/"gzip") of `e` unless it is there or under way.
  void request(const std::shared_ptr<const FileCache::Entry>& e, const std::string& enc) {
    {
      std::lock_guard<std::mutex> z(e->zipMutex);
      bool& pending = enc == "br" ? e->brotliPending : e->gzipPending;
      if (pending || (enc == "br" ? e->brotli : e->gzip)) return;
      std::lock_guard<std::mutex> lock(m_);
      if (q_.size() >= 64) return;
      pending = true;
      q_.push_back({std::weak_ptr<const FileCache::Entry>(e), enc});
    }
    cv_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::pair<std::weak_ptr<const FileCache::Entry>, std::string> job;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || !q_.empty(); });
        if (stop_) return;
        job = std::move(q_.front());
        q_.pop_front();
      }
      auto entry = job.first.lock();  // dropped from the cache meanwhile: nothing to do
      if (!entry) continue;
      auto z = std::make_shared<const std::string>(http::compress(entry->data, job.second, false));
      std::lock_guard<std::mutex> lock(entry->zipMutex);
      (job.second == "br" ? entry->brotli : entry->gzip) = std::move(z);
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<std::weak_ptr<const FileCache::Entry>, std::string>> q_;  // weak: the cache owns entries
  bool stop_ = false;
  std::thread thread_;
};

const char* contentType(const std::string& path) {
  auto ext = sfs::path(path).extension().string();
  if (ext == ".json" || ext == ".geojson") return "application/json";
  if (ext == ".glb") return "model/gltf-binary";
  if (ext == ".gltf") return "model/gltf+json";
  if (ext == ".subtree" || ext == ".b3dm" || ext == ".i3dm" || ext == ".pnts" || ext == ".cmpt")
    return "application/octet-stream";
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

sfs::path safeFilePath(const sfs::path& rootCanonical, const std::string& rel) {
  return safePathUncached(rootCanonical, rel);
}

sfs::path SafePaths::resolve(const sfs::path& rootCanonical, const std::string& rel) {
  std::string key = rootCanonical.string() + '\n' + rel;
  const bool keep = key.size() <= kMaxKey;
  if (keep) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  sfs::path p = safePathUncached(rootCanonical, rel);
  if (!p.empty() && keep) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t add = key.size() + p.native().size() + 64;
    if (bytes_ + add > kMaxBytes) cache_.clear(), bytes_ = 0;
    if (cache_.emplace(key, p).second) bytes_ += add;
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
  if (b.empty())
    last = size - 1;
  else if (!num(b, last) || last < first)
    return 0;
  if (first >= size) return -1;
  last = std::min(last, size - 1);
  return 1;
}

namespace {

void serveFile(FileCache& cache, Compressor& compressor, const sfs::path& file, const http::Request& req,
               http::Response& res, const std::string& cacheControl) {
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
      std::shared_ptr<const std::string> z;
      {
        std::lock_guard<std::mutex> lock(e->zipMutex);
        z = enc == "br" ? e->brotli : e->gzip;
      }
      if (!z && e->cached) compressor.request(e, enc);  // for the next requests
      if (z && !z->empty()) {
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
// with distance-sized points, no panels, no colouring), else "buildings". From asset.extras.twin.objectTypes, which
// twin convert writes; tilesets from elsewhere count as buildings.
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

struct Context::ThreadState {
  std::unique_ptr<landuse::Store> store;
  std::unique_ptr<twin::PlaneTransform> toStore, toLonLat;
};

Context::Context() = default;
Context::~Context() = default;

Context::ThreadState& Context::thisThread() {
  std::lock_guard<std::mutex> lock(threadsMutex_);
  auto& t = threads_[std::this_thread::get_id()];
  if (!t) t = std::make_unique<ThreadState>();
  return *t;
}

landuse::Store& Context::store() {
  auto& t = thisThread();
  if (!t.store) t.store = landuse::Store::open(options.store);
  return *t.store;
}
twin::PlaneTransform& Context::toStore() {
  auto& t = thisThread();
  if (!t.toStore) {
    auto r = twin::PlaneTransform::create(geographicCrs, storeCrs);
    if (!r.value) throw landuse::StoreError("no transformation from " + geographicCrs + " to " + storeCrs);
    t.toStore = std::move(*r.value);
  }
  return *t.toStore;
}
twin::PlaneTransform& Context::toLonLat() {
  auto& t = thisThread();
  if (!t.toLonLat) {
    auto r = twin::PlaneTransform::create(storeCrs, storeCrs);
    if (!r.value) throw landuse::StoreError("no transformation for " + storeCrs);
    t.toLonLat = std::move(*r.value);
  }
  return *t.toLonLat;
}

Status serve(const ServeOptions& o) {
  Context ctx;
  ctx.options = o;
  if (!o.store.empty()) {
    auto rules = landuse::RuleSet::load(o.rulesPath.empty() ? landuse::RuleSet::defaultPath(o.dataDir) : o.rulesPath);
    if (!rules.value) {
      Status st;
      st.diagnostics = rules.diagnostics;
      return st;
    }
    ctx.rules = *rules.value;
    try {
      ctx.storeCrs = ctx.store().crs();
    } catch (const landuse::StoreError& e) {
      return Status::failure("store-error", e.what());
    }
    if (ctx.storeCrs.empty()) {
      return Status::failure("store-empty", "the store " + o.store + " is empty: import parcels, zoning and buildings first (twin parcels import ...)");
    }
    int epsg = std::atoi(ctx.storeCrs.c_str() + ctx.storeCrs.find(':') + 1);
    ctx.geographicCrs = (epsg >= 6669 && epsg <= 6692) ? "EPSG:6668" : "EPSG:4326";
  }

  FileCache cache(256u << 20);
  Compressor compressor;
  std::vector<sfs::path> roots;
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < o.tiles.size(); ++i) {
    std::error_code ec;
    if (!sfs::exists(sfs::path(o.tiles[i]) / "tileset.json", ec)) {
      return Status::failure("serve-no-tileset", o.tiles[i] + " holds no tileset.json", o.tiles[i]);
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
      return Status::failure("serve-no-viewer", "viewer files not found in " + o.webDir + " (build the project first)");
    }
  }
  // What the viewer needs to start: tilesets, whether the land-use API is there, the base map.
  std::string listJson = list.dump();
  std::string configJson =
      nlohmann::json{{"tilesets", list}, {"store", !o.store.empty()}, {"basemap", o.basemap}}.dump();
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
      sfs::path p = ctx.paths.resolve(roots[i], req.path.substr(slash + 1));
      if (p.empty()) {
        jsonError(res, 404, "not-found", "no such file");
        return true;
      }
      // tileset.json and subtrees change when a city is converted again: always revalidated.
      bool isIndex = p.extension() == ".json" || p.extension() == ".subtree";
      serveFile(cache, compressor, p, req, res, isIndex ? "no-cache" : tileCache);
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
    sfs::path p = ctx.paths.resolve(webRoot, rel);
    if (p.empty()) {
      jsonError(res, 404, "not-found", "no such file");
      return true;
    }
    bool lib = rel.rfind("cesium/", 0) == 0;
    serveFile(cache, compressor, p, req, res, lib ? "public, max-age=86400" : "no-cache");
    return true;
  };
  // On the workers: the API.
  h.slow = [&](const http::Request& request, http::Response& res) {
    http::Request& req = const_cast<http::Request&>(request);  // the router fills in `matches`
    try {
      if (api.dispatch(req, res)) return;
      if (req.path.rfind("/api/", 0) == 0)
        jsonError(res, 404, "not-found", "no such API endpoint (see /api/openapi.json)");
      else if (req.method == "POST" || req.method == "PUT" || req.method == "DELETE" || req.method == "PATCH")
        jsonError(res, 405, "method-not-allowed", req.method + " is not allowed here");
      else
        jsonError(res, 501, "not-implemented", "unknown method " + req.method);
    } catch (const std::exception& e) {
      // The client learns that it failed and an incident number; what failed (SQL, paths) goes
      // to the server's log only, escaped onto one line.
      uint64_t n = ++ctx.incidents;
      res = http::Response{};
      jsonError(res, 500, "internal", "internal error (incident " + std::to_string(n) + " in the server log)");
      std::fprintf(stderr, "twin serve: incident %llu: %s %s: %s\n", static_cast<unsigned long long>(n),
                   http::escapeForLog(req.method).c_str(), http::escapeForLog(req.path).c_str(),
                   http::escapeForLog(e.what()).c_str());
    }
  };
  // Browser security headers on every answer. The viewer has no inline script; CesiumJS needs
  // 'unsafe-eval' (its widgets bind with new Function) and WebAssembly; the base map, when given,
  // is the one other origin images may come from.
  std::string basemapOrigin;
  if (!o.basemap.empty()) {
    // "https://{s}.tile.example/{z}/{x}/{y}.png" -> "https://*.tile.example"
    size_t scheme = o.basemap.find("://");
    if (scheme != std::string::npos) {
      size_t end = o.basemap.find('/', scheme + 3);
      std::string host = o.basemap.substr(scheme + 3, end == std::string::npos ? std::string::npos : end - scheme - 3);
      if (size_t brace = host.rfind('}'); brace != std::string::npos) host = "*" + host.substr(brace + 1);
      if (!host.empty() && host != "*" && host.find_first_of("{}' ;") == std::string::npos)
        basemapOrigin = " " + o.basemap.substr(0, scheme + 3) + host;
    }
  }
  const std::string csp =
      "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; "
      "img-src 'self' data: blob:" +
      basemapOrigin + "; connect-src 'self' data: blob:" + basemapOrigin +
      "; style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
      "frame-ancestors 'none'; form-action 'self'";
  h.finish = [&, csp](const http::Request& req, http::Response& res) {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Content-Security-Policy", csp);
    // Answers to a request that carried credentials are never stored by a browser or proxy
    // (the new-token reply, staff views with applicants).
    if (req.hasHeader("Authorization")) res.setHeader("Cache-Control", "no-store");
    if (!o.corsOrigin.empty()) {
      res.setHeader("Access-Control-Allow-Origin", o.corsOrigin);
      res.setHeader("Access-Control-Expose-Headers", "ETag, Content-Length, Content-Range");
      if (o.corsOrigin != "*") res.setHeader("Vary", "Origin");
    }
  };
  // A body over 64 KB is read only once the request may send it, checked before the body
  // arrives: staff and admins up to --max-body-mb; the public only to the two public POST
  // endpoints (verdicts for the buildings in view, procedures for a plan), up to 2 MB.
  if (!o.store.empty())
    h.admit = [&](const http::Request& req, http::Response& res) {
      Caller c = callerOf(ctx, req);
      if (c.role == Role::Staff || c.role == Role::Admin) return true;
      static const std::regex publicPost(R"(/api/buildings/verdicts|/api/parcels/[^/]+/procedures)");
      const bool isPublic = req.method == "POST" && std::regex_match(req.path, publicPost);
      const uint64_t length = std::strtoull(req.header("Content-Length").c_str(), nullptr, 10);
      if (isPublic && c.user != "invalid-token") {
        if (length <= (2u << 20)) return true;
        jsonError(res, 413, "too-large", "a public request body is at most 2 MB");
        return false;
      }
      jsonError(res, 401, "unauthorized",
                c.user == "invalid-token" ? "the token is not valid" : "sign in: this needs a staff token");
      res.setHeader("WWW-Authenticate", "Bearer");
      return false;
    };
  std::optional<AccessLog> accessLog;
  if (o.accessLog) accessLog.emplace();
  if (o.accessLog)
    h.log = [&accessLog](const http::Request& req, const http::Response& res, size_t bytes) {
      // Path only (no query, body or Authorization), the role, not who.
      nlohmann::json j = {{"t", nowIso()},
                          {"ip", req.remoteAddr},
                          {"method", req.method},
                          {"path", req.path},
                          {"status", res.status},
                          {"bytes", bytes},
                          {"auth", req.hasHeader("Authorization")}};
      accessLog->add(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    };

  http::ServerOptions so;
  so.host = o.host;
  so.port = o.port;
  so.workers = o.threads;
  so.maxBodyBytes = o.maxBodyBytes;
  so.maxPerAddress = o.maxConnectionsPerAddress;
  so.stop = o.stop;
  so.onListening = o.onListening;
  return http::run(so, h);
}

}  // namespace twin::viewer
