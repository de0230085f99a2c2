// Land-use store benchmark: link and check N buildings against M parcels (default 100,000 and
// 1,000,000), and point-to-parcel lookups, in the embedded GeoPackage store (or PostGIS).
// Synthetic data made from real shapes: parcel and building outlines are the footprints of the
// PLATEAU sample buildings (and the 地図XML parcel), fitted into a grid of 20 m cells; every
// tenth building straddles two parcels; use districts are 1 km squares with 200-vertex outlines
// and the rates of the PLATEAU urf samples; fire districts 2 km squares; each parcel gives a front
// road width (4, 6 or 8 m) so that the floor-area rule can decide.
// Each scale runs in a child process (its own peak RSS); the baseline is the same at 1/10 scale.
//
//   twin_bench_landuse [--parcels N] [--buildings N] [--store-dir DIR | --pg URI] [--lookups N]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "twin/converters/registry.h"
#include "twin/landuse/commands.h"
#include "twin/landuse/import.h"
#include "twin/landuse/site.h"

using namespace twin;
using namespace twin::landuse;
namespace sfs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long rssKb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return 0;
}

// Real outlines, centred on the origin and scaled so their larger side is 1.
std::vector<Ring> realShapes() {
  std::vector<Ring> shapes;
  DiagnosticCollector diag;
  std::string samples = std::string(TWIN_SOURCE_DIR) + "/../shared/samples/";
  struct Sink : ObjectSink {
    std::vector<CityObject> objs;
    bool accept(CityObject&& o) override {
      objs.push_back(std::move(o));
      return true;
    }
  } sink;
  for (auto& item : converters::expandInputs({samples + "plateau-osaka-lod1", samples + "plateau-yokosuka-lod2tex",
                                              samples + "moj-cadastral/mojxml-py/12103-0400-76.zip"},
                                             converters::builtinFormats(), diag)) {
    ReadOptions ro;
    ro.objectTypes = {"Building", "Parcel"};
    ReadStats st;
    item.format->create()->read(item.uri, ro, sink, diag, st);
  }
  for (auto& o : sink.objs) {
    auto t = PlaneTransform::create(o.srs, "EPSG:6677");
    if (!t.value) continue;
    std::optional<Building> b = o.type == "Parcel" ? std::nullopt : summarizeBuilding(o, **t.value, 3.0, diag);
    MultiPoly m;
    if (b)
      m = b->footprint;
    else if (auto p = parcelFrom(o, **t.value, {}, diag))
      m = p->geom;
    if (m.size() != 1) continue;
    Box2 bb = bounds(m);
    double s = std::max(bb.maxx - bb.minx, bb.maxy - bb.miny);
    if (!(s > 0)) continue;
    Ring r;
    for (auto& p : m[0].outer) r.push_back({(p[0] - bb.center()[0]) / s, (p[1] - bb.center()[1]) / s});
    shapes.push_back(std::move(r));
  }
  return shapes;
}

MultiPoly place(const Ring& shape, double cx, double cy, double size) {
  Poly p;
  for (auto& q : shape) p.outer.push_back({cx + q[0] * size, cy + q[1] * size});
  MultiPoly m{p};
  if (!checkValid(m).valid) m = makeValid(m);
  return m;
}

MultiPoly square(double x0, double y0, double side, int perEdge) {
  Poly p;
  for (int e = 0; e < 4; ++e)
    for (int i = 0; i < perEdge; ++i) {
      double t = double(i) / perEdge * side;
      P2 q = e == 0   ? P2{x0 + t, y0}
             : e == 1 ? P2{x0 + side, y0 + t}
             : e == 2 ? P2{x0 + side - t, y0 + side}
                      : P2{x0, y0 + side - t};
      p.outer.push_back(q);
    }
  return {p};
}

struct Row {
  long parcels = 0, buildings = 0;
  double tParcels = 0, tBuildings = 0, tZoning = 0, tCheck = 0;
  double lookupP50 = 0, lookupP99 = 0, lookupMean = 0;
  long rssAfterImport = 0, rssAfterCheck = 0, hwm = 0;
  long pass = 0, fail = 0, unknown = 0, linked = 0, straddling = 0;
  double storeMb = 0;
  double tSites = 0;  // `twin check` over every site (links already made), report to nowhere
  long sites = 0;
};

Row runScale(long nParcels, long nBuildings, const std::string& uri, int lookups) {
  Row row;
  row.parcels = nParcels, row.buildings = nBuildings;
  auto shapes = realShapes();
  if (shapes.empty()) {
    std::fprintf(stderr, "no sample shapes found under ../shared/samples\n");
    std::exit(1);
  }
  const double cell = 20.0, X0 = -20000, Y0 = -45000;
  long side = long(std::ceil(std::sqrt(double(nParcels))));
  auto store = Store::open(uri);
  store->initialize("EPSG:6677");
  auto t0 = Clock::now();
  store->begin();
  for (long i = 0; i < nParcels; ++i) {
    long gx = i % side, gy = i / side;
    Parcel p;
    p.id = "P" + std::to_string(i);
    p.chiban = std::to_string(gy + 1) + "-" + std::to_string(gx + 1);
    p.locality = "試験町" + std::to_string(gy / 100 + 1) + "丁目";
    // Real outline, stretched to fill its cell (parcels tile the plane like real ones do).
    const Ring& s = shapes[size_t(i) % shapes.size()];
    Poly poly;
    for (auto& q : s)
      poly.outer.push_back({X0 + (gx + 0.5) * cell + q[0] * cell, Y0 + (gy + 0.5) * cell + q[1] * cell});
    p.geom = {poly};
    p.frontRoadWidth = 4 + double(gy % 3) * 2;  // 4, 6, 8 m roads: the front-road rule decides
    if (!checkValid(p.geom).valid) p.geom = makeValid(p.geom);
    p.area = area(p.geom);
    if (i % 100000 == 99999) {
      store->commit();
      store->begin();
    }
    store->put(p);
  }
  store->commit();
  row.tParcels = since(t0);
  // Zoning: 1 km use districts (codes and rates of the urf samples), 2 km fire districts.
  t0 = Clock::now();
  struct Z {
    const char* code;
    double cov, far;
  } kinds[] = {{"1", 0.5, 1.0}, {"2", 0.6, 2.0},  {"3", 0.6, 2.0},  {"5", 0.6, 3.0},
               {"9", 0.8, 3.0}, {"10", 0.8, 4.0}, {"11", 0.6, 2.0}, {"13", 0.6, 2.0}};
  double extent = side * cell;
  store->begin();
  int k = 0;
  for (double y = 0; y < extent; y += 1000)
    for (double x = 0; x < extent; x += 1000, ++k) {
      District d;
      d.id = "U" + std::to_string(k);
      d.kind = "UseDistrict";
      auto& z = kinds[k % 8];
      d.code = z.code, d.coverageRate = z.cov, d.floorAreaRate = z.far;
      if (d.code == "1") d.heightLimit = 10;
      d.geom = square(X0 + x, Y0 + y, 1000, 50);
      d.area = area(d.geom);
      store->put(d);
      if (int(x / 1000) % 2 == 0 && int(y / 1000) % 2 == 0) {
        District f;
        f.id = "F" + std::to_string(k);
        f.kind = "FirePreventionDistrict";
        f.code = (k / 2) % 2 ? "24" : "25";
        f.geom = square(X0 + x, Y0 + y, 2000, 50);
        f.area = area(f.geom);
        store->put(f);
      }
    }
  store->commit();
  row.tZoning = since(t0);
  // Buildings: real footprints, 60 % of a cell; every tenth one across two cells.
  t0 = Clock::now();
  store->begin();
  long step = std::max(1L, nParcels / std::max(1L, nBuildings));
  for (long i = 0; i < nBuildings; ++i) {
    long c = (i * step) % nParcels;
    long gx = c % side, gy = c / side;
    if (gx == side - 1) gx--;
    Building b;
    b.id = "B" + std::to_string(i);
    double cx = X0 + (gx + 0.5) * cell, cy = Y0 + (gy + 0.5) * cell;
    if (i % 10 == 0) cx += cell / 2;  // straddles the boundary to the next parcel
    b.footprint = place(shapes[size_t(i * 7) % shapes.size()], cx, cy, cell * 0.6);
    b.buildingArea = area(b.footprint);
    b.footprintSource = "synthetic (real PLATEAU outline)";
    b.height = 6 + double(i % 20);
    b.heightSource = "synthetic";
    b.storeysAbove = 2 + int(i % 6);
    b.floorArea = b.buildingArea * b.storeysAbove;
    b.floorAreaSource = "synthetic";
    store->put(b);
    if (i % 50000 == 49999) {
      store->commit();
      store->begin();
    }
  }
  store->commit();
  row.tBuildings = since(t0);
  row.rssAfterImport = rssKb("VmRSS:");
  // Link and check every building.
  auto rules = RuleSet::load(RuleSet::defaultPath());
  if (!rules.value) std::exit(1);
  t0 = Clock::now();
  long n = 0;
  store->begin();
  store->forEachBuilding([&](Building&& b) {
    auto c = checkBuilding(*store, *rules.value, b);
    Verdict v = Verdict::Pass;
    for (auto& r : c.results) {
      if (r.verdict == Verdict::Fail)
        v = Verdict::Fail;
      else if (r.verdict == Verdict::Unknown && v != Verdict::Fail)
        v = Verdict::Unknown;
    }
    (v == Verdict::Pass ? row.pass : v == Verdict::Fail ? row.fail : row.unknown)++;
    row.linked += !c.links.empty();
    row.straddling += c.links.size() > 1;
    if (++n % 5000 == 0) {
      store->commit();
      store->begin();
    }
  });
  store->commit();
  row.tCheck = since(t0);
  // The city-scale check as `twin check` runs it: every site once, with all its buildings.
  {
    std::ofstream sink("/dev/null");
    t0 = Clock::now();
    auto run = checkBuildings(*store, *rules.value, CheckSelection{}, ReportFormat::Csv, sink);
    row.tSites = since(t0);
    if (run) row.sites = long(run->sites);
  }
  row.rssAfterCheck = rssKb("VmRSS:");
  // Point-to-parcel lookups at random points of the area.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> ux(X0, X0 + side * cell),
      uy(Y0, Y0 + double((nParcels + side - 1) / side) * cell);
  std::vector<double> lat;
  size_t found = 0;
  for (int i = 0; i < lookups; ++i) {
    P2 p{ux(rng), uy(rng)};
    auto t = Clock::now();
    found += store->parcelsAt(p).size();
    lat.push_back(since(t) * 1e3);
  }
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    row.lookupP50 = lat[lat.size() / 2];
    row.lookupP99 = lat[std::min(lat.size() - 1, size_t(lat.size() * 0.99))];
    double s = 0;
    for (double x : lat) s += x;
    row.lookupMean = s / double(lat.size());
  }
  row.hwm = rssKb("VmHWM:");
  std::error_code ec;
  if (!Store::isPostgres(uri)) row.storeMb = double(sfs::file_size(uri, ec)) / 1e6;
  (void)found;
  return row;
}

}  // namespace

// 日影規制 in the envelope (逆日影): a 40 m × 25 m (1,000 m²) site in 第一種中高層住居専用地域 with a 6 m
// road south, 4 h / 2.5 h on the 4 m plane at Tokyo's latitude; the same envelope without it is the
// baseline. Best of 3.
void shadowEnvelopeBench() {
  auto rules = RuleSet::load(RuleSet::defaultPath());
  if (!rules.value) std::exit(1);
  Site s;
  Parcel p;
  p.id = "P";
  p.geom = {Poly{{{0, 0}, {40, 0}, {40, 25}, {0, 25}}, {}}};
  p.area = area(p.geom);
  s.parcels = {p};
  s.geom = p.geom;
  s.area = p.area;
  District u;
  u.id = "U";
  u.kind = "UseDistrict";
  u.code = "3";
  u.coverageRate = 0.6;
  u.floorAreaRate = 2.0;
  u.geom = p.geom;
  s.districts.push_back({u, p.area, 1.0});
  s.frontage.push_back({{0, 0}, {40, 0}, 6.0, "R", false});
  s.frontRoadWidth = 6;
  s.latitude = 35.68;
  std::printf("%-34s %-9s %-9s %-10s %-12s %s\n", "envelope (1,000 m² site)", "best_s", "volume", "triangles",
              "lowered_m3", "max hours beyond 5 m / 10 m");
  for (int withShadow = 0; withShadow < 2; ++withShadow) {
    EnvelopeOptions o;
    if (withShadow) o.shadow = ShadowDesignation{4, 4, 2.5, "bench"};
    double best = 1e9;
    EnvelopeResult e;
    for (int k = 0; k < 3; ++k) {
      auto t0 = Clock::now();
      e = rules.value->envelope(s, o);
      best = std::min(best, since(t0));
    }
    std::printf("%-34s %-9.3f %-9.0f %-10zu %-12.0f %.2f / %.2f\n",
                withShadow ? "slant planes + 日影 4-2.5@4, 1 m" : "slant planes only (baseline)", best, e.volume,
                e.triangles.size() / 3, e.shadow.lowered, e.shadow.max5, e.shadow.max10);
  }
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  long parcels = 1000000, buildings = 100000;
  int lookups = 10000;
  std::string dir = "/tmp/twin-bench-landuse", pg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--parcels")
      parcels = std::atol(next().c_str());
    else if (a == "--buildings")
      buildings = std::atol(next().c_str());
    else if (a == "--lookups")
      lookups = std::atoi(next().c_str());
    else if (a == "--store-dir")
      dir = next();
    else if (a == "--pg")
      pg = next();
    else {
      std::printf(
          "twin_bench_landuse [--parcels N] [--buildings N] [--lookups N] [--store-dir DIR] [--pg URI]\n"
          "Links and checks N buildings against M parcels in the land-use store; point-to-parcel lookups.\n"
          "A baseline at 1/10 scale runs first, in its own process, for comparison.\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  sfs::create_directories(dir);
  shadowEnvelopeBench();
  std::printf("%-10s %-10s %-9s %-9s %-9s %-10s %-10s %-8s %-9s %-8s %-8s %-9s %-9s %-9s %s\n", "parcels", "buildings",
              "import_s", "bldgs_s", "zoning_s", "check_s", "check/s", "sites", "sites/s", "p50_ms", "p99_ms", "rss_MB",
              "peak_MB", "store_MB", "pass/fail/unknown (straddling)");
  for (int pass = 0; pass < 2; ++pass) {
    long np = pass == 0 ? parcels / 10 : parcels, nb = pass == 0 ? buildings / 10 : buildings;
    std::string uri = pg.empty() ? dir + "/store-" + std::to_string(np) + ".gpkg" : pg;
    if (pg.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) sfs::remove(uri + suffix);
    }
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      Row r = runScale(np, nb, uri, lookups);
      if (write(fds[1], &r, sizeof r) != ssize_t(sizeof r)) _exit(1);
      _exit(0);
    }
    close(fds[1]);
    Row r;
    bool got = read(fds[0], &r, sizeof r) == ssize_t(sizeof r);
    close(fds[0]);
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    if (!got) {
      std::fprintf(stderr, "scale %ld failed\n", np);
      return 1;
    }
    std::printf(
        "%-10ld %-10ld %-9.1f %-9.1f %-9.1f %-10.1f %-10.0f %-8ld %-9.0f %-8.3f %-8.3f %-9.1f %-9.1f %-9.1f "
        "%ld/%ld/%ld (%ld)\n",
        r.parcels, r.buildings, r.tParcels, r.tBuildings, r.tZoning, r.tCheck, double(r.buildings) / r.tCheck, r.sites,
        r.tSites > 0 ? double(r.sites) / r.tSites : 0.0,
        r.lookupP50, r.lookupP99, r.rssAfterCheck / 1024.0, ru.ru_maxrss / 1024.0, r.storeMb, r.pass, r.fail, r.unknown,
        r.straddling);
    std::fflush(stdout);
  }
  return 0;
}
