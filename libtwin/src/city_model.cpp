#include "twin/city_model.h"

#include <charconv>

namespace twin {

SurfaceType surfaceTypeFromName(std::string_view name) {
  static const std::pair<std::string_view, SurfaceType> table[] = {
      {"WallSurface", SurfaceType::Wall},
      {"RoofSurface", SurfaceType::Roof},
      {"GroundSurface", SurfaceType::Ground},
      {"ClosureSurface", SurfaceType::Closure},
      {"OuterCeilingSurface", SurfaceType::OuterCeiling},
      {"OuterFloorSurface", SurfaceType::OuterFloor},
      {"Window", SurfaceType::Window},
      {"Door", SurfaceType::Door},
      {"WindowSurface", SurfaceType::Window},  // CityGML 3.0 con:fillingSurface
      {"DoorSurface", SurfaceType::Door},
      {"InteriorWallSurface", SurfaceType::Interior},
      {"CeilingSurface", SurfaceType::Interior},
      {"FloorSurface", SurfaceType::Interior},
      {"WaterGroundSurface", SurfaceType::Ground},  // CityJSON water bodies
      {"WaterClosureSurface", SurfaceType::Closure},
  };
  for (auto& [n, t] : table)
    if (name == n) return t;
  return SurfaceType::Unknown;
}

const char* surfaceTypeName(SurfaceType t) {
  switch (t) {
    case SurfaceType::Unknown:
      return "Unknown";
    case SurfaceType::Wall:
      return "WallSurface";
    case SurfaceType::Roof:
      return "RoofSurface";
    case SurfaceType::Ground:
      return "GroundSurface";
    case SurfaceType::Closure:
      return "ClosureSurface";
    case SurfaceType::OuterCeiling:
      return "OuterCeilingSurface";
    case SurfaceType::OuterFloor:
      return "OuterFloorSurface";
    case SurfaceType::Window:
      return "Window";
    case SurfaceType::Door:
      return "Door";
    case SurfaceType::Interior:
      return "Interior";
  }
  return "Unknown";
}

const char* attributeTypeName(AttributeType t) {
  switch (t) {
    case AttributeType::String:
      return "string";
    case AttributeType::Integer:
      return "integer";
    case AttributeType::Double:
      return "double";
    case AttributeType::Boolean:
      return "boolean";
    case AttributeType::Date:
      return "date";
    case AttributeType::Code:
      return "code";
    case AttributeType::Uri:
      return "uri";
    case AttributeType::Group:
      return "group";
  }
  return "?";
}

std::string Attribute::displayValue() const {
  switch (type) {
    case AttributeType::Integer:
      return std::to_string(integer);
    case AttributeType::Double: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, number);
      return std::string(buf, r.ptr);
    }
    case AttributeType::Boolean:
      return boolean ? "true" : "false";
    case AttributeType::Code:
      return codeName.empty() ? text : codeName;
    case AttributeType::Group:
      return {};
    default:
      return text;
  }
}

const Attribute* CityObject::attribute(const std::string& key) const {
  for (auto& a : attributes)
    if (a.key == key) return &a;
  return nullptr;
}

const Geometry* CityObject::geometry(int lod) const {
  for (auto& g : geometries)
    if (g.lod == lod) return &g;
  return nullptr;
}

int CityObject::maxLod() const {
  int m = -1;
  for (auto& g : geometries)
    if (!g.empty() && g.lod > m) m = g.lod;
  return m;
}

}  // namespace twin
