#pragma once
// What the land-use store holds: parcels (筆), zoning districts, building summaries, roads,
// permits, and the links between them. Geometry is in the store's projected CRS (metres).
//
// Converters deliver CityObjects; the functions at the end turn them into these records, whatever
// the format (地図XML, PLATEAU urf CityGML, GDAL vectors, any building reader).

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "twin/building_summary.h"
#include "twin/city_model.h"
#include "twin/crs.h"
#include "twin/diagnostics.h"
#include "twin/geom2d.h"

namespace twin::landuse {

constexpr double kNone = NAN;  // "not given" for numbers
inline bool given(double v) { return std::isfinite(v); }

struct Parcel {
  std::string id;            // source feature id (地図XML 筆 id, or the vector's id field / fid)
  std::string chiban;        // 地番, e.g. "194-1"
  std::string realEstateNo;  // 不動産番号 (13 digits), optional
  std::string locality;      // 大字名 / 丁目名 (address of the parcel, without the 地番)
  std::string city;          // 市区町村 name or code
  MultiPoly geom;
  double area = 0;                // m², from the geometry in the store CRS
  bool cornerLot = false;         // 角地 (designated corner lot: coverage bonus)
  double frontRoadWidth = kNone;  // 前面道路幅員 (m) when the source gives it
  std::string attributes;         // every source attribute, JSON object
  std::string source;             // file
  int64_t line = 0;
};

// A zoning district of any kind. Rates are ratios (0.6 = 60 %), heights in metres.
struct District {
  std::string id;
  std::string kind;              // UseDistrict, HeightControlDistrict, FirePreventionDistrict, ScenicDistrict,
                                 // AreaClassification, SpecialUseDistrict, ... (i-UR urf element names)
  std::string code;              // urf:function code (Common_districtsAndZonesType / Common_areaClassificationType)
  std::string name;              // the code's name when known (第一種低層住居専用地域, 防火地域, ...)
  double coverageRate = kNone;   // urf:buildingCoverageRate (建ぺい率)
  double floorAreaRate = kNone;  // urf:floorAreaRate (容積率)
  double heightLimit = kNone;    // urf:buildingHeightLimits (絶対高さ制限, 10 or 12 m)
  double maxHeight = kNone;      // urf:maximumBuildingHeight (高度地区 最高限度)
  double minHeight = kNone;      // urf:minimumBuildingHeight (高度地区 最低限度)
  double minSiteArea = kNone;    // urf:minimumSiteArea (敷地面積の最低限度, m²)
  double wallSetback = kNone;    // urf:setbackSize (外壁の後退距離, m)
  MultiPoly geom;
  double area = 0;
  std::string attributes;
  std::string source;
  int64_t line = 0;
};

// A building summary (footprint, area, height, storeys, floor area; made by libtwin's
// summarizeBuilding from any reader's city objects).
using Building = BuildingSummary;

struct Road {
  std::string id;
  MultiPoly geom;
  double width = kNone;  // 幅員 (m)
  // The height range of its surface (the source's vertical datum, as buildings' ground heights;
  // NaN when the data has no heights): 令135条の2 compares the road with the site.
  double levelMin = kNone, levelMax = kNone;
  std::string name;
  std::string source;
};

struct Permit {
  std::string id;
  std::string type;  // 建築確認, 完了検査, 開発許可, 屋外広告物許可, 景観法届出, 土壌汚染対策法届出, ...
  std::string status;                // applied, under-review, granted, refused, withdrawn, closed (free text allowed)
  std::string appliedOn, decidedOn;  // ISO 8601 dates
  std::vector<std::string> parcels;  // parcel ids or 地番
  std::string buildingId;
  std::string applicant;  // personal data: staff only
  std::string notes;
  int64_t version = 0;  // bumped on each update (optimistic concurrency)
  std::string updatedAt;
};

// An API token: only its SHA-256 hash is kept. Roles: "staff" (read all, write permits),
// "admin" (also users and tokens).
struct Token {
  std::string hash;  // hex SHA-256 of the token
  std::string user, role, createdAt;
  std::string expiresAt;  // ISO 8601 UTC; empty: never expires
  std::string revokedAt;  // ISO 8601 UTC when revoked; empty: not revoked
  // Neither revoked nor expired at `nowIso` (ISO 8601 UTC, compared as text).
  bool validAt(const std::string& nowIso) const {
    return revokedAt.empty() && (expiresAt.empty() || nowIso < expiresAt);
  }
};

// A document attached to a permit. The 建築計画概要書 (building plan summary) is public by law
// (建築基準法第93条の2); other documents are staff-only.
struct Document {
  std::string id, permitId;
  std::string kind;  // 建築計画概要書, 図面, 申請書, ...
  std::string name;  // file name as uploaded
  std::string mimeType;
  bool isPublic = false;
  std::string data;  // bytes (empty in listings)
  int64_t size = 0;
  std::string addedAt, addedBy;
};

struct AuditEntry {
  int64_t seq = 0;
  std::string at, actor, action, entity, entityId, before, after;
};

struct BuildingParcel {
  std::string buildingId, parcelId;
  double overlap = 0;  // m² of the footprint on the parcel
};

struct ParcelDistrict {
  std::string parcelId, districtId;
  std::string kind;
  double overlap = 0;  // m²
  double share = 0;    // overlap / parcel area
};

// ---- from city objects ----------------------------------------------------------------------

// Field names a GDAL vector uses for parcel data (empty: try the usual names).
struct ParcelFields {
  std::string chiban;        // default: 地番, chiban, CHIBAN, parcel_no, parcel, lot
  std::string realEstateNo;  // default: 不動産番号, realestate_no, fudosan_no
  std::string cornerLot;     // default: 角地, corner_lot
  std::string roadWidth;     // default: 前面道路幅員, road_width
};

// Field names a GDAL vector uses for zoning (empty: the i-UR attribute names, then the usual).
struct ZoningFields {
  std::string kind;  // field holding the district kind; or all features take `defaultKind`
  std::string defaultKind = "UseDistrict";
  std::string code, coverage, floorArea, heightLimit, maxHeight, minHeight, minSiteArea;
  // How rates are written. i-UR 2.0 data (PLATEAU 2022) give ratios (0.6, 2); the current PLATEAU
  // standard gives percent (60, 200). Auto tells them apart by value, unambiguously within the
  // legal ranges: 建ぺい率 up to 1 is a ratio, 10..100 percent; 容積率 up to 15 is a ratio
  // (1300 % is the legal maximum), 30..2000 percent. Values outside both are reported.
  enum class RateUnit { Auto, Ratio, Percent } rates = RateUnit::Auto;
};

// Projects the object's outline to the store CRS. Parcels: the LOD0 surface (地図XML) or the vector
// polygon. Invalid polygons (self-intersections...) are reported with id and line and repaired
// with MakeValid when repair keeps ≥ 99 % of the area, else refused.
std::optional<Parcel> parcelFrom(const CityObject& obj, PlaneTransform& toStore, const ParcelFields& fields,
                                 DiagnosticSink& diag);
std::optional<District> districtFrom(const CityObject& obj, PlaneTransform& toStore, const ZoningFields& fields,
                                     DiagnosticSink& diag);
std::optional<Road> roadFrom(const CityObject& obj, PlaneTransform& toStore, const std::string& widthField,
                             DiagnosticSink& diag);

}  // namespace twin::landuse
