#pragma once
// `twin info`: what a source file or a tileset holds.

#include <string>

#include "twin/diagnostics.h"
#include "twin/reader.h"

namespace twin::tiler {

// Summary of a tileset directory (or its tileset.json): tiles, depth, contents, bytes, bounds
// (longitude, latitude, height), geometric errors, source CRS and geoid. Empty on failure with
// a diagnostic.
std::string describeTileset(const std::string& path, DiagnosticSink& diag);

// Summary of a source file read through `format`: object types and counts, CRS, bounds in the
// source CRS, LODs, textures, attribute keys.
std::string describeFile(const std::string& uri, const FormatInfo& format, DiagnosticSink& diag);

}  // namespace twin::tiler
