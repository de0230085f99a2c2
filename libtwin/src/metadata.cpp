#include "twin/metadata.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace twin {

const char* propertyTypeName(PropertyType t) {
  switch (t) {
    case PropertyType::String:
      return "STRING";
    case PropertyType::Int32:
      return "INT32";
    case PropertyType::Float64:
      return "FLOAT64";
  }
  return "STRING";
}

namespace {

void flattenInto(const std::vector<Attribute>& attrs, const std::string& prefix, std::vector<FlatAttribute>& out,
                 std::map<std::string, int>& seen) {
  for (auto& a : attrs) {
    std::string key = prefix.empty() ? a.key : prefix + "/" + a.key;
    int n = ++seen[key];
    if (n > 1) key += "[" + std::to_string(n) + "]";
    switch (a.type) {
      case AttributeType::Group:
        flattenInto(a.children, key, out, seen);
        break;
      case AttributeType::Integer:
        out.push_back({key, int64_t(a.integer)});
        break;
      case AttributeType::Double:
        out.push_back({key, a.number});
        break;
      case AttributeType::Boolean:
        out.push_back({key, std::string(a.boolean ? "true" : "false")});
        break;
      default:
        out.push_back({key, a.displayValue()});
        break;
    }
  }
}

}  // namespace

std::vector<FlatAttribute> flattenAttributes(const CityObject& obj) {
  std::vector<FlatAttribute> out;
  out.push_back({"gml:id", obj.id});
  std::map<std::string, int> seen;
  flattenInto(obj.attributes, "", out, seen);
  if (!obj.children.empty()) {
    std::string parts;
    for (auto& c : obj.children) {
      if (!parts.empty()) parts += ",";
      parts += c.id;
    }
    out.push_back({"twin:parts", parts});
  }
  return out;
}

uint8_t SchemaBuilder::kindBit(const PropertyValue& value) {
  switch (value.index()) {
    case 0: {
      int64_t v = std::get<int64_t>(value);
      return v <= std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max() ? 2 : 1;
    }
    case 1:
      return 4;
    default:
      return 8;
  }
}

uint32_t SchemaBuilder::observeKinds(const std::string& key, uint8_t kinds) {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), key,
                             [](const auto& p, const std::string& k) { return p.first < k; });
  uint32_t idx;
  if (it != sorted_.end() && it->first == key) {
    idx = it->second;
  } else {
    idx = static_cast<uint32_t>(keys_.size());
    keys_.push_back({key});
    sorted_.insert(it, {key, idx});
  }
  Seen& s = keys_[idx];
  if (kinds & 3) s.integer = true;
  if (kinds & 2) s.fitsInt32 = false;
  if (kinds & 4) s.dbl = true;
  if (kinds & 8) s.str = true;
  return idx;
}

uint32_t SchemaBuilder::observe(const std::string& key, const PropertyValue& value) {
  return observeKinds(key, kindBit(value));
}

std::string sanitizeId(const std::string& name) {
  std::string id;
  for (unsigned char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
      id += static_cast<char>(c);
    else if (c >= 0x80) {
      // keep non-ASCII names distinguishable: hex of the UTF-8 byte
      static const char* hex = "0123456789abcdef";
      id += 'x';
      id += hex[c >> 4];
      id += hex[c & 15];
    } else {
      if (id.empty() || id.back() != '_') id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  if (id.empty() || (id[0] >= '0' && id[0] <= '9')) id = "p_" + id;
  return id;
}

std::vector<PropertyDef> SchemaBuilder::build(std::vector<uint32_t>* remap) const {
  // Sorted by name (sorted_ is), so the schema does not depend on the order keys were seen in.
  std::vector<PropertyDef> defs;
  std::set<std::string> used;
  if (remap) remap->assign(keys_.size(), 0);
  for (auto& [key, index] : sorted_) {
    const Seen& s = keys_[index];
    PropertyDef d;
    d.name = s.key;
    if (s.str)
      d.type = PropertyType::String;
    else if (s.dbl || !s.fitsInt32)
      d.type = PropertyType::Float64;
    else
      d.type = PropertyType::Int32;
    std::string id = sanitizeId(s.key);
    std::string base = id;
    for (int n = 2; used.count(id); ++n) id = base + "_" + std::to_string(n);
    used.insert(id);
    d.id = id;
    if (remap) (*remap)[index] = static_cast<uint32_t>(defs.size());
    defs.push_back(std::move(d));
  }
  return defs;
}

}  // namespace twin
