#pragma once
// Private: little binary record writer/reader for the tiler's spill files (native byte order:
// spill files never leave the machine that wrote them).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "twin/metadata.h"

namespace twin::tiler {

class ByteWriter {
 public:
  std::vector<uint8_t> buf;
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf.insert(buf.end(), p, p + sizeof(T));
  }
  void putBytes(const void* p, size_t n) {
    if (!n) return;
    buf.insert(buf.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
  }
  template <class T>
  void putVector(const std::vector<T>& v) {
    put(uint32_t(v.size()));
    putBytes(v.data(), v.size() * sizeof(T));
  }
  void putString(const std::string& s) {
    put(uint32_t(s.size()));
    putBytes(s.data(), s.size());
  }
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <class T>
  T get() {
    T v{};
    if (p_ + sizeof(T) <= end_) std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  void getBytes(void* out, size_t n) {
    if (n && p_ + n <= end_) std::memcpy(out, p_, n);  // an empty vector's data() may be null
    p_ += n;
  }
  // Reads a vector written by putVector; at most `limit` elements (a corrupt count fails).
  template <class T>
  bool getVector(std::vector<T>& v, size_t limit) {
    uint32_t n = get<uint32_t>();
    if (n > limit || p_ + size_t(n) * sizeof(T) > end_) {
      p_ = end_ + 1;
      return false;
    }
    v.resize(n);
    getBytes(v.data(), n * sizeof(T));
    return true;
  }
  std::string getString() {
    uint32_t n = get<uint32_t>();
    std::string s;
    if (p_ + n <= end_) s.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  bool ok() const { return p_ <= end_; }
  const uint8_t* position() const { return p_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// A property row: (schema index, value) pairs.
using PropertyRow = std::vector<std::pair<uint32_t, PropertyValue>>;

inline void putRow(ByteWriter& w, const PropertyRow& row) {
  w.put(uint32_t(row.size()));
  for (auto& [k, v] : row) {
    w.put(k);
    w.put(uint8_t(v.index()));
    if (v.index() == 0)
      w.put(std::get<int64_t>(v));
    else if (v.index() == 1)
      w.put(std::get<double>(v));
    else
      w.putString(std::get<std::string>(v));
  }
}

inline bool getRow(ByteReader& r, PropertyRow& row) {
  uint32_t n = r.get<uint32_t>();
  row.clear();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint32_t k = r.get<uint32_t>();
    uint8_t kind = r.get<uint8_t>();
    if (kind == 0)
      row.push_back({k, r.get<int64_t>()});
    else if (kind == 1)
      row.push_back({k, r.get<double>()});
    else
      row.push_back({k, r.getString()});
  }
  return r.ok();
}

}  // namespace twin::tiler
