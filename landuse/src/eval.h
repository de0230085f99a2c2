#pragma once
// What the rule evaluations share (not installed): number formatting, three-valued conditions
// over variables, the variables of a site, and the area-weighted coverage and floor-area limits.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "twin/landuse/rules.h"
#include "twin/landuse/rules_file.h"

namespace twin::landuse::eval {

// A number with at most `decimals` decimals, trailing zeros dropped ("?" when not finite).
std::string num(double v, int decimals = 2);
std::string pct(double ratio);  // "60 %"
std::string joined(const std::set<std::string>& xs);
std::string joined(const std::vector<std::string>& xs);  // in their order, ", " between

// Three-valued logic for conditions over variables that may be missing.
enum class Tri { False, True, Unknown };
using Vars = std::map<std::string, Value>;
// Evaluates `c`; the variables it needed and did not find go to `missing`.
Tri evaluate(const Condition& c, const Vars& vars, std::set<std::string>& missing);

// "'id' (name)" of a district for messages.
std::string label(const RulesFile& f, const District& d);
// The site.* variables of a site (docs/rules.md).
Vars siteVars(const RulesFile& f, const Site& s);
std::vector<const DistrictShare*> ofKind(const std::vector<DistrictShare>& ds, const char* kind);

// An area-weighted limit over the site's use districts.
struct RateParts {
  double limit = 0;      // Σ share × rate over districts with a rate (bonuses whose data is known)
  double limitHigh = 0;  // the same with every bonus or exemption whose data is missing applied
  double covered = 0;    // Σ share over use districts
  std::vector<std::string> missing, terms, notes;
  void note(const std::string& n);
};
// 建ぺい率: the designated rates with the file's bonuses and exemptions, per district part.
RateParts coverageLimit(const RulesFile& f, const Site& site, const Vars& base);
// 容積率: min(designated, front road width × factor) per district part. `upper` receives the
// limit without the road rule (an upper bound when the width is unknown).
RateParts floorAreaLimit(const RulesFile& f, const Site& site, double& upper);

// The fire resistance of the buildings on a site for the coverage bonuses: the least of them
// (その他 < 準耐火 < 耐火); "" (unknown) when one is unknown and none is その他.
std::string siteFireResistance(const std::vector<Building>& buildings);

// The values a building's total floor area may take: the figure itself when it is given; for an
// estimate from 建築面積 × storeys, building area × 1 to × storeys (no floor is larger than the
// building's horizontal projection); from a height, building area × 1 to × ceil(height /
// minStoreyHeight).
struct FloorAreaRange {
  double low = NAN, high = NAN;
  std::string how;
};
FloorAreaRange floorAreaRange(const RulesFile& f, const Building& b);

// The boundary edges of a site's outer rings, counter-clockwise, with the width of the road along
// each (from the site's frontage; NaN where none).
struct Edge {
  P2 a, b;
  double roadWidth = NAN;  // of the road along it, when known
  bool road = false;       // a road runs along it (its width may be unknown)
  std::string roadId;
  double levelMin = NAN, levelMax = NAN;  // the road's surface heights, when known
  // An open space beside the edge or (openAcross) opposite its road (Site::OpenSide).
  std::string openId, openCode;
  double openDepth = NAN;
  bool openAcross = false, openPartial = false;
};
std::vector<Edge> boundaryEdges(const Site& site);
// 法52条9項: a front road of 6 m up to 12 m within 70 m of a 特定道路 counts wider by (12 − W)(70 − L)
// / 70, L along the front road. The data gives the straight distance (L is at least that): the
// widest it may count (the front road's width where no 特定道路 is near).
double specialRoadWidth(const Site& site);
// 法42条2項: the part of the site a 2項道路 would take along each front road narrower than 4 m (to
// 2 m from its centre line, taken as the middle of the measured or given width); empty: none.
MultiPoly narrowRoadStrips(const Site& site);

}  // namespace twin::landuse::eval
