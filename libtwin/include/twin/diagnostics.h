#pragma once
// Diagnostics: how every part of twin reports problems in input data.
// Bad input never throws across the public API; it becomes a Diagnostic with a stable code,
// a human-readable message and a location (file, line, feature id).

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace twin {

enum class Severity : uint8_t { Info, Warning, Error };

const char* severityName(Severity s);

struct Diagnostic {
  Severity severity = Severity::Warning;
  std::string code;       // stable, lowercase-with-dashes, e.g. "xml-malformed", "crs-unknown"
  std::string message;    // what is wrong and, where possible, what to do about it
  std::string file;       // source file (may be empty)
  int64_t line = 0;       // 1-based line in `file`, 0 when unknown
  std::string featureId;  // gml:id or equivalent of the feature concerned (may be empty)

  // "file:line: id: severity: message [code]"
  std::string format() const;
};

// Receives diagnostics from readers, writers and the pipeline. Implementations must be
// thread-safe: several workers report at once.
class DiagnosticSink {
 public:
  virtual ~DiagnosticSink() = default;
  virtual void report(Diagnostic d) = 0;

  void error(std::string code, std::string message, std::string file = {}, int64_t line = 0,
             std::string featureId = {});
  void warning(std::string code, std::string message, std::string file = {}, int64_t line = 0,
               std::string featureId = {});
  void info(std::string code, std::string message, std::string file = {}, int64_t line = 0, std::string featureId = {});
};

// Collects every diagnostic up to `keepPerCode` per code (the rest are only counted) and
// optionally echoes them as they arrive through `echo` (e.g. to stderr).
class DiagnosticCollector : public DiagnosticSink {
 public:
  explicit DiagnosticCollector(size_t keepPerCode = 1000) : keepPerCode_(keepPerCode) {}
  void report(Diagnostic d) override;

  std::vector<Diagnostic> diagnostics() const;
  std::map<std::string, uint64_t> countsByCode() const;
  uint64_t count(Severity s) const;
  uint64_t errorCount() const { return count(Severity::Error); }
  uint64_t warningCount() const { return count(Severity::Warning); }
  bool hasCode(const std::string& code) const;

  // Called for each diagnostic (under the collector's lock) while set.
  void setEcho(void (*echo)(const Diagnostic&, void*), void* user, size_t maxEchoPerCode = 20);

 private:
  mutable std::mutex mutex_;
  size_t keepPerCode_;
  std::vector<Diagnostic> kept_;
  std::map<std::string, uint64_t> counts_;
  uint64_t bySeverity_[3] = {0, 0, 0};
  void (*echo_)(const Diagnostic&, void*) = nullptr;
  void* echoUser_ = nullptr;
  size_t maxEchoPerCode_ = 20;
};

// A value plus the diagnostics produced while computing it. `value` is empty on failure.
template <class T>
struct Result {
  std::optional<T> value;
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return value.has_value(); }
  explicit operator bool() const { return ok(); }
  T& operator*() { return *value; }
  const T& operator*() const { return *value; }
  T* operator->() { return &*value; }
  const T* operator->() const { return &*value; }

  static Result success(T v) {
    Result r;
    r.value = std::move(v);
    return r;
  }
  static Result failure(std::string code, std::string message, std::string file = {}) {
    Result r;
    r.diagnostics.push_back({Severity::Error, std::move(code), std::move(message), std::move(file), 0, {}});
    return r;
  }
  std::string errorMessage() const {
    for (auto& d : diagnostics)
      if (d.severity == Severity::Error) return d.format();
    return diagnostics.empty() ? std::string("unknown error") : diagnostics.back().format();
  }
};

// A result with no value: done, or failed with diagnostics.
using Status = Result<std::monostate>;
inline Status done() { return Status::success({}); }

}  // namespace twin
