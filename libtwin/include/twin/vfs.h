#pragma once
// Reading input files wherever they are: plain paths, or entries inside a zip archive named
// "path/to/archive.zip!/inner/path" (PLATEAU datasets are distributed as zip files).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace twin::vfs {

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to n bytes; returns bytes read, 0 at end, -1 on error.
  virtual int64_t read(char* buffer, size_t n) = 0;
  // Total size in bytes when known, else -1.
  virtual int64_t size() const = 0;
  // Moves to byte `offset`; false when the stream cannot seek (zip entries).
  virtual bool seek(uint64_t offset) {
    (void)offset;
    return false;
  }
};

bool isZipUri(const std::string& uri);  // contains "!/" after a .zip
std::unique_ptr<InputStream> open(const std::string& uri, std::string& error);
bool readAll(const std::string& uri, std::vector<uint8_t>& out, std::string& error, uint64_t maxBytes = 1ull << 32);
bool exists(const std::string& uri);

// Resolves `relative` (a path inside the document, '/'-separated, may use ../) against the
// document `baseUri`. Absolute paths and URLs are returned unchanged.
std::string resolve(const std::string& baseUri, const std::string& relative);

// Entries of a zip archive (files only), as "archive.zip!/entry" URIs, in archive order.
std::vector<std::string> listZip(const std::string& zipPath, std::string& error);

// Lexically normalises a '/' path: removes "." and resolves ".." where possible.
std::string normalizePath(const std::string& path);

}  // namespace twin::vfs
