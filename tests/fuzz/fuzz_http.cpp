// libFuzzer target: the server's request parsing: request line and headers, percent-decoding of
// path and query, Range headers, and the mapping of request paths to files under a root (which
// must never leave it).
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "../../viewer-server/src/http.h"
#include "../../viewer-server/src/internal.h"

namespace {
std::filesystem::path root() {
  static std::filesystem::path r = [] {
    std::filesystem::path base = "/dev/shm/twin-fuzz-root";
    std::filesystem::create_directories(base / "tiles");
    FILE* f = std::fopen((base / "tiles" / "a.glb").c_str(), "wb");
    if (f) std::fclose(f);
    std::error_code ec;
    std::filesystem::create_directory_symlink("/etc", base / "out", ec);  // a symlink out of the root
    return std::filesystem::canonical(base);
  }();
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t end = in.find("\r\n\r\n");
  std::string head = in.substr(0, end);
  twin::viewer::http::Request req;
  int status = twin::viewer::http::parseRequestHead(head, req);
  if (status == 0) {
    for (auto& [name, value] : req.headers) {
      int64_t first = 0, last = 0;
      int r = twin::viewer::parseByteRange(value, int64_t(size), first, last);
      if (r == 1 && (first < 0 || last < first || last >= int64_t(size))) __builtin_trap();
    }
    std::filesystem::path p = twin::viewer::safeFilePath(root(), req.path.empty() ? "" : req.path.substr(1));
    if (!p.empty()) {
      std::string ps = p.string(), rs = root().string();
      if (ps != rs && ps.rfind(rs + "/", 0) != 0) __builtin_trap();  // escaped the root
    }
  }
  std::string decoded;
  twin::viewer::http::decode(in, decoded, true);
  return 0;
}
