#pragma once
// Feature metadata: a flat, typed view of a city object's attributes, and the schema that the
// glTF EXT_structural_metadata property tables use.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "twin/city_model.h"

namespace twin {

enum class PropertyType : uint8_t { String, Int32, Float64 };
const char* propertyTypeName(PropertyType t);

// A value kind seen in the data, before unification into a PropertyType.
enum class ValueKind : uint8_t { Integer, Double, String };

using PropertyValue = std::variant<int64_t, double, std::string>;

struct FlatAttribute {
  std::string key;  // "bldg:measuredHeight", "uro:BuildingDetailAttribute/uro:totalFloorArea"
  PropertyValue value;
  ValueKind kind() const { return static_cast<ValueKind>(value.index()); }
};

// Flattens an object's attributes: groups become "Group/child" keys, repeated keys get "[2]",
// "[3]"...; codes become their resolved names (the code itself when unresolved); dates become
// ISO strings. Adds "gml:id" (the object id) and, for objects with parts, "twin:parts".
std::vector<FlatAttribute> flattenAttributes(const CityObject& obj);

struct PropertyDef {
  std::string id;    // matches [a-zA-Z_][a-zA-Z0-9_]*, unique in the schema
  std::string name;  // the original key
  PropertyType type = PropertyType::String;
};

// Unifies the kinds seen per key into property types: integers that fit INT32 stay Int32,
// integers and doubles mix into Float64, anything with strings becomes String.
class SchemaBuilder {
 public:
  // Registers an observation of `key` with `kind` (and, for integers, the value for range).
  // Returns the key's index. Not thread-safe: callers serialise.
  uint32_t observe(const std::string& key, const PropertyValue& value);
  // Registers value kinds seen elsewhere (bits of kindBits()); returns the key's index.
  uint32_t observeKinds(const std::string& key, uint8_t kinds);
  // The kind bit of a value: 1 integer within int32, 2 integer beyond it, 4 double, 8 string.
  static uint8_t kindBit(const PropertyValue& value);
  const std::string& keyName(uint32_t index) const { return keys_[index].key; }
  // The properties sorted by name. `remap`, when given, receives for each index observe()
  // returned the position of its property in the result.
  std::vector<PropertyDef> build(std::vector<uint32_t>* remap = nullptr) const;
  size_t size() const { return keys_.size(); }

 private:
  struct Seen {
    std::string key;
    bool integer = false, dbl = false, str = false;
    bool fitsInt32 = true;
  };
  std::vector<Seen> keys_;
  std::vector<std::pair<std::string, uint32_t>> sorted_;  // key -> index, kept sorted
};

// Makes a schema id from an arbitrary name: "uro:buildingID" -> "uro_buildingID".
std::string sanitizeId(const std::string& name);

}  // namespace twin
