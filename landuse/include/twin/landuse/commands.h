#pragma once
// The land-use commands as library functions: `twin parcels|zoning|buildings|roads import`,
// `twin check`, `twin envelope` and `twin procedures` (tools/twin) and the server's API call
// these. They return results with diagnostics and throw nothing: a store that fails (cannot be
// opened, a lost connection) gives an error diagnostic "store-error".

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/landuse/import.h"
#include "twin/landuse/report.h"
#include "twin/landuse/site.h"
#include "twin/reader.h"

namespace twin::landuse {

// Opens (creating when missing) a GeoPackage path or a postgresql:// URI.
Result<std::unique_ptr<Store>> openStore(const std::string& uri);

// ---- imports ----------------------------------------------------------------------------------

struct ImportRun {
  ImportStats stats;
  size_t files = 0;                      // files read
  std::vector<std::string> failedFiles;  // files the reader could not finish: nothing of them stored
};
// Reads every input (each with its format's reader) into the store, one transaction per file: a
// file that fails leaves nothing behind, files already imported stay. `read` gives the CRS
// override and cancellation (its object types are those of options.kind). `onFile(i, n, uri)` is
// called before each file. Fails only when the store fails.
Result<ImportRun> importFiles(Store& store, const std::vector<InputFile>& inputs, const ImportOptions& options,
                              ReadOptions read, DiagnosticSink& diag,
                              const std::function<void(size_t, size_t, const std::string&)>& onFile = {});

// ---- sites ------------------------------------------------------------------------------------

// The site a user names (an id, 地番, "大字名 地番" or 不動産番号; several joined with '+'), with its
// districts and front roads; the links computed on the way are kept. Without a site: `error`
// says which part matched nothing, or several (then `candidates`).
struct SiteLookup {
  std::optional<Site> site;
  std::string error;
  std::vector<Parcel> candidates;
};
SiteLookup lookupSite(Store& store, const std::string& parcels);

// ---- check ------------------------------------------------------------------------------------

// Which buildings to check: the ids given, else those on `parcel`, else every building.
struct CheckSelection {
  std::vector<std::string> buildings;
  std::string parcel;
};
struct CheckRun {
  uint64_t sites = 0, buildings = 0;       // reported
  std::map<std::string, uint64_t> counts;  // sites by verdict: pass, fail, unknown
};
// Checks the sites of the selected buildings (each site once, with every building on it, see
// SiteCheck) and writes the report to `out` site by site (memory does not grow with their
// number). Links computed on the way are committed 1,000 buildings at a time. `onProgress(n)` is
// called every 100 buildings. Errors: no-such-building, parcel-not-found, store-empty, store-error.
Result<CheckRun> checkBuildings(Store& store, const RuleSet& rules, const CheckSelection& which, ReportFormat format,
                                std::ostream& out, const std::atomic<bool>* cancel = nullptr,
                                const std::function<void(uint64_t)>& onProgress = {});
// The same into a file, which appears only when complete (fs::StagedFile).
Result<CheckRun> checkBuildingsToFile(Store& store, const RuleSet& rules, const CheckSelection& which,
                                      ReportFormat format, const std::string& path,
                                      const std::atomic<bool>* cancel = nullptr,
                                      const std::function<void(uint64_t)>& onProgress = {});

// ---- envelope ---------------------------------------------------------------------------------

struct EnvelopeRun {
  Site site;
  EnvelopeResult envelope;
  double ground = 0;         // the site's ground height (orthometric, m)
  std::string groundSource;  // where it came from
};
// The envelope of a site (drawn as `options` say), standing on `ground` (NaN: the lowest base of
// the buildings on the site, else 0, said in groundSource).
Result<EnvelopeRun> envelopeOf(Store& store, const RuleSet& rules, const Site& site,
                               const EnvelopeOptions& options = {}, double ground = NAN);
// Gives `options` the store's districts for 日影規制 per district (法56条の2第4項・第5項) and the
// ground of the land the shadow falls on (令135条の12第1項2号), for a site standing on `ground` (NaN:
// unknown, nothing raised). `store` and `site` must outlive the envelope drawn with `options`.
void shadowSurroundings(Store& store, const Site& site, double ground, EnvelopeOptions& options);

// ---- procedures -------------------------------------------------------------------------------

// A planned project, as `twin procedures --plan` and POST /api/parcels/{id}/procedures give it:
// a JSON object or key=value pairs separated by commas, with the keys use, floor_area,
// building_area, height, storeys, development_area, earthwork_area (numbers: m², m), signage,
// new_building (true/false, yes/no), and for 用途制限 (RuleSet::checkUse) use_floor_area,
// workshop_area, seating_area (m²) and use_floor (the highest floor of the use part). `use` is kept
// as given: an id, name or alias of the rules file's uses. Errors name the key: plan-unknown-key,
// plan-bad-value.
Result<Plan> parsePlan(const std::string& text);

// ---- shadow (日影規制) ----------------------------------------------------------------------------

struct ShadowSiteRun {
  Site site;
  RuleSet::ShadowRun run;
  std::vector<std::string> buildings;  // ids of the buildings whose shadow it is ("planned" for a plan)
};
// A planned building: a prism over `ring` (empty: the whole site) of `height` m, `storeys` storeys.
struct PlannedSolid {
  Ring ring;
  double height = 0;
  int storeys = -1;
};
// The shadow-time map of the buildings standing on a site (most of their footprint on it) or of
// a planned building, checked against the 日影規制 the data designates (or `designation`).
Result<ShadowSiteRun> shadowOfSite(Store& store, const RuleSet& rules, const Site& site,
                                   const std::optional<ShadowDesignation>& designation = {},
                                   const std::optional<PlannedSolid>& planned = {}, double stepMinutes = 1,
                                   double cell = 1);
// 天空率 (法56条7項) of the buildings on a site, or of a planned one, against the conforming buildings
// of 道路斜線, 隣地斜線 and 北側斜線 at the measurement points of 令135条の9〜11.
struct SkySiteRun {
  Site site;
  std::vector<RuleSet::SkyCheck> checks;  // road, adjacent, north
  std::vector<std::string> buildings;
};
Result<SkySiteRun> skyFactorOfSite(Store& store, const RuleSet& rules, const Site& site,
                                   const std::optional<PlannedSolid>& planned = {},
                                   const EnvelopeOptions& options = {});
// What the shadow check does not model (令135条の12 relaxations, 法56条の2第4項/5項, 平均地盤面).
const std::vector<std::string>& shadowNotModelledList();
// "4-2.5@4": hours beyond 5 m and 10 m, measuring height (m); empty when malformed.
std::optional<ShadowDesignation> shadowDesignationOf(const std::string& text);

}  // namespace twin::landuse
