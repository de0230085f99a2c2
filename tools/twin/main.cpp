// The `twin` command: parses flags, calls library functions, turns diagnostics into exit codes.
//
// Exit codes:
//   0  success (warnings may have been printed)
//   1  nothing usable was produced (fatal error: no input read, nothing converted, output failed)
//   2  bad usage (unknown option, missing argument)
//   3  output written, but some inputs had errors (see the diagnostics)

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "environment.h"
#include "landuse_cli.h"
#include "output.h"
#include "twin/converters/registry.h"
#include "twin/crs.h"
#include "twin/fsutil.h"
#include "twin/landuse/store.h"
#include "twin/tiler/convert.h"
#include "twin/tiler/export.h"
#include "twin/tiler/inspect.h"
#include "twin/tiler/pointcloud.h"
#include "twin/viewer/server.h"

namespace {

std::atomic<bool> gCancel{false};

void onSignal(int) { gCancel = true; }

int printSummary(const char* what, const twin::tiler::ConvertResult& r, const twin::tiler::ConvertOptions& o,
                 twin::DiagnosticCollector& diag, const std::string& out);

// `twin convert`'s command line.
struct ConvertArgs {
  std::vector<std::string> inputs;
  std::string out, lod = "max", geoid, crs, types = "building", shard, compress = "none", tilesVersion = "1.1";
  std::string textureFormat = "jpeg";
  int maxTexture = 4096;
  int overviewTexture = 256;
  bool noAtlas = false, implicit = false;
  bool draco = false, quiet = false, noProgress = false, flat = false, full = false;
  int threads = 0;
  double maxTileMb = 2.0;
  std::map<std::string, std::string> reader;  // reader settings by key (FormatRegistry::options)
  uint32_t maxPoints = 100000;
};

int runConvert(ConvertArgs a) {
  const auto& inputs = a.inputs;
  const auto& out = a.out;
  const auto& lod = a.lod;
  const auto& geoid = a.geoid;
  const auto& crs = a.crs;
  const auto& types = a.types;
  const auto& shard = a.shard;
  bool& quiet = a.quiet;
  if (a.compress == "draco") a.draco = true;
  twin::DiagnosticCollector diag(200);
  diag.setEcho(&twincli::echoDiagnostic, &quiet, 10);
  const auto& registry = twin::converters::builtinFormats();
  auto items = twin::converters::expandInputs(inputs, registry, diag);
  if (items.empty()) {
    std::fprintf(stderr, "twin convert: no input file of a known format (see `twin formats`)\n");
    return 1;
  }
  if (!shard.empty()) {
    unsigned index = 0, count = 0;
    char slash = 0;
    if (std::sscanf(shard.c_str(), "%u%c%u", &index, &slash, &count) != 3 || slash != '/' || count == 0 ||
        index >= count) {
      std::fprintf(stderr, "twin convert: --shard wants I/N with 0 <= I < N, e.g. 0/4\n");
      return 2;
    }
    auto mine = twin::converters::shardOf(items, inputs, index, count);
    std::fprintf(stderr, "twin convert: shard %u/%u: %zu of %zu input files\n", index, count, mine.size(),
                 items.size());
    items = std::move(mine);
  }
  twin::tiler::ConvertOptions o;
  o.outDir = out;
  o.lod = lod == "max" ? -1 : std::stoi(lod);
  o.draco = a.draco;
  o.meshopt = a.compress == "meshopt";
  o.quantize = a.compress == "quantize";
  o.tilesVersion = a.tilesVersion;
  o.webp = a.textureFormat == "webp";
  o.maxTextureSize = a.maxTexture;
  o.overviewTextureSize = a.overviewTexture;
  o.atlas = !a.noAtlas;
  o.implicit = a.implicit;
  // Records per in-memory run of the tile index's external sort (tests use a small one to
  // exercise the merge); default 1M (64 MB).
  if (const char* runs = std::getenv("TWIN_SORT_RUN_RECORDS"))
    o.sortRunRecords = std::max(1ul, std::strtoul(runs, nullptr, 10));
  o.geoidFile = geoid;
  o.dataDir = twincli::dataDirFromEnvironment();
  if (!crs.empty()) {
    o.crsOverride = twin::canonicalSrs(crs).value_or(crs);
  }
  o.objectTypes = twin::tiler::objectTypesFromList(types);
  o.formatOptions = twincli::readerSettings(registry, a.reader);
  if (!o.objectTypes.empty()) o.className = "feature";
  o.threads = a.threads > 0 ? a.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  o.maxTileBytes = uint64_t(a.maxTileMb * 1024 * 1024);
  o.levelsOfDetail = !a.flat && !a.implicit;  // implicit tiling refines ADD (see ConvertOptions::implicit)
  o.incremental = !a.full;
  o.allowEmpty = !shard.empty();
  o.cancel = &gCancel;
  bool tty = isatty(STDERR_FILENO) && !a.noProgress && !quiet;
  if (tty) o.progress = &twincli::drawProgress;
  o.maxPointsPerTile = a.maxPoints;
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto r = twin::tiler::convert(items, o, diag);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (diag.hasCode("inputs-mixed")) return 2;
  return printSummary("twin convert", r, o, diag, out);
}

int printSummary(const char* what, const twin::tiler::ConvertResult& r, const twin::tiler::ConvertOptions& o,
                 twin::DiagnosticCollector& diag, const std::string& out) {
  std::fprintf(stderr, "%s: %s\n", what, r.ok ? "done" : "FAILED, no tileset written");
  if (r.points) {
    std::fprintf(stderr, "  inputs     %llu point clouds, %s read\n", static_cast<unsigned long long>(r.inputs),
                 twincli::humanBytes(double(r.inputBytes)).c_str());
    std::fprintf(stderr, "  written    %llu points in %llu tiles, %s (root %s, geometric error %.2f m)\n",
                 static_cast<unsigned long long>(r.features), static_cast<unsigned long long>(r.tiles),
                 twincli::humanBytes(double(r.outputBytes)).c_str(), twincli::humanBytes(double(r.rootBytes)).c_str(),
                 r.rootError);
    if (diag.errorCount() || diag.warningCount())
      std::fprintf(stderr, "  diagnostics %llu errors, %llu warnings\n",
                   static_cast<unsigned long long>(diag.errorCount()),
                   static_cast<unsigned long long>(diag.warningCount()));
    std::fprintf(stderr, "  time       %.2f s\n", r.seconds);
    if (r.ok) std::printf("%s/tileset.json\n", out.c_str());
    return !r.ok ? 1 : diag.errorCount() ? 3 : 0;
  }
  std::fprintf(stderr, "  inputs     %llu files, %s read", static_cast<unsigned long long>(r.inputs),
               twincli::humanBytes(double(r.read.bytes)).c_str());
  if (r.inputsReused)
    std::fprintf(stderr, ", %llu unchanged since the last run (not read again)",
                 static_cast<unsigned long long>(r.inputsReused));
  std::fprintf(stderr, "\n");
  for (auto& [t, n] : r.read.objectsByType)
    std::fprintf(stderr, "  read       %-22s %llu\n", t.c_str(), static_cast<unsigned long long>(n));
  for (auto& [t, n] : r.read.skippedByType)
    std::fprintf(stderr, "  skipped    %-22s %llu (not a building; not converted)\n", t.c_str(),
                 static_cast<unsigned long long>(n));
  std::fprintf(stderr, "  written    %llu %s (%llu dropped), %llu triangles, %llu tiles, %llu textures, %s\n",
               static_cast<unsigned long long>(r.features), o.className == "building" ? "buildings" : "features",
               static_cast<unsigned long long>(r.featuresDropped), static_cast<unsigned long long>(r.triangles),
               static_cast<unsigned long long>(r.tiles), static_cast<unsigned long long>(r.textures),
               twincli::humanBytes(double(r.outputBytes)).c_str());
  if (r.ok)
    std::fprintf(stderr, "  tiles      %llu written, %llu unchanged kept from the last run\n",
                 static_cast<unsigned long long>(r.tilesWritten), static_cast<unsigned long long>(r.tilesReused));
  if (r.ok && o.levelsOfDetail)
    std::fprintf(stderr, "  levels     full detail %s in leaves; root overview %s (geometric error %.1f m)\n",
                 twincli::humanBytes(double(r.leafBytes)).c_str(), twincli::humanBytes(double(r.rootBytes)).c_str(),
                 r.rootError);
  for (auto& c : r.sourceCrs) {
    auto g = r.geoidByCrs.find(c);
    std::string geoid = g != r.geoidByCrs.end() ? g->second : std::string();
    std::fprintf(stderr, "  CRS        %s -> EPSG:4978%s%s\n", c.c_str(), geoid.empty() ? "" : ", geoid ",
                 geoid.c_str());
  }
  auto counts = diag.countsByCode();
  if (!counts.empty()) {
    std::fprintf(stderr, "  diagnostics %llu errors, %llu warnings:\n",
                 static_cast<unsigned long long>(diag.errorCount()),
                 static_cast<unsigned long long>(diag.warningCount()));
    for (auto& [code, n] : counts)
      std::fprintf(stderr, "    %-28s %llu\n", code.c_str(), static_cast<unsigned long long>(n));
  }
  std::fprintf(stderr,
               "  time       %.2f s (reading and converting %.2f s, writing tiles %.2f s: leaves %.2f s, "
               "overviews %.2f s)\n",
               r.seconds, r.readSeconds, r.tileSeconds, r.leafSeconds, r.parentSeconds);
  if (r.ok) std::printf("%s/tileset.json\n", out.c_str());
  if (!r.ok) return 1;
  return diag.errorCount() ? 3 : 0;
}

// `twin export`'s command line.
struct ExportArgs {
  std::vector<std::string> inputs;
  std::string out, format, types = "building", lod = "max", crs, geoid, toCrs;
  std::vector<std::string> ids;  // --ids a,b,c (CLI11 splits at commas)
  std::vector<double> bbox;      // --bbox w,s,e,n
  double floorHeight = 3.0;
  bool quiet = false, noProgress = false;
};

int runExport(ExportArgs& a) {
  twin::DiagnosticCollector diag(200);
  diag.setEcho(&twincli::echoDiagnostic, &a.quiet, 10);
  twin::tiler::ExportOptions o;
  o.format = a.format;
  o.ids.insert(a.ids.begin(), a.ids.end());
  if (!a.bbox.empty()) {
    const auto& b = a.bbox;
    if (b.size() != 4 || !std::all_of(b.begin(), b.end(), [](double x) { return std::isfinite(x); }) || b[0] > b[2] ||
        b[1] > b[3] || b[1] < -90 || b[3] > 90) {
      std::fprintf(stderr,
                   "twin export: --bbox wants west,south,east,north in degrees (e.g. 139.74,35.26,139.75,35.27)\n");
      return 2;
    }
    o.bbox = std::array<double, 4>{b[0], b[1], b[2], b[3]};
  }
  if (o.format.empty() && twin::tiler::exportFormatFor(a.out).empty()) {
    std::fprintf(
        stderr,
        "twin export: cannot tell the format from '%s': name it .glb, .obj, .geojson or .gpkg, or give --format\n",
        a.out.c_str());
    return 2;
  }
  o.objectTypes = twin::tiler::objectTypesFromList(a.types);
  o.lod = a.lod == "max" ? -1 : std::stoi(a.lod);
  o.crsOverride = a.crs;
  o.geoidFile = a.geoid;
  o.dataDir = twincli::dataDirFromEnvironment();
  o.planeCrs = a.toCrs;
  o.floorHeight = a.floorHeight;
  o.cancel = &gCancel;
  bool tty = isatty(STDERR_FILENO) && !a.noProgress && !a.quiet;
  if (tty) o.progress = &twincli::drawProgress;
  auto items = twin::converters::expandInputs(a.inputs, twin::converters::builtinFormats(), diag);
  if (items.empty()) {
    std::fprintf(stderr, "twin export: no input file of a known format (see `twin formats`)\n");
    return 1;
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  auto r = twin::tiler::exportSelection(items, a.out, o, diag);
  if (tty) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "twin export: %s\n", r.ok ? "done" : "FAILED, nothing written");
  std::fprintf(stderr, "  selected   %llu objects, %llu written (%s), %llu without usable geometry\n",
               static_cast<unsigned long long>(r.selected), static_cast<unsigned long long>(r.written),
               r.format.c_str(), static_cast<unsigned long long>(r.skipped));
  if (r.ok && (r.format == "glb" || r.format == "obj"))
    std::fprintf(stderr, "  frame      east-north-up metres about lon %.7f lat %.7f, ellipsoidal height %.2f m\n",
                 r.origin[0], r.origin[1], r.origin[2]);
  if (r.ok && !r.crs.empty()) std::fprintf(stderr, "  crs        %s\n", r.crs.c_str());
  for (auto& f : r.files) std::fprintf(stderr, "  wrote      %s\n", f.c_str());
  if (diag.errorCount() || diag.warningCount())
    std::fprintf(stderr, "  diagnostics %llu errors, %llu warnings\n",
                 static_cast<unsigned long long>(diag.errorCount()),
                 static_cast<unsigned long long>(diag.warningCount()));
  if (!r.ok) return 1;
  return diag.errorCount() ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"twin: city models (CityGML, PLATEAU) to OGC 3D Tiles 1.1, and the tools around them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "twin 0.1.0");

  // convert
  auto* convert = app.add_subcommand("convert", "Convert city models to a 3D Tiles 1.1 tileset");
  ConvertArgs ca;
  std::string formatsList;
  for (auto& f : twin::converters::builtinFormats().all()) formatsList += "\n  " + f.id + ": " + f.description;
  convert->footer("Formats read:" + formatsList +
                  "\n\nInputs may be files, directories (searched recursively) or PLATEAU zip archives as "
                  "distributed.\nExit codes: 0 ok, 1 nothing written, 2 bad usage, 3 written with input errors.");
  convert->add_option("inputs", ca.inputs, "Input files, directories or zip archives")->required();
  convert->add_option("-o,--output", ca.out, "Output directory (written atomically; replaced if it is a twin tileset)")
      ->required();
  convert
      ->add_option("--lod", ca.lod,
                   "Level of detail: 0, 1, 2, 3, 4 or max (highest each building has; a building "
                   "without the requested LOD uses its highest below it)")
      ->check(CLI::IsMember({"0", "1", "2", "3", "4", "max"}));
  convert->add_option("--types", ca.types,
                      "City object types to convert: building (default), road, landuse, relief, zoning, furniture, "
                      "all, or element names (UseDistrict,...), comma-separated. Make one tileset per layer.");
  convert->add_flag("--draco", ca.draco,
                    "Compress meshes with Draco (KHR_draco_mesh_compression); same as --compress draco");
  convert
      ->add_option("--compress", ca.compress,
                   "Mesh compression: none, draco (KHR_draco_mesh_compression), meshopt (EXT_meshopt_compression "
                   "+ KHR_mesh_quantization), quantize (KHR_mesh_quantization: 16-bit positions, 8-bit normals)")
      ->check(CLI::IsMember({"none", "draco", "meshopt", "quantize"}));
  convert->add_option("--geoid", ca.geoid,
                      "Geoid grid (GTX/GeoTIFF) for orthometric -> ellipsoidal heights "
                      "(default: GSIGEO2011, shipped with twin, for JGD2011/JGD2000 data inside Japan and EGM96 "
                      "elsewhere)");
  convert->add_option("--crs", ca.crs, "Source CRS to use instead of the files' srsName (EPSG:n)");
  convert->add_option("--threads", ca.threads, "Worker threads (default: all cores)")->check(CLI::Range(0, 256));
  convert->add_option("--max-tile-mb", ca.maxTileMb, "Split tiles above this content size (MB, estimate)")
      ->check(CLI::Range(0.01, 1024.0));
  convert
      ->add_option("--tiles-version", ca.tilesVersion,
                   "3D Tiles version: 1.1 (default: glb with EXT_mesh_features and EXT_structural_metadata) or "
                   "1.0 (b3dm with batch tables, for clients that lack 1.1)")
      ->check(CLI::IsMember({"1.0", "1.1"}));
  convert
      ->add_option("--texture-format", ca.textureFormat,
                   "Images twin re-encodes (atlases, downsampled textures): jpeg (PNG where transparent) or webp "
                   "(EXT_texture_webp)")
      ->check(CLI::IsMember({"jpeg", "webp"}));
  convert
      ->add_option("--max-texture", ca.maxTexture,
                   "Largest texture side in pixels (default 4096); larger are downsampled")
      ->check(CLI::Range(64, 16384));
  convert
      ->add_option("--overview-texture", ca.overviewTexture,
                   "Textures in overview (parent) tiles: each downsampled to at most this many pixels on a side "
                   "(default 256); 0: vertex colours only")
      ->check(CLI::Range(0, 4096));
  convert
      ->add_option("--max-points", ca.maxPoints,
                   "Point clouds: most points in a tile (default 100000); fuller tiles keep a voxel subsample and "
                   "pass the rest to their children")
      ->check(CLI::Range(1000u, 10000000u));
  twincli::addReaderFlags(convert, twin::converters::builtinFormats(), ca.reader);
  convert->add_flag("--no-atlas", ca.noAtlas, "Keep each texture image as it is instead of one atlas per tile");
  convert->add_flag("--implicit", ca.implicit,
                    "Implicit tiling (3D Tiles 1.1 quadtree subtrees, tiles/{level}/{x}/{y}) instead of an explicit "
                    "tile tree in tileset.json: a small tileset.json for any city size. Every building is kept at "
                    "full detail in the deepest tile whose cell holds it whole (refine ADD, as --flat): the cells "
                    "are those every client derives from the root region");
  convert->add_flag("--flat", ca.flat,
                    "No levels of detail: full-detail leaves under empty parents (refine ADD). Default: every "
                    "parent tile holds a simplified, merged version of its children (refine REPLACE)");
  convert->add_option("--shard", ca.shard,
                      "I/N: convert only this job's deterministic share of the inputs (I from 0), for `twin merge`");
  convert->add_flag("--full", ca.full,
                    "Ignore the previous run in the output directory (default: inputs unchanged since then are not "
                    "read again and tiles made only of them are kept)");
  convert->add_flag("-q,--quiet", ca.quiet, "Print only errors and the summary");
  convert->add_flag("--no-progress", ca.noProgress, "No progress bar");

  // info
  auto* info = app.add_subcommand("info", "Describe a source file or a tileset");
  std::string infoPath;
  info->add_option("path", infoPath, "A source file, a tileset directory or tileset.json")->required();

  // serve
  auto* serveCmd = app.add_subcommand("serve", "Serve tilesets and the web 3D viewer");
  twin::viewer::ServeOptions serveOptions;
  // The web viewer installed beside the program (PREFIX/share/twin/web), else the build tree's.
  serveOptions.dataDir = twincli::dataDirFromEnvironment();
  if (std::string installed = twin::fs::dataFile("web/index.html", serveOptions.dataDir); !installed.empty())
    serveOptions.webDir = std::filesystem::path(installed).parent_path().string();
  else
    serveOptions.webDir = TWIN_WEB_DIR;
  serveCmd->add_option("--tiles", serveOptions.tiles, "Tileset directories to serve")->required();
  serveCmd->add_option("--port", serveOptions.port, "Port (default 8080)")->check(CLI::Range(1, 65535));
  serveCmd->add_option("--host", serveOptions.host, "Address to listen on (default 127.0.0.1; 0.0.0.0 for all)");
  serveCmd->add_option("--web", serveOptions.webDir,
                       "Directory of the built web viewer (default: PREFIX/share/twin/web when installed, else the "
                       "build tree's)");
  serveCmd->add_option("--store", serveOptions.store,
                       "Land-use store (GeoPackage file or postgresql://...): enables the API that links parcels, "
                       "zoning, rule checks and permits to buildings");
  serveCmd->add_option("--rules", serveOptions.rulesPath, "Rules file (default: the installed rules/japan.json)");
  serveCmd->add_option("--basemap", serveOptions.basemap,
                       "Base map tiles the viewer shows, as a URL template on your own server "
                       "(https://maps.example/{z}/{x}/{y}.png); default none: the viewer needs nothing online");
  serveCmd->add_option("--cors", serveOptions.corsOrigin,
                       "Access-Control-Allow-Origin for other sites' viewers: * or an origin");
  serveCmd
      ->add_option("--cache-seconds", serveOptions.cacheSeconds,
                   "Cache-Control max-age of tile contents (default 300; tileset.json and subtrees revalidate)")
      ->check(CLI::Range(0, 31536000));
  bool noAccessLog = false;
  double maxBodyMb = 20;
  serveCmd
      ->add_option("--threads", serveOptions.threads,
                   "API worker threads (default 2 per core, at least 4); connections and files are served by "
                   "one event loop per core and hold no thread")
      ->check(CLI::Range(1, 1024));
  serveCmd
      ->add_option("--max-connections-per-address", serveOptions.maxConnectionsPerAddress,
                   "Open connections one client address may hold (default 512; 0: no limit; behind a reverse "
                   "proxy every client has the proxy's address)")
      ->check(CLI::Range(0, 1000000));
  serveCmd->add_option("--max-body-mb", maxBodyMb, "Largest request body in MB (document uploads; default 20)")
      ->check(CLI::Range(0.01, 1024.0));
  serveCmd->add_flag("--no-access-log", noAccessLog, "No JSON access log on stderr");
  serveCmd->footer(
      "API: /api/openapi.json. Without a token requests are public (no personal data); staff and admin "
      "tokens come from `twin token create`. SIGINT/SIGTERM stop it gracefully.");

  // tokens
  auto* tokenCmd = app.add_subcommand("token", "API tokens for staff and admins");
  tokenCmd->require_subcommand(1);
  auto* tokenCreate =
      tokenCmd->add_subcommand("create", "Create a token (printed once; the store keeps only its hash)");
  std::string tokenStore, tokenUser, tokenRole = "staff";
  tokenCreate->add_option("--store", tokenStore, "The store (GeoPackage file or postgresql://...)")->required();
  tokenCreate->add_option("--user", tokenUser, "Who the token is for (recorded with every write)")->required();
  int tokenDays = 90;
  tokenCreate->add_option("--days", tokenDays, "Days until the token expires (default 90; 0: never)")
      ->check(CLI::Range(0, 3650));
  auto* tokenRevoke =
      tokenCmd->add_subcommand("revoke", "Revoke every token of a user (at once, for every server on the store)");
  std::string revokeStore, revokeUser;
  tokenRevoke->add_option("--store", revokeStore, "The store (GeoPackage file or postgresql://...)")->required();
  tokenRevoke->add_option("--user", revokeUser, "Whose tokens to revoke")->required();
  tokenCreate->add_option("--role", tokenRole, "staff (read all, write permits) or admin (also tokens, audit log)")
      ->check(CLI::IsMember({"staff", "admin"}));

  // merge
  auto* mergeCmd = app.add_subcommand("merge", "Join the outputs of `twin convert --shard I/N` jobs into one tileset");
  std::vector<std::string> shardDirs;
  std::string mergeOut;
  int mergeThreads = 0;
  bool mergeQuiet = false;
  mergeCmd->add_option("shards", shardDirs, "Output directories of the shard jobs")->required();
  mergeCmd->add_option("-o,--output", mergeOut, "Output directory")->required();
  mergeCmd->add_option("--threads", mergeThreads, "Worker threads (default: all cores)")->check(CLI::Range(0, 256));
  mergeCmd->add_flag("-q,--quiet", mergeQuiet, "Print only errors and the summary");
  mergeCmd->footer(
      "The result is the tileset one `twin convert` over all the shards' inputs would make. The shards "
      "must have been made with the same options, and texture images must be readable at the paths the "
      "shards read them from.");

  // export
  auto* exportCmd = app.add_subcommand("export",
                                       "Write a selection of a city as GLB/OBJ (CAD, 3D tools) or "
                                       "GeoJSON/GeoPackage footprints (GIS)");
  ExportArgs ea;
  exportCmd
      ->add_option("inputs", ea.inputs, "Input files, directories or zip archives (any format `twin formats` lists)")
      ->required();
  exportCmd
      ->add_option("-o,--output", ea.out, "Output file: .glb, .obj (+ .mtl and a _textures folder), .geojson, .gpkg")
      ->required();
  exportCmd->add_option("--format", ea.format, "glb, obj, geojson or gpkg (default: from the output's extension)")
      ->check(CLI::IsMember({"glb", "obj", "geojson", "gpkg"}));
  exportCmd
      ->add_option("--ids", ea.ids, "Only these objects (gml:id of a building or of one of its parts), comma-separated")
      ->delimiter(',');
  exportCmd->add_option("--bbox", ea.bbox, "Only objects touching west,south,east,north (degrees, WGS 84 / JGD2011)")
      ->delimiter(',');
  exportCmd->add_option("--types", ea.types, "Object types, as for twin convert (default: building)");
  exportCmd->add_option("--lod", ea.lod, "GLB/OBJ: level of detail 0-4 or max (default)")
      ->check(CLI::IsMember({"0", "1", "2", "3", "4", "max"}));
  exportCmd->add_option("--crs", ea.crs, "Source CRS to use instead of the files' (EPSG:n)");
  exportCmd->add_option("--geoid", ea.geoid,
                        "Geoid grid for orthometric -> ellipsoidal heights (default: GSIGEO2011 for JGD2011/JGD2000 "
                        "data inside Japan, EGM96 elsewhere)");
  exportCmd->add_option(
      "--to-crs", ea.toCrs,
      "GeoPackage: output CRS (projected, metres; default: the JGD2011 plane zone or UTM zone of the data)");
  exportCmd->add_option("--floor-height", ea.floorHeight,
                        "Footprints: metres per storey for the storeys estimate (default 3)");
  exportCmd->add_flag("-q,--quiet", ea.quiet, "Print only errors and the summary");
  exportCmd->add_flag("--no-progress", ea.noProgress, "No progress bar");
  exportCmd->footer(
      "GLB and OBJ are in metres in a local east-north-up frame; its origin is written in the file "
      "(GLB asset.extras.twin, OBJ header). GeoJSON is longitude/latitude (RFC 7946).\n"
      "Exit codes: 0 ok, 1 nothing written, 2 bad usage, 3 written with input errors.");

  // formats
  auto* formats = app.add_subcommand("formats", "List the formats twin reads (and what twin export writes)");

  // parcels, zoning, buildings, roads, permits, check, envelope, procedures, store
  twincli::LandUseCommands planning(app, gCancel);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*convert) return runConvert(ca);
  if (*exportCmd) return runExport(ea);
  if (int rc = planning.run(); rc >= 0) return rc;

  if (*mergeCmd) {
    twin::DiagnosticCollector diag(200);
    diag.setEcho(&twincli::echoDiagnostic, &mergeQuiet, 10);
    twin::tiler::ConvertOptions o;
    o.outDir = mergeOut;
    o.threads = mergeThreads > 0 ? mergeThreads : int(std::max(1u, std::thread::hardware_concurrency()));
    o.cancel = &gCancel;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    auto r = twin::tiler::merge(shardDirs, o, diag);
    return printSummary("twin merge", r, o, diag, mergeOut);
  }

  // The token commands: open a store that holds data, run `fn` on it, store errors as exit 1.
  auto onStore = [](const std::string& uri, const char* ifEmpty, const auto& fn) -> int {
    try {
      auto st = twin::landuse::Store::open(uri);
      if (st->crs().empty()) {
        std::fprintf(stderr, "twin: the store is empty: %s\n", ifEmpty);
        return 1;
      }
      return fn(*st);
    } catch (const twin::landuse::StoreError& e) {
      std::fprintf(stderr, "twin: %s\n", e.what());
      return 1;
    }
  };
  if (*tokenCreate)
    return onStore(tokenStore, "import parcels or buildings first", [&](twin::landuse::Store& st) {
      auto issued = twin::viewer::issueToken(st, tokenUser, tokenRole, tokenDays, "twin-cli");
      std::printf("%s\n", issued.token.c_str());
      std::fprintf(stderr, "twin token: %s token for %s, %s (shown once; keep it secret)\n", tokenRole.c_str(),
                   tokenUser.c_str(),
                   issued.expiresAt.empty() ? "never expires" : ("expires " + issued.expiresAt).c_str());
      return 0;
    });
  if (*tokenRevoke)
    return onStore(revokeStore, "nothing to revoke", [&](twin::landuse::Store& st) {
      int n = st.revokeTokens(revokeUser, "twin-cli");
      std::fprintf(stderr, "twin token: %d token(s) of %s revoked\n", n, revokeUser.c_str());
      return n > 0 ? 0 : 1;
    });

  if (*serveCmd) {
    serveOptions.accessLog = !noAccessLog;
    if (serveOptions.rulesPath.empty()) serveOptions.rulesPath = twincli::defaultRulesPath();
    serveOptions.maxBodyBytes = size_t(maxBodyMb * 1024 * 1024);
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    serveOptions.stop = &gCancel;
    std::fprintf(stderr, "twin serve: http://%s:%d/ (Ctrl-C to stop)\n", serveOptions.host.c_str(), serveOptions.port);
    auto st = twin::viewer::serve(serveOptions);
    if (!st)
      for (auto& d : st.diagnostics) std::fprintf(stderr, "twin serve: %s\n", d.message.c_str());
    return st ? 0 : 1;
  }

  if (*formats) {
    for (auto& f : twin::converters::builtinFormats().all()) {
      std::string ext;
      for (auto& e : f.extensions) ext += (ext.empty() ? "" : " ") + e;
      std::printf("%-10s %s  [%s]\n", f.id.c_str(), f.description.c_str(), ext.c_str());
    }
    std::printf("\ntwin export writes: glb (glTF 2.0), obj (+ mtl, textures), geojson (RFC 7946), gpkg (GeoPackage)\n");
    return 0;
  }

  if (*info) {
    twin::DiagnosticCollector diag;
    bool quietInfo = false;
    diag.setEcho(&twincli::echoDiagnostic, &quietInfo, 10);
    std::error_code ec;
    bool isTileset =
        std::filesystem::is_directory(infoPath, ec) || std::filesystem::path(infoPath).filename() == "tileset.json";
    std::string text;
    if (isTileset) {
      text = twin::tiler::describeTileset(infoPath, diag);
    } else {
      auto items = twin::converters::expandInputs({infoPath}, twin::converters::builtinFormats(), diag);
      for (auto& i : items) text += twin::tiler::describeFile(i.uri, *i.format, diag) + "\n";
    }
    if (text.empty()) return 1;
    std::fputs(text.c_str(), stdout);
    return diag.errorCount() ? 3 : 0;
  }
  return 2;
}
