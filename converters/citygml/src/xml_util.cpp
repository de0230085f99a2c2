// Namespace classification and XML helpers of the CityGML reader (see xml_util.h).
#include "xml_util.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace twin::citygml {

Ns classify(const xmlChar* uriX) {
  if (!uriX) return Ns::Other;
  std::string_view uri(reinterpret_cast<const char*>(uriX));
  if (uri == "http://www.opengis.net/gml" || uri == "http://www.opengis.net/gml/3.2") return Ns::Gml;
  if (uri.find("opengis.net/citygml/building/") != std::string_view::npos) return Ns::Bldg;
  if (uri.find("opengis.net/citygml/appearance/") != std::string_view::npos) return Ns::App;
  if (uri.find("opengis.net/citygml/generics/") != std::string_view::npos) return Ns::Gen;
  if (uri.find("opengis.net/citygml/construction/") != std::string_view::npos) return Ns::Con;  // 3.0
  if (uri == "http://www.opengis.net/citygml/2.0" || uri == "http://www.opengis.net/citygml/1.0" ||
      uri == "http://www.opengis.net/citygml/3.0")
    return Ns::Core;
  if (uri.find("/uro") != std::string_view::npos && uri.find("iur") != std::string_view::npos) return Ns::Uro;
  if (uri.find("/urf") != std::string_view::npos && uri.find("iur") != std::string_view::npos) return Ns::Urf;
  if (uri == "http://www.w3.org/1999/xlink") return Ns::Xlink;
  if (uri.find("xAL") != std::string_view::npos) return Ns::Xal;
  if (uri.find("opengis.net/citygml") != std::string_view::npos) return Ns::Module;
  return Ns::Other;
}

const char* canonicalPrefix(Ns ns) {
  switch (ns) {
    case Ns::Gml:
      return "gml";
    case Ns::Core:
      return "core";
    case Ns::Bldg:
      return "bldg";
    case Ns::Con:
      return "con";
    case Ns::App:
      return "app";
    case Ns::Gen:
      return "gen";
    case Ns::Uro:
      return "uro";
    case Ns::Urf:
      return "urf";
    case Ns::Xlink:
      return "xlink";
    case Ns::Xal:
      return "xAL";
    default:
      return nullptr;
  }
}

std::string attrValue(int nb, const xmlChar** attrs, const char* local, Ns ns, bool anyNs) {
  for (int i = 0; i < nb; ++i) {
    const xmlChar** a = attrs + 5 * i;
    if (!eq(a[0], local)) continue;
    if (!anyNs && classify(a[2]) != ns) continue;
    return std::string(reinterpret_cast<const char*>(a[3]), reinterpret_cast<const char*>(a[4]));
  }
  return {};
}

bool parseDoubles(const char* p, const char* end, std::vector<double>& out) {
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ',')) ++p;
    if (p >= end) return true;
    double v;
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc() || !std::isfinite(v)) return false;
    out.push_back(v);
    p = r.ptr;
  }
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace twin::citygml
