#pragma once
// Land-use rules as data. A rules file (JSON, documented in docs/rules.md; the national rules of
// the Building Standards Act and City Planning Act ship as rules/japan.json) names the districts,
// the limits and bonuses with the legal article each comes from, and the procedures a plan needs.
// The code evaluates; the file decides — a municipality adjusts it without recompiling.
//
// Every result carries its inputs, formula, value, limit, verdict and reason. Missing data gives
// Verdict::Unknown with what is missing: never a silent pass.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/landuse/records.h"
#include "twin/landuse/rules_file.h"

namespace twin::landuse {

enum class Verdict { Pass, Fail, Unknown };
const char* verdictName(Verdict v);  // "pass", "fail", "unknown"

struct RuleResult {
  std::string rule;     // "coverage", "floor-area", "height-absolute", "height-district", "height-minimum", ...
  std::string title;    // "建ぺい率 building coverage"
  std::string article;  // "建築基準法第53条第1項"
  Verdict verdict = Verdict::Unknown;
  double value = kNone, limit = kNone;
  std::string unit;     // "%", "m", "m²"
  std::string formula;  // with the numbers put in
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string reason;  // why this verdict; for unknown: what is missing
};

// The overall verdict of a set of results: fail if any fails, else unknown if any is unknown.
Verdict overall(const std::vector<RuleResult>& results);

// A district over (part of) a site: share = overlap / site area.
struct DistrictShare {
  District district;
  double overlap = 0;
  double share = 0;
};

// Where a building stands or a project is planned.
struct Site {
  std::vector<Parcel> parcels;
  MultiPoly geom;                        // union of the parcels
  double area = 0;                       // m²
  std::vector<DistrictShare> districts;  // every kind overlapping the site
  double frontRoadWidth = kNone;         // widest road along the site (法42条 roads), m
  std::string frontRoadSource;           // "road 'tran_…' (6.0 m)", "parcel attribute 前面道路幅員"
  // The site's boundary edges along roads (outer rings counter-clockwise): where the road and
  // slant rules start. Width from the road's attribute, else measured across the road polygons
  // along the edge's outward normal.
  struct Frontage {
    P2 a, b;
    double width = kNone;
    std::string roadId;
    bool measured = false;
  };
  std::vector<Frontage> frontage;
  bool cornerLot = false;
  // District kinds the store holds within 1 km of the site: a kind present nearby but not over the
  // site means "not in such a district"; a kind absent means "no data".
  std::vector<std::string> kindsNearby;
};

struct Plan {
  std::string use;              // 用途: 一戸建ての住宅, 共同住宅, 店舗, 事務所, ...
  double floorArea = kNone;     // 延べ面積 m²
  double buildingArea = kNone;  // 建築面積 m²
  double height = kNone;        // m
  int storeys = -1;
  double developmentArea = kNone;  // 開発区域の面積 (m²)
  double earthworkArea = kNone;    // 土地の形質の変更の面積 (m²)
  bool signage = false;            // 屋外広告物 planned
  bool newBuilding = true;
};

struct ProcedureNeed {
  std::string id, name, english, article;
  std::string status;  // "required", "possibly required" (data missing), "not required"
  std::string why;
  std::vector<std::string> missing;
};

// How an envelope is drawn: up to `cap` where no height limit applies, for a building set back
// from the roads (法56条2項) and, above the 隣地斜線's rise, from the neighbours (法56条1項2号).
inline constexpr double kEnvelopeCap = 60;  // m, drawn where no height limit applies
struct EnvelopeOptions {
  double cap = kEnvelopeCap;
  double roadSetback = 0;
  double adjacentSetback = 0;
};

struct EnvelopeResult {
  double siteArea = 0;
  double maxBuildingArea = kNone;  // site × coverage limit
  double maxFloorArea = kNone;     // site × floor-area limit
  double maxHeight = kNone;        // the lowest absolute limit (none: NaN)
  std::vector<RuleResult> limits;  // how each number was found
  std::vector<std::string> notes;
  // The 3D envelope: site extruded to the height limit, clipped by road and north-side slant
  // planes. Positions in the store CRS, z above the site's ground. Triangles counter-clockwise
  // seen from outside.
  std::vector<std::array<double, 3>> vertices;
  std::vector<uint32_t> triangles;
  double meshTop = 0;   // highest z of the mesh
  bool capped = false;  // no height limit applied: drawn to the cap
  double volume = 0;    // m³ of the solid
  // Per triangle, the limit its face lies on: height-limit, cap, road-slant, adjacent-slant,
  // north-slant, setback, or wall (the vertical sides and the base).
  std::vector<std::string> triangleRule;
  std::vector<std::string> notModelled;  // what applies to this site and is not modelled here
  EnvelopeOptions options;               // how it was drawn
};

class RuleSet {
 public:
  RuleSet();
  ~RuleSet();
  RuleSet(const RuleSet&);
  RuleSet& operator=(const RuleSet&);

  // Reads and checks a rules file; errors name the file and the entry.
  static Result<RuleSet> load(const std::string& path);
  static Result<RuleSet> parse(const std::string& text, const std::string& name);
  // The rules file installed with twin (rules/japan.json), looked up in `dataDir` first (see
  // fs::dataFile), then beside the program, then in the source tree.
  static std::string defaultPath(const std::string& dataDir = {});
  // The file as parsed.
  const RulesFile& file() const;

  const std::string& name() const;
  double floorHeight() const;  // m per storey, for floor areas estimated from heights
  // District name for a kind + code ("UseDistrict", "1" -> 第一種低層住居専用地域), or empty.
  std::string districtName(const std::string& kind, const std::string& code) const;
  // True when the file knows this district kind and code (unknown codes are reported on import).
  bool knowsDistrict(const std::string& kind, const std::string& code) const;

  // Checks a building alone on its site (checkSite of it alone, then checkHeights). `inBuilding`
  // are the districts the building's own footprint overlaps (height limits apply where it stands).
  std::vector<RuleResult> check(const Building& b, const Site& site,
                                const std::vector<DistrictShare>& inBuilding) const;
  // What the law counts per site (敷地): 建ぺい率 (法53条1項), 容積率 (法52条1項) and the minimum site
  // area (法53条の2) over every building on it — areas summed, floor-area estimates as ranges that
  // decide only where the whole range agrees.
  std::vector<RuleResult> checkSite(const std::vector<Building>& buildings, const Site& site) const;
  // What is checked per building: absolute and 高度地区 heights where the building stands.
  std::vector<RuleResult> checkHeights(const Building& b, const std::vector<DistrictShare>& inBuilding) const;
  // The building (as its box: footprint × height) against 法56条1項's slant planes over its site:
  // pass when the box stays under every plane; never a fail (a box over a plane may still comply
  // through its roof shape, 天空率 or as 既存不適格): unknown, with how far it reaches over.
  RuleResult checkSlantPlanes(const Building& b, const Site& site) const;
  // The buildable envelope, drawn up to `cap` metres where no height limit applies.
  static constexpr double kDefaultEnvelopeCap = kEnvelopeCap;
  EnvelopeResult envelope(const Site& site, double cap = kDefaultEnvelopeCap) const;
  EnvelopeResult envelope(const Site& site, const EnvelopeOptions& options) const;
  std::vector<ProcedureNeed> procedures(const Site& site, const Plan& plan) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace twin::landuse
