#pragma once
// What the `twin` command prints and the flags it builds from the libraries' registries: the one
// diagnostic echo, sizes, the progress bar, and reader settings as flags.
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/reader.h"
#include "twin/tiler/convert.h"

namespace twincli {

// Prints a diagnostic on stderr as it arrives (DiagnosticCollector::setEcho); `quiet` (a bool*)
// keeps only errors. Clears the progress line first on a terminal.
void echoDiagnostic(const twin::Diagnostic& d, void* quiet);
// Prints the errors of a result ("twin: message"), one per line.
void printErrors(const std::vector<twin::Diagnostic>& ds);
std::string humanBytes(double bytes);
void drawProgress(const twin::tiler::Progress& p);

// Adds a flag for every reader setting of the registry (FormatRegistry::options) not already a
// flag of `cmd`; the values land in `values` by key.
void addReaderFlags(CLI::App* cmd, const twin::FormatRegistry& registry, std::map<std::string, std::string>& values);
// The values given, as ReadOptions::formatOptions (paths made absolute).
std::map<std::string, std::string> readerSettings(const twin::FormatRegistry& registry,
                                                  const std::map<std::string, std::string>& values);

}  // namespace twincli
