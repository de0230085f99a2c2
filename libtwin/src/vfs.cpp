#include "twin/vfs.h"

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <vector>

namespace twin::vfs {

namespace {

bool splitZip(const std::string& uri, std::string& zipPath, std::string& entry) {
  auto pos = uri.find("!/");
  if (pos == std::string::npos) return false;
  zipPath = uri.substr(0, pos);
  entry = uri.substr(pos + 2);
  return true;
}

class FileStream : public InputStream {
 public:
  explicit FileStream(FILE* f) : f_(f) {
    if (std::fseek(f_, 0, SEEK_END) == 0) {
      size_ = std::ftell(f_);
      std::fseek(f_, 0, SEEK_SET);
    }
  }
  ~FileStream() override { std::fclose(f_); }
  int64_t read(char* buffer, size_t n) override {
    size_t got = std::fread(buffer, 1, n, f_);
    if (got == 0 && std::ferror(f_)) return -1;
    return static_cast<int64_t>(got);
  }
  int64_t size() const override { return size_; }
  bool seek(uint64_t offset) override { return fseeko(f_, off_t(offset), SEEK_SET) == 0; }

 private:
  FILE* f_;
  int64_t size_ = -1;
};

class ZipStream : public InputStream {
 public:
  ZipStream(zip_t* archive, zip_file_t* file, int64_t size) : archive_(archive), file_(file), size_(size) {}
  ~ZipStream() override {
    zip_fclose(file_);
    zip_close(archive_);
  }
  int64_t read(char* buffer, size_t n) override { return zip_fread(file_, buffer, n); }
  int64_t size() const override { return size_; }

 private:
  zip_t* archive_;
  zip_file_t* file_;
  int64_t size_;
};

}  // namespace

bool isZipUri(const std::string& uri) { return uri.find("!/") != std::string::npos; }

std::unique_ptr<InputStream> open(const std::string& uri, std::string& error) {
  std::string zipPath, entry;
  if (splitZip(uri, zipPath, entry)) {
    int err = 0;
    zip_t* za = zip_open(zipPath.c_str(), ZIP_RDONLY, &err);
    if (!za) {
      error = "cannot open zip archive " + zipPath;
      return nullptr;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(za, entry.c_str(), 0, &st) != 0) {
      zip_close(za);
      error = "no entry '" + entry + "' in " + zipPath;
      return nullptr;
    }
    zip_file_t* zf = zip_fopen(za, entry.c_str(), 0);
    if (!zf) {
      zip_close(za);
      error = "cannot read entry '" + entry + "' in " + zipPath;
      return nullptr;
    }
    return std::make_unique<ZipStream>(za, zf, (st.valid & ZIP_STAT_SIZE) ? int64_t(st.size) : -1);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(uri, ec)) {
    error = uri + " is a directory";
    return nullptr;
  }
  FILE* f = std::fopen(uri.c_str(), "rb");
  if (!f) {
    error = "cannot open " + uri;
    return nullptr;
  }
  return std::make_unique<FileStream>(f);
}

bool readAll(const std::string& uri, std::vector<uint8_t>& out, std::string& error, uint64_t maxBytes) {
  auto in = open(uri, error);
  if (!in) return false;
  out.clear();
  if (in->size() > 0) {
    if (uint64_t(in->size()) > maxBytes) {
      error = uri + " is larger than " + std::to_string(maxBytes) + " bytes";
      return false;
    }
    out.reserve(size_t(in->size()));
  }
  char buf[1 << 16];
  for (;;) {
    int64_t n = in->read(buf, sizeof buf);
    if (n < 0) {
      error = "read error in " + uri;
      return false;
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
    if (out.size() > maxBytes) {
      error = uri + " is larger than " + std::to_string(maxBytes) + " bytes";
      return false;
    }
  }
  return true;
}

bool exists(const std::string& uri) {
  std::string zipPath, entry;
  if (splitZip(uri, zipPath, entry)) {
    int err = 0;
    zip_t* za = zip_open(zipPath.c_str(), ZIP_RDONLY, &err);
    if (!za) return false;
    bool found = zip_name_locate(za, entry.c_str(), 0) >= 0;
    zip_close(za);
    return found;
  }
  std::error_code ec;
  return std::filesystem::is_regular_file(uri, ec);
}

std::string normalizePath(const std::string& path) {
  std::vector<std::string> parts;
  bool absolute = !path.empty() && path[0] == '/';
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back("..");
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += "/";
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

std::string resolve(const std::string& baseUri, const std::string& relativeIn) {
  std::string relative = relativeIn;
  for (auto& c : relative)
    if (c == '\\') c = '/';
  if (relative.empty()) return relative;
  if (relative.find("://") != std::string::npos) return relative;
  if (relative[0] == '/') return normalizePath(relative);
  std::string zipPath, entry;
  if (splitZip(baseUri, zipPath, entry)) {
    auto slash = entry.rfind('/');
    std::string dir = slash == std::string::npos ? "" : entry.substr(0, slash + 1);
    std::string inner = normalizePath(dir + relative);
    if (inner.rfind("..", 0) == 0) return inner;  // escapes the archive: not resolvable
    return zipPath + "!/" + inner;
  }
  auto slash = baseUri.rfind('/');
  std::string dir = slash == std::string::npos ? "" : baseUri.substr(0, slash + 1);
  return normalizePath(dir + relative);
}

std::vector<std::string> listZip(const std::string& zipPath, std::string& error) {
  std::vector<std::string> out;
  int err = 0;
  zip_t* za = zip_open(zipPath.c_str(), ZIP_RDONLY, &err);
  if (!za) {
    error = "cannot open zip archive " + zipPath;
    return out;
  }
  zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(za, i, 0);
    if (!name) continue;
    std::string s(name);
    if (!s.empty() && s.back() == '/') continue;
    out.push_back(zipPath + "!/" + s);
  }
  zip_close(za);
  return out;
}

}  // namespace twin::vfs
