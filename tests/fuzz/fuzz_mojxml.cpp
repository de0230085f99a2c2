// libFuzzer target: the cadastral map XML (地図XML) reader.
#include "fuzz_common.h"
#include "twin/mojxml/mojxml_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string file = twin::fuzz::inputFile(data, size, ".xml");
  twin::ReadOptions o;
  o.objectTypes = {"*"};
  twin::fuzz::CountingSink sink;
  twin::fuzz::QuietDiagnostics diag;
  twin::ReadStats stats;
  twin::mojxml::createReader()->read(file, o, sink, diag, stats);
  return 0;
}
