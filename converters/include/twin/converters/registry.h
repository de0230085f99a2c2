#pragma once
// The formats twin reads. Every converter is registered in converters/registry.cpp, and the
// CLI's choices (`twin formats`, `twin convert --help`) come from here.

#include "twin/reader.h"

namespace twin::converters {

const FormatRegistry& builtinFormats();

}  // namespace twin::converters

#include <string>
#include <vector>

namespace twin::converters {

// Expands command-line inputs: files, directories (recursively) and zip archives (PLATEAU
// datasets as distributed) into the files a registered format reads, in a stable order.
// Files of no known format inside directories and archives are skipped; a named file of no
// known format, or a missing path, is reported as an error.
std::vector<InputFile> expandInputs(const std::vector<std::string>& paths, const FormatRegistry& registry,
                                    DiagnosticSink& diag);

// The share of `items` (expanded from `roots`) that shard `index` of `count` converts: the items
// whose path below the root they came from hashes (FNV-1a) to `index` mod `count`, so that every
// shard job picks its share the same way wherever the data is mounted.
std::vector<InputFile> shardOf(const std::vector<InputFile>& items, const std::vector<std::string>& roots,
                               unsigned index, unsigned count);

}  // namespace twin::converters
