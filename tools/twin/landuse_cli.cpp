// Wiring of the land-use commands: parse flags, read inputs through the converters, call the
// planning module, print what happened.
#include "landuse_cli.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "environment.h"
#include "output.h"
#include "twin/converters/registry.h"
#include "twin/fsutil.h"
#include "twin/landuse/commands.h"
#include "twin/landuse/envelope_tiles.h"
#include "twin/landuse/import.h"
#include "twin/landuse/report.h"
#include "twin/landuse/report_json.h"
#include "twin/landuse/site.h"

namespace twincli {

using namespace twin::landuse;

namespace {

struct ImportCmd {
  CLI::App* cmd = nullptr;
  std::vector<std::string> inputs;
  std::string crs, storeCrs;
  ImportKind kind;
};

}  // namespace

struct LandUseCommands::State {
  std::atomic<bool>* cancel;
  std::string store, rulesPath;
  bool quiet = false;
  ImportCmd parcels, zoning, buildings, roads;
  ParcelFields parcelFields;
  ZoningFields zoningFields;
  std::vector<std::string> zoningMap;
  std::string rates = "auto", roadWidthField;
  CLI::App *permitsImport = nullptr, *permitsList = nullptr, *check = nullptr, *envelope = nullptr,
           *procedures = nullptr, *storeInfo = nullptr, *parcelsFind = nullptr, *shadow = nullptr, *sky = nullptr;
  std::string shadowDesignation, planRing, shadowJsonOut;
  double planHeight = NAN, shadowCell = 1, shadowStep = 1;
  int planStoreys = -1;
  std::string permitsFile, actor = "twin-cli", permitRef;
  std::vector<std::string> checkBuildings;
  std::string checkParcel, format = "table", out;
  std::string parcelArg, envelopeOut, envelopeJsonOut, geoid, plan;
  double cap = RuleSet::kDefaultEnvelopeCap, ground = NAN, setback = 0, adjacentSetback = 0;
  std::string findText;
  std::map<std::string, std::string> reader;  // reader settings by key (FormatRegistry::options)

  twin::DiagnosticCollector diag{200};

  std::unique_ptr<Store> openStore() {
    auto r = twin::landuse::openStore(store);
    if (!r) return printErrors(r.diagnostics), nullptr;
    return std::move(*r.value);
  }

  // Opens the store and runs `f` on it; store failures become a message and exit code 1.
  template <class F>
  int withStore(F&& f) {
    auto st = openStore();
    if (!st) return 1;
    try {
      return f(*st);
    } catch (const StoreError& e) {
      std::fprintf(stderr, "twin: %s\n", e.what());
      return 1;
    }
  }

  bool loadRules(RuleSet& rules) {
    std::string path = rulesPath.empty() ? defaultRulesPath() : rulesPath;
    auto r = RuleSet::load(path);
    if (!r.value) return printErrors(r.diagnostics), false;
    rules = std::move(*r.value);
    return true;
  }

  int runImport(ImportCmd& c) {
    diag.setEcho(&echoDiagnostic, &quiet, 20);
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    auto st = openStore();
    if (!st) return 1;
    ImportOptions o;
    o.kind = c.kind;
    o.storeCrs = c.storeCrs;
    o.parcelFields = parcelFields;
    o.zoningFields = zoningFields;
    o.zoningFields.rates = rates == "percent" ? ZoningFields::RateUnit::Percent
                           : rates == "ratio" ? ZoningFields::RateUnit::Ratio
                                              : ZoningFields::RateUnit::Auto;
    for (auto& m : zoningMap) {
      auto eq = m.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "twin: --field takes NAME=FIELD (got '%s')\n", m.c_str());
        return 2;
      }
      std::string k = m.substr(0, eq), v = m.substr(eq + 1);
      auto& f = o.zoningFields;
      if (k == "kind")
        f.kind = v;
      else if (k == "function" || k == "code")
        f.code = v;
      else if (k == "buildingCoverageRate")
        f.coverage = v;
      else if (k == "floorAreaRate")
        f.floorArea = v;
      else if (k == "buildingHeightLimits")
        f.heightLimit = v;
      else if (k == "maximumBuildingHeight")
        f.maxHeight = v;
      else if (k == "minimumBuildingHeight")
        f.minHeight = v;
      else if (k == "minimumSiteArea")
        f.minSiteArea = v;
      else {
        std::fprintf(stderr,
                     "twin: --field: unknown name '%s' (kind, function, buildingCoverageRate, floorAreaRate, "
                     "buildingHeightLimits, maximumBuildingHeight, minimumBuildingHeight, minimumSiteArea)\n",
                     k.c_str());
        return 2;
      }
    }
    o.roadWidthField = roadWidthField;
    o.rules = &rules;
    auto items = twin::converters::expandInputs(c.inputs, twin::converters::builtinFormats(), diag);
    if (items.empty()) {
      std::fprintf(stderr, "twin: no readable input\n");
      return 1;
    }
    twin::ReadOptions ro;
    ro.crsOverride = c.crs;
    ro.formatOptions = readerSettings(twin::converters::builtinFormats(), reader);
    ro.cancel = cancel;
    auto run = importFiles(*st, items, o, ro, diag, [&](size_t i, size_t n, const std::string& uri) {
      if (!quiet) std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, n, uri.c_str());
    });
    if (!run) return printErrors(run.diagnostics), 1;
    for (auto& f : run->failedFiles)
      std::fprintf(stderr, "twin: %s: not imported (see the errors above); nothing of it was stored\n", f.c_str());
    auto& s = run->stats;
    std::string by;
    for (auto& [k, n] : s.byType) by += (by.empty() ? "" : ", ") + std::to_string(n) + " " + k;
    std::printf("twin %s import: %llu stored (%s), %llu skipped, %llu errors, %llu warnings -> %s\n",
                importKindName(c.kind) == std::string("districts") ? "zoning" : importKindName(c.kind),
                static_cast<unsigned long long>(s.stored), by.empty() ? "-" : by.c_str(),
                static_cast<unsigned long long>(s.skipped), static_cast<unsigned long long>(diag.errorCount()),
                static_cast<unsigned long long>(diag.warningCount()), st->describe().c_str());
    if (s.stored == 0) return 1;
    return (diag.errorCount() || !run->failedFiles.empty()) ? 3 : 0;
  }

  // The site named by a parcel argument, linked to its districts and roads (links kept); prints
  // why when it names no single parcel.
  bool siteOfArg(Store& st, const std::string& arg, Site& site) {
    auto q = lookupSite(st, arg);
    if (!q.site) {
      std::fprintf(stderr, "twin: %s\n", q.error.c_str());
      for (auto& p : q.candidates)
        std::fprintf(stderr, "  %s  %s %s\n", p.id.c_str(), p.locality.c_str(), p.chiban.c_str());
      return false;
    }
    site = std::move(*q.site);
    return true;
  }

  int runCheck() {
    diag.setEcho(&echoDiagnostic, &quiet, 20);
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    ReportFormat f;
    if (!parseReportFormat(format, f)) {
      std::fprintf(stderr, "twin: --format must be table, csv, geojson, html or json\n");
      return 2;
    }
    auto st = openStore();
    if (!st) return 1;
    CheckSelection which{checkBuildings, checkParcel};
    const bool tty = isatty(STDERR_FILENO) && !quiet;
    auto progress = [&](uint64_t n) {
      if (tty) std::fprintf(stderr, "\r\033[Kchecked %llu buildings", static_cast<unsigned long long>(n));
    };
    auto r = out.empty() ? twin::landuse::checkBuildings(*st, rules, which, f, std::cout, cancel, progress)
                         : checkBuildingsToFile(*st, rules, which, f, out, cancel, progress);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (!r) return printErrors(r.diagnostics), 1;
    if (!out.empty()) {
      auto get = [&](const char* k) {
        auto it = r->counts.find(k);
        return static_cast<unsigned long long>(it == r->counts.end() ? 0 : it->second);
      };
      std::printf("twin check: %llu sites, %llu buildings: %llu pass, %llu fail, %llu unknown -> %s\n",
                  static_cast<unsigned long long>(r->sites), static_cast<unsigned long long>(r->buildings), get("pass"),
                  get("fail"), get("unknown"), out.c_str());
    }
    return diag.errorCount() ? 3 : 0;
  }

  int runEnvelope() {
    diag.setEcho(&echoDiagnostic, &quiet, 20);
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    return withStore([&](Store& st) {
      Site site;
      if (!siteOfArg(st, parcelArg, site)) return 1;
      EnvelopeOptions eo;
      eo.cap = cap;
      eo.roadSetback = setback;
      eo.adjacentSetback = adjacentSetback;
      if (!shadowDesignation.empty()) {
        eo.shadow = shadowDesignationOf(shadowDesignation);
        if (!eo.shadow) return badShadow(), 2;
      }
      auto run = envelopeOf(st, rules, site, eo, ground);
      if (!run) return printErrors(run.diagnostics), 1;
      const EnvelopeResult& e = run->envelope;
      std::string groundFrom = std::isfinite(ground) ? std::string("--ground") : run->groundSource;
      if (!std::isfinite(ground) && groundFrom.rfind("0 m", 0) == 0)
        groundFrom = "0 m (no building on the site gives a ground height; pass --ground H)";
      std::printf("Parcels: ");
      for (auto& p : site.parcels) std::printf("%s%s ", p.locality.c_str(), p.chiban.c_str());
      std::printf("(site %.2f m²)\n", site.area);
      for (auto& d : site.districts)
        std::printf("  %s %s %s: %.1f %% of the site\n", d.district.kind.c_str(), d.district.code.c_str(),
                    d.district.name.c_str(), d.share * 100);
      for (auto& r : e.limits)
        std::printf("%-40s %s\n    %s\n", r.title.c_str(),
                    std::isfinite(r.limit) ? (std::to_string(r.limit) + " " + r.unit).c_str() : "unknown",
                    (r.formula.empty() ? r.reason : r.formula + " — " + r.reason).c_str());
      for (auto& n : e.notes) std::printf("note: %s\n", n.c_str());
      std::printf("ground: %.2f m (%s)\n", run->ground, groundFrom.c_str());
      if (!envelopeOut.empty()) {
        twin::GeoidOptions go;
        go.gridFile = geoid;
        go.dataDir = dataDirFromEnvironment();
        auto glb = envelopeGlb(e, st.crs(), run->ground, go, diag);
        std::string err;
        if (glb.empty() || !twin::fs::writeFileAtomic(envelopeOut, glb.data(), glb.size(), err)) {
          std::fprintf(stderr, "twin: cannot write the envelope to %s\n", envelopeOut.c_str());
          return 1;
        }
        std::printf("envelope mesh: %zu triangles, top %.2f m -> %s\n", e.triangles.size() / 3, e.meshTop,
                    envelopeOut.c_str());
      }
      if (!envelopeJsonOut.empty()) {
        std::string j = envelopeToJson(e, site).dump();
        std::string err;
        if (!twin::fs::writeFileAtomic(envelopeJsonOut, j, err)) {
          std::fprintf(stderr, "twin: cannot write %s\n", envelopeJsonOut.c_str());
          return 1;
        }
      }
      return 0;
    });
  }

  void badShadow() {
    std::fprintf(stderr,
                 "twin: --shadow is L5-L10@H: hours allowed beyond 5 m and beyond 10 m, and the measuring height "
                 "in metres (e.g. 4-2.5@4), not '%s'\n",
                 shadowDesignation.c_str());
  }

  // A ring as "x,y x,y x,y ..." in the store CRS.
  static bool parseRing(const std::string& text, twin::Ring& ring) {
    std::stringstream ss(text);
    std::string pt;
    while (ss >> pt) {
      auto c = pt.find(',');
      if (c == std::string::npos) return false;
      char *e1 = nullptr, *e2 = nullptr;
      std::string a = pt.substr(0, c), b = pt.substr(c + 1);
      double x = std::strtod(a.c_str(), &e1), y = std::strtod(b.c_str(), &e2);
      if (a.empty() || b.empty() || *e1 || *e2 || !std::isfinite(x) || !std::isfinite(y)) return false;
      ring.push_back({x, y});
    }
    return ring.size() >= 3;
  }

  int runShadow() {
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    std::optional<ShadowDesignation> d;
    if (!shadowDesignation.empty()) {
      d = shadowDesignationOf(shadowDesignation);
      if (!d) return badShadow(), 2;
    }
    std::optional<PlannedSolid> planned;
    if (!plannedSolid(planned)) return 2;
    return withStore([&](Store& st) {
      Site site;
      if (!siteOfArg(st, parcelArg, site)) return 1;
      auto r = shadowOfSite(st, rules, site, d, planned, shadowStep, shadowCell);
      if (!r) return printErrors(r.diagnostics), 1;
      const RuleResult& res = r->run.result;
      std::printf("%s (%s): %s\n", res.title.c_str(), res.article.c_str(), verdictName(res.verdict));
      if (!res.formula.empty()) std::printf("  %s\n", res.formula.c_str());
      std::printf("  %s\n", res.reason.c_str());
      std::string of;
      for (auto& b : r->buildings) of += (of.empty() ? "" : ", ") + b;
      if (!of.empty()) std::printf("  shadow of: %s\n", of.c_str());
      if (r->run.part.applied)
        for (auto& n : shadowNotModelledList()) std::printf("  not modelled: %s\n", n.c_str());
      if (!shadowJsonOut.empty()) {
        std::string j = shadowToJson(*r, st.crs()).dump();
        std::string err;
        if (!twin::fs::writeFileAtomic(shadowJsonOut, j, err)) {
          std::fprintf(stderr, "twin: cannot write %s\n", shadowJsonOut.c_str());
          return 1;
        }
        std::printf("shadow-time map: %d × %d cells of %.2f m -> %s\n", r->run.map.nx, r->run.map.ny, r->run.map.cell,
                    shadowJsonOut.c_str());
      }
      return res.verdict == Verdict::Fail ? 3 : 0;
    });
  }

  // The planned prism of --plan-height / --plan-ring / --plan-storeys; false (after a message) when
  // malformed.
  bool plannedSolid(std::optional<PlannedSolid>& planned) {
    if (std::isfinite(planHeight)) {
      planned = PlannedSolid{};
      planned->height = planHeight;
      planned->storeys = planStoreys;
      if (!planRing.empty() && !parseRing(planRing, planned->ring)) {
        std::fprintf(stderr, "twin: --plan-ring is \"x,y x,y x,y ...\" in the store's CRS (3 points or more)\n");
        return false;
      }
    } else if (!planRing.empty()) {
      std::fprintf(stderr, "twin: --plan-ring needs --plan-height\n");
      return false;
    }
    return true;
  }

  int runSky() {
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    std::optional<PlannedSolid> planned;
    if (!plannedSolid(planned)) return 2;
    return withStore([&](Store& st) {
      Site site;
      if (!siteOfArg(st, parcelArg, site)) return 1;
      EnvelopeOptions eo;
      eo.roadSetback = setback;
      eo.adjacentSetback = adjacentSetback;
      auto r = skyFactorOfSite(st, rules, site, planned, eo);
      if (!r) return printErrors(r.diagnostics), 1;
      if (format == "json") {
        std::printf("%s\n", skyToJson(*r).dump().c_str());
        return 0;
      }
      std::string of;
      for (auto& b : r->buildings) of += (of.empty() ? "" : ", ") + b;
      std::printf("天空率 of: %s\n", of.empty() ? "(nothing on the site)" : of.c_str());
      for (auto& c : r->checks) {
        std::printf("%s (%s): %s\n", c.result.title.c_str(), c.result.article.c_str(), verdictName(c.result.verdict));
        if (!c.result.formula.empty()) std::printf("  %s\n", c.result.formula.c_str());
        std::printf("  %s\n", c.result.reason.c_str());
      }
      return 0;
    });
  }

  int runProcedures() {
    RuleSet rules;
    if (!loadRules(rules)) return 1;
    auto p = parsePlan(plan);
    if (!p) return printErrors(p.diagnostics), 2;
    return withStore([&](Store& st) {
      Site site;
      if (!siteOfArg(st, parcelArg, site)) return 1;
      auto needs = rules.procedures(site, *p);
      // 用途制限 (法48条) of the planned use, when the plan names one.
      std::vector<RuleResult> checks;
      if (!p->use.empty()) checks.push_back(rules.checkUse(site, *p));
      if (format == "json") {
        std::printf("%s\n", proceduresToJson(needs, site, checks).dump().c_str());
        return 0;
      }
      for (auto& c : checks)
        std::printf("%-18s %s — %s\n    %s\n", verdictName(c.verdict), c.title.c_str(), c.article.c_str(),
                    c.reason.c_str());
      for (auto& n : needs) {
        if (n.status == "not required") continue;
        std::printf("%-18s %s (%s) — %s\n    %s\n", n.status.c_str(), n.name.c_str(), n.english.c_str(),
                    n.article.c_str(), n.why.c_str());
      }
      size_t notReq = 0;
      for (auto& n : needs) notReq += n.status == "not required";
      std::printf("(%zu other procedures of the rules file do not apply)\n", notReq);
      return 0;
    });
  }

  int runPermitsImport() {
    diag.setEcho(&echoDiagnostic, &quiet, 20);
    return withStore([&](Store& st) {
      if (st.crs().empty()) {
        std::fprintf(stderr, "twin: the store is empty: import parcels or buildings first\n");
        return 1;
      }
      size_t n = importPermits(st, permitsFile, actor, diag);
      std::printf("twin permits import: %zu permits stored, %llu errors -> %s\n", n,
                  static_cast<unsigned long long>(diag.errorCount()), st.describe().c_str());
      if (n == 0) return 1;
      return diag.errorCount() ? 3 : 0;
    });
  }

  int runPermitsList() {
    return withStore([&](Store& st) {
      auto list = permitRef.empty() ? st.permits() : st.permitsFor(permitRef);
      for (auto& p : list) {
        std::string parcels;
        for (auto& x : p.parcels) parcels += (parcels.empty() ? "" : ";") + x;
        std::printf("%-16s %-14s %-12s applied %-10s decided %-10s parcels %s building %s (v%lld)\n", p.id.c_str(),
                    p.type.c_str(), p.status.c_str(), p.appliedOn.c_str(), p.decidedOn.c_str(), parcels.c_str(),
                    p.buildingId.c_str(), static_cast<long long>(p.version));
      }
      return 0;
    });
  }

  int runStoreInfo() {
    return withStore([&](Store& st) {
      auto c = st.counts();
      std::printf(
          "%s\n  parcels %lld, districts %lld, buildings %lld, roads %lld, permits %lld, building-parcel links %lld\n",
          st.describe().c_str(), static_cast<long long>(c.parcels), static_cast<long long>(c.districts),
          static_cast<long long>(c.buildings), static_cast<long long>(c.roads), static_cast<long long>(c.permits),
          static_cast<long long>(c.buildingParcelLinks));
      return 0;
    });
  }

  int runFind() {
    return withStore([&](Store& st) {
      auto found = st.findParcels(findText);
      for (auto& p : found)
        std::printf("%s\t%s\t%s\t%.2f m²\t%s\n", p.id.c_str(), (p.locality + " " + p.chiban).c_str(),
                    p.realEstateNo.c_str(), p.area, p.source.c_str());
      return found.empty() ? 1 : 0;
    });
  }
};

LandUseCommands::~LandUseCommands() = default;

LandUseCommands::LandUseCommands(CLI::App& app, std::atomic<bool>& cancel) : s_(std::make_unique<State>()) {
  auto& s = *s_;
  s.cancel = &cancel;
  const char* storeHelp = "The store: a GeoPackage file (created when missing) or postgresql://user@host:port/db";
  auto common = [&](CLI::App* c, bool rules) {
    c->add_option("--store", s.store, storeHelp)->required();
    if (rules) c->add_option("--rules", s.rulesPath, "Rules file (default: the installed rules/japan.json)");
    c->add_flag("-q,--quiet", s.quiet, "Print only errors and the summary");
  };
  auto importCmd = [&](const char* group, const char* help, ImportCmd& ic, ImportKind kind, const char* inputsHelp) {
    auto* g = app.add_subcommand(group, help);
    g->require_subcommand(1);
    ic.kind = kind;
    ic.cmd = g->add_subcommand("import", help);
    ic.cmd->add_option("inputs", ic.inputs, inputsHelp)->required();
    common(ic.cmd, true);
    ic.cmd->add_option("--crs", ic.crs, "Source CRS to use instead of the files' own (EPSG:n)");
    // The readers' own settings (--height-field, --origin, ...), as on twin convert.
    addReaderFlags(ic.cmd, twin::converters::builtinFormats(), s.reader);
    ic.cmd->add_option("--store-crs", ic.storeCrs,
                       "Projected CRS of a new store (default: the JGD2011 plane rectangular zone, or UTM zone, of the "
                       "first data imported)");
    return g;
  };
  auto* parcelsGroup =
      importCmd("parcels", "Import parcels (筆): 地図XML, or any GDAL vector with a parcel-number field", s.parcels,
                ImportKind::Parcels, "地図XML files, GeoJSON/GeoPackage/Shapefile, directories or zips");
  s.parcels.cmd->add_option("--parcel-field", s.parcelFields.chiban,
                            "Field holding the 地番 (default: 地番, chiban, parcel_no, ...)");
  s.parcels.cmd->add_option("--realestate-field", s.parcelFields.realEstateNo,
                            "Field holding the 不動産番号 (default: 不動産番号, realestate_no)");
  s.parcels.cmd->add_option("--corner-field", s.parcelFields.cornerLot, "Field flagging designated corner lots (角地)");
  s.parcels.cmd->add_option("--road-width-field", s.parcelFields.roadWidth,
                            "Field holding the front road width (前面道路幅員, m)");
  s.parcels.cmd->footer(
      "Parcels in 任意座標系 (arbitrary local coordinates) are reported, not placed. Self-intersecting "
      "polygons are repaired when the repair keeps the area, else refused with their id and line.");
  s.parcelsFind = parcelsGroup->add_subcommand("find", "Find parcels by id, 地番, \"大字名 地番\" or 不動産番号");
  s.parcelsFind->add_option("text", s.findText, "What to look for")->required();
  s.parcelsFind->add_option("--store", s.store, storeHelp)->required();

  importCmd("zoning",
            "Import zoning districts: PLATEAU urban planning CityGML (urf:UseDistrict, HeightControlDistrict, "
            "FirePreventionDistrict, ...) or GDAL vectors",
            s.zoning, ImportKind::Zoning, "PLATEAU urf CityGML, GeoJSON/GeoPackage/Shapefile, directories or zips");
  s.zoning.cmd->add_option("--kind", s.zoningFields.defaultKind,
                           "District kind of vector features (UseDistrict, HeightControlDistrict, "
                           "FirePreventionDistrict, ScenicDistrict, AreaClassification, ...; OpenSpace for parks, "
                           "squares, water and railway land beside sites or opposite their roads, the code park, "
                           "block-park, square, water or railway in `function`; default UseDistrict)");
  s.zoning.cmd
      ->add_option("--field", s.zoningMap,
                   "NAME=FIELD: which vector field holds an i-UR attribute (kind, function, "
                   "buildingCoverageRate, floorAreaRate, buildingHeightLimits, maximumBuildingHeight, "
                   "minimumBuildingHeight, minimumSiteArea); repeat the option for several")
      ->allow_extra_args(false);
  s.zoning.cmd
      ->add_option("--rates", s.rates,
                   "How the data gives 建ぺい率/容積率: auto (default: by value — PLATEAU 2022 i-UR 2.0 data "
                   "give ratios, 0.6; the current PLATEAU standard percent, 60), ratio or percent")
      ->check(CLI::IsMember({"auto", "ratio", "percent"}));
  s.zoning.cmd->footer(
      "Rates are parsed exactly as written (1.5 is 150 %). Out-of-range rates and unknown district "
      "codes are reported with the district's id and line.");

  importCmd("buildings",
            "Import building summaries (footprint, building area, height, storeys, floor area) from any "
            "building data twin reads",
            s.buildings, ImportKind::Buildings, "CityGML files, directories or PLATEAU zips");
  importCmd("roads",
            "Import roads with widths (PLATEAU tran:Road with uro:width, or vector polygons with a width field) "
            "for the front-road rules",
            s.roads, ImportKind::Roads, "CityGML or vector files");
  s.roads.cmd->add_option("--width-field", s.roadWidthField,
                          "Field holding the road width in metres (default: width, 幅員)");

  auto* permits = app.add_subcommand("permits", "Permits and filings (建築確認, 開発許可, ...) in the store");
  permits->require_subcommand(1);
  s.permitsImport = permits->add_subcommand("import", "Import permits from CSV or JSON");
  s.permitsImport
      ->add_option("file", s.permitsFile,
                   "CSV (id,type,status,applied_on,decided_on,parcels,building_id,"
                   "applicant,notes) or JSON array")
      ->required();
  s.permitsImport->add_option("--store", s.store, storeHelp)->required();
  s.permitsImport->add_option("--actor", s.actor, "Who imports (recorded in the audit log)");
  s.permitsImport->add_flag("-q,--quiet", s.quiet, "Print only errors and the summary");
  s.permitsList = permits->add_subcommand("list", "List permits (all, or of a parcel or building)");
  s.permitsList->add_option("--store", s.store, storeHelp)->required();
  s.permitsList->add_option("--of", s.permitRef, "A parcel id, 地番 or building id");

  s.check = app.add_subcommand("check", "Check buildings against the land-use rules (建ぺい率, 容積率, heights)");
  common(s.check, true);
  s.check->add_option("--building", s.checkBuildings, "Building id(s) to check (default: every building in the store)");
  s.check->add_option("--parcel", s.checkParcel, "Check the buildings on this parcel (id, 地番, \"大字名 地番\")");
  s.check->add_option("--format", s.format, "table (default), csv, geojson, html or json")
      ->check(CLI::IsMember({"table", "csv", "geojson", "html", "json"}));
  s.check->add_option("-o,--output", s.out, "Write the report to this file (default: standard output)");
  s.check->footer(
      "Each result gives inputs, formula, value, limit, pass/fail/unknown and why; missing data gives "
      "unknown with what is missing. Links (building↔parcels, parcel↔districts) are computed on first use "
      "and kept in the store.");

  s.envelope = app.add_subcommand("envelope",
                                  "What may be built on a parcel: maximum building area, floor area, "
                                  "height, and a 3D envelope (glb)");
  s.envelope->add_option("parcel", s.parcelArg, "Parcel id, 地番, \"大字名 地番\" or 不動産番号; several joined by '+'")
      ->required();
  common(s.envelope, true);
  s.envelope->add_option("-o,--output", s.envelopeOut, "Write the envelope mesh as glb");
  s.envelope->add_option("--json", s.envelopeJsonOut, "Write the numbers and their explanation as JSON");
  s.envelope->add_option("--cap", s.cap, "Height to draw to where no height limit applies (m)")->capture_default_str();
  s.envelope
      ->add_option("--setback", s.setback,
                   "Draw it for a building set back this far from the roads (m; 法56条2項: the far side of the "
                   "road counts that much farther away)")
      ->check(CLI::Range(0.0, 50.0));
  s.envelope
      ->add_option("--adjacent-setback", s.adjacentSetback,
                   "Draw it for parts above the 隣地斜線's rise (20 or 31 m) set back this far from the "
                   "neighbours (m; 法56条1項2号)")
      ->check(CLI::Range(0.0, 50.0));
  s.envelope->add_option("--shadow", s.shadowDesignation,
                         "Draw it within 日影規制 (逆日影, 法56条の2) of L5-L10@H: hours beyond 5 m and 10 m, measuring "
                         "height (e.g. 4-2.5@4; default: the designation the data gives)");
  s.envelope->add_option("--ground", s.ground,
                         "Ground height of the site (orthometric m, as the road surfaces in the store; default: the lowest "
                         "base of its buildings). 道路斜線 is measured from the road (令135条の2)");
  s.envelope->add_option("--geoid", s.geoid,
                         "Geoid grid for placing the glb (default: GSIGEO2011 in Japan, EGM96 elsewhere)");

  s.procedures = app.add_subcommand("procedures", "The procedures a planned project on a parcel needs, and why");
  s.procedures
      ->add_option("parcel", s.parcelArg, "Parcel id, 地番, \"大字名 地番\" or 不動産番号; several joined by '+'")
      ->required();
  common(s.procedures, true);
  s.procedures
      ->add_option("--plan", s.plan,
                   "The project, as key=value pairs or a JSON object with the keys of the API "
                   "(POST /api/parcels/{id}/procedures): use=…,floor_area=M2,building_area=M2,height=M,storeys=N,"
                   "development_area=M2,earthwork_area=M2,signage=yes,new_building=yes; for 用途制限 use=ID or name "
                   "(rules file uses.list), use_floor_area=M2,workshop_area=M2,seating_area=M2,use_floor=N")
      ->required();
  s.procedures->add_option("--format", s.format, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

  s.shadow = app.add_subcommand("shadow",
                                "日影規制 (法56条の2): the hours of shadow the buildings on a parcel, or a planned one, "
                                "cast on the measuring plane on the winter solstice, checked at the 5 m and 10 m lines");
  s.shadow->add_option("parcel", s.parcelArg, "Parcel id, 地番, \"大字名 地番\" or 不動産番号; several joined by '+'")
      ->required();
  common(s.shadow, true);
  s.shadow->add_option("--designation", s.shadowDesignation,
                       "L5-L10@H: hours beyond 5 m and 10 m and the measuring height (e.g. 4-2.5@4; default: the "
                       "data's ShadeRegulation district)");
  s.shadow->add_option("--plan-height", s.planHeight, "A planned building of this height (m) instead of the existing ones")
      ->check(CLI::Range(0.0, 1000.0));
  s.shadow->add_option("--plan-ring", s.planRing,
                       "Its footprint, \"x,y x,y x,y ...\" in the store's CRS (default: the whole site)");
  s.shadow->add_option("--plan-storeys", s.planStoreys, "Its storeys above ground");
  s.shadow->add_option("--cell", s.shadowCell, "Grid of the map (m)")->check(CLI::Range(0.25, 10.0))->capture_default_str();
  s.shadow->add_option("--step", s.shadowStep, "Time step (minutes)")->check(CLI::Range(0.25, 30.0))->capture_default_str();
  s.shadow->add_option("--json", s.shadowJsonOut, "Write the result and the shadow-time map (hours per cell) as JSON");

  s.sky = app.add_subcommand("sky",
                             "天空率 (法56条7項): the sky factor of the buildings on a parcel, or of a planned one, "
                             "against the buildings that keep 道路斜線, 隣地斜線 and 北側斜線, at the points of "
                             "令135条の9〜11");
  s.sky->add_option("parcel", s.parcelArg, "Parcel id, 地番, \"大字名 地番\" or 不動産番号; several joined by '+'")
      ->required();
  common(s.sky, true);
  s.sky->add_option("--plan-height", s.planHeight, "A planned building of this height (m) instead of the existing ones")
      ->check(CLI::Range(0.0, 1000.0));
  s.sky->add_option("--plan-ring", s.planRing, "Its footprint, \"x,y x,y x,y ...\" in the store's CRS (default: the whole site)");
  s.sky->add_option("--setback", s.setback, "The plan's setback from the roads (m; moves the road's points out)")
      ->check(CLI::Range(0.0, 50.0));
  s.sky->add_option("--adjacent-setback", s.adjacentSetback, "Its setback from the neighbours above the 隣地斜線's rise (m)")
      ->check(CLI::Range(0.0, 50.0));
  s.sky->add_option("--format", s.format, "table (default) or json")->check(CLI::IsMember({"table", "json"}));

  auto* storeCmd = app.add_subcommand("store", "The land-use store");
  storeCmd->require_subcommand(1);
  s.storeInfo = storeCmd->add_subcommand("info", "What the store holds");
  s.storeInfo->add_option("--store", s.store, storeHelp)->required();
}

int LandUseCommands::run() {
  auto& s = *s_;
  for (ImportCmd* c : {&s.parcels, &s.zoning, &s.buildings, &s.roads})
    if (*c->cmd) return s.runImport(*c);
  if (*s.parcelsFind) return s.runFind();
  if (*s.permitsImport) return s.runPermitsImport();
  if (*s.permitsList) return s.runPermitsList();
  if (*s.check) return s.runCheck();
  if (*s.envelope) return s.runEnvelope();
  if (*s.shadow) return s.runShadow();
  if (*s.sky) return s.runSky();
  if (*s.procedures) return s.runProcedures();
  if (*s.storeInfo) return s.runStoreInfo();
  return -1;
}

}  // namespace twincli
