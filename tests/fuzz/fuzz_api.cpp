// libFuzzer target: the JSON API behind the server, with a real land-use store (a GeoPackage
// made from the sample by tests/hardening/fuzz.sh; path in TWIN_FUZZ_STORE). Input: the first
// line is "METHOD /path?query", the second "staff" to send a staff token, the rest the body.
// Handler exceptions become 500 as in the server; anything else (a crash, a sanitizer report)
// is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../../viewer-server/src/http.h"
#include "../../viewer-server/src/internal.h"
#include "twin/landuse/rules.h"
#include "twin/landuse/store.h"
#include "twin/viewer/server.h"

namespace {

struct Api {
  twin::viewer::Context ctx;
  twin::viewer::http::Router router;
  std::string token;
  bool ok = false;
  Api() {
    const char* store = std::getenv("TWIN_FUZZ_STORE");
    if (!store) {
      std::fprintf(stderr, "fuzz_api: set TWIN_FUZZ_STORE to a land-use store (tests/hardening/fuzz.sh makes one)\n");
      return;
    }
    ctx.options.store = store;
    auto rules = twin::landuse::RuleSet::load(twin::landuse::RuleSet::defaultPath());
    if (!rules.value) return;
    ctx.rules = *rules.value;
    ctx.storeCrs = ctx.store().crs();
    int epsg = std::atoi(ctx.storeCrs.c_str() + ctx.storeCrs.find(':') + 1);
    ctx.geographicCrs = (epsg >= 6669 && epsg <= 6692) ? "EPSG:6668" : "EPSG:4326";
    token = twin::viewer::newToken();
    ctx.store().putToken({twin::viewer::tokenHash(token), "fuzzer", "staff", ""}, "fuzz");
    twin::viewer::addApiRoutes(router, ctx);
    ok = true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Api api;
  if (!api.ok) return 0;
  std::string in(reinterpret_cast<const char*>(data), size);
  size_t l1 = in.find('\n');
  if (l1 == std::string::npos) return 0;
  size_t l2 = in.find('\n', l1 + 1);
  std::string line = in.substr(0, l1),
              auth = in.substr(l1 + 1, l2 == std::string::npos ? std::string::npos : l2 - l1 - 1);
  std::string head = line + " HTTP/1.1\r\nHost: x";
  if (auth == "staff") head += "\r\nAuthorization: Bearer " + api.token;
  twin::viewer::http::Request req;
  if (twin::viewer::http::parseRequestHead(head, req) != 0) return 0;
  req.body = l2 == std::string::npos ? std::string() : in.substr(l2 + 1);
  twin::viewer::http::Response res;
  try {
    api.router.dispatch(req, res);
  } catch (const std::exception&) {
    res.status = 500;  // what the server answers
  }
  // Public callers never see applicants' personal data.
  if (auth != "staff" && res.body.find("\"applicant\"") != std::string::npos &&
      res.body.find("\"applicant\":null") == std::string::npos)
    __builtin_trap();
  return 0;
}
