// twin_bench_city: a whole synthetic city through the tiler, with levels of detail against a flat
// tileset of full-detail leaves, in the same run.
//
// The city: PLATEAU-like 1 km mesh files, each a 4 x 4 block of copies of a real PLATEAU file
// (80 % of the buildings from the Osaka LOD1 file, 20 % from the Yokosuka LOD2 textured file),
// fresh gml:ids, placed side by side on a grid near Yokosuka. For each run: wall time, peak RSS,
// output bytes; for the levels-of-detail tileset also the bytes a client must fetch to show the
// whole city from above (camera straight down, whole city in view, 1080 px high, 60 degree field
// of view, maximum screen-space error 16 px, as CesiumJS's defaults), and the bytes of the root and
// the first two levels, against the flat tileset's full-detail bytes.
//
//   twin_bench_city [--buildings 100000] [--threads 1,2] [--work DIR] [--twin PATH] [--samples DIR]

#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench_util.h"

using namespace twin::bench;
using nlohmann::json;

namespace {

struct Source {
  std::string gml;
  int buildings;      // in the file
  double lat0, lon0;  // south-west corner of its buildings
  double h0;          // about its lowest height
};

// Writes a file of copies of `src`, copy k moved to the south-west corner cells[k] and scaled by
// scales[k] (horizontally and in height above the lowest point), so that building sizes vary as
// in a real city instead of repeating a few.
bool writeCopies(const Source& src, const std::string& out, const std::vector<std::pair<double, double>>& cells,
                 const std::vector<double>& scales, const std::string& tag) {
  CityModelParts parts;
  if (!splitCityModel(src.gml, parts)) return false;
  const std::string& header = parts.header;
  const std::string& members = parts.members;
  const std::string& apps = parts.appearances;
  std::ofstream o(out + ".part", std::ios::binary);
  o << header;
  for (size_t k = 0; k < cells.size(); ++k)
    o << mapCoordinates(renameIds(members, "_" + tag + "c" + std::to_string(k)),
                        [&](double& lat, double& lon, double& h) {
                          lat = cells[k].first + (lat - src.lat0) * scales[k];
                          lon = cells[k].second + (lon - src.lon0) * scales[k];
                          h = src.h0 + (h - src.h0) * scales[k];
                        });
  for (size_t k = 0; k < cells.size(); ++k) o << renameIds(apps, "_" + tag + "c" + std::to_string(k));
  o << "</core:CityModel>\n";
  o.close();
  if (!o) return false;
  sfs::rename(out + ".part", out);
  return true;
}

struct TileInfo {
  uint64_t bytes = 0;
};

double norm(const std::array<double, 3>& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }

struct Overview {
  uint64_t fetchedFromAbove = 0;  // contents a client loads for the whole-city view
  uint64_t tilesFromAbove = 0;
  uint64_t firstLevels = 0;  // root + 2 levels
  uint64_t leafBytes = 0;
  uint64_t totalBytes = 0;
  int depth = 0;
  double rootError = 0;
};

Overview analyse(const std::string& dir) {
  Overview o;
  json ts = json::parse(readFile(dir + "/tileset.json"));
  const json& root = ts["root"];
  auto box = root["boundingVolume"]["box"];
  std::array<double, 3> c{box[0], box[1], box[2]};
  double rx = std::hypot(double(box[3]), double(box[4]), double(box[5]));
  double ry = std::hypot(double(box[6]), double(box[7]), double(box[8]));
  double rz = std::hypot(double(box[9]), double(box[10]), double(box[11]));
  double r = norm(c);
  std::array<double, 3> up{c[0] / r, c[1] / r, c[2] / r};
  const double fov = 60.0 * M_PI / 180.0, screen = 1080, maxSse = 16;
  double radius = std::hypot(rx, ry);
  double h = radius / std::tan(fov / 2) + rz;
  std::array<double, 3> cam{c[0] + up[0] * h, c[1] + up[1] * h, c[2] + up[2] * h};
  o.rootError = root["geometricError"];
  auto sizeOf = [&](const json& t) -> uint64_t {
    if (!t.contains("content")) return 0;
    std::error_code ec;
    auto n = sfs::file_size(dir + "/" + t["content"]["uri"].get<std::string>(), ec);
    return ec ? 0 : n;
  };
  std::function<void(const json&, int)> walk = [&](const json& t, int level) {
    uint64_t b = sizeOf(t);
    o.totalBytes += b;
    o.depth = std::max(o.depth, level);
    if (!t.contains("children")) o.leafBytes += b;
    if (level <= 2) o.firstLevels += b;
    for (auto& ch : t.value("children", json::array())) walk(ch, level + 1);
  };
  walk(root, 0);
  std::function<void(const json&)> view = [&](const json& t) {
    o.fetchedFromAbove += sizeOf(t);
    o.tilesFromAbove += t.contains("content");
    // distance from the camera to the tile's oriented box (0 inside), as CesiumJS computes it
    auto b = t["boundingVolume"]["box"];
    std::array<double, 3> d3{cam[0] - double(b[0]), cam[1] - double(b[1]), cam[2] - double(b[2])};
    double out2 = 0;
    for (int a = 0; a < 3; ++a) {
      std::array<double, 3> axis{b[3 + 3 * a], b[4 + 3 * a], b[5 + 3 * a]};
      double len = norm(axis);
      if (len <= 0) continue;
      double proj = (d3[0] * axis[0] + d3[1] * axis[1] + d3[2] * axis[2]) / len;
      double excess = std::max(0.0, std::abs(proj) - len);
      out2 += excess * excess;
    }
    double d = std::max(1.0, std::sqrt(out2));
    double sse = double(t["geometricError"]) * screen / (2 * d * std::tan(fov / 2));
    if (sse > maxSse)
      for (auto& ch : t.value("children", json::array())) view(ch);
  };
  view(root);
  return o;
}

std::string mb(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", b / 1e6);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string twin = (sfs::path(argv[0]).parent_path() / "../twin").string();
  std::string samples = std::string(TWIN_SOURCE_DIR) + "/../shared/samples";
  std::string work = (sfs::temp_directory_path() / "twin-bench-city").string();
  int buildings = 100000;
  std::vector<int> threads{1, int(std::max(2u, std::thread::hardware_concurrency()))};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twin" && i + 1 < argc)
      twin = argv[++i];
    else if (a == "--samples" && i + 1 < argc)
      samples = argv[++i];
    else if (a == "--work" && i + 1 < argc)
      work = argv[++i];
    else if (a == "--buildings" && i + 1 < argc)
      buildings = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) threads.push_back(std::atoi(t.c_str()));
    } else {
      std::printf(
          "usage: twin_bench_city [--buildings N] [--threads 1,2] [--work DIR] [--twin PATH] [--samples DIR]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const Source osaka{samples + "/plateau-osaka-lod1/udx/bldg/51357309_bldg_6697_op.gml", 63, 34.589634, 135.498730,
                     0.0};
  const Source yokosuka{samples + "/plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml", 13, 35.258297,
                        139.737243, 0.0};
  // ---- the city ----
  std::string city = work + "/city" + std::to_string(buildings) + "-v2";
  sfs::create_directories(city);
  {
    std::error_code ec;
    sfs::create_directory_symlink(sfs::path(yokosuka.gml).parent_path() / "52397519_bldg_6697_appearance",
                                  city + "/52397519_bldg_6697_appearance", ec);
  }
  const double cell = 0.005;  // degrees between copies (the samples span up to 0.0033; scaled up to 1.4x)
  const int perFile = 16;     // 4 x 4 copies per file
  int osakaFiles = int(std::ceil(0.8 * buildings / (osaka.buildings * perFile)));
  int yokoFiles = int(std::ceil(0.2 * buildings / (yokosuka.buildings * perFile)));
  int files = osakaFiles + yokoFiles;
  int cols = int(std::ceil(std::sqrt(double(files))));
  long total = 0;
  std::printf("twin_bench_city: %d files (%d Osaka LOD1 x 16 copies, %d Yokosuka LOD2 textured x 16 copies)\n", files,
              osakaFiles, yokoFiles);
  int yokoDone = 0, osakaDone = 0;
  for (int f = 0; f < files; ++f) {
    // interleave the two kinds so textured blocks spread over the city
    bool yoko = osakaDone >= osakaFiles || (yokoDone < yokoFiles && double(yokoDone) * files <= double(f) * yokoFiles);
    (yoko ? yokoDone : osakaDone)++;
    const Source& src = yoko ? yokosuka : osaka;
    int fr = f / cols, fc = f % cols;
    std::vector<std::pair<double, double>> cells;
    std::vector<double> scales;
    for (int k = 0; k < perFile; ++k) {
      cells.push_back({35.20 + (fr * 4 + k / 4) * cell, 139.60 + (fc * 4 + k % 4) * cell});
      // a fixed pseudo-random scale in [0.6, 1.4] per copy
      uint64_t x = uint64_t(f) * 1000003u + uint64_t(k) * 7919u + 12345u;
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdull;
      x ^= x >> 33;
      scales.push_back(0.6 + 0.8 * double(x % 10000) / 10000.0);
    }
    char name[96];
    std::snprintf(name, sizeof name, "/%04d%04d_bldg_6697_op.gml", fr, fc);
    std::string path = city + name;
    if (!sfs::exists(path) && !writeCopies(src, path, cells, scales, "f" + std::to_string(f))) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    total += long(src.buildings) * perFile;
  }
  uint64_t inBytes = dirBytes(city);
  std::printf("city: %ld buildings, %s MB of CityGML in %s\n\n", total, mb(inBytes).c_str(), city.c_str());
  std::printf("| %-28s | %7s | %8s | %8s | %9s | %9s | %12s | %12s | %6s |\n", "run", "s", "MB/s", "RSS MB", "out MB",
              "leaves MB", "overview MB", "root+2 MB", "status");
  std::printf("|%s|\n", std::string(120, '-').c_str());
  auto row = [&](const std::string& name, const RunStats& s, const Overview* o, uint64_t out) {
    std::printf("| %-28s | %7.1f | %8.1f | %8.1f | %9s | %9s | %12s | %12s | %6s |\n", name.c_str(), s.seconds,
                inBytes / 1e6 / s.seconds, s.maxRssKb / 1024.0, mb(out).c_str(), o ? mb(o->leafBytes).c_str() : "",
                o ? (mb(o->fetchedFromAbove) + " (" + std::to_string(o->tilesFromAbove) + ")").c_str() : "",
                o ? mb(o->firstLevels).c_str() : "", s.exitCode == 0 ? "ok" : std::to_string(s.exitCode).c_str());
    std::fflush(stdout);
  };
  Overview lod{};
  uint64_t flatLeaves = 0;
  double flatRate = 0, lodRate = 0;
  uint64_t stateBytes = 0;
  for (int t : threads) {
    std::string out = work + "/out-flat";
    RunStats s = runTwin(
        twin, {"convert", city, "-o", out, "--flat", "--full", "-q", "--no-progress", "--threads", std::to_string(t)});
    uint64_t bytes = dirBytes(out);
    row("flat, " + std::to_string(t) + " thread(s)", s, nullptr, bytes);
    flatLeaves = bytes;
    flatRate = inBytes / 1e6 / s.seconds;
    if (t == threads.back()) {
      // what the per-tile texture atlas costs: the same without it
      RunStats n = runTwin(twin, {"convert", city, "-o", work + "/out-noatlas", "--flat", "--no-atlas", "--full", "-q",
                                  "--no-progress", "--threads", std::to_string(t)});
      row("flat, no atlas, " + std::to_string(t) + " thr", n, nullptr, dirBytes(work + "/out-noatlas"));
    }
    out = work + "/out-lod";
    s = runTwin(twin, {"convert", city, "-o", out, "--full", "-q", "--no-progress", "--threads", std::to_string(t)});
    lod = analyse(out);
    row("levels of detail, " + std::to_string(t) + " thr", s, &lod, dirBytes(out));
    lodRate = inBytes / 1e6 / s.seconds;
    stateBytes = dirBytes(out + "/.twin");
    RunStats again = runTwin(twin, {"convert", city, "-o", out, "-q", "--no-progress", "--threads", std::to_string(t)});
    row("  again, nothing changed", again, nullptr, dirBytes(out));
  }
  std::printf("\nlevels of detail: depth %d, root geometric error %.1f m\n", lod.depth, lod.rootError);
  std::printf("whole city from above: %s MB in %llu tiles = %.2f %% of the flat tileset's %s MB of full detail\n",
              mb(lod.fetchedFromAbove).c_str(), static_cast<unsigned long long>(lod.tilesFromAbove),
              100.0 * double(lod.fetchedFromAbove) / double(flatLeaves), mb(flatLeaves).c_str());
  std::printf("root + first two levels: %s MB = %.2f %% of full detail\n", mb(lod.firstLevels).c_str(),
              100.0 * double(lod.firstLevels) / double(flatLeaves));
  std::printf("state kept for incremental runs and merges (.twin, not served): %s MB\n", mb(stateBytes).c_str());
  std::printf("throughput with levels of detail: %.1f MB/s vs %.1f MB/s flat (%.2fx), last thread count\n", lodRate,
              flatRate, flatRate / lodRate);
  return 0;
}
