#include "twin/reader.h"

#include <algorithm>
#include <cctype>

namespace twin {

void ReadStats::merge(const ReadStats& o) {
  bytes += o.bytes;
  for (auto& [k, v] : o.objectsByType) objectsByType[k] += v;
  for (auto& [k, v] : o.skippedByType) skippedByType[k] += v;
}

std::vector<ReaderOption> FormatRegistry::options() const {
  std::vector<ReaderOption> out;
  for (auto& f : formats_)
    for (auto& o : f.options)
      if (std::none_of(out.begin(), out.end(), [&](const ReaderOption& x) { return x.key == o.key; })) out.push_back(o);
  return out;
}

const FormatInfo* FormatRegistry::find(const std::string& id) const {
  for (auto& f : formats_)
    if (f.id == id) return &f;
  return nullptr;
}

std::vector<const FormatInfo*> FormatRegistry::byExtension(const std::string& uri) const {
  std::string lower = uri;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<const FormatInfo*> out;
  for (auto& f : formats_)
    for (auto& e : f.extensions)
      if (lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0) {
        out.push_back(&f);
        break;
      }
  return out;
}

const FormatInfo* FormatRegistry::forFile(const std::string& uri, std::string_view head) const {
  std::vector<const FormatInfo*> byExt = byExtension(uri);
  if (byExt.size() == 1 && (!byExt[0]->sniff || head.empty() || byExt[0]->sniff(head))) return byExt[0];
  for (auto* f : byExt)
    if (f->sniff && f->sniff(head)) return f;
  if (byExt.empty())
    for (auto& f : formats_)
      if (f.sniff && !head.empty() && f.sniff(head)) return &f;
  return nullptr;
}

}  // namespace twin
