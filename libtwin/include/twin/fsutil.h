#pragma once
// Output that is never left half-written: files are written beside their target and renamed;
// a tileset directory is built under a temporary name and renamed into place on success.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace twin::fs {

// Writes `bytes` to `path` through "path.tmp" + rename. Creates parent directories.
bool writeFileAtomic(const std::string& path, const void* data, size_t size, std::string& error);
inline bool writeFileAtomic(const std::string& path, const std::string& s, std::string& error) {
  return writeFileAtomic(path, s.data(), s.size(), error);
}

// A file written through a stream beside its target ("path.tmp") and renamed into place by
// commit() (flushed and synced first); removed when destroyed uncommitted. For output written
// piece by piece (reports of a whole city), never held whole in memory.
class StagedFile {
 public:
  explicit StagedFile(std::string path);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  bool open(std::string& error);  // creates parent directories
  std::ostream& stream() { return out_; }
  bool commit(std::string& error);

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Hard-links `from` to `to` (copies where links are impossible, e.g. across file systems);
// creates `to`'s parent directories.
bool linkOrCopy(const std::string& from, const std::string& to, std::string& error);

// A directory built under a temporary name next to `finalPath`, renamed into place by commit().
// An existing `finalPath` is replaced only if it is a twin output (holds tileset.json) or empty.
class StagedDirectory {
 public:
  explicit StagedDirectory(std::string finalPath);
  ~StagedDirectory();  // removes the staging directory unless committed
  bool begin(std::string& error);
  const std::string& path() const { return staging_; }
  bool commit(std::string& error);

 private:
  std::string final_;
  std::string staging_;
  bool committed_ = false;
};

// A data file twin ships (`relative` under share/twin, e.g. "geoid/jp_gsi_gsigeo2011.tif"):
// looked up in `dataDir` when given (the command passes $TWIN_DATA_DIR), then beside the running
// program (PREFIX/bin/../share/twin, where `cmake --install` puts it), then in the source tree's
// libtwin/data (running from a build tree). Returns the first existing path, or empty.
std::string dataFile(const std::string& relative, const std::string& dataDir = {});

}  // namespace twin::fs
