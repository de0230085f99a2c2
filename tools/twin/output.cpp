#include "output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace twincli {

void echoDiagnostic(const twin::Diagnostic& d, void* user) {
  auto* quiet = static_cast<bool*>(user);
  if (quiet && *quiet && d.severity != twin::Severity::Error) return;
  static const bool tty = isatty(STDERR_FILENO);
  std::fprintf(stderr, "%s%s\n", tty ? "\r\033[K" : "", d.format().c_str());
}

void printErrors(const std::vector<twin::Diagnostic>& ds) {
  for (auto& d : ds)
    if (d.severity == twin::Severity::Error)
      std::fprintf(stderr, "twin: %s\n", d.file.empty() ? d.message.c_str() : d.format().c_str());
}

std::string humanBytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) b /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

void drawProgress(const twin::tiler::Progress& p) {
  double frac = p.total ? std::min(1.0, double(p.done) / double(p.total)) : 0.0;
  const int width = 30;
  int filled = int(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  if (p.phase == "reading")
    std::fprintf(stderr, "\r\033[K[%s] %3.0f%% reading %s / %s, %llu buildings", bar.c_str(), frac * 100,
                 humanBytes(double(p.done)).c_str(), humanBytes(double(p.total)).c_str(),
                 static_cast<unsigned long long>(p.features));
  else
    std::fprintf(stderr, "\r\033[K[%s] %3.0f%% writing tiles %llu / %llu", bar.c_str(), frac * 100,
                 static_cast<unsigned long long>(p.done), static_cast<unsigned long long>(p.total));
  std::fflush(stderr);
}

void addReaderFlags(CLI::App* cmd, const twin::FormatRegistry& registry, std::map<std::string, std::string>& values) {
  using Kind = twin::ReaderOption::Kind;
  for (auto& o : registry.options()) {
    std::string flag = "--" + o.name;
    if (cmd->get_option_no_throw(flag)) continue;
    auto* opt = cmd->add_option(flag, values[o.key], o.help);
    if (o.kind == Kind::Choice) opt->check(CLI::IsMember(o.choices));
    if (o.kind == Kind::Number) opt->check(CLI::Number);
  }
}

std::map<std::string, std::string> readerSettings(const twin::FormatRegistry& registry,
                                                  const std::map<std::string, std::string>& values) {
  std::map<std::string, std::string> out;
  for (auto& o : registry.options()) {
    auto it = values.find(o.key);
    if (it == values.end() || it->second.empty()) continue;
    out[o.key] = o.kind == twin::ReaderOption::Kind::Path ? std::filesystem::absolute(it->second).string() : it->second;
  }
  return out;
}

}  // namespace twincli
