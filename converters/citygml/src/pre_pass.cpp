// The pre-pass: member marks for chunked parsing and the file's global appearances, in one read
// (see pre_pass.h).
#include "pre_pass.h"

#include <libxml/parser.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "code_lists.h"
#include "parser.h"
#include "twin/vfs.h"

namespace twin::citygml {

namespace {

// Finds the end of the root start tag in `head`; returns 0 when not there yet.
size_t rootTagEnd(const std::string& head, std::string& rootClose) {
  size_t i = 0;
  while (i < head.size()) {
    size_t lt = head.find('<', i);
    if (lt == std::string::npos || lt + 1 >= head.size()) return 0;
    char c = head[lt + 1];
    if (c == '?') {
      size_t e = head.find("?>", lt);
      if (e == std::string::npos) return 0;
      i = e + 2;
    } else if (c == '!') {
      size_t e = head.compare(lt, 4, "<!--") == 0 ? head.find("-->", lt) : head.find('>', lt);
      if (e == std::string::npos) return 0;
      i = e + 1;
    } else {
      size_t nameEnd = head.find_first_of(" \t\r\n/>", lt + 1);
      if (nameEnd == std::string::npos) return 0;
      rootClose = "</" + head.substr(lt + 1, nameEnd - lt - 1) + ">";
      char q = 0;
      for (size_t k = lt; k < head.size(); ++k) {
        char ch = head[k];
        if (q) {
          if (ch == q) q = 0;
        } else if (ch == '"' || ch == '\'') {
          q = ch;
        } else if (ch == '>') {
          return k + 1;
        }
      }
      return 0;
    }
  }
  return 0;
}

// Counts '\n' in [p, e).
int64_t countNewlines(const char* p, const char* e) {
  int64_t n = 0;
  while (p < e && (p = static_cast<const char*>(std::memchr(p, '\n', size_t(e - p))))) {
    ++n;
    ++p;
  }
  return n;
}

// True when the match of a member name at w[h] is inside a start tag "<prefix:name" (or "<name");
// sets `lt` to the '<'.
bool startTagAt(const char* w, size_t wl, size_t h, size_t& lt) {
  lt = h;
  while (lt > 0 && w[lt] != '<' && h - lt < 64) --lt;
  if (w[lt] != '<' || lt + 1 >= wl || w[lt + 1] == '/') return false;
  for (size_t k = lt + 1; k < h; ++k)
    if (w[k] == ' ' || w[k] == '>' || w[k] == '\n' || w[k] == '\t' || w[k] == '\r') return false;
  return true;
}

constexpr size_t kMarkSpacing = 4u << 20;

}  // namespace

void appearancePrePass(const std::string& uri, const ReadOptions& options, SharedAppearance& shared) {
  struct SealOnExit {
    SharedAppearance& s;
    ~SealOnExit() { s.store.seal(); }
  } sealOnExit{shared};
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) return;
  shared.streamSize = in->size();
  const bool keepLeading = options.parallelism > 1;  // the prefix of every chunk's parse
  static constexpr char kAppearance[] = "appearanceMember";
  static constexpr char kMember[] = "cityObjectMember";
  constexpr size_t kCarry = 128, kChunk = 1 << 20;
  std::vector<char> buf(kCarry + kChunk);
  size_t carryLen = 0, pos = 0;  // pos: file offset of buf[kCarry]
  std::string head, rootClose;
  size_t headerEnd = 0;
  int64_t newlinesBefore = 0;  // in [0, pos)
  size_t nextMark = 0;         // record the first member at or after this offset
  std::vector<SharedAppearance::Mark> marks;
  for (;;) {
    int64_t n = in->read(buf.data() + kCarry, kChunk);
    if (n <= 0) {
      shared.marks = std::move(marks);
      shared.fileSize = pos;
      shared.rootClose = rootClose;
      return;
    }
    if (keepLeading && shared.leading.size() < kLeadingBytes)
      shared.leading.append(buf.data() + kCarry, std::min(size_t(n), kLeadingBytes - shared.leading.size()));
    if (!headerEnd) {
      head.append(buf.data() + kCarry, size_t(n));
      headerEnd = rootTagEnd(head, rootClose);
      if (!headerEnd && head.size() > (8u << 20)) return;
      if (headerEnd) head.resize(headerEnd);
    }
    const char* w = buf.data() + kCarry - carryLen;
    const size_t wl = carryLen + size_t(n);
    const size_t wStart = pos - carryLen;
    const char* chunk = buf.data() + kCarry;
    // Newlines in the file before w[lt].
    auto newlinesTo = [&](size_t lt) {
      const size_t off = wStart + lt;
      return off >= pos ? newlinesBefore + countNewlines(chunk, chunk + (off - pos))
                        : newlinesBefore - countNewlines(w + lt, chunk);
    };
    // Member marks (only once the root tag is known).
    while (headerEnd && nextMark < pos + size_t(n)) {
      size_t from = nextMark > wStart ? nextMark - wStart : 0;
      const void* hitp = memmem(w + from, wl - from, kMember, sizeof kMember - 1);
      if (!hitp) break;
      size_t h = static_cast<const char*>(hitp) - w, lt;
      if (!startTagAt(w, wl, h, lt) || wStart + lt < headerEnd || wStart + lt < nextMark) {
        nextMark = std::max(nextMark, wStart + h + 1);
        continue;
      }
      size_t off = wStart + lt;
      marks.push_back({off, newlinesTo(lt)});
      nextMark = off + kMarkSpacing;
    }
    size_t from = 0;
    while (from < wl) {
      const void* hitp = memmem(w + from, wl - from, kAppearance, sizeof kAppearance - 1);
      if (!hitp) break;
      size_t h = static_cast<const char*>(hitp) - w, lt;
      if (!startTagAt(w, wl, h, lt) || wStart + lt < headerEnd) {
        from = h + 1;
        continue;
      }
      if (!headerEnd) return;
      {
        shared.found = true;
        shared.tailFrom = wStart + lt;
        shared.rootClose = rootClose;
        shared.skippedNewlines = newlinesTo(lt) - countNewlines(head.data(), head.data() + head.size());
        // marks past the appearances are not member starts of the object section
        while (!marks.empty() && marks.back().offset >= shared.tailFrom) marks.pop_back();
        shared.marks = std::move(marks);
      }
      ReadStats ignored;
      CodeLists unused;  // the appearance-only parser reads no attributes
      std::shared_ptr<SharedAppearance> alias(std::shared_ptr<SharedAppearance>(), &shared);
      Parser app(uri, options, nullptr, shared.diag, ignored, unused, alias, true);
      xmlParserCtxtPtr ctxt = createParser(app, uri);
      if (!ctxt) return;
      xmlParseChunk(ctxt, head.data(), int(head.size()), 0);
      xmlParseChunk(ctxt, w + lt, int(wl - lt), 0);
      while (!app.fatal && !(options.cancel && options.cancel->load()) && (n = in->read(buf.data(), kChunk)) > 0)
        xmlParseChunk(ctxt, buf.data(), int(n), 0);
      finishParser(app, ctxt);
      shared.objectsAfter = app.objectsAfterAppearance;
      return;
    }
    newlinesBefore += countNewlines(chunk, chunk + n);
    pos += size_t(n);
    size_t c = std::min(kCarry, size_t(n));
    std::memmove(buf.data() + kCarry - c, buf.data() + kCarry + n - c, c);
    carryLen = c;
  }
}

}  // namespace twin::citygml
