#pragma once
// Land-use rules as data. A rules file (JSON, documented in docs/rules.md; the national rules of
// the Building Standards Act and City Planning Act ship as rules/japan.json) names the districts,
// the limits and bonuses with the legal article each comes from, and the procedures a plan needs.
// The code evaluates; the file decides — a municipality adjusts it without recompiling.
//
// Every result carries its inputs, formula, value, limit, verdict and reason. Missing data gives
// Verdict::Unknown with what is missing: never a silent pass.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/landuse/records.h"
#include "twin/landuse/rules_file.h"
#include "twin/landuse/shadow.h"
#include "twin/landuse/sky.h"

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
    double levelMin = kNone, levelMax = kNone;  // the road's surface heights (Road::levelMin/Max)
  };
  std::vector<Frontage> frontage;
  // Open spaces (districts of kind OpenSpace: 公園, 広場, 水面, 線路敷) along the site's boundary edges:
  // beside the site, or opposite the front road along the edge (just beyond its far side), with
  // their depth along the edge's outward normal (the least over the edge, probed every metre).
  // `partial`: found along only part of the edge (no relaxation is taken from it).
  struct OpenSide {
    P2 a, b;
    bool acrossRoad = false;
    bool partial = false;
    std::string districtId, code;
    double depth = kNone;
  };
  std::vector<OpenSide> openSides;
  bool cornerLot = false;
  // District kinds the store holds within 1 km of the site: a kind present nearby but not over the
  // site means "not in such a district"; a kind absent means "no data".
  std::vector<std::string> kindsNearby;
  // Where on the earth it lies, for the sun (日影規制): latitude (degrees; NaN: unknown) and the true
  // azimuth (degrees, clockwise) of the store grid's north (the meridian convergence).
  double latitude = kNone;
  double gridNorth = 0;
  // Roads: whether the store holds any within 50 m (else 接道 cannot be judged), and for front
  // roads narrower than 4 m, the strip between the boundary and the line 2 m from the road's
  // centre (法42条2項: if it is a 2項道路 that strip is road, not site; m², 0 when none).
  bool roadsInData = false;
  double narrowRoadStrip = 0;
  // The parcels next to the site with the ground height of their buildings (the lowest base; NaN:
  // no building on it gives one): 令135条の3第1項2号, 135条の4第1項2号 relax 隣地斜線 and 北側斜線 for a
  // site 1 m or more below its neighbour. Filled by neighbourGrounds (site.h) where the envelope and
  // the sky factor are drawn; empty: not applied (stricter).
  struct Neighbour {
    std::string parcelId;
    MultiPoly geom;
    double ground = kNone;
  };
  std::vector<Neighbour> neighbours;
  // 特定道路 (法52条9項): the straight distance (m) to the nearest road 15 m or more wide within 70 m
  // of the site (NaN: none in the data). The law measures along the front road, at least this far.
  double specialRoadDistance = kNone;
};

struct Plan {
  std::string use;  // 用途: an id, name or alias of the rules file's uses (house, 共同住宅, 事務所, ...)
  double floorArea = kNone;     // 延べ面積 m²
  double buildingArea = kNone;  // 建築面積 m²
  double height = kNone;        // m
  int storeys = -1;
  double developmentArea = kNone;  // 開発区域の面積 (m²)
  double earthworkArea = kNone;    // 土地の形質の変更の面積 (m²)
  bool signage = false;            // 屋外広告物 planned
  bool newBuilding = true;
  // 用途制限 (法48条, 別表第2) of the use part, where the building has other parts too. Without
  // useFloorArea a use that is not a part (UseRule::part) is the whole building: its floor area
  // the 延べ面積, its highest floor the top storey. Areas m²; floors counted from 1 above ground.
  double useFloorArea = kNone;  // floor area of the use part
  double workshopArea = kNone;  // 作業場 of a factory (bounded by the use part's floor area)
  double seatingArea = kNone;   // 客席 of a theatre or cinema (bounded likewise)
  int useFloor = -1;            // the highest floor the use part is on (bounded by storeys)
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
  // 日影規制 to draw for (法56条の2): given here (what-if, or where the data has no designation),
  // else a ShadeRegulation district over the site; the grid of the 逆日影 columns (m; 0: 1 m, or
  // coarser on sites over 2,500 m²) and the time step (minutes).
  std::optional<ShadowDesignation> shadow;
  // The site's ground height (地盤面, the data's vertical datum; NaN: unknown): 道路斜線 is measured
  // from the road's surface (令2条1項6号イ, 令135条の2), so the planes need both heights.
  double groundHeight = kNone;
  double shadowCell = 0;
  double shadowStepMinutes = 2;
  // The districts over a box (the store's; envelopeOf and the API give it): with it and no `shadow`
  // given, each ShadeRegulation district the envelope's shadow falls on limits it under its own
  // designation (法56条の2第4項・第5項, 令135条の13). Asked once, for the slant-plane envelope's reach.
  std::function<std::vector<District>(const Box2&)> shadowDistricts;
  // 令135条の12第1項2号: how much higher the site's ground is deemed for these solids' shadow (the
  // land it falls on H ≥ 1 m above the site: (H − 1) / 2), 0 with why when not (envelopeOf fills
  // it from the store). Given the slant-plane envelope's columns, whose shadow holds every lower one's.
  std::function<double(const std::vector<Solid>&, std::string& why)> shadowGroundLift;
};

// How 日影規制 entered an envelope or a check.
struct ShadowPart {
  bool applied = false;
  ShadowDesignation designation;
  std::string subject;  // which buildings are subject (別表第4 (ろ)欄)
  double cell = 0, stepMinutes = 0, start = 8, end = 16;
  double max5 = 0, max10 = 0;  // hours of the drawn solid's shadow, verified
  double lowered = 0;          // m³ the shadow limit took off the slant-plane envelope
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
  ShadowPart shadow;                     // 日影規制 (逆日影) when drawn
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
  // 日影規制 (法56条の2) of the solids standing on a site (heights above its ground): the shadow-time
  // map on the designation's measuring plane and the verdict at the 5 m and 10 m lines. `given`
  // overrides the data's designation. Unknown (with what is missing) without a designation or the
  // site's latitude; pass when the building is not subject.
  struct ShadowRun {
    RuleResult result;
    ShadowMap map;
    ShadowCheck check;
    ShadowPart part;
  };
  // 天空率 for 道路斜線 (法56条7項1号): the plan (solids standing on the site) against the
  // 道路高さ制限適合建築物 at the points of 令135条の9; pass where the plan's sky factor is at least
  // the conforming one's at every point (then 道路斜線 does not apply to it).
  struct SkyPoint {
    P2 at{0, 0};
    double conforming = 0, plan = 0;
    bool pass = false;
    // On a site over districts of different slant values, the district part the point compares
    // (令135条の6第2項, 135条の7第2項, 135条の8第2項); empty: the whole site.
    std::string part;
  };
  struct SkyCheck {
    RuleResult result;
    std::vector<SkyPoint> points;
  };
  SkyCheck skyFactorRoad(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o = {},
                         const SkySettings& s = {}) const;
  // The same for 隣地斜線 (法56条7項2号, 令135条の7, 令135条の10: points on the lines 16 m (rise 20 m) or
  // 12.4 m (rise 31 m) outside the boundaries with neighbours, at most 8 / 6.2 m apart) and for
  // 北側斜線 (7項3号, 令135条の8, 令135条の11: on the lines 4 m or 8 m due north of the boundary, at
  // most 1 / 2 m apart); the whole plan against the whole conforming building, or on a site over
  // districts of different slant values each district part's share of both at the points in front of
  // that part (令135条の6第2項, 135条の7第2項, 135条の8第2項; unknown without the districts' outlines).
  SkyCheck skyFactorAdjacent(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o = {},
                             const SkySettings& s = {}) const;
  SkyCheck skyFactorNorth(const Site& site, const std::vector<Solid>& plan, const EnvelopeOptions& o = {},
                          const SkySettings& s = {}) const;
  // `groundLift`: the site's ground deemed that much higher (令135条の12第1項2号, see shadowOfSite): the
  // measuring planes with it.
  // `around`: the ShadeRegulation and UseDistrict districts within the shadow's reach (the store's).
  // Given, and no designation given, the shadow is read in each regulated district it falls on under
  // that district's designation and (ろ)欄 (法56条の2第5項, 令135条の13), also from a site outside every
  // regulated district for a building over 10 m (第4項); else the site's designation everywhere.
  ShadowRun shadowOf(const Site& site, const std::vector<Solid>& solids, double height, int storeys,
                     const std::optional<ShadowDesignation>& given = {}, double stepMinutes = 1, double cell = 1,
                     const std::vector<District>& around = {}, double groundLift = 0) const;
  // 用途制限 (法48条, 別表第2): may the plan's use be built on the site? Rule "use". The site's use
  // district is the one covering more than half of it (法91条; exactly half, or none: unknown).
  // Pass, fail (beyond the table's limits; 法48条 ただし書き permits are the 特定行政庁's and not
  // modelled), or unknown naming what is missing: a use the file does not know (listing the ids
  // it knows), data a limit needs, a cell the table cannot decide.
  RuleResult checkUse(const Site& site, const Plan& plan) const;
  // The same for an existing building from its bldg:usage (UsageMapping), in `districts` (its
  // site's; or its footprint's where it stands on no parcel): pass where every use it may be is
  // allowed; a use not allowed is "non-conforming (may be 既存不適格)" and unknown, never a fail —
  // the building may predate the designation (法3条2項). Nullopt when the building has no usage.
  std::optional<RuleResult> checkBuildingUse(const Building& b, const std::vector<DistrictShare>& districts) const;
  // 外壁の後退距離 (法54条): where the site's use district sets one (urf:setbackSize, 1 or 1.5 m in
  // 低層住居専用 and 田園住居), the building's outline within that distance of the site boundary:
  // pass when at most 3 m of it is (令135条の22第1号), else fail; nothing when none is set.
  std::optional<RuleResult> checkWallSetback(const Building& b, const Site& site) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace twin::landuse
