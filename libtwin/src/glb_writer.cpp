#include "twin/glb_writer.h"

#include <meshoptimizer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "draco_encode.h"

namespace twin {

using nlohmann::json;

namespace {

constexpr int kFloat = 5126;
constexpr int kUnsignedInt = 5125;
constexpr int kUnsignedShort = 5123;
constexpr int kUnsignedByte = 5121;
constexpr int kShort = 5122;
constexpr int kByte = 5120;
constexpr int kArrayBuffer = 34962;
constexpr int kElementArrayBuffer = 34963;

class BinBuilder {
 public:
  std::vector<uint8_t> bin;
  json views = json::array();
  uint64_t fallbackSize = 0;  // EXT_meshopt_compression: the uncompressed buffer's size

  // Appends vertex attribute data (`count` elements of `stride` bytes) or triangle indices
  // (`stride` 2 or 4) compressed with meshoptimizer (EXT_meshopt_compression); the view lives in
  // the uncompressed fallback buffer (buffer 1), its compressed bytes in the BIN chunk.
  int addMeshopt(const void* data, size_t count, size_t stride, bool indices, int target) {
    std::vector<uint8_t> enc;
    if (indices) {
      std::vector<uint32_t> idx(count);
      for (size_t i = 0; i < count; ++i) {
        if (stride == 2)
          idx[i] = static_cast<const uint16_t*>(data)[i];
        else
          idx[i] = static_cast<const uint32_t*>(data)[i];
      }
      enc.resize(meshopt_encodeIndexBufferBound(count, count ? *std::max_element(idx.begin(), idx.end()) + 1 : 0));
      enc.resize(meshopt_encodeIndexBuffer(enc.data(), enc.size(), idx.data(), count));
    } else {
      enc.resize(meshopt_encodeVertexBufferBound(count, stride));
      enc.resize(meshopt_encodeVertexBuffer(enc.data(), enc.size(), data, count, stride));
    }
    while (bin.size() % 4) bin.push_back(0);
    size_t offset = bin.size();
    bin.insert(bin.end(), enc.begin(), enc.end());
    while (fallbackSize % 4) ++fallbackSize;
    json v = {{"buffer", 1}, {"byteOffset", fallbackSize}, {"byteLength", count * stride}};
    if (!indices) v["byteStride"] = stride;
    if (target) v["target"] = target;
    v["extensions"]["EXT_meshopt_compression"] = {
        {"buffer", 0},          {"byteOffset", offset}, {"byteLength", enc.size()},
        {"byteStride", stride}, {"count", count},       {"mode", indices ? "TRIANGLES" : "ATTRIBUTES"}};
    fallbackSize += count * stride;
    views.push_back(v);
    return static_cast<int>(views.size()) - 1;
  }

  // Appends bytes as a new buffer view aligned to `align`; returns the view index.
  int add(const void* data, size_t bytes, size_t align, int target = 0) {
    while (bin.size() % align) bin.push_back(0);
    size_t offset = bin.size();
    bin.insert(bin.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
    json v = {{"buffer", 0}, {"byteOffset", offset}, {"byteLength", bytes}};
    if (target) v["target"] = target;
    views.push_back(v);
    return static_cast<int>(views.size()) - 1;
  }
};

// glTF is y-up: ECEF (x, y, z) is stored as (x, z, -y).
inline void toYUp(const float* in, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    out[3 * i] = in[3 * i];
    out[3 * i + 1] = in[3 * i + 2];
    out[3 * i + 2] = -in[3 * i + 1];
  }
}

}  // namespace

std::vector<uint8_t> writeGlb(const GlbScene& scene, const GlbOptions& options, DiagnosticSink* diag) {
  json gltf;
  gltf["asset"] = {{"version", "2.0"}, {"generator", "twin"}};
  if (!scene.copyright.empty()) gltf["asset"]["copyright"] = scene.copyright;
  BinBuilder bb;
  json accessors = json::array();
  json meshes = json::array();
  json primitives = json::array();
  std::vector<std::string> used;
  bool anyDraco = false;
  bool anyWebp = false;

  auto addAccessor = [&](int view, int componentType, size_t count, const char* type) {
    json a = {{"componentType", componentType}, {"count", count}, {"type", type}};
    if (view >= 0) a["bufferView"] = view;
    accessors.push_back(a);
    return static_cast<int>(accessors.size()) - 1;
  };

  // KHR_mesh_quantization: positions as 16-bit integers on one uniform grid for the whole mesh
  // (the node's scale and translation undo it), normals as 8-bit normalised integers.
  const bool quantize = (options.quantize || options.meshopt) && !options.draco;
  const bool meshopt = options.meshopt && !options.draco;
  float qlo[3] = {0, 0, 0}, qstep = 1;
  if (quantize) {
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (const auto& p : scene.primitives)
      for (size_t i = 0; i + 2 < p.positions.size(); i += 3) {
        const float y[3] = {p.positions[i], p.positions[i + 2], -p.positions[i + 1]};
        for (int k = 0; k < 3; ++k) {
          lo[k] = std::min(lo[k], y[k]);
          hi[k] = std::max(hi[k], y[k]);
        }
      }
    float ext = 0;
    for (int k = 0; k < 3; ++k) {
      qlo[k] = std::isfinite(lo[k]) ? lo[k] : 0;
      if (std::isfinite(hi[k])) ext = std::max(ext, hi[k] - lo[k]);
    }
    qstep = ext > 0 ? ext / 65534.0f : 1.0f;
  }
  auto addView = [&](const void* data, size_t count, size_t stride, int target, bool indices = false) {
    if (meshopt) return bb.addMeshopt(data, count, stride, indices, target);
    int view = bb.add(data, count * stride, 4, target);
    if (!indices) bb.views[view]["byteStride"] = stride;  // padded elements (SHORT VEC3 in 8 bytes)
    return view;
  };

  // 3D Tiles 1.0 (b3dm): the batch id attribute; properties go to the b3dm batch table.
  const char* idName = options.batchIds ? "_BATCHID" : "_FEATURE_ID_0";

  std::vector<float> tmp;
  for (const auto& p : scene.primitives) {
    size_t nv = p.positions.size() / 3;
    if (nv == 0 || p.indices.empty()) continue;
    // bounds (y-up)
    tmp.resize(p.positions.size());
    toYUp(p.positions.data(), tmp.data(), nv);
    float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < nv; ++i)
      for (int k = 0; k < 3; ++k) {
        mn[k] = std::min(mn[k], tmp[3 * i + k]);
        mx[k] = std::max(mx[k], tmp[3 * i + k]);
      }
    std::vector<float> normalsY(p.normals.size());
    if (!p.normals.empty()) toYUp(p.normals.data(), normalsY.data(), nv);

    // distinct feature ids in this primitive
    std::vector<float> fids = p.featureIds;
    std::sort(fids.begin(), fids.end());
    size_t featureCount = std::unique(fids.begin(), fids.end()) - fids.begin();

    json prim;
    prim["mode"] = 4;
    prim["material"] = p.material;
    json attrs;
    bool useDraco = options.draco;
    DracoEncoded enc;
    if (useDraco) {
      DracoInput in{tmp.data(),
                    normalsY.empty() ? nullptr : normalsY.data(),
                    p.uvs.empty() ? nullptr : p.uvs.data(),
                    p.colors.size() == 4 * nv ? p.colors.data() : nullptr,
                    p.featureIds.data(),
                    nv,
                    p.indices.data(),
                    p.indices.size()};
      std::string err;
      if (!dracoEncode(in, options.dracoPositionBits, options.dracoNormalBits, options.dracoUvBits, options.dracoSpeed,
                       enc, err)) {
        if (diag)
          diag->warning("draco-failed", "Draco compression failed (" + err + "); primitive written uncompressed");
        useDraco = false;
      }
    }
    const bool hasColors = p.colors.size() == 4 * nv;
    int posAcc, nrmAcc = -1, uvAcc = -1, colAcc = -1, fidAcc, idxAcc;
    if (useDraco) {
      anyDraco = true;
      int view = bb.add(enc.data.data(), enc.data.size(), 4);
      posAcc = addAccessor(-1, kFloat, nv, "VEC3");
      if (!normalsY.empty()) nrmAcc = addAccessor(-1, kFloat, nv, "VEC3");
      if (!p.uvs.empty()) uvAcc = addAccessor(-1, kFloat, nv, "VEC2");
      if (hasColors) {
        colAcc = addAccessor(-1, kUnsignedByte, nv, "VEC4");
        accessors[colAcc]["normalized"] = true;
      }
      fidAcc = addAccessor(-1, kFloat, nv, "SCALAR");
      idxAcc = addAccessor(-1, nv < 65536 ? kUnsignedShort : kUnsignedInt, p.indices.size(), "SCALAR");
      json dattrs = {{"POSITION", enc.positionId}, {idName, enc.featureId}};
      if (nrmAcc >= 0) dattrs["NORMAL"] = enc.normalId;
      if (uvAcc >= 0) dattrs["TEXCOORD_0"] = enc.uvId;
      if (colAcc >= 0) dattrs["COLOR_0"] = enc.colorId;
      prim["extensions"]["KHR_draco_mesh_compression"] = {{"bufferView", view}, {"attributes", dattrs}};
    } else if (quantize) {
      std::vector<int16_t> q(nv * 4, 0);
      for (size_t i = 0; i < nv; ++i)
        for (int k = 0; k < 3; ++k)
          q[4 * i + k] = int16_t(std::clamp(std::lround((tmp[3 * i + k] - qlo[k]) / qstep) - 32767l, -32767l, 32767l));
      for (int k = 0; k < 3; ++k) {
        int16_t a = 32767, b = -32767;
        for (size_t i = 0; i < nv; ++i) {
          a = std::min(a, q[4 * i + k]);
          b = std::max(b, q[4 * i + k]);
        }
        mn[k] = a;
        mx[k] = b;
      }
      posAcc = addAccessor(addView(q.data(), nv, 8, kArrayBuffer), kShort, nv, "VEC3");
      if (!normalsY.empty()) {
        std::vector<int8_t> n(nv * 4, 0);
        for (size_t i = 0; i < nv * 3; ++i)
          n[(i / 3) * 4 + i % 3] = int8_t(std::lround(std::clamp(normalsY[i], -1.0f, 1.0f) * 127.0f));
        nrmAcc = addAccessor(addView(n.data(), nv, 4, kArrayBuffer), kByte, nv, "VEC3");
        accessors[nrmAcc]["normalized"] = true;
      }
      if (!p.uvs.empty()) uvAcc = addAccessor(addView(p.uvs.data(), nv, 8, kArrayBuffer), kFloat, nv, "VEC2");
      if (hasColors) {
        colAcc = addAccessor(addView(p.colors.data(), nv, 4, kArrayBuffer), kUnsignedByte, nv, "VEC4");
        accessors[colAcc]["normalized"] = true;
      }
      fidAcc = addAccessor(addView(p.featureIds.data(), nv, 4, kArrayBuffer), kFloat, nv, "SCALAR");
      if (nv < 65536) {
        std::vector<uint16_t> idx(p.indices.begin(), p.indices.end());
        if (!meshopt && idx.size() % 2) idx.push_back(0);  // whole 4-byte words; the accessor counts the real ones
        idxAcc = addAccessor(meshopt ? bb.addMeshopt(idx.data(), p.indices.size(), 2, true, kElementArrayBuffer)
                                     : bb.add(idx.data(), idx.size() * 2, 4, kElementArrayBuffer),
                             kUnsignedShort, p.indices.size(), "SCALAR");
      } else {
        idxAcc = addAccessor(meshopt ? bb.addMeshopt(p.indices.data(), p.indices.size(), 4, true, kElementArrayBuffer)
                                     : bb.add(p.indices.data(), p.indices.size() * 4, 4, kElementArrayBuffer),
                             kUnsignedInt, p.indices.size(), "SCALAR");
      }
    } else {
      posAcc = addAccessor(bb.add(tmp.data(), tmp.size() * 4, 4, kArrayBuffer), kFloat, nv, "VEC3");
      if (!normalsY.empty())
        nrmAcc = addAccessor(bb.add(normalsY.data(), normalsY.size() * 4, 4, kArrayBuffer), kFloat, nv, "VEC3");
      if (!p.uvs.empty())
        uvAcc = addAccessor(bb.add(p.uvs.data(), p.uvs.size() * 4, 4, kArrayBuffer), kFloat, nv, "VEC2");
      if (hasColors) {
        colAcc = addAccessor(bb.add(p.colors.data(), p.colors.size(), 4, kArrayBuffer), kUnsignedByte, nv, "VEC4");
        accessors[colAcc]["normalized"] = true;
      }
      fidAcc = addAccessor(bb.add(p.featureIds.data(), p.featureIds.size() * 4, 4, kArrayBuffer), kFloat, nv, "SCALAR");
      if (nv < 65536) {
        std::vector<uint16_t> idx(p.indices.begin(), p.indices.end());
        idxAcc = addAccessor(bb.add(idx.data(), idx.size() * 2, 4, kElementArrayBuffer), kUnsignedShort, idx.size(),
                             "SCALAR");
      } else {
        idxAcc = addAccessor(bb.add(p.indices.data(), p.indices.size() * 4, 4, kElementArrayBuffer), kUnsignedInt,
                             p.indices.size(), "SCALAR");
      }
    }
    accessors[posAcc]["min"] = {mn[0], mn[1], mn[2]};
    accessors[posAcc]["max"] = {mx[0], mx[1], mx[2]};
    attrs["POSITION"] = posAcc;
    if (nrmAcc >= 0) attrs["NORMAL"] = nrmAcc;
    if (uvAcc >= 0) attrs["TEXCOORD_0"] = uvAcc;
    if (colAcc >= 0) attrs["COLOR_0"] = colAcc;
    attrs[idName] = fidAcc;
    prim["attributes"] = attrs;
    prim["indices"] = idxAcc;
    if (!options.batchIds) {
      json fid = {{"featureCount", featureCount}, {"attribute", 0}};
      if (scene.table.schema && scene.table.rowCount > 0) fid["propertyTable"] = 0;
      prim["extensions"]["EXT_mesh_features"] = {{"featureIds", json::array({fid})}};
    }
    primitives.push_back(prim);
  }
  if (primitives.empty()) {
    if (diag) diag->error("glb-empty", "tile has no triangles to write");
    return {};
  }
  meshes.push_back({{"primitives", primitives}});
  if (!options.batchIds) used.push_back("EXT_mesh_features");
  if (anyDraco) used.push_back("KHR_draco_mesh_compression");

  // Materials, images, textures
  json materials = json::array();
  json textures = json::array();
  json images = json::array();
  std::vector<int> imageView(scene.images.size(), -1);
  for (size_t i = 0; i < scene.images.size(); ++i) {
    const auto& img = scene.images[i];
    int view = bb.add(img.data.data(), img.data.size(), 4);
    images.push_back({{"bufferView", view}, {"mimeType", img.mimeType}});
    if (img.mimeType == "image/webp") {
      // no fallback image: the extension is required
      textures.push_back({{"sampler", 0}, {"extensions", {{"EXT_texture_webp", {{"source", i}}}}}});
      anyWebp = true;
    } else {
      textures.push_back({{"source", i}, {"sampler", 0}});
    }
  }
  for (const auto& m : scene.materials) {
    json pbr = {{"baseColorFactor", {m.baseColor[0], m.baseColor[1], m.baseColor[2], m.baseColor[3]}},
                {"metallicFactor", 0.0},
                {"roughnessFactor", 1.0}};
    if (m.image >= 0) pbr["baseColorTexture"] = {{"index", m.image}};
    json mat = {{"pbrMetallicRoughness", pbr}, {"doubleSided", true}};
    if (m.baseColor[3] < 1.0f) mat["alphaMode"] = "BLEND";
    materials.push_back(mat);
  }
  if (materials.empty()) materials.push_back({{"pbrMetallicRoughness", {{"metallicFactor", 0.0}}}});

  // Structural metadata: schema + one property table.
  const auto* schema = scene.table.schema;
  if (schema && scene.table.rowCount > 0 && !options.batchIds) {
    const uint32_t rows = scene.table.rowCount;
    json classProps = json::object();
    json tableProps = json::object();
    // Column-wise gather
    std::vector<std::vector<const PropertyValue*>> cols(schema->size());
    for (uint32_t r = 0; r < rows && r < scene.table.rows.size(); ++r)
      for (auto& [pi, v] : scene.table.rows[r]) {
        if (pi >= cols.size()) continue;
        if (cols[pi].empty()) cols[pi].assign(rows, nullptr);
        cols[pi][r] = &v;
      }
    // The class of this glb holds exactly the properties its table holds: those at least one
    // feature of the tile has a value for. A multi-file conversion shares one schema between
    // files whose attribute sets differ; a property no feature of this tile has is left out of
    // both (the 3D Tiles validator stops on a class property the table lacks), and a feature
    // without a value where others have one gets the property's noData.
    for (size_t pi = 0; pi < schema->size(); ++pi) {
      const PropertyDef& def = (*schema)[pi];
      auto& col = cols[pi];
      if (col.empty()) continue;
      if (def.type == PropertyType::String && std::none_of(col.begin(), col.end(), [](const PropertyValue* v) {
            return v && (v->index() != 2 || !std::get<std::string>(*v).empty());
          }))
        continue;  // only empty strings: nothing to hold, and no zero-length buffer views
      json cp = {{"name", def.name}, {"type", def.type == PropertyType::String ? "STRING" : "SCALAR"}};
      if (def.type == PropertyType::Int32) {
        cp["componentType"] = "INT32";
        cp["noData"] = kNoDataInt32;
      } else if (def.type == PropertyType::Float64) {
        cp["componentType"] = "FLOAT64";
        cp["noData"] = kNoDataFloat64;
      } else {
        cp["noData"] = "";
      }
      classProps[def.id] = cp;
      if (def.type == PropertyType::String) {
        std::string data;
        std::vector<uint32_t> offsets;
        offsets.reserve(rows + 1);
        for (uint32_t r = 0; r < rows; ++r) {
          offsets.push_back(static_cast<uint32_t>(data.size()));
          const PropertyValue* v = col[r];
          if (!v) continue;
          if (v->index() == 2)
            data += std::get<std::string>(*v);
          else if (v->index() == 0)
            data += std::to_string(std::get<int64_t>(*v));
          else {
            char buf[32];
            auto res = std::to_chars(buf, buf + sizeof buf, std::get<double>(*v));
            data.append(buf, res.ptr);
          }
        }
        offsets.push_back(static_cast<uint32_t>(data.size()));
        int valuesView = bb.add(data.data(), data.size(), 8);
        int offsetsView = bb.add(offsets.data(), offsets.size() * 4, 8);
        tableProps[def.id] = {{"values", valuesView}, {"stringOffsets", offsetsView}, {"stringOffsetType", "UINT32"}};
      } else if (def.type == PropertyType::Int32) {
        std::vector<int32_t> vals(rows, kNoDataInt32);
        for (uint32_t r = 0; r < rows; ++r)
          if (col[r] && col[r]->index() == 0) vals[r] = static_cast<int32_t>(std::get<int64_t>(*col[r]));
        tableProps[def.id] = {{"values", bb.add(vals.data(), vals.size() * 4, 8)}};
      } else {
        std::vector<double> vals(rows, kNoDataFloat64);
        for (uint32_t r = 0; r < rows; ++r) {
          if (!col[r]) continue;
          if (col[r]->index() == 0)
            vals[r] = static_cast<double>(std::get<int64_t>(*col[r]));
          else if (col[r]->index() == 1)
            vals[r] = std::get<double>(*col[r]);
        }
        tableProps[def.id] = {{"values", bb.add(vals.data(), vals.size() * 8, 8)}};
      }
    }
    json ext;
    ext["schema"] = {{"id", "twin"}, {"classes", {{scene.table.className, {{"properties", classProps}}}}}};
    ext["propertyTables"] =
        json::array({{{"class", scene.table.className}, {"count", rows}, {"properties", tableProps}}});
    gltf["extensions"]["EXT_structural_metadata"] = ext;
    used.push_back("EXT_structural_metadata");
  }

  // Node: translation puts the tile centre back (y-up).
  json node = {{"mesh", 0}};
  const Vec3& c = scene.center;
  if (quantize) {
    // world = translation + scale * q, with q = round((p - lo) / step) - 32767
    node["translation"] = {c[0] + qlo[0] + 32767.0 * qstep, c[2] + qlo[1] + 32767.0 * qstep,
                           -c[1] + qlo[2] + 32767.0 * qstep};
    node["scale"] = {qstep, qstep, qstep};
    used.push_back("KHR_mesh_quantization");
  } else if (c[0] != 0 || c[1] != 0 || c[2] != 0) {
    node["translation"] = {c[0], c[2], -c[1]};
  }

  gltf["scene"] = 0;
  gltf["scenes"] = json::array({{{"nodes", {0}}}});
  gltf["nodes"] = json::array({node});
  gltf["meshes"] = meshes;
  gltf["accessors"] = accessors;
  gltf["materials"] = materials;
  if (!images.empty()) {
    gltf["images"] = images;
    gltf["textures"] = textures;
    gltf["samplers"] = json::array({{{"magFilter", 9729}, {"minFilter", 9987}, {"wrapS", 10497}, {"wrapT", 10497}}});
  }
  gltf["bufferViews"] = bb.views;
  while (bb.bin.size() % 4) bb.bin.push_back(0);
  gltf["buffers"] = json::array({{{"byteLength", bb.bin.size()}}});
  json required = json::array();
  if (anyDraco) required.push_back("KHR_draco_mesh_compression");
  if (quantize) required.push_back("KHR_mesh_quantization");
  if (anyWebp) {
    used.push_back("EXT_texture_webp");
    required.push_back("EXT_texture_webp");
  }
  if (meshopt && bb.fallbackSize > 0) {
    // the uncompressed buffer exists only for the extension's views: it has no data of its own
    gltf["buffers"].push_back(
        {{"byteLength", bb.fallbackSize}, {"extensions", {{"EXT_meshopt_compression", {{"fallback", true}}}}}});
    used.push_back("EXT_meshopt_compression");
    required.push_back("EXT_meshopt_compression");
  }
  if (!used.empty()) gltf["extensionsUsed"] = used;  // never an empty array (glTF forbids it)
  if (!required.empty()) gltf["extensionsRequired"] = required;

  return glbContainer(gltf.dump(), std::move(bb.bin));
}

std::vector<uint8_t> glbContainer(std::string js, std::vector<uint8_t> bin) {
  while (js.size() % 4) js.push_back(' ');
  while (bin.size() % 4) bin.push_back(0);
  std::vector<uint8_t> out;
  uint32_t total = 12 + 8 + static_cast<uint32_t>(js.size()) + 8 + static_cast<uint32_t>(bin.size());
  out.reserve(total);
  auto put32 = [&](uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    out.insert(out.end(), b, b + 4);
  };
  put32(0x46546C67);  // "glTF"
  put32(2);
  put32(total);
  put32(static_cast<uint32_t>(js.size()));
  put32(0x4E4F534A);  // JSON
  out.insert(out.end(), js.begin(), js.end());
  put32(static_cast<uint32_t>(bin.size()));
  put32(0x004E4942);  // BIN
  out.insert(out.end(), bin.begin(), bin.end());
  return out;
}

std::vector<uint8_t> wrapB3dm(const std::vector<uint8_t>& glb, const GlbPropertyTable& table) {
  // Feature table: BATCH_LENGTH. Batch table: one JSON array per property (original names),
  // null where a feature has no value.
  json ft = {{"BATCH_LENGTH", table.rowCount}};
  json bt = json::object();
  if (table.schema) {
    const auto& schema = *table.schema;
    std::vector<json> cols(schema.size());
    std::vector<bool> any(schema.size(), false);
    for (auto& c : cols) c = json::array();
    for (uint32_t r = 0; r < table.rowCount; ++r) {
      std::vector<const PropertyValue*> row(schema.size(), nullptr);
      if (r < table.rows.size())
        for (auto& [pi, v] : table.rows[r])
          if (pi < schema.size()) row[pi] = &v;
      for (size_t pi = 0; pi < schema.size(); ++pi) {
        const PropertyValue* v = row[pi];
        if (!v) {
          cols[pi].push_back(nullptr);
          continue;
        }
        any[pi] = true;
        if (v->index() == 2)
          cols[pi].push_back(std::get<std::string>(*v));
        else if (schema[pi].type == PropertyType::String)
          cols[pi].push_back(v->index() == 0 ? std::to_string(std::get<int64_t>(*v))
                                             : json(std::get<double>(*v)).dump());
        else if (v->index() == 0)
          cols[pi].push_back(std::get<int64_t>(*v));
        else
          cols[pi].push_back(std::get<double>(*v));
      }
    }
    for (size_t pi = 0; pi < schema.size(); ++pi)
      if (any[pi]) bt[schema[pi].name] = std::move(cols[pi]);
  }
  std::string ftJson = ft.dump(), btJson = bt.empty() ? std::string() : bt.dump();
  // 28-byte header; each part ends on an 8-byte boundary (padding with spaces in JSON).
  while ((28 + ftJson.size()) % 8) ftJson.push_back(' ');
  if (!btJson.empty())
    while ((28 + ftJson.size() + btJson.size()) % 8) btJson.push_back(' ');
  size_t total = 28 + ftJson.size() + btJson.size() + glb.size();
  size_t pad = (8 - total % 8) % 8;
  std::vector<uint8_t> out;
  out.reserve(total + pad);
  auto put32 = [&](uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    out.insert(out.end(), b, b + 4);
  };
  out.insert(out.end(), {'b', '3', 'd', 'm'});
  put32(1);
  put32(static_cast<uint32_t>(total + pad));
  put32(static_cast<uint32_t>(ftJson.size()));
  put32(0);
  put32(static_cast<uint32_t>(btJson.size()));
  put32(0);
  out.insert(out.end(), ftJson.begin(), ftJson.end());
  out.insert(out.end(), btJson.begin(), btJson.end());
  out.insert(out.end(), glb.begin(), glb.end());
  // The glb's own length stays as it is; the b3dm's padding follows it.
  out.insert(out.end(), pad, 0);
  return out;
}

}  // namespace twin
