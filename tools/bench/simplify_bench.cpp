// twin_bench_simplify: which mesh simplifier the tiler's overviews should use, measured on real
// buildings. Each building of the samples (Yokosuka LOD2, FZK-Haus LOD3, Osaka LOD1) is read and
// placed by twin (ECEF through the geoid), welded by position, and reduced to 50 %, 25 % and 10 %
// of its triangles by meshoptimizer (meshopt_simplify, edge collapse with quadric error, topology
// kept) and by CGAL (Surface_mesh_simplification::edge_collapse with Garland-Heckbert plane
// quadrics). For each: time, triangles reached, and the symmetric distance between the result
// and the original (every vertex of one to the nearest triangle of the other, both ways; max and
// mean over the buildings, metres).
//
//   twin_bench_simplify [--samples DIR]

#include <CGAL/Polygon_mesh_processing/orient_polygon_soup.h>
#include <CGAL/Polygon_mesh_processing/polygon_soup_to_polygon_mesh.h>
#include <CGAL/Polygon_mesh_processing/repair_polygon_soup.h>
#include <CGAL/Simple_cartesian.h>
#include <CGAL/Surface_mesh.h>
#include <CGAL/Surface_mesh_simplification/Edge_collapse_visitor_base.h>
#include <CGAL/Surface_mesh_simplification/Policies/Edge_collapse/Count_ratio_stop_predicate.h>
#include <CGAL/Surface_mesh_simplification/Policies/Edge_collapse/GarlandHeckbert_plane_policies.h>
#include <CGAL/Surface_mesh_simplification/edge_collapse.h>
#include <meshoptimizer.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "twin/converters/registry.h"
#include "twin/crs.h"
#include "twin/geometry.h"
#include "twin/mesh.h"

namespace {

using V3 = std::array<double, 3>;

struct Mesh {
  std::vector<V3> points;  // local metres, relative to the building's centre
  std::vector<std::array<uint32_t, 3>> triangles;
};

double dot(const V3& a, const V3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3 sub(const V3& a, const V3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }

// Largest distance from the vertices of `from` to the surface of `to`.
double oneWay(const Mesh& from, const Mesh& to) {
  double worst = 0;
  for (auto& p : from.points) {
    double best = INFINITY;
    for (auto& t : to.triangles)
      best = std::min(best, twin::pointTriangleDistance(p, to.points[t[0]], to.points[t[1]], to.points[t[2]]));
    if (std::isfinite(best)) worst = std::max(worst, best);
  }
  return worst;
}

double symmetric(const Mesh& a, const Mesh& b) {
  if (b.triangles.empty()) return INFINITY;
  return std::max(oneWay(a, b), oneWay(b, a));
}

// Collects every building of a file as a welded local mesh.
class Collector : public twin::ObjectSink {
 public:
  std::vector<Mesh> meshes;
  twin::DiagnosticCollector diag;
  bool accept(twin::CityObject&& obj) override {
    auto crs = twin::CrsTransform::create(obj.srs, {});
    if (!crs) return true;
    std::function<void(twin::CityObject&)> place = [&](twin::CityObject& o) {
      for (auto& g : o.geometries) (*crs)->toEcef(g.points.data(), g.points.size());
      for (auto& c : o.children) place(c);
    };
    place(obj);
    twin::FeatureMesh fm;
    twin::MeshStats st;
    twin::buildFeatureMesh(obj, -1, fm, st, diag);
    if (fm.empty()) return true;
    V3 c{(fm.min[0] + fm.max[0]) / 2, (fm.min[1] + fm.max[1]) / 2, (fm.min[2] + fm.max[2]) / 2};
    Mesh m;
    std::map<std::array<long, 3>, uint32_t> weld;  // by position, 1 mm
    for (auto& g : fm.groups) {
      std::vector<uint32_t> remap(g.positions.size());
      for (size_t i = 0; i < g.positions.size(); ++i) {
        V3 p = sub(g.positions[i], c);
        std::array<long, 3> key{std::lround(p[0] * 1000), std::lround(p[1] * 1000), std::lround(p[2] * 1000)};
        auto [it, fresh] = weld.emplace(key, uint32_t(m.points.size()));
        if (fresh) m.points.push_back(p);
        remap[i] = it->second;
      }
      for (size_t t = 0; t + 2 < g.indices.size(); t += 3) {
        std::array<uint32_t, 3> tri{remap[g.indices[t]], remap[g.indices[t + 1]], remap[g.indices[t + 2]]};
        if (tri[0] != tri[1] && tri[1] != tri[2] && tri[0] != tri[2]) m.triangles.push_back(tri);
      }
    }
    if (m.triangles.size() >= 20) meshes.push_back(std::move(m));
    return true;
  }
};

Mesh withMeshopt(const Mesh& in, double ratio) {
  std::vector<float> pos;
  for (auto& p : in.points) pos.insert(pos.end(), {float(p[0]), float(p[1]), float(p[2])});
  std::vector<uint32_t> idx;
  for (auto& t : in.triangles) idx.insert(idx.end(), t.begin(), t.end());
  std::vector<uint32_t> out(idx.size());
  size_t target = size_t(double(in.triangles.size()) * ratio) * 3;
  size_t n =
      meshopt_simplify(out.data(), idx.data(), idx.size(), pos.data(), in.points.size(), 12, target, 1e9f, 0, nullptr);
  Mesh m;
  m.points = in.points;
  for (size_t i = 0; i + 2 < n; i += 3) m.triangles.push_back({out[i], out[i + 1], out[i + 2]});
  return m;
}

using Kernel = CGAL::Simple_cartesian<double>;
using SurfaceMesh = CGAL::Surface_mesh<Kernel::Point_3>;

Mesh withCgal(const Mesh& in, double ratio, bool& ok) {
  namespace PMP = CGAL::Polygon_mesh_processing;
  namespace SMS = CGAL::Surface_mesh_simplification;
  std::vector<Kernel::Point_3> points;
  for (auto& p : in.points) points.emplace_back(p[0], p[1], p[2]);
  std::vector<std::vector<std::size_t>> polygons;
  for (auto& t : in.triangles) polygons.push_back({t[0], t[1], t[2]});
  PMP::repair_polygon_soup(points, polygons);
  PMP::orient_polygon_soup(points, polygons);
  SurfaceMesh sm;
  PMP::polygon_soup_to_polygon_mesh(points, polygons, sm);
  ok = CGAL::is_triangle_mesh(sm) && !sm.is_empty();
  Mesh m;
  if (!ok) return m;
  SMS::Count_ratio_stop_predicate<SurfaceMesh> stop(ratio);
  SMS::GarlandHeckbert_plane_policies<SurfaceMesh, Kernel> gh(sm);
  SMS::edge_collapse(sm, stop, CGAL::parameters::get_cost(gh.get_cost()).get_placement(gh.get_placement()));
  std::map<SurfaceMesh::Vertex_index, uint32_t> vi;
  for (auto v : sm.vertices()) {
    const auto& p = sm.point(v);
    vi[v] = uint32_t(m.points.size());
    m.points.push_back({p.x(), p.y(), p.z()});
  }
  for (auto f : sm.faces()) {
    std::array<uint32_t, 3> t{};
    int k = 0;
    for (auto v : CGAL::vertices_around_face(sm.halfedge(f), sm)) {
      if (k < 3) t[k] = vi[v];
      ++k;
    }
    if (k == 3) m.triangles.push_back(t);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  std::string samples = std::string(TWIN_SOURCE_DIR) + "/../shared/samples";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--samples" && i + 1 < argc)
      samples = argv[++i];
    else {
      std::printf("usage: twin_bench_simplify [--samples DIR]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  Collector col;
  for (const char* f :
       {"/plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml", "/kit-fzk-haus/fzk_haus_lod3_v2.gml",
        "/plateau-osaka-lod1/udx/bldg/51357309_bldg_6697_op.gml"}) {
    auto& reg = twin::converters::builtinFormats();
    std::string head(4096, '\0');
    if (FILE* fh = std::fopen((samples + f).c_str(), "rb")) {
      head.resize(std::fread(head.data(), 1, head.size(), fh));
      std::fclose(fh);
    }
    auto* fmt = reg.forFile(samples + f, head);
    if (!fmt) continue;
    auto reader = fmt->create();
    twin::ReadStats st;
    twin::ReadOptions ro;
    reader->read(samples + f, ro, col, col.diag, st);
  }
  size_t tris = 0;
  for (auto& m : col.meshes) tris += m.triangles.size();
  std::printf("twin_bench_simplify: %zu buildings with >= 20 triangles, %zu triangles\n\n", col.meshes.size(), tris);
  std::printf("| %-12s | %5s | %10s | %9s | %13s | %13s | %s\n", "simplifier", "ratio", "triangles", "ms",
              "max error m", "mean error m", "failed");
  std::printf("|%s|\n", std::string(90, '-').c_str());
  for (double ratio : {0.5, 0.25, 0.1}) {
    for (int method = 0; method < 2; ++method) {
      size_t outTris = 0, failed = 0;
      double seconds = 0, worst = 0, sum = 0;
      size_t n = 0;
      for (auto& m : col.meshes) {
        auto t0 = std::chrono::steady_clock::now();
        bool ok = true;
        Mesh r = method == 0 ? withMeshopt(m, ratio) : withCgal(m, ratio, ok);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!ok || r.triangles.empty()) {
          ++failed;
          continue;
        }
        outTris += r.triangles.size();
        double e = symmetric(m, r);
        worst = std::max(worst, e);
        sum += e;
        ++n;
      }
      std::printf("| %-12s | %5.2f | %10zu | %9.1f | %13.3f | %13.3f | %zu\n",
                  method == 0 ? "meshoptimizer" : "CGAL GH", ratio, outTris, seconds * 1000, worst,
                  n ? sum / double(n) : 0.0, failed);
    }
  }
  std::printf(
      "\nratio: target share of each building's triangles. meshoptimizer keeps the topology and may stop\n"
      "above the target; CGAL needs a triangle mesh from the polygon soup (failed: could not be made one).\n");
  return 0;
}
