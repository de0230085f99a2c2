#include "sort.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <queue>

namespace twin::tiler {

namespace {

bool writeAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// Sequential buffered reader of one run.
struct RunReader {
  int fd = -1;
  std::vector<SortedRef> buf;
  size_t pos = 0;
  bool fill() {
    buf.resize(4096);
    ssize_t n = ::read(fd, buf.data(), buf.size() * sizeof(SortedRef));
    if (n <= 0) {
      buf.clear();
      return false;
    }
    buf.resize(size_t(n) / sizeof(SortedRef));
    pos = 0;
    return !buf.empty();
  }
  bool next(SortedRef& r) {
    if (pos >= buf.size() && !fill()) return false;
    r = buf[pos++];
    return true;
  }
};

}  // namespace

uint64_t morton31(uint32_t x, uint32_t y) {
  uint64_t m = 0;
  for (int b = 0; b < 31; ++b) {
    m |= uint64_t((x >> b) & 1) << (2 * b);
    m |= uint64_t((y >> b) & 1) << (2 * b + 1);
  }
  return m;
}

RefSorter::RefSorter(std::string dir, size_t runRecords)
    : dir_(std::move(dir)), runRecords_(std::max<size_t>(1, runRecords)) {}

RefSorter::~RefSorter() {
  for (auto& r : runs_) ::unlink(r.c_str());
}

bool RefSorter::add(const SortedRef& r, std::string& error) {
  buffer_.push_back(r);
  ++count_;
  if (buffer_.size() >= runRecords_) return flush(error);
  return true;
}

bool RefSorter::flush(std::string& error) {
  if (buffer_.empty()) return true;
  std::sort(buffer_.begin(), buffer_.end(), sortedBefore);
  std::string path = dir_ + "/run" + std::to_string(runs_.size()) + ".bin";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  bool ok = fd >= 0 && writeAll(fd, buffer_.data(), buffer_.size() * sizeof(SortedRef));
  if (fd >= 0) ::close(fd);
  if (!ok) {
    error = "cannot write " + path + " (disk full?)";
    return false;
  }
  runs_.push_back(path);
  buffer_.clear();
  return true;
}

bool RefSorter::finish(const std::string& path, std::string& error) {
  int out = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (out < 0) {
    error = "cannot create " + path;
    return false;
  }
  bool ok = true;
  if (runs_.empty()) {
    // everything fitted in one run: no merge
    std::sort(buffer_.begin(), buffer_.end(), sortedBefore);
    ok = writeAll(out, buffer_.data(), buffer_.size() * sizeof(SortedRef));
    buffer_.clear();
    buffer_.shrink_to_fit();
  } else {
    ok = flush(error);
    buffer_.shrink_to_fit();
    std::vector<RunReader> readers(runs_.size());
    for (size_t i = 0; i < runs_.size() && ok; ++i) {
      readers[i].fd = ::open(runs_[i].c_str(), O_RDONLY);
      ok = readers[i].fd >= 0;
    }
    auto later = [](const std::pair<SortedRef, size_t>& a, const std::pair<SortedRef, size_t>& b) {
      return sortedBefore(b.first, a.first);
    };
    std::priority_queue<std::pair<SortedRef, size_t>, std::vector<std::pair<SortedRef, size_t>>, decltype(later)> heap(
        later);
    for (size_t i = 0; i < readers.size() && ok; ++i) {
      SortedRef r;
      if (readers[i].next(r)) heap.push({r, i});
    }
    std::vector<SortedRef> outBuf;
    outBuf.reserve(4096);
    while (ok && !heap.empty()) {
      auto [r, i] = heap.top();
      heap.pop();
      outBuf.push_back(r);
      if (outBuf.size() == outBuf.capacity()) {
        ok = writeAll(out, outBuf.data(), outBuf.size() * sizeof(SortedRef));
        outBuf.clear();
      }
      SortedRef nx;
      if (readers[i].next(nx)) heap.push({nx, i});
    }
    if (ok && !outBuf.empty()) ok = writeAll(out, outBuf.data(), outBuf.size() * sizeof(SortedRef));
    for (auto& rd : readers)
      if (rd.fd >= 0) ::close(rd.fd);
    for (auto& r : runs_) ::unlink(r.c_str());
    runs_.clear();
  }
  ::close(out);
  if (!ok && error.empty()) error = "cannot write " + path + " (disk full?)";
  return ok;
}

bool RefFile::open(const std::string& path, std::string& error) {
  fd_ = ::open(path.c_str(), O_RDONLY);
  if (fd_ < 0) {
    error = "cannot open " + path;
    return false;
  }
  off_t end = ::lseek(fd_, 0, SEEK_END);
  count_ = end > 0 ? uint64_t(end) / sizeof(SortedRef) : 0;
  return true;
}

RefFile::~RefFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool RefFile::read(uint64_t begin, uint64_t n, std::vector<SortedRef>& out) const {
  out.resize(n);
  size_t bytes = n * sizeof(SortedRef);
  size_t done = 0;
  while (done < bytes) {
    ssize_t r =
        ::pread(fd_, reinterpret_cast<char*>(out.data()) + done, bytes - done, off_t(begin * sizeof(SortedRef) + done));
    if (r <= 0) return false;
    done += size_t(r);
  }
  return true;
}

}  // namespace twin::tiler
