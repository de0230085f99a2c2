#pragma once
// The city model every converter fills and every writer reads. Nothing downstream knows which
// format an object came from.
//
// Coordinates are kept in the source CRS, in that CRS's own axis order (for EPSG:6697:
// latitude, longitude, height) until the pipeline transforms them; `CityObject::srs` names it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twin {

using Vec3 = std::array<double, 3>;
using Vec2f = std::array<float, 2>;

// Semantic type of a surface (CityGML boundary surfaces and openings).
enum class SurfaceType : uint8_t {
  Unknown = 0,
  Wall,
  Roof,
  Ground,
  Closure,
  OuterCeiling,
  OuterFloor,
  Window,
  Door,
  Interior,  // interior wall, ceiling, floor
};
const char* surfaceTypeName(SurfaceType t);
// The semantic type a CityGML element or CityJSON semantic surface names ("RoofSurface",
// "Window", CityGML 3.0 "WindowSurface", CityJSON "WaterGroundSurface", ...); Unknown otherwise.
SurfaceType surfaceTypeFromName(std::string_view name);

// A texture image referenced by polygons. `uri` is resolved (absolute path, or
// "zip-path!/entry" for an image inside a zip archive).
struct Texture {
  std::string uri;
  std::string mimeType;  // as declared by the source; the writer sniffs the real format
  bool operator==(const Texture&) const = default;
};

// A simple Phong-like material (CityGML X3DMaterial): linear RGB in [0,1].
struct Material {
  std::array<float, 3> diffuse{0.8f, 0.8f, 0.8f};
  float transparency = 0.0f;
  bool operator==(const Material&) const = default;
};

// One planar polygon: the first ring is the exterior, the rest are holes.
// Rings index into Geometry::points via Geometry::ringStart.
struct Polygon {
  uint32_t firstRing = 0;
  uint32_t ringCount = 0;
  SurfaceType surface = SurfaceType::Unknown;
  int32_t texture = -1;   // index into CityObject::textures, or -1
  int32_t material = -1;  // index into CityObject::materials, or -1
};

// All polygons of one level of detail of one object, in flat arrays.
// Ring r spans points[ringStart[r] .. ringStart[r+1]) and is NOT closed (the closing point that
// GML repeats is dropped). `uvs` is empty, or parallel to `points` when any polygon is textured.
struct Geometry {
  int lod = 0;
  std::vector<Vec3> points;
  std::vector<uint32_t> ringStart{0};
  std::vector<Polygon> polygons;
  std::vector<Vec2f> uvs;

  size_t ringCount() const { return ringStart.size() - 1; }
  bool empty() const { return polygons.empty(); }
};

enum class AttributeType : uint8_t { String, Integer, Double, Boolean, Date, Code, Uri, Group };
const char* attributeTypeName(AttributeType t);

// A typed attribute. Groups (e.g. uro:BuildingDetailAttribute) hold children.
struct Attribute {
  std::string key;  // canonical prefixed name: "bldg:measuredHeight", "uro:buildingID", "gen:図形ID"
  AttributeType type = AttributeType::String;
  std::string text;       // String, Date (ISO 8601), Uri, Code (the code itself)
  std::string codeName;   // Code: the name the code list gives it (empty when unresolved)
  std::string codeSpace;  // Code: the code list it comes from
  std::string uom;        // unit of measure when the source gives one
  int64_t integer = 0;
  double number = 0.0;
  bool boolean = false;
  std::vector<Attribute> children;

  // The value as a display string (numbers in shortest round-trip form, codes by name).
  std::string displayValue() const;
};

struct CityObject {
  std::string id;    // gml:id (or generated when the source has none)
  std::string type;  // "Building", "BuildingPart", ...
  std::string srs;   // source CRS as a canonical id, e.g. "EPSG:6697" or "EPSG:25832+7837"
  std::string sourceFile;
  int64_t sourceLine = 0;
  std::vector<Attribute> attributes;
  std::vector<Geometry> geometries;  // one per LOD present
  std::vector<Texture> textures;
  std::vector<Material> materials;
  std::vector<CityObject> children;  // BuildingParts

  const Attribute* attribute(const std::string& key) const;
  // The geometry of the given LOD, or nullptr.
  const Geometry* geometry(int lod) const;
  int maxLod() const;  // -1 when no geometry
};

}  // namespace twin
