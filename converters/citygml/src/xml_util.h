#pragma once
// Private: what every part of the CityGML reader needs of XML: the namespaces it tells apart, and
// small helpers for libxml2's SAX2 names, attributes and texts.

#include <libxml/parser.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "twin/city_model.h"
#include "twin/hash.h"

namespace twin::citygml {

// Module: another CityGML module (transportation, bridge, relief, ...); Other: anything else, such
// as an Application Domain Extension.
enum class Ns : uint8_t { Other, Gml, Core, Bldg, Con, App, Gen, Uro, Urf, Xlink, Xal, Module };

inline uint64_t idHash(const std::string& id) { return fnv1a64(id); }

Ns classify(const xmlChar* uriX);

// The prefix twin writes attribute keys with for `ns` ("bldg", "uro", ...); null for others.
const char* canonicalPrefix(Ns ns);

inline bool eq(const xmlChar* a, const char* b) { return std::strcmp(reinterpret_cast<const char*>(a), b) == 0; }
inline std::string str(const xmlChar* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : std::string(); }

// SAX2 attributes: (localname, prefix, URI, value, end) quintuples.
std::string attrValue(int nb, const xmlChar** attrs, const char* local, Ns ns = Ns::Other, bool anyNs = true);

// Parses whitespace-separated doubles. Returns false on a token that is not a finite number.
bool parseDoubles(const char* p, const char* end, std::vector<double>& out);

inline SurfaceType surfaceTypeOf(const xmlChar* local) {
  return surfaceTypeFromName(reinterpret_cast<const char*>(local));
}

// `s` without leading and trailing white space.
std::string trim(const std::string& s);

}  // namespace twin::citygml
