#pragma once
// Reading a city object's attributes whatever the format named them: lookups by key (nested
// groups included), by local name in any case, values as numbers or text, and all of them as
// one JSON object.

#include <initializer_list>
#include <string>
#include <vector>

#include "twin/city_model.h"

namespace twin {

// Finds an attribute by exact key anywhere in the tree ("uro:totalFloorArea" inside
// uro:buildingDetails), depth first; null when none.
const Attribute* findAttribute(const std::vector<Attribute>& attrs, const std::string& key);
// The first attribute named by any of `names`: exact keys first, then local names ("urf:x" and
// "x" alike) in any case. Empty names are skipped. Null when none.
const Attribute* lookupAttribute(const CityObject& obj, std::initializer_list<std::string> names);
// The value as a number, parsed exactly as a decimal ("1.5" is 1.5); false when it is not one.
bool attributeNumber(const Attribute* a, double& v);
// The value as text as written (integers and booleans spelled out); empty for null.
std::string attributeText(const Attribute* a);
// True for true, non-zero, "yes", "1", "y", "有", "○", "はい" (any case).
bool attributeTruthy(const Attribute* a);
// Every attribute of an object as a JSON object text (groups nested, numbers as numbers, codes
// as {"code", "name"} when the code list gives a name; repeated keys as arrays).
std::string attributesJson(const CityObject& obj);

}  // namespace twin
