#include "twin/diagnostics.h"

namespace twin {

const char* severityName(Severity s) {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "?";
}

std::string Diagnostic::format() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += ":" + std::to_string(line);
    out += ": ";
  }
  if (!featureId.empty()) out += featureId + ": ";
  out += severityName(severity);
  out += ": ";
  // One line per diagnostic: messages from libraries (libxml2, GDAL) may hold line breaks.
  for (char c : message) out += (c == '\n' || c == '\r') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (!code.empty()) out += " [" + code + "]";
  return out;
}

void DiagnosticSink::error(std::string code, std::string message, std::string file, int64_t line,
                           std::string featureId) {
  report({Severity::Error, std::move(code), std::move(message), std::move(file), line, std::move(featureId)});
}
void DiagnosticSink::warning(std::string code, std::string message, std::string file, int64_t line,
                             std::string featureId) {
  report({Severity::Warning, std::move(code), std::move(message), std::move(file), line, std::move(featureId)});
}

void DiagnosticSink::info(std::string code, std::string message, std::string file, int64_t line,
                          std::string featureId) {
  report({Severity::Info, std::move(code), std::move(message), std::move(file), line, std::move(featureId)});
}

void DiagnosticCollector::report(Diagnostic d) {
  std::lock_guard lock(mutex_);
  uint64_t n = ++counts_[d.code];
  bySeverity_[static_cast<int>(d.severity)]++;
  if (echo_ && n <= maxEchoPerCode_) echo_(d, echoUser_);
  if (n <= keepPerCode_) kept_.push_back(std::move(d));
}

std::vector<Diagnostic> DiagnosticCollector::diagnostics() const {
  std::lock_guard lock(mutex_);
  return kept_;
}
std::map<std::string, uint64_t> DiagnosticCollector::countsByCode() const {
  std::lock_guard lock(mutex_);
  return counts_;
}
uint64_t DiagnosticCollector::count(Severity s) const {
  std::lock_guard lock(mutex_);
  return bySeverity_[static_cast<int>(s)];
}
bool DiagnosticCollector::hasCode(const std::string& code) const {
  std::lock_guard lock(mutex_);
  return counts_.count(code) != 0;
}
void DiagnosticCollector::setEcho(void (*echo)(const Diagnostic&, void*), void* user, size_t maxEchoPerCode) {
  std::lock_guard lock(mutex_);
  echo_ = echo;
  echoUser_ = user;
  maxEchoPerCode_ = maxEchoPerCode;
}

}  // namespace twin
