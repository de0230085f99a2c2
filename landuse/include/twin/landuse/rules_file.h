#pragma once
// The rules file as typed data: what RuleSet::parse reads a rules file into (docs/rules.md). The
// file is parsed once; every entry is checked against this shape and every error is reported
// with its entry, key and what was expected, so that a typo in a municipality's file is an error
// instead of a silent fallback. Evaluation (check.cpp, envelope.cpp, procedures.cpp) reads only
// these structs.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace twin::landuse {

// A value in a condition or a variable: nothing, a truth value, a number or a text.
struct Value {
  enum class Kind { Null, Bool, Number, Text } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;

  Value() = default;
  static Value of(bool b) {
    Value v;
    v.kind = Kind::Bool;
    v.boolean = b;
    return v;
  }
  static Value of(double d) {
    Value v;
    v.kind = Kind::Number;
    v.number = d;
    return v;
  }
  static Value of(std::string s) {
    Value v;
    v.kind = Kind::Text;
    v.text = std::move(s);
    return v;
  }
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }
};

// A condition over named variables (three-valued: a variable the data does not give makes a test
// unknown). Leaves test one variable; inner nodes combine.
struct Condition {
  enum class Kind { Constant, All, Any, Not, Test } kind = Kind::Constant;
  bool constant = false;            // Constant
  std::vector<Condition> children;  // All, Any (any number), Not (one)
  std::string var;                  // Test: "site.area", "plan.use", ...
  enum class Op { Eq, Ne, Gt, Ge, Lt, Le, In, Exists } op = Op::Exists;
  Value operand;            // Eq, Ne, Gt, Ge, Lt, Le (numbers for the four orderings)
  std::vector<Value> list;  // In
};

// districts.KIND.CODE
struct DistrictRule {
  std::string name, english;
  std::string group;                 // residential / commercial / industrial, or empty
  std::optional<double> roadFactor;  // 法52条2項 multiplier of the front road width
  bool absoluteHeight = false;       // 法55条 applies
  struct RoadSlant {                 // 道路斜線 (法56条1項1号, 別表第3)
    double slope = 1.25;
    // [floor-area rate limit up to (none: above the last), application distance m]
    std::vector<std::pair<std::optional<double>, double>> distances;
    // 法56条3項: with a front road at least minWidth wide, `slope` beyond beyondWidthTimes × W from
    // its far side (住居系 but 低層 and 田園住居).
    struct WideRoad {
      double minWidth = 12, slope = 1.5, beyondWidthTimes = 1.25;
    };
    std::optional<WideRoad> wideRoad;
  };
  std::optional<RoadSlant> roadSlant;
  struct NorthSlant {  // 北側斜線 (法56条1項3号): rise + slope × distance
    double rise = 5, slope = 1.25;
  };
  std::optional<NorthSlant> northSlant;
  struct AdjacentSlant {  // 隣地斜線 (法56条1項2号): rise + slope × distance to the adjacent boundary
    double rise = 20, slope = 1.25;
  };
  std::optional<AdjacentSlant> adjacentSlant;
  // 高度地区 slant planes (都市計画法第9条第18項, 法58条) a city plan sets for its types: the limit is
  // the lowest of rise + slope × the distance due north to the boundary (e.g. Tokyo's 第二種:
  // 5 + 1.25 d and 10.2 + 0.6 d, i.e. 15 m at 8 m then 0.6).
  std::vector<NorthSlant> heightDistrictSlants;
  std::string fire;  // fire districts: the value of site.fireDistrict (防火地域, 準防火地域)
  bool scenic = false;
  // What a district says of the planning area the site lies in: planningArea 都市計画区域 or
  // 準都市計画区域; areaClass (区域区分) 市街化区域, 市街化調整区域 or 非線引き.
  std::string planningArea, areaClass;
  // An open space (district kind OpenSpace: 公園, 広場, 水面, 線路敷): the relaxations of the slant
  // planes and 日影規制 it earns beside the site or opposite its front road, each as its article
  // names it (what counts as "これらに類するもの" is the 特定行政庁's call: false, and said).
  struct OpenSpace {
    bool roadOpposite = false;  // 令134条1項: opposite the front road (道路斜線)
    bool adjacent = false;      // 令135条の3第1項1号: beside the site (隣地斜線)
    bool north = false;         // 令135条の4第1項1号: north, beside or across the road (北側斜線)
    bool shadow = false;        // 令135条の12第1項1号: beside the site (日影規制's lines)
  };
  std::optional<OpenSpace> openSpace;
};

struct Titled {
  std::string title, article;
};

struct CoverageBonus {
  std::string id, group, article;  // group: bonuses of one group are alternatives (default: the id)
  double add = 0;
  Condition when;
};
struct CoverageExemption {
  std::string id, article;
  double limit = 1;
  Condition when;
};
struct CoverageRules : Titled {
  std::vector<CoverageBonus> bonuses;
  std::vector<CoverageExemption> exemptions;
};
struct FloorAreaRules : Titled {
  double roadRuleBelow = 12;  // 法52条2項 applies to front roads narrower than this (m)
  double defaultRoadFactor = 0.6;
};
struct HeightRules {
  Titled absolute;                             // 絶対高さ制限
  double absoluteLow = 10, absoluteHigh = 12;  // height.absolute.range: what the city plan chooses from
  std::string absoluteArticle;                 // the short reference shown in envelopes (建築基準法第55条)
  Titled district;                             // 高度地区
  std::string districtMinimumTitle;
};
// 日影規制 (法56条の2, 別表第4).
struct ShadowRules : Titled {
  double start = 8, end = 16;                // 真太陽時 on the winter solstice
  struct Subject {                           // (ろ)欄 and the ordinance's choices
    double eavesOver = -1, heightOver = -1;  // m; -1: not a criterion
    int storeysFrom = 0;                     // 0: not a criterion
    std::vector<double> measuringHeights;
    std::vector<std::pair<double, double>> limits;  // hours beyond 5 m (to 10 m), beyond 10 m
  };
  std::map<std::string, Subject> districts;  // UseDistrict code, or "none"
  // Codes whose (ろ)欄 offers the ordinance a choice (別表第4 4項, 用途地域の指定のない区域: イ or ロ),
  // each choice with its own measuring heights; `districts` holds the first.
  std::map<std::string, std::vector<Subject>> choices;
  // The (ろ)欄 of `code` for a designation on the `measuringHeight` plane (NaN: the first choice);
  // null where the code has no 日影規制.
  const Subject* subjectFor(const std::string& code, double measuringHeight) const;
  struct Designation {
    double measuringHeight = 4, limit5 = 4, limit10 = 2.5;
  };
  std::map<std::string, Designation> designations;  // ShadeRegulation district code
};

struct ProcedureRule {
  std::string id, name, english, article, why, whyNot;
  bool municipal = false;  // thresholds a municipality sets
  // "site" (default): needed for the project on the site; "contractor": a licence of whoever
  // builds it, not of the site — shown as such, never "required".
  std::string appliesTo = "site";
  Condition when;
};

// 用途制限 (建築基準法第48条, 別表第2): uses.list[] of the rules file. A cell says whether a use may
// be built in one use district, and within which limits (all must hold).
struct UseLimit {
  // What is limited: the floor area of the use part, the building's 延べ面積, the 作業場 or 客席
  // area (m²), the highest floor the use part is on, or the use part's share of the 延べ面積.
  enum class Measure { UseArea, FloorArea, WorkshopArea, SeatingArea, Floor, Share } measure = Measure::UseArea;
  bool strict = false;  // "lt": below `value`; else "le": at most `value`
  double value = 0;
};
struct UseCell {
  enum class Allowed { No, Yes, Unknown };
  Allowed allowed = Allowed::Unknown;  // within the limits (there being none: always)
  std::vector<UseLimit> limits;
  Allowed otherwise = Allowed::No;  // beyond the limits
  std::string article;              // 別表第2's 項 and 号 (and the 施行令 article) deciding the cell
  std::string reason;               // why unknown (required then), or a note
};
struct UseRule {
  std::string id, name, english;
  std::vector<std::string> aliases;  // other names a plan may give
  bool part = false;                 // a part of a building: its floor area is never the whole 延べ面積
  std::string note;
  std::map<std::string, UseCell> districts;  // UseDistrict code -> cell
};
// uses.clauses.CODE
struct UseClause {
  std::string article;     // 建築基準法第48条第1項
  std::string table;       // 別表第2(い)項
  bool permitted = false;  // the 項 lists what may be built (い, ろ, は, ち); else what may not
};
// uses.buildingUsage.CODE: a PLATEAU bldg:usage code
struct UsageMapping {
  std::string name;               // the code's name (住宅)
  std::vector<std::string> uses;  // use ids
  bool all = false;               // allOf: the building holds every one; else anyOf: it is one of them
  std::string why;                // no uses: why none can be told
};
struct UseRules : Titled {
  UseRules() { title = "用途制限 use restriction", article = "建築基準法第48条, 別表第2"; }
  std::map<std::string, UseClause> clauses;  // UseDistrict code -> clause
  std::vector<UseRule> list;                 // empty: the rules file has no uses section
  std::map<std::string, UsageMapping> buildingUsage;
  // The use with this id, name or alias (spaces around ignored), or null.
  const UseRule* find(const std::string& idOrName) const;
  // The mapping of a bldg:usage value: its code or its code's name, or null.
  const UsageMapping* usage(const std::string& codeOrName) const;
};

struct RulesFile {
  std::string name, version;
  double floorHeight = 3;  // m per storey for floor areas estimated from heights
  // The lowest plausible storey height (m): an estimate from a height may hold up to
  // ceil(height / this) storeys, and is decided only where that whole range agrees.
  double minStoreyHeight = 2.5;
  std::map<std::string, std::map<std::string, DistrictRule>> districts;  // kind -> code -> rule
  CoverageRules coverage;
  FloorAreaRules floorArea;
  HeightRules height;
  Titled minimumSiteArea;
  ShadowRules shadow;
  // 接道義務 (法43条1項): at least minFrontage m on a road of minWidth m or more (法42条).
  struct Access : Titled {
    double minFrontage = 2, minWidth = 4;
  } access{{"接道義務 road frontage", "建築基準法第43条第1項, 第42条"}, 2, 4};
  std::vector<ProcedureRule> procedures;
  UseRules uses;  // 用途制限 (法48条, 別表第2)

  // The entry of a district kind and code, or of the kind's "*" entry (any code), or null.
  const DistrictRule* district(const std::string& kind, const std::string& code) const;
};

// The variables conditions may name (docs/rules.md): a condition naming another is an error.
const std::vector<std::string>& conditionVariables();

}  // namespace twin::landuse
