// The land-use commands as library functions (see commands.h).
#include "twin/landuse/commands.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "eval.h"
#include "shadow_apply.h"
#include "twin/fsutil.h"

namespace twin::landuse {

namespace {

template <class T>
Result<T> storeFailure(const StoreError& e) {
  return Result<T>::failure("store-error", e.what());
}

}  // namespace

Result<std::unique_ptr<Store>> openStore(const std::string& uri) {
  try {
    Result<std::unique_ptr<Store>> r;
    r.value = Store::open(uri);
    return r;
  } catch (const StoreError& e) {
    return storeFailure<std::unique_ptr<Store>>(e);
  }
}

Result<ImportRun> importFiles(Store& store, const std::vector<InputFile>& inputs, const ImportOptions& options,
                              ReadOptions read, DiagnosticSink& diag,
                              const std::function<void(size_t, size_t, const std::string&)>& onFile) {
  ReadOptions kinds = readOptionsFor(options.kind);
  read.objectTypes = kinds.objectTypes;
  try {
    ImportRun run;
    ImportSink sink(store, options, diag);
    for (size_t i = 0; i < inputs.size() && !(read.cancel && read.cancel->load()); ++i) {
      const InputFile& in = inputs[i];
      if (onFile) onFile(i, inputs.size(), in.uri);
      ++run.files;
      // A file the reader could not finish (truncated, malformed) leaves nothing half-imported.
      if (!sink.readFile(in.uri, *in.format->create(), read)) run.failedFiles.push_back(in.uri);
    }
    run.stats = sink.stats();
    Result<ImportRun> r;
    r.value = std::move(run);
    return r;
  } catch (const StoreError& e) {
    return storeFailure<ImportRun>(e);
  }
}

SiteLookup lookupSite(Store& store, const std::string& parcels) {
  SiteLookup out;
  try {
    auto q = findSiteParcels(store, parcels);
    if (!q.error.empty()) {
      out.error = q.error;
      out.candidates = std::move(q.candidates);
      return out;
    }
    Site site;
    store.transaction([&] { site = siteOf(store, q.parcels); });
    out.site = std::move(site);
  } catch (const StoreError& e) {
    out.error = e.what();
  }
  return out;
}

Result<CheckRun> checkBuildings(Store& store, const RuleSet& rules, const CheckSelection& which, ReportFormat format,
                                std::ostream& out, const std::atomic<bool>* cancel,
                                const std::function<void(uint64_t)>& onProgress) {
  using R = Result<CheckRun>;
  try {
    if (store.crs().empty())
      return R::failure("store-empty", "the store is empty: import buildings, parcels and zoning first");
    // The buildings named must all exist before anything is written.
    std::vector<Building> named;
    for (auto& id : which.buildings) {
      auto b = store.building(id);
      if (!b) return R::failure("no-such-building", "no building '" + id + "' in the store");
      named.push_back(std::move(*b));
    }
    std::vector<Parcel> onParcels;
    if (named.empty() && !which.parcel.empty()) {
      auto q = findSiteParcels(store, which.parcel);
      if (!q.error.empty()) {
        std::string msg = q.error;
        for (auto& p : q.candidates) msg += "\n  " + p.id + "  " + p.locality + " " + p.chiban;
        return R::failure("parcel-not-found", msg);
      }
      onParcels = std::move(q.parcels);
    }
    CheckReport report(out, format, store.crs(), rules.name());
    CheckRun run;
    // Links computed on the way are written in batches of 1,000 buildings.
    store.begin();
    uint64_t seen = 0;
    // Each site once: the whole store in id order reports a site at its first building (its other
    // buildings find it again and skip it, so memory stays flat); named buildings and the buildings
    // on a parcel report each distinct site once.
    std::set<std::string> reported;
    auto one = [&](const Building& b, bool streaming) {
      SiteCheck c = checkSite(store, rules, b);
      const std::string& first = c.buildings.front().id;
      bool fresh = streaming ? first == b.id : reported.insert(first).second;
      if (fresh) {
        report.add(c);
        ++run.sites;
        run.buildings += c.buildings.size();
      }
      if (++seen % 1000 == 0) {
        store.commit();
        store.begin();
      }
      if (onProgress && seen % 100 == 0) onProgress(seen);
    };
    if (!named.empty()) {
      for (auto& b : named) one(b, false);
    } else if (!onParcels.empty()) {
      for (auto& p : onParcels)
        for (auto& b : store.buildingsIn(bounds(p.geom)))
          if (intersectionArea(b.footprint, p.geom) > 0.5) one(b, false);
    } else {
      store.forEachBuilding([&](Building&& b) {
        if (!(cancel && cancel->load())) one(b, true);
      });
    }
    store.commit();
    report.finish();
    run.counts = report.counts();
    R r;
    r.value = std::move(run);
    return r;
  } catch (const StoreError& e) {
    try {
      store.rollback();
    } catch (const StoreError&) {
    }
    return storeFailure<CheckRun>(e);
  }
}

Result<CheckRun> checkBuildingsToFile(Store& store, const RuleSet& rules, const CheckSelection& which,
                                      ReportFormat format, const std::string& path, const std::atomic<bool>* cancel,
                                      const std::function<void(uint64_t)>& onProgress) {
  fs::StagedFile file(path);
  std::string error;
  if (!file.open(error)) return Result<CheckRun>::failure("report-unwritable", error, path);
  auto r = checkBuildings(store, rules, which, format, file.stream(), cancel, onProgress);
  if (r && !file.commit(error)) return Result<CheckRun>::failure("report-unwritable", error, path);
  return r;  // on failure the partial file goes with `file`
}

Result<EnvelopeRun> envelopeOf(Store& store, const RuleSet& rules, const Site& site, const EnvelopeOptions& options,
                               double ground) {
  try {
    EnvelopeRun run;
    run.site = site;
    run.ground = ground;
    run.groundSource = "given";
    if (!std::isfinite(run.ground)) {
      run.ground = siteGroundHeight(store, site);
      run.groundSource = "lowest base of the buildings on the site";
    }
    EnvelopeOptions o = options;
    if (!given(o.groundHeight)) o.groundHeight = run.ground;  // NaN: unknown (the planes say so)
    neighbourGrounds(store, run.site);                        // 令135条の3, 135条の4
    shadowSurroundings(store, run.site, o.groundHeight, o);   // 法56条の2第5項, 令135条の12第1項2号
    run.envelope = rules.envelope(run.site, o);
    if (!std::isfinite(run.ground)) {
      run.ground = 0;
      run.groundSource = "0 m (no building on the site gives a ground height)";
    }
    Result<EnvelopeRun> r;
    r.value = std::move(run);
    return r;
  } catch (const StoreError& e) {
    return storeFailure<EnvelopeRun>(e);
  }
}

std::optional<ShadowDesignation> shadowDesignationOf(const std::string& text) { return parseShadowDesignation(text); }
const std::vector<std::string>& shadowNotModelledList() { return shadowNotModelled(); }

namespace {
// The solids standing on a site: a planned prism, or the buildings most of whose footprint is on
// it (footprint × height). Fills `ids`; false with `missing` when a building has no height.
bool siteSolids(Store& store, const Site& site, const std::optional<PlannedSolid>& planned, std::vector<Solid>& solids,
                std::vector<std::string>& ids, double& tallest, int& storeys, std::string& missing) {
  tallest = kNone;
  storeys = -1;
  if (planned) {
    Ring ring = planned->ring;
    if (ring.empty() && !site.geom.empty()) ring = site.geom[0].outer;
    solids.push_back({ring, 0, planned->height});
    tallest = planned->height;
    storeys = planned->storeys;
    ids.push_back("planned");
    return true;
  }
  if (site.geom.empty()) return true;
  for (auto& b : store.buildingsIn(bounds(site.geom))) {
    if (b.footprint.empty() || !(b.buildingArea > 0)) continue;
    double on = area(intersection(b.footprint, site.geom));
    if (on < 0.5 * b.buildingArea) continue;
    if (!given(b.height)) {
      missing = "building '" + b.id + "' on the site has no height";
      return false;
    }
    for (auto& poly : b.footprint) solids.push_back({poly.outer, 0, b.height});
    if (!given(tallest) || b.height > tallest) tallest = b.height, storeys = b.storeysAbove;
    ids.push_back(b.id);
  }
  return true;
}
}  // namespace

namespace {

// 令135条の12第1項2号: where the site's 平均地表面 is H ≥ 1 m below the ground of the land its shadow falls
// on (the lowest base of the buildings on each parcel the shadow reaches on the ground, or a road's
// surface), the site's ground is deemed (H − 1) / 2 higher; the lowest such land counts. 0 and `why`
// when any land the shadow falls on has no ground in the data (then nothing is raised: stricter).
double shadowGroundLift(Store& store, const Site& site, const std::vector<Solid>& solids, double ground,
                        std::string& why) {
  if (!given(ground) || !given(site.latitude)) {
    why = "the site's ground is not in the data";
    return 0;
  }
  ShadowSettings st;
  st.latitude = site.latitude;
  st.gridNorth = site.gridNorth;
  st.cell = 2;
  st.stepMinutes = 10;
  const ShadowMap m = shadowTimes(solids, 0, st);  // on the ground: the widest shadow of any plane
  const Box2 box{m.x0, m.y0, m.x0 + m.nx * m.cell, m.y0 + m.ny * m.cell};
  struct Land {
    std::string what;
    MultiPoly geom;
    Box2 b;
    double ground = kNone;
    bool known = false;  // ground looked up
    bool road = false;
  };
  std::vector<Land> lands;
  for (auto& p : store.parcelsIn(box)) {
    bool own = false;
    for (auto& q : site.parcels) own = own || q.id == p.id;
    if (!own) lands.push_back({"parcel '" + p.id + "'", p.geom, bounds(p.geom)});
  }
  for (auto& r : store.roadsIn(box)) {
    Land l{"road '" + r.id + "'", r.geom, bounds(r.geom), r.levelMin, true, true};
    lands.push_back(std::move(l));
  }
  double lowest = INFINITY;
  std::string lowestWhat;
  for (int j = 0; j < m.ny; ++j)
    for (int i = 0; i < m.nx; ++i) {
      if (!(m.at(i, j) > 0)) continue;
      const P2 q{m.x0 + (i + 0.5) * m.cell, m.y0 + (j + 0.5) * m.cell};
      if (contains(site.geom, q)) continue;
      Land* hit = nullptr;
      for (auto& l : lands)
        if (q[0] >= l.b.minx && q[0] <= l.b.maxx && q[1] >= l.b.miny && q[1] <= l.b.maxy && contains(l.geom, q)) {
          hit = &l;
          break;
        }
      if (!hit) {
        why = "the shadow falls on land in no parcel or road of the store (at " + eval::num(q[0]) + ", " +
              eval::num(q[1]) + ")";
        return 0;
      }
      if (!hit->known) {
        hit->known = true;
        for (auto& b : store.buildingsIn(hit->b))
          if (std::isfinite(b.groundHeight) && intersectionArea(b.footprint, hit->geom) > 0.5 &&
              (!given(hit->ground) || b.groundHeight < hit->ground))
            hit->ground = b.groundHeight;
      }
      if (!given(hit->ground)) {
        why = hit->what + ", which the shadow falls on, has no ground in the data";
        return 0;
      }
      if (hit->ground < lowest) lowest = hit->ground, lowestWhat = hit->what;
    }
  if (!std::isfinite(lowest)) return 0;
  const double h = lowest - ground;
  if (h < 1) return 0;
  why = lowestWhat + " at " + eval::num(lowest) + " m against the site's " + eval::num(ground) +
        " m, the lowest land "
        "the shadow falls on";
  return (h - 1) / 2;
}

}  // namespace

void shadowSurroundings(Store& store, const Site& site, double ground, EnvelopeOptions& options) {
  if (!options.shadowDistricts) options.shadowDistricts = [&store](const Box2& b) { return store.districtsIn(b); };
  if (!options.shadowGroundLift)
    options.shadowGroundLift = [&store, &site, ground](const std::vector<Solid>& solids, std::string& why) {
      return shadowGroundLift(store, site, solids, ground, why);
    };
}

Result<ShadowSiteRun> shadowOfSite(Store& store, const RuleSet& rules, const Site& site,
                                   const std::optional<ShadowDesignation>& designation,
                                   const std::optional<PlannedSolid>& planned, double stepMinutes, double cell) {
  try {
    ShadowSiteRun out;
    out.site = site;
    std::vector<Solid> solids;
    double tallest = kNone;
    int storeys = -1;
    std::string missing;
    Result<ShadowSiteRun> r;
    if (!siteSolids(store, site, planned, solids, out.buildings, tallest, storeys, missing)) {
      out.run.result.rule = "shadow";
      out.run.result.verdict = Verdict::Unknown;
      out.run.result.reason = "cannot decide: " + missing;
    } else if (solids.empty()) {
      out.run.result.rule = "shadow";
      out.run.result.verdict = Verdict::Pass;
      out.run.result.reason = "no building on the site: no shadow";
    } else {
      // The regulated districts its shadow can reach (法56条の2第4項・第5項): the longest shadows, on the ground.
      std::vector<District> around;
      if (given(site.latitude)) {
        ShadowSettings reachOf;
        reachOf.latitude = site.latitude;
        reachOf.gridNorth = site.gridNorth;
        for (auto& d : store.districtsIn(shadowReach(solids, 0, reachOf)))
          if (d.kind == "ShadeRegulation" || d.kind == "UseDistrict") around.push_back(std::move(d));
      }
      std::string why;
      const double lift = shadowGroundLift(store, site, solids, siteGroundHeight(store, site), why);
      out.run = rules.shadowOf(site, solids, tallest, storeys, designation, stepMinutes, cell, around, lift);
      if (lift > 0)
        out.run.result.reason += "; 令135条の12第1項2号: " + why;
      else if (!why.empty() && out.run.result.verdict == Verdict::Fail)
        out.run.result.reason +=
            "; 令135条の12第1項2号 (a site 1 m or more below the land its shadow falls on) not "
            "applied: " +
            why;
    }
    r.value = std::move(out);
    return r;
  } catch (const StoreError& e) {
    return storeFailure<ShadowSiteRun>(e);
  }
}

Result<SkySiteRun> skyFactorOfSite(Store& store, const RuleSet& rules, const Site& site,
                                   const std::optional<PlannedSolid>& planned, const EnvelopeOptions& options) {
  try {
    SkySiteRun out;
    out.site = site;
    std::vector<Solid> solids;
    double tallest = kNone;
    int storeys = -1;
    std::string missing;
    Result<SkySiteRun> r;
    if (!siteSolids(store, site, planned, solids, out.buildings, tallest, storeys, missing)) {
      for (const char* rule : {"sky-factor-road", "sky-factor-adjacent", "sky-factor-north"}) {
        RuleSet::SkyCheck c;
        c.result.rule = rule;
        c.result.verdict = Verdict::Unknown;
        c.result.reason = "cannot decide: " + missing;
        out.checks.push_back(std::move(c));
      }
    } else {
      EnvelopeOptions o = options;
      if (!given(o.groundHeight)) o.groundHeight = siteGroundHeight(store, site);  // 令135条の2, 135条の9
      neighbourGrounds(store, out.site);  // the conforming buildings' 令135条の3, 135条の4
      out.checks.push_back(rules.skyFactorRoad(out.site, solids, o));
      out.checks.push_back(rules.skyFactorAdjacent(out.site, solids, o));
      out.checks.push_back(rules.skyFactorNorth(out.site, solids, o));
    }
    r.value = std::move(out);
    return r;
  } catch (const StoreError& e) {
    return storeFailure<SkySiteRun>(e);
  }
}

Result<Plan> parsePlan(const std::string& text) {
  using R = Result<Plan>;
  using nlohmann::json;
  // Either a JSON object or key=value pairs; both become one JSON object first.
  json j;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return R::failure("plan-malformed", "the plan must be a JSON object");
  } else {
    j = json::object();
    std::stringstream ss(text);
    std::string kv;
    while (std::getline(ss, kv, ',')) {
      if (kv.empty()) continue;
      auto eq = kv.find('=');
      std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "yes" : kv.substr(eq + 1);
      j[k] = v;  // typed below
    }
  }
  Plan p;
  static const char* kKeys =
      "use, floor_area, building_area, height, storeys, development_area, earthwork_area, signage, new_building, "
      "use_floor_area, workshop_area, seating_area, use_floor";
  for (auto& item : j.items()) {
    const std::string key = item.key();
    const json& v = item.value();
    std::string k = key;
    for (auto& c : k)
      if (c == '-') c = '_';  // floor-area and floor_area are one key
    auto bad = [&](const std::string& what) { return R::failure("plan-bad-value", "plan: " + key + ": " + what); };
    auto number = [&](double& out) -> bool {
      if (v.is_null()) return true;
      if (v.is_number()) return out = v.get<double>(), std::isfinite(out);
      if (!v.is_string()) return false;
      std::string s = v.get<std::string>();
      char* e = nullptr;
      out = std::strtod(s.c_str(), &e);
      return !s.empty() && e && !*e && std::isfinite(out);
    };
    auto flag = [&](bool& out) -> bool {
      if (v.is_boolean()) return out = v.get<bool>(), true;
      if (!v.is_string()) return false;
      std::string s = v.get<std::string>();
      if (s == "yes" || s == "true" || s == "1") return out = true, true;
      if (s == "no" || s == "false" || s == "0") return out = false, true;
      return false;
    };
    if (k == "use") {
      if (!v.is_string()) return bad("must be text: a use's id or name (house, 共同住宅, 事務所, ...)");
      p.use = v.get<std::string>();
    } else if (k == "floor_area" || k == "building_area" || k == "height" || k == "development_area" ||
               k == "earthwork_area" || k == "use_floor_area" || k == "workshop_area" || k == "seating_area") {
      double& out = k == "floor_area"         ? p.floorArea
                    : k == "building_area"    ? p.buildingArea
                    : k == "height"           ? p.height
                    : k == "development_area" ? p.developmentArea
                    : k == "use_floor_area"   ? p.useFloorArea
                    : k == "workshop_area"    ? p.workshopArea
                    : k == "seating_area"     ? p.seatingArea
                                              : p.earthworkArea;
      if (!number(out) || (given(out) && out < 0)) return bad("must be a number of 0 or more");
    } else if (k == "storeys") {
      double d = kNone;
      if (!number(d) || (given(d) && (d < 0 || d != std::floor(d) || d > 1000)))
        return bad("must be a whole number of storeys");
      p.storeys = given(d) ? int(d) : -1;
    } else if (k == "use_floor") {
      double d = kNone;
      if (!number(d) || (given(d) && (d < 0 || d != std::floor(d) || d > 1000)))
        return bad("must be a whole number: the highest floor the use part is on");
      p.useFloor = given(d) ? int(d) : -1;
    } else if (k == "signage" || k == "new_building") {
      if (!flag(k == "signage" ? p.signage : p.newBuilding)) return bad("must be true or false (yes or no)");
    } else {
      return R::failure("plan-unknown-key", "plan: unknown key '" + key + "' (" + kKeys + ")");
    }
  }
  R r;
  r.value = std::move(p);
  return r;
}

}  // namespace twin::landuse
