// The state of a conversion in OUT/.twin/: pack index and key files, state.json (RunState) and
// the checks that decide whether a previous run's inputs can be reused (see run_state.h).
#include "run_state.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bytes.h"
#include "twin/fsutil.h"
#include "twin/hash.h"
#include "twin/vfs.h"

namespace twin::tiler {

using nlohmann::json;

namespace {

constexpr uint32_t kIndexMagic = 0x58444954;  // "TIDX"
constexpr uint32_t kKeysMagic = 0x594B4954;   // "TIKY"

}  // namespace

bool writePackIndex(const std::string& path, const std::vector<FeatureRef>& refs, std::string& error) {
  ByteWriter w;
  w.put(kIndexMagic);
  w.put(uint64_t(refs.size()));
  for (auto& r : refs) {
    w.put(r.offset);
    w.put(r.size);
    w.put(r.lon);
    w.put(r.lat);
    w.put(r.diagonal);
    w.put(r.idHash);
  }
  return fs::writeFileAtomic(path, w.buf.data(), w.buf.size(), error);
}

namespace {

// Reads a record file: magic, a count of type Count, then `count` records through readOne(reader).
template <class Count, class Fn>
bool readRecordFile(const std::string& path, uint32_t magic, const char* what, std::string& error, Fn readOne) {
  std::vector<uint8_t> b;
  if (!vfs::readAll(path, b, error)) return false;
  ByteReader r(b.data(), b.size());
  if (r.get<uint32_t>() != magic) {
    error = path + " is not a twin " + what;
    return false;
  }
  Count n = r.get<Count>();
  if (uint64_t(n) > b.size()) {
    error = path + " is corrupt";
    return false;
  }
  for (Count i = 0; i < n && r.ok(); ++i) readOne(r);
  if (!r.ok()) {
    error = path + " is truncated";
    return false;
  }
  return true;
}

}  // namespace

bool readPackIndex(const std::string& path, std::vector<FeatureRef>& refs, std::string& error) {
  refs.clear();
  return readRecordFile<uint64_t>(path, kIndexMagic, "pack index", error, [&](ByteReader& r) {
    FeatureRef f{};
    f.offset = r.get<uint64_t>();
    f.size = r.get<uint32_t>();
    f.lon = r.get<double>();
    f.lat = r.get<double>();
    f.diagonal = r.get<float>();
    f.idHash = r.get<uint64_t>();
    refs.push_back(f);
  });
}

bool writePackKeys(const std::string& path, const std::vector<PackKey>& keys, std::string& error) {
  ByteWriter w;
  w.put(kKeysMagic);
  w.put(uint32_t(keys.size()));
  for (auto& k : keys) {
    w.put(k.index);
    w.putString(k.name);
    w.put(k.kinds);
  }
  return fs::writeFileAtomic(path, w.buf.data(), w.buf.size(), error);
}

bool readPackKeys(const std::string& path, std::vector<PackKey>& keys, std::string& error) {
  keys.clear();
  return readRecordFile<uint32_t>(path, kKeysMagic, "pack key table", error, [&](ByteReader& r) {
    PackKey k;
    k.index = r.get<uint32_t>();
    k.name = r.getString();
    k.kinds = r.get<uint8_t>();
    keys.push_back(std::move(k));
  });
}

uint64_t InputState::fingerprint() const {
  uint64_t h = fnv1a64(uri);
  h = hashMix(h, size);
  return hashMix(h, uint64_t(mtime));
}

bool RunState::load(const std::string& stateDir, std::string& error) {
  std::ifstream f(stateDir + "/state.json");
  if (!f) {
    error = "no state in " + stateDir;
    return false;
  }
  try {
    json j = json::parse(f);
    if (j.value("version", 0) != kVersion) {
      error = "state of another twin version";
      return false;
    }
    optionsJson = j["options"].dump();
    inputs.clear();
    for (auto& i : j["inputs"]) {
      InputState s;
      s.uri = i["uri"];
      s.size = i["size"];
      s.mtime = i["mtime"];
      s.packs = i["packs"].get<std::vector<std::string>>();
      s.triangles = i["triangles"];
      s.dropped = i["dropped"];
      s.crs = i["crs"].get<std::vector<std::string>>();
      s.geoid = i["geoid"];
      inputs.push_back(std::move(s));
    }
    tiles.clear();
    for (auto& t : j["tiles"]) {
      TileState s;
      s.key = t["key"];
      s.hash = std::stoull(t["hash"].get<std::string>(), nullptr, 16);
      s.content = t["content"];
      s.boxSet = t["boxSet"];
      s.box = t["box"].get<std::array<double, 12>>();
      s.error = t["error"];
      s.bytes = t["bytes"];
      s.textures = t["textures"];
      s.shown = t["shown"];
      tiles.push_back(std::move(s));
    }
  } catch (const std::exception& e) {
    error = std::string("unreadable state.json: ") + e.what();
    return false;
  }
  return true;
}

bool RunState::save(const std::string& stateDir, std::string& error) const {
  json j;
  j["version"] = kVersion;
  j["options"] = json::parse(optionsJson);
  j["inputs"] = json::array();
  for (auto& i : inputs)
    j["inputs"].push_back({{"uri", i.uri},
                           {"size", i.size},
                           {"mtime", i.mtime},
                           {"packs", i.packs},
                           {"triangles", i.triangles},
                           {"dropped", i.dropped},
                           {"crs", i.crs},
                           {"geoid", i.geoid}});
  j["tiles"] = json::array();
  for (auto& t : tiles) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(t.hash));
    j["tiles"].push_back({{"key", t.key},
                          {"hash", hex},
                          {"content", t.content},
                          {"boxSet", t.boxSet},
                          {"box", t.box},
                          {"error", t.error},
                          {"bytes", t.bytes},
                          {"textures", t.textures},
                          {"shown", t.shown}});
  }
  return fs::writeFileAtomic(stateDir + "/state.json", j.dump(0), error);
}

void statInput(const std::string& uri, uint64_t& size, int64_t& mtime) {
  std::string path = uri.substr(0, uri.find("!/"));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    size = uint64_t(st.st_size);
    mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (uri.find("!/") != std::string::npos) return;
  std::filesystem::path p(path);
  std::filesystem::path app = p.parent_path() / (p.stem().string() + "_appearance");
  std::error_code ec;
  if (!std::filesystem::is_directory(app, ec)) {
    // PLATEAU names the folder after the file without the "_op" suffix
    std::string stem = p.stem().string();
    if (stem.size() > 3 && stem.compare(stem.size() - 3, 3, "_op") == 0)
      app = p.parent_path() / (stem.substr(0, stem.size() - 3) + "_appearance");
  }
  if (!std::filesystem::is_directory(app, ec)) return;
  for (auto& e : std::filesystem::directory_iterator(app, ec)) {
    struct stat ts {};
    if (::stat(e.path().c_str(), &ts) == 0)
      mtime = std::max(mtime, int64_t(ts.st_mtim.tv_sec) * 1000000000 + ts.st_mtim.tv_nsec);
  }
}

bool packIntact(const std::string& base) {
  std::vector<FeatureRef> refs;
  std::vector<PackKey> keys;
  std::string err;
  if (!readPackIndex(base + ".idx", refs, err) || !readPackKeys(base + ".keys", keys, err)) return false;
  struct stat st {};
  if (::stat((base + ".bin").c_str(), &st) != 0) return false;
  uint64_t need = 0;
  for (auto& r : refs) need = std::max(need, r.offset + r.size);
  return uint64_t(st.st_size) >= need;
}

}  // namespace twin::tiler
