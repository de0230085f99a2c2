#include "twin/fsutil.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace twin::fs {

namespace sfs = std::filesystem;

bool writeFileAtomic(const std::string& path, const void* data, size_t size, std::string& error) {
  std::error_code ec;
  sfs::path p(path);
  if (p.has_parent_path()) sfs::create_directories(p.parent_path(), ec);
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    error = "cannot write " + tmp;
    return false;
  }
  bool ok = std::fwrite(data, 1, size, f) == size;
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    error = "write failed: " + path + " (disk full?)";
    return false;
  }
  sfs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    error = "cannot rename " + tmp + ": " + ec.message();
    return false;
  }
  return true;
}

StagedFile::StagedFile(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}

StagedFile::~StagedFile() {
  if (committed_) return;
  if (out_.is_open()) out_.close();
  std::remove(tmp_.c_str());
}

bool StagedFile::open(std::string& error) {
  std::error_code ec;
  sfs::path p(path_);
  if (p.has_parent_path()) sfs::create_directories(p.parent_path(), ec);
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    error = "cannot write " + tmp_;
    return false;
  }
  return true;
}

bool StagedFile::commit(std::string& error) {
  out_.flush();
  bool ok = bool(out_);
  out_.close();
  ok = ok && !out_.fail();
  if (ok) {
    int fd = ::open(tmp_.c_str(), O_RDONLY);
    ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
  }
  std::error_code ec;
  if (ok) sfs::rename(tmp_, path_, ec);
  if (!ok || ec) {
    std::remove(tmp_.c_str());
    error = !ok ? "write failed: " + path_ + " (disk full?)" : "cannot rename " + tmp_ + ": " + ec.message();
    return false;
  }
  committed_ = true;
  return true;
}

bool linkOrCopy(const std::string& from, const std::string& to, std::string& error) {
  std::error_code ec;
  sfs::create_directories(sfs::path(to).parent_path(), ec);
  sfs::remove(to, ec);
  sfs::create_hard_link(from, to, ec);
  if (!ec) return true;
  sfs::copy_file(from, to, sfs::copy_options::overwrite_existing, ec);
  if (ec) {
    error = "cannot link or copy " + from + " to " + to + ": " + ec.message();
    return false;
  }
  return true;
}

StagedDirectory::StagedDirectory(std::string finalPath) : final_(std::move(finalPath)) {
  while (final_.size() > 1 && final_.back() == '/') final_.pop_back();
}

StagedDirectory::~StagedDirectory() {
  if (!committed_ && !staging_.empty()) {
    std::error_code ec;
    sfs::remove_all(staging_, ec);
  }
}

bool StagedDirectory::begin(std::string& error) {
  std::error_code ec;
  if (sfs::exists(final_, ec)) {
    if (!sfs::is_directory(final_, ec)) {
      error = final_ + " exists and is not a directory";
      return false;
    }
    bool empty = sfs::is_empty(final_, ec);
    if (!empty && !sfs::exists(sfs::path(final_) / "tileset.json", ec) &&
        !sfs::exists(sfs::path(final_) / ".twin" / "state.json", ec)) {
      error = final_ + " exists and is not a twin output (no tileset.json); choose another directory";
      return false;
    }
  }
  sfs::path fp = sfs::absolute(final_, ec);
  const std::string prefix = "." + fp.filename().string() + ".twin-tmp-";
  // Staging directories of runs that were killed (their process is gone) are removed.
  for (auto& e : sfs::directory_iterator(fp.parent_path(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.size() > 4 && rest.compare(rest.size() - 4, 4, ".old") == 0) rest.resize(rest.size() - 4);
    char* end = nullptr;
    long pid = std::strtol(rest.c_str(), &end, 10);
    if (end && *end == '\0' && pid > 0 && pid != getpid() && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rc;
      sfs::remove_all(e.path(), rc);
    }
  }
  staging_ = (fp.parent_path() / (prefix + std::to_string(getpid()))).string();
  sfs::remove_all(staging_, ec);
  if (!sfs::create_directories(staging_, ec)) {
    error = "cannot create " + staging_ + ": " + ec.message();
    return false;
  }
  return true;
}

bool StagedDirectory::commit(std::string& error) {
  std::error_code ec;
  std::string old;
  if (sfs::exists(final_, ec)) {
    old = staging_ + ".old";
    sfs::rename(final_, old, ec);
    if (ec) {
      error = "cannot move the previous " + final_ + " aside: " + ec.message();
      return false;
    }
  }
  sfs::rename(staging_, final_, ec);
  if (ec) {
    error = "cannot rename " + staging_ + " to " + final_ + ": " + ec.message();
    if (!old.empty()) sfs::rename(old, final_, ec);
    return false;
  }
  committed_ = true;
  if (!old.empty()) sfs::remove_all(old, ec);
  return true;
}

std::string dataFile(const std::string& relative, const std::string& dataDir) {
  std::vector<std::string> dirs;
  if (!dataDir.empty()) dirs.push_back(dataDir);
  std::error_code ec;
  sfs::path exe = sfs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "twin").string());
#ifdef TWIN_SOURCE_DATA_DIR
  dirs.push_back(TWIN_SOURCE_DATA_DIR);
#endif
  for (auto& d : dirs) {
    sfs::path p = sfs::path(d) / relative;
    if (sfs::is_regular_file(p, ec)) return p.string();
  }
  return {};
}

}  // namespace twin::fs
