// libFuzzer target: the CityJSON / CityJSONSeq reader. The first byte picks the file name
// (.json or .city.jsonl) and whether --crs is given.
#include "fuzz_common.h"
#include "twin/cityjson/cityjson_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t mode = data[0];
  std::string file = twin::fuzz::inputFile(data + 1, size - 1, (mode & 1) ? ".city.jsonl" : ".json");
  twin::ReadOptions o;
  o.objectTypes = {"*"};
  if (mode & 2) o.crsOverride = "EPSG:6677";
  twin::fuzz::CountingSink sink;
  twin::fuzz::QuietDiagnostics diag;
  twin::ReadStats stats;
  twin::cityjson::createReader()->read(file, o, sink, diag, stats);
  return 0;
}
