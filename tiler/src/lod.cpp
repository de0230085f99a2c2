#include "lod.h"

#include <meshoptimizer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "bytes.h"
#include "twin/crs.h"
#include "twin/geometry.h"

namespace twin::tiler {

namespace {

using V3f = std::array<float, 3>;
using V3d = std::array<double, 3>;

float srgbToLinear(uint8_t c) {
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) {
      double s = i / 255.0;
      t[i] = float(s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4));
    }
    return t;
  }();
  return table[c];
}

uint32_t packRgba(const std::array<float, 4>& c) {
  uint32_t out = 0;
  for (int k = 0; k < 4; ++k) {
    float v = std::clamp(c[k], 0.0f, 1.0f);
    out |= uint32_t(std::lround(v * 255.0f)) << (8 * k);
  }
  return out;
}

V3d sub(const V3d& a, const V3d& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const V3d& a, const V3d& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
V3d cross(const V3d& a, const V3d& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

// Convex hull, counter-clockwise, without collinear points (Andrew's monotone chain).
std::vector<std::array<float, 2>> convexHull(std::vector<std::array<double, 2>> pts) {
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  if (pts.size() < 3) return {};
  auto turn = [](const std::array<double, 2>& o, const std::array<double, 2>& a, const std::array<double, 2>& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  std::vector<std::array<double, 2>> h(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && turn(h[k - 2], h[k - 1], pts[i]) <= 1e-9) --k;
    h[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, t = k + 1; i-- > 0;) {
    while (k >= t && turn(h[k - 2], h[k - 1], pts[i]) <= 1e-9) --k;
    h[k++] = pts[i];
  }
  h.resize(k - 1);
  if (h.size() < 3) return {};
  std::vector<std::array<float, 2>> out;
  for (auto& p : h) out.push_back({float(p[0]), float(p[1])});
  return out;
}

struct Frame {
  V3d e, n, u;
  V3d toLocal(const V3f& p) const {
    V3d d{p[0], p[1], p[2]};
    return {dot(d, e), dot(d, n), dot(d, u)};
  }
  V3f toRelative(double x, double y, double z) const {
    return {float(x * e[0] + y * n[0] + z * u[0]), float(x * e[1] + y * n[1] + z * u[1]),
            float(x * e[2] + y * n[2] + z * u[2])};
  }
};

Frame frameAt(const Vec3& origin) {
  Frame f;
  Vec3 e, n, u;
  enuFrame(origin, e, n, u);
  f.e = e;
  f.n = n;
  f.u = u;
  return f;
}

// Drops vertices no triangle uses.
void compact(CoarseFeature& f) {
  std::vector<uint32_t> remap(f.positions.size());
  size_t n = meshopt_optimizeVertexFetchRemap(remap.data(), f.indices.data(), f.indices.size(), f.positions.size());
  std::vector<std::array<float, 3>> pos(n);
  std::vector<uint32_t> col(n);
  std::vector<std::array<float, 2>> uv(f.uvs.empty() ? 0 : n);
  std::vector<int16_t> slot(f.slots.empty() ? 0 : n);
  for (size_t i = 0; i < remap.size(); ++i)
    if (remap[i] != ~0u) {
      pos[remap[i]] = f.positions[i];
      col[remap[i]] = f.colors[i];
      if (!uv.empty()) uv[remap[i]] = f.uvs[i];
      if (!slot.empty()) slot[remap[i]] = f.slots[i];
    }
  for (auto& i : f.indices) i = remap[i];
  f.positions = std::move(pos);
  f.colors = std::move(col);
  f.uvs = std::move(uv);
  f.slots = std::move(slot);
}

void makeBlock(CoarseFeature& f, uint8_t shape) {
  const auto& poly = shape == 2 ? f.rect : f.hull;
  Frame fr = frameAt(f.origin);
  const size_t k = poly.size();
  f.positions.clear();
  f.indices.clear();
  for (auto& h : poly) f.positions.push_back(fr.toRelative(h[0], h[1], f.zmin));
  for (auto& h : poly) f.positions.push_back(fr.toRelative(h[0], h[1], f.zmax));
  // top: fan, counter-clockwise seen from above
  for (uint32_t i = 1; i + 1 < k; ++i)
    f.indices.insert(f.indices.end(), {uint32_t(k), uint32_t(k + i), uint32_t(k + i + 1)});
  // sides: outward (the footprint is counter-clockwise)
  for (uint32_t i = 0; i < k; ++i) {
    uint32_t j = uint32_t((i + 1) % k);
    f.indices.insert(f.indices.end(), {i, j, uint32_t(k + j), i, uint32_t(k + j), uint32_t(k + i)});
  }
  f.colors.assign(f.positions.size(), f.blockColor);
  f.uvs.clear();
  f.slots.clear();  // blocks and boxes carry a colour, not a texture
  f.shape = shape;
  f.error = shape == 2 ? f.boxError : f.blockError;
}

size_t shapeTriangles(const std::vector<std::array<float, 2>>& poly) {
  return poly.size() < 3 ? SIZE_MAX : 3 * poly.size() - 2;
}

// Minimum-area rectangle around a convex polygon (one side is collinear with a hull edge).
std::vector<std::array<float, 2>> minAreaRect(const std::vector<std::array<float, 2>>& hull) {
  if (hull.size() < 3) return {};
  double best = INFINITY;
  std::vector<std::array<float, 2>> out;
  for (size_t i = 0; i < hull.size(); ++i) {
    auto& a = hull[i];
    auto& b = hull[(i + 1) % hull.size()];
    double ux = b[0] - a[0], uy = b[1] - a[1];
    double len = std::hypot(ux, uy);
    if (len <= 0) continue;
    ux /= len;
    uy /= len;
    double lo0 = INFINITY, hi0 = -INFINITY, lo1 = INFINITY, hi1 = -INFINITY;
    for (auto& p : hull) {
      double s = p[0] * ux + p[1] * uy, t = -p[0] * uy + p[1] * ux;
      lo0 = std::min(lo0, s);
      hi0 = std::max(hi0, s);
      lo1 = std::min(lo1, t);
      hi1 = std::max(hi1, t);
    }
    double area = (hi0 - lo0) * (hi1 - lo1);
    if (area < best) {
      best = area;
      auto at = [&](double s, double t) {
        return std::array<float, 2>{float(s * ux - t * uy), float(s * uy + t * ux)};
      };
      out = {at(lo0, lo1), at(hi0, lo1), at(hi0, hi1), at(lo0, hi1)};
    }
  }
  return out;
}

// Symmetric distance bound between the mesh (local frame) and the extruded polygon `poly`:
// vertices to the block's surface, and the block's corners, edge midpoints and top centre to the
// nearest triangle.
float shapeError(const std::vector<std::array<float, 2>>& poly, float zmin, float zmax, const std::vector<V3d>& local,
                 const std::vector<uint32_t>& indices) {
  if (poly.size() < 3 || indices.empty()) return INFINITY;
  double err = 0;
  const size_t k = poly.size();
  for (auto& p : local) {
    double d = std::min(p[2] - zmin, zmax - p[2]);
    bool inside = true;
    double edge = INFINITY;
    for (size_t i = 0; i < k; ++i) {
      auto& a = poly[i];
      auto& b = poly[(i + 1) % k];
      double ex = b[0] - a[0], ey = b[1] - a[1];
      double len = std::sqrt(ex * ex + ey * ey);
      if (len <= 0) continue;
      double side = (ex * (p[1] - a[1]) - ey * (p[0] - a[0])) / len;  // > 0: inside (left of the edge)
      if (side < -1e-6) inside = false;
      edge = std::min(edge, std::abs(side));
    }
    // outside the footprint (a rectangle can cut no corner; a hull none): the distance out
    d = inside ? std::min(d, edge) : std::max(d, edge);
    err = std::max(err, d);
  }
  std::vector<V3d> samples;
  double cx = 0, cy = 0;
  for (size_t i = 0; i < k; ++i) {
    auto& a = poly[i];
    auto& b = poly[(i + 1) % k];
    for (float z : {zmin, zmax}) {
      samples.push_back({a[0], a[1], z});
      samples.push_back({0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]), z});
    }
    cx += a[0] / double(k);
    cy += a[1] / double(k);
  }
  samples.push_back({cx, cy, zmax});
  for (auto& s : samples) {
    double best = INFINITY;
    for (size_t t = 0; t + 2 < indices.size() && best > err; t += 3)
      best = std::min(best, pointTriangleDistance(s, local[indices[t]], local[indices[t + 1]], local[indices[t + 2]]));
    err = std::max(err, best);
  }
  return float(err);
}

}  // namespace

bool TextureSampler::sample(const std::string& uri, float u, float v, std::array<float, 4>& rgba) {
  auto it = images_.find(uri);
  if (it == images_.end()) {
    RgbaImage img;
    std::string err;
    if (!decodeTextureImage(uri, img, err, 128)) img = RgbaImage{};  // colours only: a small decode
    it = images_.emplace(uri, std::move(img)).first;
  }
  const RgbaImage& img = it->second;
  if (img.width <= 0 || !std::isfinite(u) || !std::isfinite(v)) return false;
  u -= std::floor(u);
  v -= std::floor(v);
  int x = std::min(img.width - 1, int(u * float(img.width)));
  int y = std::min(img.height - 1, int(v * float(img.height)));
  const uint8_t* px = &img.pixels[(size_t(y) * size_t(img.width) + size_t(x)) * 4];
  rgba = {srgbToLinear(px[0]), srgbToLinear(px[1]), srgbToLinear(px[2]), px[3] / 255.0f};
  return true;
}

CoarseFeature makeCoarse(const std::vector<MeshGroup>& groups, TextureSampler& textures, std::vector<uint8_t> row) {
  CoarseFeature f;
  f.row = std::move(row);
  Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
  for (auto& g : groups)
    for (auto& p : g.positions)
      for (int k = 0; k < 3; ++k) {
        lo[k] = std::min(lo[k], p[k]);
        hi[k] = std::max(hi[k], p[k]);
      }
  if (!(lo[0] <= hi[0])) return f;
  for (int k = 0; k < 3; ++k) f.origin[k] = std::round(0.5 * (lo[k] + hi[k]));
  f.diagonal = float(std::sqrt(dot(sub(hi, lo), sub(hi, lo))));

  // All groups into one vertex list, colour per vertex (texture sampled at the vertex's UV), and
  // the texture coordinates kept for textured overviews.
  std::vector<V3f> pos;
  std::vector<std::array<float, 4>> col;
  struct Attr {
    float u, v, slot;
  };
  std::vector<Attr> attr;
  std::vector<uint32_t> idx;
  for (auto& g : groups) {
    uint32_t base = uint32_t(pos.size());
    float slot = -1;
    if (!g.texture.empty() && g.uvs.size() == g.positions.size()) {
      auto it = std::find(f.textures.begin(), f.textures.end(), g.texture);
      slot = float(it - f.textures.begin());
      if (it == f.textures.end()) f.textures.push_back(g.texture);
    }
    for (size_t v = 0; v < g.positions.size(); ++v) {
      pos.push_back({float(g.positions[v][0] - f.origin[0]), float(g.positions[v][1] - f.origin[1]),
                     float(g.positions[v][2] - f.origin[2])});
      std::array<float, 4> c = g.color;
      if (!g.texture.empty() && !(v < g.uvs.size() && textures.sample(g.texture, g.uvs[v][0], g.uvs[v][1], c)))
        c = defaultColor(SurfaceType::Wall);
      col.push_back(c);
      attr.push_back(slot >= 0 ? Attr{g.uvs[v][0], g.uvs[v][1], slot} : Attr{0, 0, -1});
    }
    for (uint32_t i : g.indices) idx.push_back(base + i);
  }
  // Weld by position and texture coordinates (corners of different textures or coordinates stay
  // apart: seams the simplifier keeps); colours of merged corners averaged.
  std::vector<uint32_t> remap(pos.size());
  size_t nv = 0;
  {
    struct WeldKey {
      std::array<uint32_t, 6> bits;
      bool operator==(const WeldKey& o) const { return bits == o.bits; }
    };
    struct WeldHash {
      size_t operator()(const WeldKey& k) const {
        uint64_t h = 1469598103934665603ull;
        for (uint32_t b : k.bits) h = (h ^ b) * 1099511628211ull;
        return size_t(h);
      }
    };
    std::unordered_map<WeldKey, uint32_t, WeldHash> seen;
    seen.reserve(pos.size());
    for (size_t i = 0; i < pos.size(); ++i) {
      WeldKey k;
      std::memcpy(&k.bits[0], pos[i].data(), 12);
      std::memcpy(&k.bits[3], &attr[i], 12);
      auto [it, fresh] = seen.emplace(k, uint32_t(nv));
      if (fresh) ++nv;
      remap[i] = it->second;
    }
  }
  f.positions.resize(nv);
  f.uvs.resize(nv);
  f.slots.resize(nv);
  std::vector<std::array<float, 5>> sum(nv, {0, 0, 0, 0, 0});
  for (size_t i = 0; i < pos.size(); ++i) {
    f.positions[remap[i]] = pos[i];
    f.uvs[remap[i]] = {attr[i].u, attr[i].v};
    f.slots[remap[i]] = int16_t(attr[i].slot);
    auto& s = sum[remap[i]];
    for (int k = 0; k < 4; ++k) s[k] += col[i][k];
    s[4] += 1;
  }
  f.colors.resize(nv);
  for (size_t i = 0; i < nv; ++i) {
    auto& s = sum[i];
    f.colors[i] = packRgba({s[0] / s[4], s[1] / s[4], s[2] / s[4], s[3] / s[4]});
  }
  for (size_t t = 0; t + 2 < idx.size(); t += 3) {
    uint32_t a = remap[idx[t]], b = remap[idx[t + 1]], c = remap[idx[t + 2]];
    if (a == b || b == c || a == c) continue;
    f.indices.insert(f.indices.end(), {a, b, c});
  }
  if (f.textures.empty()) {
    f.uvs.clear();
    f.slots.clear();
  }

  // Block: footprint hull in the local frame, extruded between the lowest and highest point.
  Frame fr = frameAt(f.origin);
  std::vector<V3d> local(nv);
  std::vector<std::array<double, 2>> flat(nv);
  f.zmin = INFINITY;
  f.zmax = -INFINITY;
  for (size_t i = 0; i < nv; ++i) {
    local[i] = fr.toLocal(f.positions[i]);
    flat[i] = {local[i][0], local[i][1]};
    f.zmin = std::min(f.zmin, float(local[i][2]));
    f.zmax = std::max(f.zmax, float(local[i][2]));
  }
  f.hull = convexHull(flat);
  // Area-weighted mean colour for the block.
  double csum[4] = {0, 0, 0, 0}, asum = 0;
  for (size_t t = 0; t + 2 < f.indices.size(); t += 3) {
    V3d a = local[f.indices[t]], b = local[f.indices[t + 1]], c = local[f.indices[t + 2]];
    V3d n = cross(sub(b, a), sub(c, a));
    double area = 0.5 * std::sqrt(dot(n, n));
    for (int j = 0; j < 3; ++j) {
      uint32_t c8 = f.colors[f.indices[t + j]];
      for (int k = 0; k < 4; ++k) csum[k] += area / 3.0 * ((c8 >> (8 * k)) & 255) / 255.0;
    }
    asum += area;
  }
  f.blockColor = asum > 0 ? packRgba({float(csum[0] / asum), float(csum[1] / asum), float(csum[2] / asum), 1.0f})
                          : packRgba(defaultColor(SurfaceType::Wall));
  f.rect = minAreaRect(f.hull);
  f.blockError = shapeError(f.hull, f.zmin, f.zmax, local, f.indices);
  f.boxError = shapeError(f.rect, f.zmin, f.zmax, local, f.indices);
  return f;
}

Representation coarsen(CoarseFeature& f, float e) {
  if (f.diagonal <= e) return Representation::Dropped;
  if (f.shape == 0) {
    float budget = e - f.error;
    if (budget > 0 && f.indices.size() > 3) {
      float scale = meshopt_simplifyScale(&f.positions[0][0], f.positions.size(), sizeof(V3f));
      if (scale > 0) {
        std::vector<uint32_t> out(f.indices.size());
        float resultError = 0;
        size_t n = meshopt_simplify(out.data(), f.indices.data(), f.indices.size(), &f.positions[0][0],
                                    f.positions.size(), sizeof(V3f), 0, budget / scale, 0, &resultError);
        if (n < f.indices.size()) {
          out.resize(n);
          f.indices = std::move(out);
          f.error += resultError * scale;
          if (!f.indices.empty()) compact(f);
        }
      }
    }
  }
  // The cheapest shape within e (a box or block replaces a mesh; a box replaces a block).
  size_t tris = f.indices.empty() ? SIZE_MAX : f.triangles();
  uint8_t best = f.shape;
  if (f.shape < 1 && f.blockError <= e && shapeTriangles(f.hull) < tris) {
    best = 1;
    tris = shapeTriangles(f.hull);
  }
  if (f.shape < 2 && f.boxError <= e && shapeTriangles(f.rect) < tris) best = 2;
  if (best != f.shape) makeBlock(f, best);
  if (f.indices.empty()) {
    // simplification consumed the mesh: the tightest shape there is, whatever its error
    if (f.hull.size() >= 3) {
      makeBlock(f, 1);
    } else {
      return Representation::Dropped;
    }
  }
  return f.shape ? Representation::Block : Representation::Mesh;
}

// About two corners per triangle once shared within face planes; 32 bytes a corner, 6 of indices
// a triangle.
size_t estimatedBytes(const CoarseFeature& f) { return f.triangles() * (2 * 32 + 6) + f.row.size(); }

size_t appendCoarse(const CoarseFeature& f, const Vec3& center, float featureId, GlbPrimitive& colored,
                    GlbPrimitive* textured, const std::unordered_map<std::string, TexturePlacement>* placements,
                    std::vector<Vec3>& placed) {
  const V3d shift{f.origin[0] - center[0], f.origin[1] - center[1], f.origin[2] - center[2]};
  size_t appended = 0;
  // A corner is shared by the triangles of one face plane (same vertex, same normal): flat
  // shading without three vertices per triangle.
  struct Key {
    uint32_t vertex;
    int32_t n[3];
    bool operator==(const Key& o) const {
      return vertex == o.vertex && n[0] == o.n[0] && n[1] == o.n[1] && n[2] == o.n[2];
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return (size_t(k.vertex) * 0x9E3779B97F4A7C15ull) ^ (size_t(uint32_t(k.n[0])) << 1) ^
             (size_t(uint32_t(k.n[1])) << 21) ^ (size_t(uint32_t(k.n[2])) << 41);
    }
  };
  std::unordered_map<Key, uint32_t, KeyHash> corners[2];
  // where each of the feature's textures went in the tile's atlas (null: not textured here)
  std::vector<const TexturePlacement*> slotPlacement(f.textures.size(), nullptr);
  if (textured && placements)
    for (size_t i = 0; i < f.textures.size(); ++i) {
      auto it = placements->find(f.textures[i]);
      if (it != placements->end() && it->second.image >= 0) slotPlacement[i] = &it->second;
    }
  const bool hasSlots = f.slots.size() == f.positions.size() && f.uvs.size() == f.positions.size();
  for (size_t t = 0; t + 2 < f.indices.size(); t += 3) {
    V3d p[3];
    for (int j = 0; j < 3; ++j) {
      auto& q = f.positions[f.indices[t + j]];
      p[j] = {shift[0] + q[0], shift[1] + q[1], shift[2] + q[2]};
    }
    V3d n = cross(sub(p[1], p[0]), sub(p[2], p[0]));
    double len = std::sqrt(dot(n, n));
    if (!(len > 1e-12)) continue;
    for (auto& c : n) c /= len;
    const TexturePlacement* tp = nullptr;
    if (hasSlots) {
      int16_t s0 = f.slots[f.indices[t]];
      if (s0 >= 0 && s0 == f.slots[f.indices[t + 1]] && s0 == f.slots[f.indices[t + 2]] &&
          size_t(s0) < slotPlacement.size())
        tp = slotPlacement[size_t(s0)];
    }
    GlbPrimitive& prim = tp ? *textured : colored;
    auto& cmap = corners[tp ? 1 : 0];
    int32_t qn[3] = {int32_t(std::lround(n[0] * 1000)), int32_t(std::lround(n[1] * 1000)),
                     int32_t(std::lround(n[2] * 1000))};
    for (int j = 0; j < 3; ++j) {
      const uint32_t vi = f.indices[t + j];
      Key key{vi, {qn[0], qn[1], qn[2]}};
      auto it = cmap.find(key);
      if (it != cmap.end()) {
        prim.indices.push_back(it->second);
        continue;
      }
      uint32_t index = uint32_t(prim.positions.size() / 3);
      cmap.emplace(key, index);
      Vec3 seen;
      for (int k = 0; k < 3; ++k) {
        float v = float(p[j][k]);
        prim.positions.push_back(v);
        prim.normals.push_back(float(n[k]));
        seen[k] = center[k] + double(v);
      }
      placed.push_back(seen);
      if (tp) {
        prim.uvs.push_back(f.uvs[vi][0] * tp->scaleU + tp->offsetU);
        prim.uvs.push_back(f.uvs[vi][1] * tp->scaleV + tp->offsetV);
      } else {
        uint32_t c = f.colors[vi];
        for (int k = 0; k < 4; ++k) prim.colors.push_back(uint8_t((c >> (8 * k)) & 255));
      }
      prim.featureIds.push_back(featureId);
      prim.indices.push_back(index);
    }
    ++appended;
  }
  return appended;
}

void serializeCoarse(const CoarseFeature& f, std::vector<uint8_t>& out) {
  ByteWriter w;
  w.put(f.origin);
  w.put(f.diagonal);
  w.put(f.error);
  w.put(f.blockError);
  w.put(f.boxError);
  w.put(f.shape);
  w.put(f.blockColor);
  w.put(f.zmin);
  w.put(f.zmax);
  w.putVector(f.hull);
  w.putVector(f.rect);
  w.putVector(f.positions);
  w.putVector(f.colors);
  w.putVector(f.uvs);
  w.putVector(f.slots);
  w.put(uint32_t(f.textures.size()));
  for (auto& t : f.textures) w.putString(t);
  w.putVector(f.indices);
  w.putVector(f.row);
  out.insert(out.end(), w.buf.begin(), w.buf.end());
}

bool deserializeCoarse(const uint8_t*& p, const uint8_t* end, CoarseFeature& f) {
  ByteReader r(p, size_t(end - p));
  f.origin = r.get<Vec3>();
  f.diagonal = r.get<float>();
  f.error = r.get<float>();
  f.blockError = r.get<float>();
  f.boxError = r.get<float>();
  f.shape = r.get<uint8_t>();
  f.blockColor = r.get<uint32_t>();
  f.zmin = r.get<float>();
  f.zmax = r.get<float>();
  const size_t limit = size_t(end - p);
  bool ok = r.getVector(f.hull, limit) && r.getVector(f.rect, limit) && r.getVector(f.positions, limit) &&
            r.getVector(f.colors, limit) && r.getVector(f.uvs, limit) && r.getVector(f.slots, limit);
  if (ok) {
    uint32_t nt = r.get<uint32_t>();
    f.textures.clear();
    for (uint32_t i = 0; i < nt && r.ok() && i < limit; ++i) f.textures.push_back(r.getString());
  }
  ok = ok && r.getVector(f.indices, limit) && r.getVector(f.row, limit) && r.ok();
  if (!ok || f.colors.size() != f.positions.size()) return false;
  if (!f.slots.empty() && (f.slots.size() != f.positions.size() || f.uvs.size() != f.positions.size())) return false;
  for (uint32_t i : f.indices)
    if (i >= f.positions.size()) return false;
  p = r.position();
  return true;
}

}  // namespace twin::tiler
