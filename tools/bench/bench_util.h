#pragma once
// Helpers shared by the benchmark programs: run `twin` in a child process with its peak RSS, and
// make synthetic PLATEAU-derived inputs (copies of a real file with fresh ids, shifted).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace twin::bench {

namespace sfs = std::filesystem;

struct RunStats {
  double seconds = 0;
  long maxRssKb = 0;
  int exitCode = -1;
  uint64_t outputBytes = 0;
  uint64_t buildings = 0;
};

// Bytes of the files under `d`, hidden directories below it (a tileset's .twin state) left out.
inline uint64_t dirBytes(const std::string& d) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = sfs::recursive_directory_iterator(d, ec); it != sfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    if (it->is_directory() && it->path().filename().string().rfind('.', 0) == 0) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) n += it->file_size();
  }
  return n;
}

inline RunStats runTwin(const std::string& twin, const std::vector<std::string>& args) {
  RunStats s;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(twin.c_str())};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(twin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  wait4(pid, &status, 0, &ru);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.maxRssKb = ru.ru_maxrss;
  s.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return s;
}

inline uint64_t featuresOf(const std::string& tilesetDir) {
  std::ifstream f(tilesetDir + "/tileset.json");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  auto p = s.find("\"features\":");
  return p == std::string::npos ? 0 : std::strtoull(s.c_str() + p + 11, nullptr, 10);
}

// Calls fn(value) for each whitespace-separated number in [p, e); stops at the first non-number.
template <class Fn>
void forEachNumber(const char* p, const char* e, Fn fn) {
  while (p < e) {
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) ++p;
    if (p >= e) break;
    double v;
    auto r = std::from_chars(p, e, v);
    if (r.ec != std::errc()) break;
    fn(v);
    p = r.ptr;
  }
}

// ---- synthetic input: replicate a PLATEAU file with fresh ids and shifted positions ----
inline std::string readFile(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Rewrites every coordinate triple (lat, lon, height) inside <gml:posList>/<gml:pos> of `body`
// through fn(lat, lon, h).
template <class Fn>
std::string mapCoordinates(const std::string& body, Fn fn) {
  std::string out;
  out.reserve(body.size() + body.size() / 20);
  size_t pos = 0;
  std::vector<double> v;
  for (;;) {
    size_t a = body.find("<gml:pos", pos);
    if (a == std::string::npos) break;
    size_t gt = body.find('>', a);
    size_t end = body.find("</gml:pos", gt);
    out.append(body, pos, gt + 1 - pos);
    v.clear();
    forEachNumber(body.data() + gt + 1, body.data() + end, [&](double x) { v.push_back(x); });
    for (size_t i = 0; i + 2 < v.size(); i += 3) fn(v[i], v[i + 1], v[i + 2]);
    char num[32];
    for (size_t i = 0; i < v.size(); ++i) {
      auto w = std::to_chars(num, num + sizeof num, v[i]);
      if (i) out.push_back(' ');
      out.append(num, w.ptr);
    }
    pos = end;
  }
  out.append(body, pos, std::string::npos);
  return out;
}

// Adds (dlat, dlon) to every coordinate triple inside <gml:posList>/<gml:pos> of `body`.
inline std::string shift(const std::string& body, double dlat, double dlon) {
  return mapCoordinates(body, [&](double& lat, double& lon, double&) {
    lat += dlat;
    lon += dlon;
  });
}

inline std::string renameIds(const std::string& s, const std::string& suffix) {
  std::string out;
  out.reserve(s.size() + s.size() / 50);
  size_t pos = 0;
  for (;;) {
    size_t a = s.find("gml:id=\"", pos);
    size_t b = s.find("\"#", pos);
    size_t c = s.find(">#", pos);
    size_t m = std::min({a, b, c});
    if (m == std::string::npos) break;
    size_t start = m == a ? a + 8 : m + 2;
    size_t stop = s.find_first_of("\"<", start);
    out.append(s, pos, stop - pos);
    out += suffix;
    pos = stop;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// A PLATEAU CityGML file in three parts: everything before the first city object, the city
// objects, and the appearance members that follow them (up to the closing </core:CityModel>).
struct CityModelParts {
  std::string header, members, appearances;
};
inline bool splitCityModel(const std::string& path, CityModelParts& out) {
  std::string s = readFile(path);
  size_t firstMember = s.find("<core:cityObjectMember");
  size_t firstApp = s.find("<app:appearanceMember");
  size_t close = s.rfind("</core:CityModel>");
  if (firstMember == std::string::npos || close == std::string::npos) return false;
  if (firstApp == std::string::npos || firstApp > close) firstApp = close;
  out.header = s.substr(0, firstMember);
  out.members = s.substr(firstMember, firstApp - firstMember);
  out.appearances = s.substr(firstApp, close - firstApp);
  return true;
}

// Writes a file of at least `targetMb` MB: copies of the source's buildings with ids made unique
// by `tag` and the copy number, each copy shifted on a grid (file `index` on its own band).
inline bool makeSynthetic(const std::string& srcGml, const std::string& dstDir, double targetMb, std::string& outPath,
                          const std::string& tag = "", int index = 0) {
  CityModelParts parts;
  if (!splitCityModel(srcGml, parts)) return false;
  const std::string& header = parts.header;
  const std::string& members = parts.members;
  const std::string& apps = parts.appearances;
  sfs::create_directories(dstDir);
  // textures next to the synthetic file
  sfs::path srcDir = sfs::path(srcGml).parent_path();
  for (auto& e : sfs::directory_iterator(srcDir))
    if (e.is_directory()) {
      std::error_code ec;
      sfs::create_directory_symlink(sfs::absolute(e.path()), sfs::path(dstDir) / e.path().filename(), ec);
    }
  outPath = dstDir + "/synthetic_" + tag + std::to_string(int(targetMb)) + "mb_bldg_6697_op.gml";
  if (sfs::exists(outPath) && sfs::file_size(outPath) >= targetMb * 1e6) return true;
  std::ofstream o(outPath, std::ios::binary);
  o << header;
  // Copies until the file holds at least targetMb (ids grow, shifted numbers shrink: measure).
  const double target = targetMb * 1e6;
  double perCopyApps = double(renameIds(apps, "_c0").size());
  double written = double(header.size());
  size_t copies = 0;
  while (written + perCopyApps * double(copies) < target) {
    std::string sfx = "_" + tag + "c" + std::to_string(copies);
    double dlat = double(copies / 32) * 0.004 + index * 0.3, dlon = double(copies % 32) * 0.005;
    std::string m = shift(renameIds(members, sfx), dlat, dlon);
    written += double(m.size());
    o << m;
    ++copies;
  }
  for (size_t k = 0; k < copies; ++k) o << renameIds(apps, "_" + tag + "c" + std::to_string(k));
  o << "</core:CityModel>\n";
  return true;
}

}  // namespace twin::bench
