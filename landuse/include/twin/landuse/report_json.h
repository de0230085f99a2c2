#pragma once
// Rule results as JSON objects, for the API, the viewer and `--format json`: built once here; the
// server adds what it knows and serialises once. Only what writes JSON includes this header (it
// brings nlohmann/json.hpp).
#include <nlohmann/json.hpp>
#include <vector>

#include "twin/landuse/site.h"

namespace twin::landuse {

nlohmann::json toJson(const RuleResult& r);
// {"building", "site" (with "buildings": each building of the site and its part of the totals),
//  "verdict", "results" (the site's, then the building's own)}
nlohmann::json toJson(const BuildingCheck& c);
// {"site" (with "buildings"), "verdict", "results" (the site's), "buildings": [{"building", "verdict", "results"}]}
nlohmann::json toJson(const SiteCheck& c);
// {"parcels", "area", "districts", "front_road_width", "front_road_source"}
nlohmann::json toJson(const Site& s);
// Districts with their share and limits.
nlohmann::json toJson(const std::vector<DistrictShare>& ds);
// {"site", "site_area", "max_building_area", "max_floor_area", "max_height", "mesh_top", "capped", "limits", "notes"}
nlohmann::json envelopeToJson(const EnvelopeResult& e, const Site& site);
// How 日影規制 entered an envelope or a check (null when it did not).
nlohmann::json shadowPartToJson(const ShadowPart& s);
// A shadow check (twin shadow, GET /api/parcels/{id}/shadow): the result, how it was computed and
// the shadow-time map: hours per cell, rows from the south, cell centres at
// (x0 + (i + 0.5) cell, y0 + (j + 0.5) cell) in `crs`.
struct ShadowSiteRun;
nlohmann::json shadowToJson(const ShadowSiteRun& run, const std::string& crs, bool withMap = true);
// A 天空率 comparison (twin sky, GET /api/parcels/{id}/sky-factor): per slant plane the result and
// every measurement point (x, y in the store CRS, the plan's and the conforming building's factor).
struct SkySiteRun;
nlohmann::json skyToJson(const SkySiteRun& run);
// {"site", "procedures"}, and "checks" (rule results such as RuleSet::checkUse's) when given.
nlohmann::json proceduresToJson(const std::vector<ProcedureNeed>& ps, const Site& site,
                                const std::vector<RuleResult>& checks = {});

}  // namespace twin::landuse
