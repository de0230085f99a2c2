// Converts city models with the installed twin libraries, then reads the installed rules file:
//   convert_sample INPUT OUTDIR
// Prints "features N rules NAME" and exits 0 when a tileset was written.
#include <cstdio>

#include "twin/converters/registry.h"
#include "twin/landuse/rules.h"
#include "twin/tiler/convert.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: convert_sample INPUT OUTDIR\n");
    return 2;
  }
  twin::DiagnosticCollector diag;
  auto inputs = twin::converters::expandInputs({argv[1]}, twin::converters::builtinFormats(), diag);
  twin::tiler::ConvertOptions options;
  options.outDir = argv[2];
  options.dataDir = TWIN_DATA_DIR;  // the installed geoid grid
  auto result = twin::tiler::convert(inputs, options, diag);
  for (auto& d : diag.diagnostics()) std::fprintf(stderr, "%s\n", d.format().c_str());
  auto rules = twin::landuse::RuleSet::load(twin::landuse::RuleSet::defaultPath(TWIN_DATA_DIR));
  if (!result.ok || !rules) return 1;
  std::printf("features %llu rules %s\n", static_cast<unsigned long long>(result.features), rules->name().c_str());
  return 0;
}
