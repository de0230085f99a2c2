// libFuzzer target: the CityGML 1.0/2.0/3.0 reader (every object type, code lists, appearances).
#include "fuzz_common.h"
#include "twin/citygml/citygml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = twin::fuzz::inputFile(data, size, ".gml");
  twin::ReadOptions o;
  o.objectTypes = {"*"};
  twin::fuzz::CountingSink sink;
  twin::fuzz::QuietDiagnostics diag;
  twin::ReadStats stats;
  twin::citygml::createReader()->read(file, o, sink, diag, stats);
  return 0;
}
