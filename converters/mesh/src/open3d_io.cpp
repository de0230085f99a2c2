#include "open3d_io.h"

#include <open3d/geometry/PointCloud.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/io/PointCloudIO.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/utility/Logging.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "twin/vfs.h"

namespace twin::mesh {

namespace {

// Open3D reads files by path: entries of zip archives are not supported.
bool plainFile(const std::string& uri, DiagnosticSink& diag) {
  if (vfs::isZipUri(uri)) {
    diag.error("input-unsupported", "meshes and point clouds are read from plain files, not from inside a zip", uri);
    return false;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(uri, ec)) {
    diag.error("input-missing", "no such file", uri);
    return false;
  }
  return true;
}

void quietOpen3d() {
  static bool once = [] {
    open3d::utility::SetVerbosityLevel(open3d::utility::VerbosityLevel::Error);
    return true;
  }();
  (void)once;
}

}  // namespace

bool readOpen3dMesh(const std::string& uri, const Placement& p, const ReadOptions& options, ObjectSink& sink,
                    DiagnosticSink& diag, ReadStats& stats) {
  if (!plainFile(uri, diag)) return false;
  quietOpen3d();
  open3d::geometry::TriangleMesh mesh;
  open3d::io::ReadTriangleMeshOptions ro;
  ro.enable_post_processing = false;
  if (!open3d::io::ReadTriangleMesh(uri, mesh, ro) || mesh.triangles_.empty()) {
    diag.error("mesh-unreadable", "no triangles could be read (a broken or empty mesh file?)", uri);
    return false;
  }
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(uri, ec);
  stats.bytes += bytes;
  if (options.bytesRead) *options.bytesRead += bytes;
  CityObject obj;
  obj.id = fileStem(uri);
  obj.type = "Building";
  obj.srs = p.srs;
  obj.sourceFile = uri;
  Attribute src;
  src.key = "twin:sourceFile";
  src.text = std::filesystem::path(uri).filename().string();
  obj.attributes.push_back(src);
  if (mesh.HasVertexColors()) {
    Eigen::Vector3d sum(0, 0, 0);
    for (auto& c : mesh.vertex_colors_) sum += c;
    sum /= double(mesh.vertex_colors_.size());
    Material m;
    m.diffuse = {float(sum[0]), float(sum[1]), float(sum[2])};
    obj.materials.push_back(m);
  }
  Geometry g;
  g.lod = 2;
  std::vector<Vec3> placed;
  placed.reserve(mesh.vertices_.size());
  for (auto& v : mesh.vertices_) placed.push_back(p.place(v[0], v[1], v[2]));
  size_t nv = placed.size();
  for (auto& t : mesh.triangles_) {
    if (t[0] < 0 || t[1] < 0 || t[2] < 0 || size_t(t[0]) >= nv || size_t(t[1]) >= nv || size_t(t[2]) >= nv) continue;
    Polygon poly;
    poly.firstRing = uint32_t(g.ringCount());
    poly.ringCount = 1;
    poly.material = obj.materials.empty() ? -1 : 0;
    for (int k = 0; k < 3; ++k) g.points.push_back(placed[size_t(t[k])]);
    g.ringStart.push_back(uint32_t(g.points.size()));
    g.polygons.push_back(poly);
  }
  obj.geometries.push_back(std::move(g));
  stats.objectsByType[obj.type]++;
  sink.accept(std::move(obj));
  return true;
}

bool readOpen3dPoints(const std::string& uri, const Placement& p, const ReadOptions& options, PointSink& sink,
                      DiagnosticSink& diag, ReadStats& stats) {
  if (!plainFile(uri, diag)) return false;
  quietOpen3d();
  open3d::geometry::PointCloud cloud;
  open3d::io::ReadPointCloudOption ro;
  ro.remove_nan_points = true;
  ro.remove_infinite_points = true;
  if (!open3d::io::ReadPointCloud(uri, cloud, ro) || cloud.points_.empty()) {
    diag.error("pointcloud-unreadable", "no points could be read (a broken or empty point cloud file?)", uri);
    return false;
  }
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(uri, ec);
  stats.bytes += bytes;
  if (options.bytesRead) *options.bytesRead += bytes;
  stats.objectsByType["points"] += cloud.points_.size();
  bool colors = cloud.HasColors();
  const size_t batch = 1 << 20;
  for (size_t b = 0; b < cloud.points_.size(); b += batch) {
    PointChunk chunk;
    chunk.srs = p.srs;
    size_t e = std::min(cloud.points_.size(), b + batch);
    chunk.points.reserve(e - b);
    for (size_t i = b; i < e; ++i) {
      auto& v = cloud.points_[i];
      chunk.points.push_back(p.place(v[0], v[1], v[2]));
      if (colors) {
        auto& c = cloud.colors_[i];
        chunk.colors.push_back({uint8_t(std::lround(std::clamp(c[0], 0.0, 1.0) * 255)),
                                uint8_t(std::lround(std::clamp(c[1], 0.0, 1.0) * 255)),
                                uint8_t(std::lround(std::clamp(c[2], 0.0, 1.0) * 255))});
      }
    }
    if (!sink.accept(std::move(chunk))) break;
    if (options.cancel && options.cancel->load()) break;
  }
  return true;
}

}  // namespace twin::mesh
