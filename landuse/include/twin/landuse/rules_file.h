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
  std::string fire;  // fire districts: the value of site.fireDistrict (防火地域, 準防火地域)
  bool scenic = false;
  // What a district says of the planning area the site lies in: planningArea 都市計画区域 or
  // 準都市計画区域; areaClass (区域区分) 市街化区域, 市街化調整区域 or 非線引き.
  std::string planningArea, areaClass;
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
struct ProcedureRule {
  std::string id, name, english, article, why, whyNot;
  bool municipal = false;  // thresholds a municipality sets
  // "site" (default): needed for the project on the site; "contractor": a licence of whoever
  // builds it, not of the site — shown as such, never "required".
  std::string appliesTo = "site";
  Condition when;
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
  std::vector<ProcedureRule> procedures;

  // The entry of a district kind and code, or of the kind's "*" entry (any code), or null.
  const DistrictRule* district(const std::string& kind, const std::string& code) const;
};

// The variables conditions may name (docs/rules.md): a condition naming another is an error.
const std::vector<std::string>& conditionVariables();

}  // namespace twin::landuse
