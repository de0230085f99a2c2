// Inputs as the command names them (files, directories, PLATEAU zip archives) expanded into the
// files a registered format reads; shards of them for `twin convert --shard`.
#include <zip.h>

#include <algorithm>
#include <filesystem>

#include "twin/converters/registry.h"
#include "twin/hash.h"
#include "twin/vfs.h"

namespace twin::converters {

namespace {

// Archive entries larger than this, or expanding more than kMaxZipRatio:1 beyond 256 MB, are
// refused (no real city file compresses better than about 20:1).
constexpr uint64_t kMaxZipEntryBytes = uint64_t(64) << 30;
constexpr uint64_t kMaxZipRatio = 1000;

std::string headOf(const std::string& uri) {
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) return {};
  std::string head(4096, '\0');
  int64_t n = in->read(head.data(), head.size());
  head.resize(n > 0 ? size_t(n) : 0);
  return head;
}

bool isZip(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return lower.size() > 4 && lower.compare(lower.size() - 4, 4, ".zip") == 0;
}

void addZip(const std::string& path, const FormatRegistry& registry, DiagnosticSink& diag,
            std::vector<InputFile>& out) {
  std::string err;
  auto entries = vfs::listZip(path, err);
  if (!err.empty()) {
    diag.error("zip-unreadable", err, path);
    return;
  }
  int err2 = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err2);
  for (auto& uri : entries) {
    std::string entry = uri.substr(uri.find("!/") + 2);
    // Entries are streamed, never extracted; still, a path that would leave a folder is refused,
    // and so is an entry whose size or compression ratio says "zip bomb".
    if (entry.find("..") != std::string::npos || entry[0] == '/' || entry.find('\\') != std::string::npos) {
      diag.warning("zip-entry-unsafe", "skipping archive entry with an unsafe path: " + entry, path);
      continue;
    }
    if (registry.byExtension(entry).empty()) continue;  // cheap check before reading the entry
    uint64_t size = 0;
    if (za) {
      zip_stat_t st;
      zip_stat_init(&st);
      if (zip_stat(za, entry.c_str(), 0, &st) == 0) {
        size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
        uint64_t packed = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
        if (size > kMaxZipEntryBytes) {
          diag.error("zip-entry-too-large",
                     "archive entry " + entry + " claims " + std::to_string(size >> 30) + " GB uncompressed; skipped",
                     path);
          continue;
        }
        if (packed > 0 && size > (uint64_t(256) << 20) && size / packed > kMaxZipRatio) {
          diag.error("zip-bomb",
                     "archive entry " + entry + " expands " + std::to_string(size / packed) + ":1 (" +
                         std::to_string(size >> 20) + " MB from " + std::to_string(packed >> 10) + " KB); skipped",
                     path);
          continue;
        }
      }
    }
    const FormatInfo* f = registry.forFile(uri, headOf(uri));
    if (!f) continue;
    out.push_back({uri, f, size});
  }
  if (za) zip_close(za);
}

}  // namespace

std::vector<InputFile> expandInputs(const std::vector<std::string>& paths, const FormatRegistry& registry,
                                    DiagnosticSink& diag) {
  namespace sfs = std::filesystem;
  std::vector<InputFile> out;
  for (auto& p : paths) {
    std::error_code ec;
    if (sfs::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (auto it = sfs::recursive_directory_iterator(p, sfs::directory_options::skip_permission_denied, ec);
           it != sfs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        // A 3D Tiles output inside the input folder is not input (its .glb would read as meshes).
        if (it->is_directory(ec) && sfs::exists(it->path() / "tileset.json", ec)) {
          it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec)) files.push_back(it->path().string());
      }
      std::sort(files.begin(), files.end());
      for (auto& f : files) {
        if (isZip(f)) {
          addZip(f, registry, diag, out);
          continue;
        }
        const FormatInfo* fi = registry.forFile(f, headOf(f));
        if (fi) out.push_back({f, fi, uint64_t(sfs::file_size(f, ec))});
      }
      continue;
    }
    if (!sfs::exists(p, ec)) {
      diag.error("input-missing", "no such file or directory", p);
      continue;
    }
    if (isZip(p)) {
      addZip(p, registry, diag, out);
      continue;
    }
    std::string head = headOf(p);
    const FormatInfo* fi = registry.forFile(p, head);
    if (!fi) {
      // An empty or broken file with a known extension still goes to its reader, which says why.
      auto candidates = registry.byExtension(p);
      if (!candidates.empty()) fi = candidates.front();
    }
    if (!fi) {
      diag.error("format-unknown", "not a format twin reads (see `twin formats`)", p);
      continue;
    }
    out.push_back({p, fi, uint64_t(sfs::file_size(p, ec))});
  }
  return out;
}

std::vector<InputFile> shardOf(const std::vector<InputFile>& items, const std::vector<std::string>& roots,
                               unsigned index, unsigned count) {
  std::vector<InputFile> mine;
  if (count == 0) return mine;
  for (auto& item : items) {
    std::string rel = item.uri;
    for (auto& root : roots) {
      std::string r = root;
      while (r.size() > 1 && r.back() == '/') r.pop_back();
      if (item.uri.compare(0, r.size(), r) == 0) {
        rel = item.uri.substr(r.size());
        if (rel.empty()) rel = std::filesystem::path(r).filename().string();
        break;
      }
    }
    if (fnv1a64(rel) % count == index) mine.push_back(item);
  }
  return mine;
}

}  // namespace twin::converters
