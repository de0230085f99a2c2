// Conversion speed per input format: one synthetic city (the Yokosuka LOD2 textured PLATEAU file
// replicated to --mb MB) converted from CityGML, and the same buildings exported by `twin export`
// to OBJ, GLB, GeoJSON and GeoPackage and converted back; CityJSON (Zurich LOD2 as-is and
// replicated into a CityJSONSeq), CityGML 3.0 (Opera Lyon), and a point cloud sampled on the
// city's surfaces. The CityGML row is the baseline of the same run. One thread, child processes,
// peak RSS per run.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bench_util.h"

using namespace twin::bench;
using nlohmann::json;

namespace {

struct Row {
  std::string input, format, step;
  double mb = 0;
  RunStats s;
  uint64_t features = 0;
};

uint64_t count(const std::string& tilesetDir, const char* key) {
  std::string s = readFile(tilesetDir + "/tileset.json");
  std::string k = std::string("\"") + key + "\":";
  auto p = s.find(k);
  return p == std::string::npos ? 0 : std::strtoull(s.c_str() + p + k.size(), nullptr, 10);
}

double fileMb(const std::string& p) {
  std::error_code ec;
  if (sfs::is_directory(p, ec)) return double(dirBytes(p)) / 1e6;
  return double(sfs::file_size(p, ec)) / 1e6;
}

void print(const Row& r) {
  double fps = r.s.seconds > 0 ? double(r.features) / r.s.seconds : 0;
  std::printf("| %-30s | %-10s | %-8s | %8.1f | %7.2f | %7.1f | %10.0f | %8.1f | %s\n", r.input.c_str(),
              r.format.c_str(), r.step.c_str(), r.mb, r.s.seconds, r.s.seconds > 0 ? r.mb / r.s.seconds : 0, fps,
              r.s.maxRssKb / 1024.0, r.s.exitCode == 0 ? "ok" : ("exit " + std::to_string(r.s.exitCode)).c_str());
  std::fflush(stdout);
}

std::string objOrigin(const std::string& obj) {
  std::ifstream f(obj);
  std::string line;
  while (std::getline(f, line)) {
    auto pos = line.find("about longitude ");
    double lon, lat, h;
    if (pos != std::string::npos &&
        std::sscanf(line.c_str() + pos, "about longitude %lf, latitude %lf, ellipsoidal height %lf", &lon, &lat, &h) ==
            3) {
      char b[128];
      std::snprintf(b, sizeof b, "%.9f,%.9f,%.3f", lon, lat, h);
      return b;
    }
  }
  return {};
}

// Zurich CityJSON replicated into a CityJSONSeq of about `mb` MB: copies side by side on a grid
// of 700 m (the subset is about 600 m across), renamed.
bool makeCityJsonSeq(const std::string& src, const std::string& dst, double mb) {
  json d = json::parse(readFile(src), nullptr, false);
  if (d.is_discarded()) return false;
  json header = {{"type", "CityJSON"},
                 {"version", "2.0"},
                 {"transform", d["transform"]},
                 {"metadata", d["metadata"]},
                 {"CityObjects", json::object()},
                 {"vertices", json::array()}};
  std::ofstream o(dst);
  o << header.dump() << "\n";
  double written = 0;
  double scale = d["transform"]["scale"][0].get<double>();
  for (int copy = 0; written < mb * 1e6; ++copy) {
    long shiftX = long(std::lround((copy % 8) * 700 / scale)), shiftY = long(std::lround((copy / 8) * 700 / scale));
    for (auto& [id, obj] : d["CityObjects"].items()) {
      if (obj.contains("parents")) continue;
      json f = {{"type", "CityJSONFeature"},
                {"id", id + "_" + std::to_string(copy)},
                {"CityObjects", json::object()},
                {"vertices", json::array()}};
      std::map<long, long> remap;
      std::function<void(json&)> re = [&](json& b) {
        if (b.is_number_integer()) {
          long v = b.get<long>();
          auto [it, fresh] = remap.try_emplace(v, long(remap.size()));
          if (fresh) {
            json p = d["vertices"][size_t(v)];
            p[0] = p[0].get<long>() + shiftX;
            p[1] = p[1].get<long>() + shiftY;
            f["vertices"].push_back(p);
          }
          b = it->second;
        } else if (b.is_array()) {
          for (auto& x : b) re(x);
        }
      };
      std::vector<std::string> members{id};
      for (auto& c : obj.value("children", json::array())) members.push_back(c.get<std::string>());
      for (auto& m : members) {
        json o2 = d["CityObjects"][m];
        for (auto& g : o2["geometry"]) re(g["boundaries"]);
        if (o2.contains("children"))
          for (auto& c : o2["children"]) c = c.get<std::string>() + "_" + std::to_string(copy);
        if (o2.contains("parents"))
          for (auto& c : o2["parents"]) c = c.get<std::string>() + "_" + std::to_string(copy);
        f["CityObjects"][m + "_" + std::to_string(copy)] = o2;
      }
      std::string line = f.dump();
      written += double(line.size() + 1);
      o << line << "\n";
    }
  }
  return true;
}

// `n` points on the triangles of an OBJ (east-north-up metres), as binary PLY with colours.
bool makeCloud(const std::string& obj, const std::string& ply, size_t n) {
  std::vector<std::array<float, 3>> v;
  std::vector<std::array<uint32_t, 3>> tri;
  std::ifstream f(obj);
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("v ", 0) == 0) {
      std::array<float, 3> p;
      std::sscanf(line.c_str() + 2, "%f %f %f", &p[0], &p[1], &p[2]);
      v.push_back(p);
    } else if (line.rfind("f ", 0) == 0) {
      std::array<uint32_t, 3> t;
      std::istringstream s(line.substr(2));
      for (int k = 0; k < 3; ++k) {
        std::string tok;
        s >> tok;
        t[k] = uint32_t(std::stoul(tok.substr(0, tok.find('/'))) - 1);
      }
      tri.push_back(t);
    }
  }
  if (tri.empty()) return false;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  std::uniform_int_distribution<size_t> pick(0, tri.size() - 1);
  std::ofstream o(ply, std::ios::binary);
  o << "ply\nformat binary_little_endian 1.0\nelement vertex " << n
    << "\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty "
       "uchar "
       "blue\nend_header\n";
  for (size_t i = 0; i < n; ++i) {
    auto& t = tri[pick(rng)];
    float a = u(rng), b = u(rng);
    if (a + b > 1) a = 1 - a, b = 1 - b;
    float p[3];
    for (int k = 0; k < 3; ++k) p[k] = v[t[0]][k] + a * (v[t[1]][k] - v[t[0]][k]) + b * (v[t[2]][k] - v[t[0]][k]);
    uint8_t c[3] = {uint8_t(std::fmod(std::abs(p[2]) * 8, 255.f)), 120, 80};
    o.write(reinterpret_cast<const char*>(p), 12);
    o.write(reinterpret_cast<const char*>(c), 3);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string twin = (sfs::path(argv[0]).parent_path() / "../twin").string();
  std::string samples = std::string(TWIN_SOURCE_DIR) + "/../shared/samples";
  std::string work = (sfs::temp_directory_path() / "twin-bench-formats").string();
  double mb = 20;
  size_t points = 2000000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--twin" && i + 1 < argc)
      twin = argv[++i];
    else if (a == "--work" && i + 1 < argc)
      work = argv[++i];
    else if (a == "--mb" && i + 1 < argc)
      mb = std::atof(argv[++i]);
    else if (a == "--points" && i + 1 < argc)
      points = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::printf("usage: twin_bench_formats [--twin PATH] [--work DIR] [--mb 20] [--points 2000000]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  sfs::remove_all(work);
  sfs::create_directories(work);
  std::printf("twin_bench_formats: %s, %u cores, one thread per run\n\n", twin.c_str(),
              std::thread::hardware_concurrency());
  std::printf("| %-30s | %-10s | %-8s | %8s | %7s | %7s | %10s | %8s | status\n", "input", "format", "step", "MB", "s",
              "MB/s", "features/s", "RSS MB");
  std::printf("|%s|\n", std::string(120, '-').c_str());

  auto convert = [&](const std::string& name, const std::string& format, const std::string& in,
                     std::vector<std::string> extra, const char* countKey = "features") {
    Row r{name, format, "convert", fileMb(in)};
    std::string out = work + "/tiles-" + format;
    std::vector<std::string> args{"convert", in, "-o", out, "--threads", "1", "--no-progress", "-q", "--full"};
    args.insert(args.end(), extra.begin(), extra.end());
    r.s = runTwin(twin, args);
    r.features = count(out, countKey);
    print(r);
  };
  auto exportTo = [&](const std::string& name, const std::string& in, const std::string& out) {
    Row r{name, sfs::path(out).extension().string().substr(1), "export", fileMb(in)};
    r.s = runTwin(twin, {"export", in, "-o", out, "--no-progress", "-q"});
    print(r);
  };

  std::string city;
  if (!makeSynthetic(samples + "/plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml", work + "/citygml", mb,
                     city)) {
    std::fprintf(stderr, "cannot make the synthetic city\n");
    return 1;
  }
  std::string cityName = "yokosuka x N (" + std::to_string(int(mb)) + " MB)";
  convert(cityName, "citygml", city, {});
  for (const char* ext : {"obj", "glb", "geojson", "gpkg"}) exportTo(cityName, city, work + "/city." + ext);
  std::string origin = objOrigin(work + "/city.obj");
  convert(cityName, "obj", work + "/city.obj", {"--crs", "EPSG:4979", "--origin", origin});
  convert(cityName, "glb", work + "/city.glb", {"--crs", "EPSG:4979", "--origin", origin});
  convert(cityName, "geojson", work + "/city.geojson", {"--height-field", "twin:height"});
  convert(cityName, "gpkg", work + "/city.gpkg", {"--height-field", "twin:height"});

  std::string zurich = samples + "/cityjson-cjio/zurich_subset_lod2.json";
  convert("zurich LOD2 (as is)", "cityjson", zurich, {});
  std::string seq = work + "/zurich.city.jsonl";
  if (makeCityJsonSeq(zurich, seq, mb)) convert("zurich x N", "cityjsonseq", seq, {});
  convert("opera lyon (as is)", "citygml3",
          samples + "/citygml3-ogc-examples/Opera-Lyon_CityGML3.0_LOD2_with_xAL3_FullyStructured.gml", {});
  std::string cloud = work + "/cloud.ply";
  if (makeCloud(work + "/city.obj", cloud, points))
    convert(std::to_string(points / 1000) + "k points on the city", "pointcloud", cloud,
            {"--crs", "EPSG:4979", "--origin", origin}, "points");
  std::printf("\nfeatures/s: buildings (points for the point cloud) per second of the whole run.\n");
  sfs::remove_all(work);
  return 0;
}
