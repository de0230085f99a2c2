#pragma once
// Which 日影規制 applies to a site (not installed): the buildings subject by its use district
// (別表第4 (い)(ろ)欄) and the ordinance's designation (given, or a ShadeRegulation district).
#include <optional>
#include <string>
#include <vector>

#include "twin/landuse/rules.h"

namespace twin::landuse {

struct ShadowApplication {
  const ShadowRules::Subject* subject = nullptr;  // null: not subject here (or unknown: see missing)
  std::string district;                           // the use district it was read from
  std::string subjectText;                        // "buildings higher than 10 m (別表第4(ろ)欄)"
  std::optional<ShadowDesignation> designation;
  std::vector<std::string> notes;
  std::string missing;  // what the data lacks to apply it
};

ShadowApplication shadowApplication(const RulesFile& f, const Site& site,
                                    const std::optional<ShadowDesignation>& given);

// The boundary the 5 m and 10 m lines are drawn from (令135条の12第1項1号): along a road of width W
// the site boundary is deemed W / 2 outward, or, for W over 10 m, 5 m short of the road's far side
// (W − 5 outward); the same beside a river, the sea or the like (an OpenSpace whose rule has
// openSpace.shadow) along the whole edge. Roads of unknown width are not moved (stricter), said in
// `notes`, as open spaces that earn nothing.
MultiPoly shadowLinesBoundary(const RulesFile& f, const Site& site, std::vector<std::string>& notes);

// A regulated district's part within a shadow's reach (法56条の2第5項, 令135条の13).
struct ShadowDistrictPart {
  const District* district = nullptr;
  ShadowDesignation d;  // ShadeRegulation parts: its designation
  MultiPoly geom;       // clipped to the reach
  Box2 box;
  bool holds(const P2& c) const;
};
// The ShadeRegulation parts of `around` within `reach`, strictest first (a point in several is
// read under the first); the UseDistrict parts into `uses`. Codes the rules file cannot read are
// said in `notes` and left out.
std::vector<ShadowDistrictPart> shadowDistrictParts(const RulesFile& f, const std::vector<District>& around,
                                                    const Box2& reach, std::vector<ShadowDistrictPart>* uses,
                                                    std::vector<std::string>& notes);

// "4-2.5@4": hours beyond 5 m, beyond 10 m, measuring height; empty when malformed.
std::optional<ShadowDesignation> parseShadowDesignation(const std::string& text);

// What 日影規制 does not model (listed with every result that uses it).
const std::vector<std::string>& shadowNotModelled();

}  // namespace twin::landuse
