// The CityGML reader (see twin/citygml/citygml_reader.h): the pre-pass (pre_pass.h), then the
// city objects parsed in one pass or in chunks on several threads (parser.h), and the file's
// diagnostics and statistics put together.
#include "twin/citygml/citygml_reader.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "code_lists.h"
#include "parser.h"
#include "pre_pass.h"
#include "twin/vfs.h"

namespace twin::citygml {

namespace {

class CityGmlReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    auto shared = std::make_shared<SharedAppearance>();
    // Pass 1 (the file opened and read once, to its end): the byte search for member starts and
    // the file's top-level appearances (texture coordinates, materials), with what the rest of
    // read() needs of the file besides: its size, its first bytes (the prefix of chunked parsing)
    // and the newlines before the appearances (for the line numbers of what the pre-pass reports).
    // It must end before pass 2 starts: the appearances usually follow the buildings they texture.
    appearancePrePass(uri, options, *shared);

    // Pass 2 (the file opened once, or once per byte range, each range read once): the city
    // objects, in `parallelism` byte ranges parsed at once (on as many threads) when the caller
    // allows it and the file is plain and large. Each range starts at a member's start tag; its
    // parser is fed the file's beginning up to the first member (root tag, namespaces, envelope)
    // first, and the root's end tag after the range. When nothing but appearances follows the
    // members, the last range stops there.
    std::vector<std::pair<size_t, int64_t>> ranges;  // (begin offset, newlines before it)
    const auto& marks = shared->marks;
    const size_t end = shared->found ? shared->tailFrom : shared->fileSize;
    if (options.parallelism > 1 && !vfs::isZipUri(uri) && marks.size() > 1 && !shared->rootClose.empty() &&
        marks.front().offset < kLeadingBytes) {
      const size_t first = marks.front().offset, span = end - first;
      ranges.push_back({first, marks.front().newlines});
      for (int k = 1; k < options.parallelism; ++k) {
        size_t target = first + span * size_t(k) / size_t(options.parallelism);
        for (auto& m : marks)
          if (m.offset >= target) {
            if (m.offset > ranges.back().first) ranges.push_back({m.offset, m.newlines});
            break;
          }
      }
    }
    std::atomic<bool> stopAll{false};
    auto atLimit = [&]() -> std::string { return shared->objectsAfter ? std::string() : shared->rootClose; };
    bool ok = true, stoppedEarly = false, sawRoot = false, isCityGml = false, fatal = false;
    std::atomic<bool> cityGml3{false};  // set by any part parser
    uint64_t unsupported = 0, fed = 0;
    if (ranges.size() < 2) {
      Parser p(uri, options, &sink, diag, stats, codeLists_, shared, false);
      ok = runParser(p, uri, diag, options, shared->found ? shared->tailFrom : 0, atLimit, fed, stoppedEarly);
      sawRoot = p.sawRoot, isCityGml = p.isCityGml, fatal = p.fatal;
      cityGml3 = p.cityGml3;
      unsupported = p.unsupportedTextures();
    } else {
      // The file's beginning up to the first member, as the pre-pass read it.
      if (shared->leading.size() < ranges.front().first) {
        diag.error("file-unreadable", "cannot read " + uri, uri);
        return false;
      }
      const std::string prefix = shared->leading.substr(0, ranges.front().first);
      const size_t n = ranges.size();
      std::vector<ReadStats> partStats(n);
      std::vector<CodeLists> partCodes(n);  // code lists are not shared between threads
      std::vector<char> partOk(n, 1), partStopped(n, 0), partRoot(n, 0), partGml(n, 0), partFatal(n, 0);
      std::vector<uint64_t> partFed(n, 0), partUnsupported(n, 0);
      auto runPart = [&](size_t i) {
        Parser p(uri, options, &sink, diag, partStats[i], partCodes[i], shared, false);
        p.lineOffset = ranges[i].second - ranges[0].second;
        p.stopAll = &stopAll;
        bool last = i + 1 == n;
        bool early = false;
        std::string close = shared->rootClose;
        partOk[i] =
            runParser(p, uri, diag, options, last ? (shared->found ? shared->tailFrom : 0) : ranges[i + 1].first,
                      last ? atLimit : std::function<std::string()>([&] { return close; }), partFed[i], early, prefix,
                      ranges[i].first);
        partStopped[i] = early;
        partRoot[i] = p.sawRoot, partGml[i] = p.isCityGml, partFatal[i] = p.fatal;
        if (p.cityGml3) cityGml3 = true;
        partUnsupported[i] = p.unsupportedTextures();
      };
      std::vector<std::thread> threads;
      for (size_t i = 1; i < n; ++i) threads.emplace_back(runPart, i);
      runPart(0);
      for (auto& t : threads) t.join();
      for (size_t i = 0; i < n; ++i) {
        stats.merge(partStats[i]);
        ok = ok && partOk[i];
        fatal = fatal || partFatal[i];
        unsupported += partUnsupported[i];
        fed += partFed[i];
      }
      fed += prefix.size();
      stoppedEarly = partStopped[n - 1];
      sawRoot = partRoot[0], isCityGml = partGml[0];
    }
    // Bytes not fed to the main pass (the appearance section) were read by the pre-pass.
    uint64_t size = std::max<uint64_t>(fed, shared->found ? 0 : shared->fileSize);
    if (shared->streamSize > int64_t(size)) size = uint64_t(shared->streamSize);
    if (options.bytesRead && size > fed) options.bytesRead->fetch_add(size - fed);
    stats.bytes += size;
    if (stoppedEarly) {
      // The main pass did not see the appearance section: report what the pre-pass found there.
      // Its line numbers count from the root start tag straight to the appearances: add the lines
      // in between (counted by the pre-pass).
      for (auto d : shared->diag.diagnostics()) {
        if (d.line > 0) d.line += shared->skippedNewlines;
        diag.report(std::move(d));
      }
    }
    if (!ok) return false;
    if (!sawRoot) {
      if (!fatal) diag.error("xml-malformed", "no XML document element found", uri);  // else already said why
      return false;
    }
    if (!isCityGml) {
      diag.error("citygml-not", "not a CityGML document (root element is not core:CityModel)", uri);
      return false;
    }
    if (unsupported)
      diag.warning("texture-unsupported",
                   std::to_string(unsupported) + " georeferenced textures or generated texture coordinates ignored",
                   uri);
    if (fatal || (stoppedEarly && shared->diag.errorCount())) return false;
    return true;
  }

 private:
  CodeLists codeLists_;
};

}  // namespace

std::unique_ptr<Reader> createReader() { return std::make_unique<CityGmlReader>(); }

bool sniff(std::string_view head) {
  return head.find("CityModel") != std::string_view::npos &&
         (head.find("opengis.net/citygml/2.0") != std::string_view::npos ||
          head.find("opengis.net/citygml/1.0") != std::string_view::npos);
}

}  // namespace twin::citygml
