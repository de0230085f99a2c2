// Attributes: capturing a city object's property elements and converting them to typed
// attributes (the Parser members that do it, and their text tests; see attributes.h).
#include "attributes.h"

#include <charconv>
#include <cmath>
#include <string_view>
#include <unordered_set>

#include "parser.h"
#include "twin/vfs.h"

namespace twin::citygml {

bool isGmlGeometry(const xmlChar* localX) {
  static const std::unordered_set<std::string_view> names = {"Point",
                                                             "MultiPoint",
                                                             "LineString",
                                                             "Curve",
                                                             "CompositeCurve",
                                                             "MultiCurve",
                                                             "MultiLineString",
                                                             "OrientableCurve",
                                                             "Polygon",
                                                             "Surface",
                                                             "CompositeSurface",
                                                             "MultiSurface",
                                                             "MultiPolygon",
                                                             "OrientableSurface",
                                                             "PolyhedralSurface",
                                                             "TriangulatedSurface",
                                                             "Tin",
                                                             "Solid",
                                                             "CompositeSolid",
                                                             "MultiSolid",
                                                             "MultiGeometry",
                                                             "GeometricComplex",
                                                             "LinearRing",
                                                             "Ring",
                                                             "Envelope",
                                                             "posList",
                                                             "pos",
                                                             "coordinates",
                                                             "boundedBy"};
  return names.count(std::string_view(reinterpret_cast<const char*>(localX))) > 0;
}

namespace {

bool isIntegerText(std::string_view t) {
  if (t.empty() || t.size() > 18) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  if (t[i] == '0' && t.size() - i > 1) return false;  // leading zero: an identifier, keep as text
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

bool parseDoubleText(std::string_view t, double& v) {
  if (t.empty()) return false;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(v);
}

bool isDateText(std::string_view t) {
  // YYYY-MM-DD (optionally with time or zone)
  if (t.size() < 10) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (t[i] < '0' || t[i] > '9') return false;
  return t[4] == '-' && t[7] == '-';
}

}  // namespace

std::string Parser::keyOf(const xmlChar* local, Ns ns) const {
  const char* p = canonicalPrefix(ns);
  std::string pre = p ? p : prefix_ ? str(prefix_) : "ns";
  return pre + ":" + str(local);
}

void Parser::beginCapture(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d) {
  attrDepth_ = d;
  attrRoot_ = ANode{};
  attrTextTruncated_ = false;
  attrGeometries_ = 0;
  unknownValues_ = 0;
  fillNode(attrRoot_, local, ns, nbAttrs, attrs);
  attrStack_.assign(1, &attrRoot_);
}

void Parser::fillNode(ANode& n, const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs) {
  n.ns = ns;
  n.local = str(local);
  n.key = keyOf(local, ns);
  n.codeSpace = attrValue(nbAttrs, attrs, "codeSpace");
  n.uom = attrValue(nbAttrs, attrs, "uom");
  if (ns == Ns::Gen) n.genName = attrValue(nbAttrs, attrs, "name");
  n.hasId = !attrValue(nbAttrs, attrs, "id", Ns::Gml, false).empty();
}

void Parser::captureStart(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs) {
  ANode* parent = attrStack_.back();
  if (attrStack_.size() > 32 || parent->children.size() > 10000) {
    // absurdly deep or wide attribute: ignore the rest of it
    parent->children.emplace_back();
    attrStack_.push_back(&parent->children.back());
    return;
  }
  parent->children.emplace_back();
  ANode& n = parent->children.back();
  fillNode(n, local, ns, nbAttrs, attrs);
  attrStack_.push_back(&n);
}

void Parser::endCapture() {
  attrDepth_ = -1;
  attrStack_.clear();
  if (attrTextTruncated_)
    diag_.error("attribute-too-large", attrRoot_.key + " is larger than 1 MiB: refused, only its first MiB is kept",
                uri_, line(), objects_.back().obj.id);
  const std::string& objectId = objects_.back().obj.id;
  // An object of an Application Domain Extension twin does not know (a property in a namespace
  // that is not CityGML's or i-UR's, wrapping an object with a gml:id, e.g. an ADE's
  // BuildingUnit): skipped as a whole, with a diagnostic; its attributes are not the building's.
  if (attrRoot_.ns == Ns::Other && attrRoot_.children.size() == 1 && attrRoot_.children[0].ns == Ns::Other &&
      attrRoot_.children[0].hasId && !attrRoot_.children[0].local.empty() &&
      std::isupper(static_cast<unsigned char>(attrRoot_.children[0].local[0]))) {
    diag_.warning(
        "ade-object-skipped",
        attrRoot_.children[0].key + " (in " + attrRoot_.key +
            ") is an object of an Application Domain Extension twin does not read: skipped" +
            (attrGeometries_ ? " with its " + std::to_string(attrGeometries_) + " geometries" : std::string()),
        uri_, line(), objectId);
    return;
  }
  if (attrGeometries_) {
    // Inside a property twin does not know (an ADE's): a warning; inside a known one (the
    // location point of a bldg:address): information. Both are counted in the summary.
    std::string msg = std::to_string(attrGeometries_) + " GML geometries inside the property " + attrRoot_.key +
                      " dropped: geometry is never an attribute";
    if (attrRoot_.ns == Ns::Other)
      diag_.warning("attribute-geometry-dropped", msg, uri_, line(), objectId);
    else
      diag_.info("attribute-geometry-dropped", msg, uri_, line(), objectId);
  }
  Attribute a;
  if (convert(attrRoot_, a)) addAttribute(objects_.back().obj, std::move(a));
  if (unknownValues_)
    diag_.info("unknown-value",
               attrRoot_.key + ": " + std::to_string(unknownValues_) +
                   " value(s) PLATEAU marks unknown (-9999, 9999 storeys) read as missing",
               uri_, line(), objectId);
}

void Parser::addAttribute(CityObject& obj, Attribute a) {
  if (a.key == "con:Height" && a.type == AttributeType::Group) {
    const Attribute *status = nullptr, *value = nullptr;
    for (auto& c : a.children) {
      if (c.key == "con:status") status = &c;
      if (c.key == "con:value" && c.type == AttributeType::Double) value = &c;
    }
    if (status && value && status->text == "measured" && !obj.attribute("bldg:measuredHeight")) {
      Attribute h = *value;
      h.key = "bldg:measuredHeight";
      obj.attributes.push_back(std::move(h));
      return;
    }
  }
  if ((a.key == "con:dateOfConstruction" || a.key == "con:dateOfDemolition") && a.type == AttributeType::Date &&
      a.text.size() >= 4 && isIntegerText(a.text.substr(0, 4))) {
    Attribute y;
    y.key = a.key == "con:dateOfConstruction" ? "bldg:yearOfConstruction" : "bldg:yearOfDemolition";
    y.type = AttributeType::Integer;
    y.text = a.text.substr(0, 4);
    y.integer = std::atoi(y.text.c_str());
    bool janFirst = a.text.compare(4, 6, "-01-01") == 0 && (a.text.size() == 10 || a.text[10] == 'T');
    if (!obj.attribute(y.key)) obj.attributes.push_back(std::move(y));
    if (janFirst) return;
  }
  obj.attributes.push_back(std::move(a));
}

bool Parser::unknownSentinel(const Attribute& a) {
  const bool number = a.type == AttributeType::Double || a.type == AttributeType::Integer;
  const double v = a.type == AttributeType::Double ? a.number : double(a.integer);
  std::string key = a.key;
  for (auto& ch : key) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  const bool storeys = key.find("storeys") != std::string::npos;
  if (!number || !(v == -9999 || (storeys && v == 9999))) return false;
  ++unknownValues_;
  return true;
}

bool Parser::convert(const ANode& n, Attribute& out) {
  // CityGML 3.0: <core:genericAttribute><gen:StringAttribute><gen:name>..</gen:name><gen:value>..
  if (n.local == "genericAttribute" && n.ns == Ns::Core && n.children.size() == 1) return convert(n.children[0], out);
  std::string genName = n.genName;
  if (n.ns == Ns::Gen && genName.empty())
    for (auto& c : n.children)
      if (c.local == "name" && c.ns == Ns::Gen) genName = trim(c.text);
  // gen:*Attribute name="..."><gen:value>...</gen:value> (2.0), gen:*Attribute with gen:name (3.0)
  if (n.ns == Ns::Gen && !genName.empty()) {
    std::string kind = n.local;
    if (!kind.empty()) kind[0] = char(std::tolower(static_cast<unsigned char>(kind[0])));
    out.key = "gen:" + genName;
    if (kind == "genericAttributeSet") {
      out.type = AttributeType::Group;
      for (auto& c : n.children) {
        if (c.local == "name" || c.local == "codeSpace") continue;
        Attribute ca;
        if (convert(c, ca)) out.children.push_back(std::move(ca));
      }
      return !out.children.empty();
    }
    std::string value;
    std::string uom;
    for (auto& c : n.children)
      if (c.local == "value") {
        value = trim(c.text);
        uom = c.uom;
      }
    out.uom = uom;
    out.text = value;
    if (kind == "intAttribute") {
      if (isIntegerText(value) || (value == "0")) {
        out.type = AttributeType::Integer;
        std::from_chars(value.data(), value.data() + value.size(), out.integer);
      } else {
        out.type = AttributeType::String;
      }
    } else if (kind == "doubleAttribute" || kind == "measureAttribute") {
      double v;
      if (parseDoubleText(value, v)) {
        out.type = AttributeType::Double;
        out.number = v;
      }
    } else if (kind == "dateAttribute") {
      out.type = isDateText(value) ? AttributeType::Date : AttributeType::String;
    } else if (kind == "uriAttribute") {
      out.type = AttributeType::Uri;
    } else {
      out.type = AttributeType::String;
    }
    return !unknownSentinel(out);
  }
  out.key = n.key;
  if (n.children.empty()) {
    std::string t = trim(n.text);
    if (t.empty()) return false;
    out.text = t;
    out.uom = n.uom;
    if (!n.codeSpace.empty()) {
      out.type = AttributeType::Code;
      out.codeSpace = n.codeSpace;
      out.codeName = codeLists_.lookup(vfs::resolve(uri_, n.codeSpace), t);
      return true;
    }
    static const std::unordered_set<std::string> integers = {"bldg:storeysAboveGround", "bldg:storeysBelowGround",
                                                             "bldg:yearOfConstruction", "bldg:yearOfDemolition"};
    double v;
    if (!n.uom.empty() && parseDoubleText(t, v)) {
      out.type = AttributeType::Double;  // a measure: always a number with a unit
      out.number = v;
    } else if (integers.count(out.key) && isIntegerText(t)) {
      out.type = AttributeType::Integer;
      std::from_chars(t.data(), t.data() + t.size(), out.integer);
    } else if (isIntegerText(t) || t == "0") {
      out.type = AttributeType::Integer;
      std::from_chars(t.data(), t.data() + t.size(), out.integer);
    } else if (parseDoubleText(t, v) && t.find_first_not_of("0123456789.-+eE") == std::string::npos) {
      out.type = AttributeType::Double;
      out.number = v;
    } else if (isDateText(t)) {
      out.type = AttributeType::Date;
    } else if (t == "true" || t == "false") {
      out.type = AttributeType::Boolean;
      out.boolean = t == "true";
    } else {
      out.type = AttributeType::String;
    }
    return !unknownSentinel(out);
  }
  // Property wrapping one object element (uro:buildingDetailAttribute/uro:BuildingDetailAttribute):
  // name the group after the object.
  const ANode* body = &n;
  if (n.children.size() == 1 && !n.children[0].children.empty()) {
    body = &n.children[0];
    out.key = body->key;
  }
  out.type = AttributeType::Group;
  for (auto& c : body->children) {
    Attribute ca;
    if (convert(c, ca)) out.children.push_back(std::move(ca));
  }
  return !out.children.empty();
}

}  // namespace twin::citygml
