#pragma once
// Private: attribute capture. A property element of a city object is captured as a small tree
// (ANode) and converted to a typed Attribute when it ends (Parser::endCapture, defined with the
// conversion in attributes.cpp).

#include <libxml/parser.h>

#include <string>
#include <vector>

#include "xml_util.h"

namespace twin::citygml {

struct ANode {
  Ns ns = Ns::Other;
  std::string local;
  std::string key;
  std::string genName;  // gen:*Attribute @name
  std::string codeSpace, uom;
  std::string text;
  bool hasId = false;  // carries a gml:id: an object (feature), not a data type
  std::vector<ANode> children;
};

// GML geometry elements (and their coordinate lists): never attribute values.
bool isGmlGeometry(const xmlChar* localX);

}  // namespace twin::citygml
