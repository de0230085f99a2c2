// Attribute lookups and the attributes of an object as JSON.
#include "twin/attributes.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace twin {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The local part of a prefixed key ("urf:floorAreaRate" -> "floorAreaRate").
std::string localName(const std::string& key) {
  auto p = key.find(':');
  return p == std::string::npos ? key : key.substr(p + 1);
}

json attrJson(const Attribute& a) {
  switch (a.type) {
    case AttributeType::Integer:
      return a.integer;
    case AttributeType::Double:
      return a.number;
    case AttributeType::Boolean:
      return a.boolean;
    case AttributeType::Code:
      if (!a.codeName.empty()) return json{{"code", a.text}, {"name", a.codeName}};
      return a.text;
    case AttributeType::Group: {
      json o = json::object();
      for (auto& c : a.children) {
        json v = attrJson(c);
        if (o.contains(c.key)) {
          if (!o[c.key].is_array()) o[c.key] = json::array({o[c.key]});
          o[c.key].push_back(v);
        } else {
          o[c.key] = v;
        }
      }
      return o;
    }
    default:
      return a.text;
  }
}

}  // namespace

const Attribute* findAttribute(const std::vector<Attribute>& attrs, const std::string& key) {
  for (auto& a : attrs) {
    if (a.key == key) return &a;
    if (auto* c = findAttribute(a.children, key)) return c;
  }
  return nullptr;
}

std::string attributesJson(const CityObject& obj) {
  json o = json::object();
  for (auto& a : obj.attributes) {
    json v = attrJson(a);
    if (o.contains(a.key)) {
      if (!o[a.key].is_array()) o[a.key] = json::array({o[a.key]});
      o[a.key].push_back(v);
    } else {
      o[a.key] = v;
    }
  }
  return o.dump();
}

// Looks an attribute up by any of `names` (exact key, then local name, case-insensitive).
const Attribute* lookupAttribute(const CityObject& obj, std::initializer_list<std::string> names) {
  for (auto& n : names) {
    if (n.empty()) continue;
    if (auto* a = findAttribute(obj.attributes, n)) return a;
  }
  for (auto& n : names) {
    if (n.empty()) continue;
    std::string want = lower(localName(n));
    std::function<const Attribute*(const std::vector<Attribute>&)> walk =
        [&](const std::vector<Attribute>& as) -> const Attribute* {
      for (auto& a : as) {
        if (lower(localName(a.key)) == want) return &a;
        if (auto* c = walk(a.children)) return c;
      }
      return nullptr;
    };
    if (auto* a = walk(obj.attributes)) return a;
  }
  return nullptr;
}

// The value as written, parsed exactly as a decimal number ("1.5" is 1.5, "2" is 2).
bool attributeNumber(const Attribute* a, double& v) {
  if (!a) return false;
  if (a->type == AttributeType::Integer) return v = double(a->integer), true;
  if (a->type == AttributeType::Double) return v = a->number, true;
  std::string t = a->text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t s = 0;
  while (s < t.size() && std::isspace(static_cast<unsigned char>(t[s]))) ++s;
  if (s == t.size()) return false;
  const char* b = t.c_str() + s;
  char* e = nullptr;
  v = std::strtod(b, &e);
  return e && *e == '\0' && std::isfinite(v);
}

std::string attributeText(const Attribute* a) {
  if (!a) return {};
  if (a->type == AttributeType::Integer) return std::to_string(a->integer);
  if (a->type == AttributeType::Boolean) return a->boolean ? "true" : "false";
  if (a->type == AttributeType::Double && a->text.empty()) {
    std::ostringstream o;
    o << a->number;
    return o.str();
  }
  return a->text;
}

bool attributeTruthy(const Attribute* a) {
  if (!a) return false;
  if (a->type == AttributeType::Boolean) return a->boolean;
  if (a->type == AttributeType::Integer) return a->integer != 0;
  std::string t = lower(a->text);
  return t == "true" || t == "yes" || t == "1" || t == "y" || t == "有" || t == "○" || t == "はい";
}

}  // namespace twin
