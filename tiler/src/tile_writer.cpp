// Writing tiles: leaves at full detail, parents as simplified overviews, their textures and
// their encoding as glb or b3dm (see tile_writer.h).
#include "tile_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bytes.h"
#include "spill.h"
#include "twin/fsutil.h"
#include "twin/mesh.h"
#include "twin/vfs.h"
#include "worker.h"

namespace twin::tiler {

bool TileWriter::write(QuadNode& leaf) {
  std::vector<SortedRef> leafRefs;
  if (!refs_.read(leaf.begin, leaf.contentEnd - leaf.begin, leafRefs)) {
    diag_.error("spill-read", "cannot read the tile index");
    return false;
  }
  std::vector<SpilledFeature> feats(leafRefs.size());
  std::vector<uint8_t> buf;
  Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
  for (size_t i = 0; i < leafRefs.size(); ++i) {
    const FeatureRef& r = leafRefs[i].ref;
    buf.resize(r.size);
    if (::pread(packs_[r.pack].fd, buf.data(), r.size, off_t(r.offset)) != ssize_t(r.size) ||
        !deserialize(buf.data(), buf.size(), feats[i])) {
      diag_.error("spill-read", "cannot read back a converted building from pack " + packs_[r.pack].name);
      return false;
    }
    const auto& remap = packs_[r.pack].remap;
    PropertyRow row;
    for (auto& kv : feats[i].attrs)
      if (kv.first < remap.size() && remap[kv.first] != UINT32_MAX)
        row.push_back({remap[kv.first], std::move(kv.second)});
    std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    feats[i].attrs = std::move(row);
    for (auto& g : feats[i].groups)
      for (auto& p : g.positions)
        for (int k = 0; k < 3; ++k) {
          lo[k] = std::min(lo[k], p[k]);
          hi[k] = std::max(hi[k], p[k]);
        }
  }
  GlbScene scene;
  scene.center = {std::round((lo[0] + hi[0]) / 2), std::round((lo[1] + hi[1]) / 2), std::round((lo[2] + hi[2]) / 2)};
  scene.copyright = "";
  std::unordered_map<std::string, int> primByKey;
  // Textures of the tile: an atlas of those used within [0, 1], the others alone; none larger
  // than the size limit.
  std::vector<TextureUse> uses;
  std::unordered_map<std::string, size_t> useByUri;
  for (auto& f : feats)
    for (auto& g : f.groups) {
      if (g.texture.empty()) continue;
      auto [it, fresh] = useByUri.emplace(g.texture, uses.size());
      if (fresh) uses.push_back({g.texture, INFINITY, -INFINITY, INFINITY, -INFINITY});
      TextureUse& u = uses[it->second];
      for (auto& uv : g.uvs) {
        u.uMin = std::min(u.uMin, uv[0]);
        u.uMax = std::max(u.uMax, uv[0]);
        u.vMin = std::min(u.vMin, uv[1]);
        u.vMax = std::max(u.vMax, uv[1]);
      }
    }
  std::vector<TexturePlacement> placements;
  std::vector<std::pair<std::string, std::string>> textureErrors;
  TextureSetOptions to;
  to.maxSize = o_.maxTextureSize;
  to.atlas = o_.atlas;
  to.webp = o_.webp;
  scene.images = buildTileTextures(uses, to, placements, textureErrors);
  // Missing images were reported by the readers (with file, line and object); here, images that
  // exist but cannot be decoded.
  for (auto& [uri, err] : textureErrors)
    if (shared_.once("texture:" + uri) && vfs::exists(uri))
      diag_.warning("texture-unreadable", "texture image " + uri + ": " + err + "; surfaces drawn in a plain colour");
  std::vector<Vec3> placed;  // vertex positions as the client will see them, for the box
  for (size_t fi = 0; fi < feats.size(); ++fi) {
    for (auto& g : feats[fi].groups) {
      const TexturePlacement* tp = nullptr;
      std::string key;
      if (!g.texture.empty()) {
        tp = &placements[useByUri.at(g.texture)];
        if (tp->image < 0) {
          tp = nullptr;  // unusable texture: a plain colour
          g.color = defaultColor(SurfaceType::Wall);
        }
      }
      if (tp) {
        key = "t:" + std::to_string(tp->image);
      } else {
        char b[64];
        std::snprintf(b, sizeof b, "c:%.4f,%.4f,%.4f,%.4f", g.color[0], g.color[1], g.color[2], g.color[3]);
        key = b;
      }
      auto it = primByKey.find(key);
      int pi;
      if (it == primByKey.end()) {
        GlbMaterial mat;
        mat.baseColor = tp ? std::array<float, 4>{1, 1, 1, 1} : g.color;
        mat.image = tp ? tp->image : -1;
        pi = static_cast<int>(scene.primitives.size());
        scene.primitives.emplace_back();
        scene.primitives.back().material = static_cast<int>(scene.materials.size());
        scene.materials.push_back(mat);
        primByKey.emplace(key, pi);
      } else {
        pi = it->second;
      }
      GlbPrimitive& prim = scene.primitives[pi];
      bool useUv = scene.materials[prim.material].image >= 0;
      uint32_t base = static_cast<uint32_t>(prim.positions.size() / 3);
      for (size_t v = 0; v < g.positions.size(); ++v) {
        float rel[3];
        Vec3 seen;
        for (int k = 0; k < 3; ++k) {
          rel[k] = float(g.positions[v][k] - scene.center[k]);
          prim.positions.push_back(rel[k]);
          seen[k] = scene.center[k] + double(rel[k]);
        }
        placed.push_back(seen);
        prim.normals.insert(prim.normals.end(), g.normals[v].begin(), g.normals[v].end());
        if (useUv) {
          const Vec2f& uv = g.uvs.empty() ? Vec2f{0, 0} : g.uvs[v];
          prim.uvs.push_back(uv[0] * tp->scaleU + tp->offsetU);
          prim.uvs.push_back(uv[1] * tp->scaleV + tp->offsetV);
        }
        prim.featureIds.push_back(float(fi));
      }
      for (uint32_t idx : g.indices) prim.indices.push_back(base + idx);
    }
  }
  scene.table.schema = &schema_;
  scene.table.className = o_.className;
  scene.table.rowCount = static_cast<uint32_t>(feats.size());
  scene.table.rows.resize(feats.size());
  std::vector<uint8_t> coarse;
  TextureSampler sampler;
  for (size_t fi = 0; fi < feats.size(); ++fi) {
    if (o_.levelsOfDetail) {
      ByteWriter row;
      putRow(row, feats[fi].attrs);
      serializeCoarse(makeCoarse(feats[fi].groups, sampler, std::move(row.buf)), coarse);
    }
    scene.table.rows[fi] = std::move(feats[fi].attrs);
  }
  if (!writeContent(encode(scene, true), leaf)) return false;
  leaf.box = enuBox(scene.center, placed.data(), placed.size(), boxMargin(placed));
  leaf.boxSet = true;
  leaf.textures = scene.images.size();
  leaf.shown = feats.size();
  leaf.error = 0;
  if (o_.levelsOfDetail && !writeCoarse(leaf, coarse)) return false;
  return true;
}

bool TileWriter::writeParent(QuadNode& node, bool isRoot) {
  std::vector<CoarseFeature> input;
  double childError = 0;
  uint64_t childBytes = 0;
  std::vector<Vec3> corners;
  std::vector<uint8_t> buf;
  for (auto& c : node.children) {
    childError = std::max(childError, c.error);
    childBytes += c.bytes;
    if (c.boxSet)
      for (auto& p : c.box.corners()) corners.push_back(p);
    std::string path = coarsePath(spillDir_, c);
    std::string readError;
    if (!vfs::readAll(path, buf, readError)) {
      diag_.error("spill-read", "cannot read back the coarse buildings of a child tile from " + path +
                                    " (a damaged state from an earlier run? convert again with --full)");
      return false;
    }
    const uint8_t* p = buf.data();
    const uint8_t* end = p + buf.size();
    while (p < end) {
      input.emplace_back();
      if (!deserializeCoarse(p, end, input.back())) {
        diag_.error("spill-read", "corrupt coarse building record in " + path +
                                      " (a damaged state from an earlier run? convert again with --full)");
        return false;
      }
    }
  }
  // The content must fit the budget. The smallest target error that fits is found by bisection
  // in log scale between the children's error and the largest building's size (where nothing
  // is left to draw, which always fits), to 5 % (coarser steps would drop whole classes of
  // buildings of similar size at once). It fits when the estimate does and then the written glb
  // does (schema and table overhead are not estimated).
  const double budget = std::min(double(o_.maxTileBytes), double(childBytes) * o_.parentFraction);
  struct Trial {
    std::vector<CoarseFeature> kept;
    std::vector<uint8_t> glb;
    std::vector<Vec3> placed;
    double err = 0;
    bool fits = false;
  };
  // Textured overviews while the atlas leaves room for geometry (at most half the budget).
  OverviewTextures tex = overviewTextures(input);
  const OverviewTextures* texp = !tex.images.empty() && double(tex.bytes) <= budget / 2 ? &tex : nullptr;
  auto attempt = [&](float e) {
    Trial t;
    size_t bytes = texp ? texp->bytes : 0;
    for (auto& f : input) {
      CoarseFeature c = f;
      if (coarsen(c, e) == Representation::Dropped) {
        t.err = std::max(t.err, double(c.diagonal));
        continue;
      }
      t.err = std::max(t.err, double(c.error));
      bytes += estimatedBytes(c);
      t.kept.push_back(std::move(c));
    }
    if (!t.kept.empty() && bytes <= budget) {
      t.glb = parentContent(t.kept, texp, t.placed);
      if (t.glb.empty()) t.kept.clear();  // nothing drawable left
    }
    t.fits = t.kept.empty() || (!t.glb.empty() && t.glb.size() <= budget);
    return t;
  };
  float lo = float(std::max(0.5, childError));
  Trial best = attempt(lo);
  if (!best.fits) {
    // Above the largest building everything is left out, which always fits: bisect (in log
    // scale) between the miss and that to within 5 %.
    float maxDiagonal = 0;
    for (auto& f : input) maxDiagonal = std::max(maxDiagonal, f.diagonal);
    float hi = std::max(lo * 1.05f, maxDiagonal * 1.0001f);
    best = attempt(hi);
    for (int i = 0; i < 24 && hi > lo * 1.05f; ++i) {
      float mid = std::sqrt(lo * hi);
      Trial t = attempt(mid);
      if (t.fits) {
        hi = mid;
        best = std::move(t);
      } else {
        lo = mid;
      }
    }
  }
  std::vector<CoarseFeature>& kept = best.kept;
  std::vector<uint8_t>& glb = best.glb;
  std::vector<Vec3>& placed = best.placed;
  const double err = best.err;
  input.clear();
  input.shrink_to_fit();
  node.error = std::max(err, childError);
  node.shown = kept.size();
  if (!kept.empty()) {
    if (!writeContent(glb, node)) return false;
    for (auto& p : placed) corners.push_back(p);
  }
  if (!corners.empty()) {
    node.box = enuBox(node.children.empty() ? corners[0] : node.children[0].box.center, corners.data(), corners.size(),
                      boxMargin(placed));
    node.boxSet = true;
  }
  if (isRoot) return true;
  std::vector<uint8_t> coarse;
  for (auto& f : kept) serializeCoarse(f, coarse);
  return writeCoarse(node, coarse);
}

double TileWriter::boxMargin(const std::vector<Vec3>& pts) const {
  if (!(o_.draco || o_.quantize || o_.meshopt) || pts.empty()) return 0.01;
  double ext = 0;
  for (int k = 0; k < 3; ++k) {
    double lo = INFINITY, hi = -INFINITY;
    for (auto& p : pts) {
      lo = std::min(lo, p[k]);
      hi = std::max(hi, p[k]);
    }
    ext = std::max(ext, hi - lo);
  }
  return 0.01 + ext / 65534.0;
}

TileWriter::OverviewTextures TileWriter::overviewTextures(const std::vector<CoarseFeature>& input) {
  OverviewTextures out;
  if (o_.overviewTextureSize <= 0) return out;
  std::vector<TextureUse> uses;
  std::unordered_map<std::string, size_t> byUri;
  for (auto& f : input) {
    if (f.shape != 0 || f.slots.empty()) continue;
    for (size_t v = 0; v < f.slots.size(); ++v) {
      if (f.slots[v] < 0 || size_t(f.slots[v]) >= f.textures.size()) continue;
      const std::string& uri = f.textures[size_t(f.slots[v])];
      auto [it, fresh] = byUri.emplace(uri, uses.size());
      if (fresh) uses.push_back({uri, INFINITY, -INFINITY, INFINITY, -INFINITY});
      TextureUse& u = uses[it->second];
      u.uMin = std::min(u.uMin, f.uvs[v][0]);
      u.uMax = std::max(u.uMax, f.uvs[v][0]);
      u.vMin = std::min(u.vMin, f.uvs[v][1]);
      u.vMax = std::max(u.vMax, f.uvs[v][1]);
    }
  }
  if (uses.empty()) return out;
  TextureSetOptions to;
  to.maxSize = std::min(o_.maxTextureSize, 2048);
  to.imageMaxSize = o_.overviewTextureSize;
  to.decodeMaxDim = o_.overviewTextureSize;
  to.atlas = true;
  to.webp = o_.webp;
  std::vector<TexturePlacement> placements;
  std::vector<std::pair<std::string, std::string>> errors;  // reported at the leaves already
  out.images = buildTileTextures(uses, to, placements, errors);
  for (size_t i = 0; i < uses.size(); ++i)
    if (placements[i].image >= 0) out.placements[uses[i].uri] = placements[i];
  for (auto& im : out.images) out.bytes += im.data.size();
  return out;
}

std::vector<uint8_t> TileWriter::parentContent(const std::vector<CoarseFeature>& kept, const OverviewTextures* tex,
                                               std::vector<Vec3>& placed) {
  GlbScene scene;
  Vec3 lo{INFINITY, INFINITY, INFINITY}, hi{-INFINITY, -INFINITY, -INFINITY};
  for (auto& f : kept)
    for (int k = 0; k < 3; ++k) {
      lo[k] = std::min(lo[k], f.origin[k]);
      hi[k] = std::max(hi[k], f.origin[k]);
    }
  for (int k = 0; k < 3; ++k) scene.center[k] = std::round(0.5 * (lo[k] + hi[k]));
  const bool textured = tex && !tex->images.empty();
  scene.primitives.resize(textured ? 2 : 1);
  scene.materials.push_back(GlbMaterial{});  // vertex colours
  if (textured) {
    GlbMaterial m;
    m.image = 0;
    scene.materials.push_back(m);
    scene.primitives[1].material = 1;
  }
  placed.clear();
  scene.table.schema = &schema_;
  scene.table.className = o_.className;
  for (auto& f : kept) {
    // a feature whose every triangle degenerated gets no row (rows = features drawn)
    if (!appendCoarse(f, scene.center, float(scene.table.rows.size()), scene.primitives[0],
                      textured ? &scene.primitives[1] : nullptr, textured ? &tex->placements : nullptr, placed))
      continue;
    ByteReader r(f.row.data(), f.row.size());
    scene.table.rows.emplace_back();
    getRow(r, scene.table.rows.back());
  }
  scene.table.rowCount = uint32_t(scene.table.rows.size());
  if (scene.table.rows.empty()) return {};
  if (textured && !scene.primitives[1].indices.empty()) {
    scene.images = tex->images;
  } else if (textured) {
    scene.primitives.pop_back();  // nothing textured left: no image
    scene.materials.pop_back();
  }
  return encode(scene);
}

std::vector<uint8_t> TileWriter::encode(const GlbScene& scene, bool fullDetail) {
  GlbOptions go;
  go.draco = o_.draco;
  go.meshopt = o_.meshopt;
  go.quantize = o_.quantize;
  if (fullDetail && (go.draco || go.meshopt || go.quantize)) {
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (auto& p : scene.primitives)
      for (size_t i = 0; i + 2 < p.positions.size(); i += 3)
        for (int k = 0; k < 3; ++k)
          lo[k] = std::min(lo[k], p.positions[i + k]), hi[k] = std::max(hi[k], p.positions[i + k]);
    float ext = 0;
    for (int k = 0; k < 3; ++k) ext = std::max(ext, hi[k] - lo[k]);
    if (ext > 2500.0f) {
      go.draco = go.meshopt = go.quantize = false;
      if (shared_.once("wide-uncompressed"))
        diag_.info("content-uncompressed",
                   "full-detail content " + std::to_string(int(ext)) +
                       " m wide written without mesh compression (16-bit steps would exceed 2 cm)");
    }
  }
  go.batchIds = o_.tilesVersion == "1.0";
  auto glb = writeGlb(scene, go, &diag_);
  if (glb.empty() || !go.batchIds) return glb;
  return wrapB3dm(glb, scene.table);
}

bool TileWriter::writeContent(const std::vector<uint8_t>& bytes, QuadNode& node) {
  if (bytes.empty()) return false;
  std::string err;
  if (!fs::writeFileAtomic(outDir_ + "/" + tileUri(node, o_), bytes.data(), bytes.size(), err)) {
    diag_.error("output-write", err);
    return false;
  }
  node.bytes = bytes.size();
  node.written = true;
  return true;
}

bool TileWriter::writeCoarse(const QuadNode& node, const std::vector<uint8_t>& data) {
  std::string err;
  if (fs::writeFileAtomic(coarsePath(spillDir_, node), data.data(), data.size(), err)) return true;
  diag_.error("spill-write", err);
  return false;
}

}  // namespace twin::tiler
