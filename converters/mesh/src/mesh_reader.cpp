// Mesh and point-cloud readers (see mesh_reader.h): OBJ and glTF parsed here; PLY/STL/OFF meshes
// and point clouds through Open3D (open3d_io.cpp).
#include "twin/mesh/mesh_reader.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "open3d_io.h"
#include "placement.h"
#include "twin/vfs.h"

namespace twin::mesh {

namespace {

using nlohmann::json;

std::string lowerExt(const std::string& uri) {
  size_t dot = uri.find_last_of('.');
  size_t slash = uri.find_last_of("/!");
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  std::string e = uri.substr(dot);
  for (auto& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

// A feature being assembled: polygons in placed coordinates.
struct Feature {
  CityObject obj;
  Geometry geom;
  std::map<std::string, int> materialIndex;  // material name -> index in obj.materials / textures
};

Feature newFeature(const std::string& id, const std::string& name, const std::string& uri, const Placement& p,
                   int lod) {
  Feature f;
  f.obj.id = id;
  f.obj.type = "Building";
  f.obj.srs = p.srs;
  f.obj.sourceFile = uri;
  Attribute src;
  src.key = "twin:sourceFile";
  src.text = uri.substr(uri.find_last_of("/!") == std::string::npos ? 0 : uri.find_last_of("/!") + 1);
  f.obj.attributes.push_back(src);
  if (!name.empty()) {
    Attribute n;
    n.key = "name";
    n.text = name;
    f.obj.attributes.push_back(n);
  }
  f.geom.lod = lod;
  return f;
}

bool emit(Feature& f, ObjectSink& sink, ReadStats& stats) {
  if (f.geom.polygons.empty()) return true;
  if (!f.geom.uvs.empty()) f.geom.uvs.resize(f.geom.points.size(), Vec2f{0, 0});
  f.obj.geometries.push_back(std::move(f.geom));
  stats.objectsByType[f.obj.type]++;
  return sink.accept(std::move(f.obj));
}

// ------------------------------------------------------------------------------------- OBJ

struct ObjMaterial {
  Material material;
  std::string texture;  // resolved path, or empty
};

// Reads a material library; problems are reported against the OBJ file and its mtllib line.
std::map<std::string, ObjMaterial> readMtl(const std::string& uri, const std::string& objUri, int64_t objLine,
                                           DiagnosticSink& diag) {
  std::map<std::string, ObjMaterial> out;
  std::vector<uint8_t> data;
  std::string err;
  if (!vfs::readAll(uri, data, err, 64ull << 20)) {
    diag.warning("mtl-missing",
                 "material library " + uri + " not readable (" + err + "); objects keep a default colour", objUri,
                 objLine);
    return out;
  }
  std::string text(data.begin(), data.end());
  ObjMaterial* cur = nullptr;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    line = line.substr(b);
    if (line.rfind("newmtl", 0) == 0) {
      cur = &out[line.size() > 7 ? line.substr(7) : std::string()];
    } else if (cur && line.rfind("Kd ", 0) == 0) {
      double r = 0.8, g = 0.8, bl = 0.8;
      if (std::sscanf(line.c_str() + 3, "%lf %lf %lf", &r, &g, &bl) == 3)
        cur->material.diffuse = {float(std::clamp(r, 0.0, 1.0)), float(std::clamp(g, 0.0, 1.0)),
                                 float(std::clamp(bl, 0.0, 1.0))};
    } else if (cur && line.rfind("d ", 0) == 0) {
      double d = 1;
      if (std::sscanf(line.c_str() + 2, "%lf", &d) == 1)
        cur->material.transparency = float(1 - std::clamp(d, 0.0, 1.0));
    } else if (cur && line.rfind("map_Kd ", 0) == 0) {
      std::string file = line.substr(line.find_last_of(" \t") + 1);  // options (-s ...) come before the name
      std::replace(file.begin(), file.end(), '\\', '/');
      cur->texture = vfs::resolve(uri, file);
      if (!vfs::exists(cur->texture))
        diag.warning("texture-missing",
                     "texture image " + cur->texture + " (material library " + uri +
                         ") not found; its surfaces are drawn in a plain colour",
                     objUri, objLine);
    }
  }
  return out;
}

bool readObj(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
             ReadStats& stats) {
  Placement p;
  if (!makePlacement(uri, options, false, p, diag)) return false;
  std::vector<uint8_t> data;
  std::string err;
  if (!vfs::readAll(uri, data, err)) {
    diag.error("input-unreadable", err, uri);
    return false;
  }
  stats.bytes += data.size();
  if (options.bytesRead) *options.bytesRead += data.size();
  bool perFile = optionOr(options, "mesh.split", "object") == "file";
  int lod = std::atoi(optionOr(options, "mesh.lod", "2").c_str());
  // First pass: does the file name objects with `o` (then `g` are only groups)?
  bool hasO = false;
  for (size_t i = 0; i + 1 < data.size(); ++i)
    if ((i == 0 || data[i - 1] == '\n') && data[i] == 'o' && (data[i + 1] == ' ' || data[i + 1] == '\t')) {
      hasO = true;
      break;
    }
  std::vector<Vec3> v;
  std::vector<Vec2f> vt;
  std::map<std::string, ObjMaterial> mtl;
  std::string stem = fileStem(uri);
  Feature f = newFeature(stem, std::string(), uri, p, lod);
  int unnamed = 0;
  int curMaterial = -1, curTexture = -1;
  std::string curMaterialName;
  size_t badFaces = 0;
  int64_t lineNo = 0;
  auto startFeature = [&](const std::string& name) {
    if (perFile) return true;
    if (!emit(f, sink, stats)) return false;
    std::string id = name.empty() ? stem + "#" + std::to_string(++unnamed) : name;
    f = newFeature(id, name, uri, p, lod);
    f.obj.sourceLine = lineNo;
    curMaterial = curTexture = -1;
    if (!curMaterialName.empty()) {  // a material set before the object carries over
      auto it = mtl.find(curMaterialName);
      if (it != mtl.end()) {
        f.obj.materials.push_back(it->second.material);
        curMaterial = 0;
        if (!it->second.texture.empty()) {
          f.obj.textures.push_back({it->second.texture, ""});
          curTexture = 0;
        }
      }
    }
    return true;
  };
  const char* s = reinterpret_cast<const char*>(data.data());
  const char* endAll = s + data.size();
  std::vector<int> fv, ft;
  while (s < endAll) {
    const char* e = static_cast<const char*>(std::memchr(s, '\n', size_t(endAll - s)));
    if (!e) e = endAll;
    ++lineNo;
    std::string_view line(s, size_t(e - s));
    s = e + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.size() < 2 || line[0] == '#') continue;
    std::string rest(
        line.substr(line.find_first_of(" \t") == std::string_view::npos ? line.size() : line.find_first_of(" \t") + 1));
    if (line.rfind("v ", 0) == 0 || line.rfind("v\t", 0) == 0) {
      double x, y, z;
      if (std::sscanf(rest.c_str(), "%lf %lf %lf", &x, &y, &z) != 3 || !std::isfinite(x + y + z)) {
        diag.error("obj-malformed", "vertex is not three numbers", uri, lineNo);
        v.push_back({NAN, NAN, NAN});
      } else {
        v.push_back(p.place(x, y, z));
      }
    } else if (line.rfind("vt ", 0) == 0) {
      float a = 0, b = 0;
      std::sscanf(rest.c_str(), "%f %f", &a, &b);
      vt.push_back({a, b});
    } else if (line.rfind("f ", 0) == 0) {
      fv.clear(), ft.clear();
      const char* q = rest.c_str();
      bool ok = true;
      while (*q) {
        while (*q == ' ' || *q == '\t') ++q;
        if (!*q) break;
        char* after = nullptr;
        long vi = std::strtol(q, &after, 10);
        if (after == q) {
          ok = false;
          break;
        }
        long ti = 0;
        q = after;
        if (*q == '/') {
          ++q;
          if (*q != '/') ti = std::strtol(q, &after, 10), q = after;
          if (*q == '/') {
            ++q;
            std::strtol(q, &after, 10);
            q = after;
          }
        }
        while (*q && *q != ' ' && *q != '\t') ++q;
        long n = long(v.size()), nt = long(vt.size());
        long a = vi < 0 ? n + vi : vi - 1;
        long t = ti < 0 ? nt + ti : ti - 1;
        if (a < 0 || a >= n || std::isnan(v[size_t(a)][0])) {
          ok = false;
          break;
        }
        fv.push_back(int(a));
        ft.push_back(ti != 0 && t >= 0 && t < nt ? int(t) : -1);
      }
      if (!ok || fv.size() < 3) {
        ++badFaces;
        if (badFaces <= 5)
          diag.warning("obj-bad-face", "face refers to a vertex the file does not have (or has fewer than 3); skipped",
                       uri, lineNo, f.obj.id);
        continue;
      }
      Polygon poly;
      poly.firstRing = uint32_t(f.geom.ringCount());
      poly.ringCount = 1;
      poly.material = curMaterial;
      bool textured = curTexture >= 0 && std::all_of(ft.begin(), ft.end(), [](int t) { return t >= 0; });
      if (textured) {
        poly.texture = curTexture;
        f.geom.uvs.resize(f.geom.points.size(), Vec2f{0, 0});
      }
      for (size_t k = 0; k < fv.size(); ++k) {
        f.geom.points.push_back(v[size_t(fv[k])]);
        if (textured)
          f.geom.uvs.push_back(vt[size_t(ft[k])]);
        else if (!f.geom.uvs.empty())
          f.geom.uvs.push_back({0, 0});
      }
      f.geom.ringStart.push_back(uint32_t(f.geom.points.size()));
      f.geom.polygons.push_back(poly);
    } else if (line.rfind("o ", 0) == 0 || (!hasO && line.rfind("g ", 0) == 0)) {
      if (!startFeature(rest)) return true;
    } else if (line.rfind("usemtl ", 0) == 0) {
      curMaterialName = rest;
      curMaterial = curTexture = -1;
      auto it = mtl.find(rest);
      if (it == mtl.end()) continue;
      f.obj.materials.push_back(it->second.material);
      curMaterial = int(f.obj.materials.size() - 1);
      if (!it->second.texture.empty()) {
        f.obj.textures.push_back({it->second.texture, ""});
        curTexture = int(f.obj.textures.size() - 1);
      }
    } else if (line.rfind("mtllib ", 0) == 0) {
      std::string file = rest;
      std::replace(file.begin(), file.end(), '\\', '/');
      auto more = readMtl(vfs::resolve(uri, file), uri, lineNo, diag);
      mtl.insert(more.begin(), more.end());
    }
    if (options.cancel && options.cancel->load()) return true;
  }
  if (badFaces > 5) diag.warning("obj-bad-face", std::to_string(badFaces) + " faces skipped in all", uri);
  emit(f, sink, stats);
  return true;
}

// ------------------------------------------------------------------------------------- glTF

std::string base64Decode(std::string_view in) {
  static int8_t table[256];
  static bool init = [] {
    std::memset(table, -1, sizeof table);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[uint8_t(a[i])] = int8_t(i);
    return true;
  }();
  (void)init;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int8_t d = table[uint8_t(c)];
    if (d < 0) continue;
    acc = (acc << 6) | uint32_t(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}

using Mat4 = std::array<double, 16>;  // column-major

Mat4 identity() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; }

Mat4 mul(const Mat4& a, const Mat4& b) {
  Mat4 r{};
  for (int c = 0; c < 4; ++c)
    for (int row = 0; row < 4; ++row) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += a[k * 4 + row] * b[c * 4 + k];
      r[c * 4 + row] = s;
    }
  return r;
}

Mat4 nodeMatrix(const json& n) {
  if (n.contains("matrix") && n["matrix"].is_array() && n["matrix"].size() == 16) {
    Mat4 m;
    for (int i = 0; i < 16; ++i) m[i] = n["matrix"][i].is_number() ? n["matrix"][i].get<double>() : 0.0;
    return m;
  }
  std::array<double, 3> t{0, 0, 0}, sc{1, 1, 1};
  std::array<double, 4> q{0, 0, 0, 1};
  auto read = [&](const char* key, double* out, int count) {
    if (!n.contains(key) || !n[key].is_array() || int(n[key].size()) != count) return;
    for (int i = 0; i < count; ++i)
      if (n[key][i].is_number()) out[i] = n[key][i].get<double>();
  };
  read("translation", t.data(), 3);
  read("rotation", q.data(), 4);
  read("scale", sc.data(), 3);
  double x = q[0], y = q[1], z = q[2], w = q[3];
  Mat4 m = {1 - 2 * (y * y + z * z),
            2 * (x * y + z * w),
            2 * (x * z - y * w),
            0,
            2 * (x * y - z * w),
            1 - 2 * (x * x + z * z),
            2 * (y * z + x * w),
            0,
            2 * (x * z + y * w),
            2 * (y * z - x * w),
            1 - 2 * (x * x + y * y),
            0,
            t[0],
            t[1],
            t[2],
            1};
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r) m[c * 4 + r] *= sc[c];
  return m;
}

class Gltf {
 public:
  json doc;
  std::vector<std::string> buffers;
  std::string error;
  uint64_t bytes = 0;

  bool load(const std::string& uri, DiagnosticSink& diag) {
    std::vector<uint8_t> data;
    if (!vfs::readAll(uri, data, error)) return false;
    bytes = data.size();
    std::string bin;
    try {
      if (data.size() >= 4 && std::memcmp(data.data(), "glTF", 4) == 0) {
        // The 12-byte header and the first chunk's 8-byte header must be there before they are read.
        if (data.size() < 20) {
          error = "GLB header or chunk lengths are wrong (truncated file?)";
          return false;
        }
        uint32_t length, jsonLen, jsonType;
        std::memcpy(&length, &data[8], 4);
        std::memcpy(&jsonLen, &data[12], 4);
        std::memcpy(&jsonType, &data[16], 4);
        if (length > data.size() || 20ull + jsonLen > data.size() || jsonType != 0x4E4F534A) {
          error = "GLB header or chunk lengths are wrong (truncated file?)";
          return false;
        }
        doc = json::parse(data.begin() + 20, data.begin() + 20 + jsonLen);
        size_t off = 20 + ((jsonLen + 3) & ~3u);
        if (off + 8 <= data.size()) {
          uint32_t binLen;
          std::memcpy(&binLen, &data[off], 4);
          if (off + 8 + binLen <= data.size()) bin.assign(data.begin() + off + 8, data.begin() + off + 8 + binLen);
        }
      } else {
        doc = json::parse(data.begin(), data.end());
      }
    } catch (const json::exception& e) {
      error = std::string("JSON: ") + e.what();
      return false;
    }
    if (!doc.is_object()) {
      error = "not a glTF document";
      return false;
    }
    for (auto& ext : doc.value("extensionsRequired", json::array()))
      if (ext.is_string() && (ext == "KHR_draco_mesh_compression" || ext == "EXT_meshopt_compression")) {
        error = "compressed glTF (" + ext.get<std::string>() +
                ") is not read; decompress it first (e.g. npx gltf-transform copy)";
        return false;
      }
    for (auto& b : doc.value("buffers", json::array())) {
      std::string uriB = b.is_object() && b.contains("uri") && b["uri"].is_string() ? b["uri"].get<std::string>() : "";
      if (uriB.empty()) {
        buffers.push_back(bin);
      } else if (uriB.rfind("data:", 0) == 0) {
        size_t comma = uriB.find(',');
        buffers.push_back(comma == std::string::npos ? std::string()
                                                     : base64Decode(std::string_view(uriB).substr(comma + 1)));
      } else {
        std::vector<uint8_t> ext;
        std::string err;
        if (!vfs::readAll(vfs::resolve(uri, uriB), ext, err)) {
          diag.error("gltf-buffer-missing", "buffer " + uriB + " not readable: " + err, uri);
          buffers.emplace_back();
        } else {
          buffers.emplace_back(ext.begin(), ext.end());
        }
      }
    }
    return true;
  }

  // Reads accessor `index` as doubles (count * components). False when it is not readable.
  bool accessor(int index, std::vector<double>& out, int& components) const {
    out.clear();
    auto& accs = doc["accessors"];
    if (!accs.is_array() || index < 0 || size_t(index) >= accs.size()) return false;
    const json& a = accs[size_t(index)];
    static const std::map<std::string, int> comps = {{"SCALAR", 1}, {"VEC2", 2}, {"VEC3", 3}, {"VEC4", 4}};
    auto ct = comps.find(a.value("type", std::string()));
    if (ct == comps.end()) return false;
    components = ct->second;
    int type = a.value("componentType", 0);
    size_t count = a.value("count", size_t(0));
    size_t size = type == 5126 || type == 5125   ? 4
                  : type == 5123 || type == 5122 ? 2
                  : type == 5121 || type == 5120 ? 1
                                                 : 0;
    if (!size || !a.contains("bufferView")) return false;
    auto& views = doc["bufferViews"];
    int vi = a["bufferView"].get<int>();
    if (!views.is_array() || vi < 0 || size_t(vi) >= views.size()) return false;
    const json& v = views[size_t(vi)];
    int bi = v.value("buffer", 0);
    if (bi < 0 || size_t(bi) >= buffers.size()) return false;
    const std::string& buf = buffers[size_t(bi)];
    size_t off = v.value("byteOffset", size_t(0)) + a.value("byteOffset", size_t(0));
    size_t stride = v.value("byteStride", size_t(0));
    if (!stride) stride = size * size_t(components);
    if (count && off + (count - 1) * stride + size * size_t(components) > buf.size()) return false;
    out.resize(count * size_t(components));
    for (size_t i = 0; i < count; ++i)
      for (int c = 0; c < components; ++c) {
        const char* p = buf.data() + off + i * stride + size_t(c) * size;
        double x = 0;
        switch (type) {
          case 5126: {
            float f;
            std::memcpy(&f, p, 4);
            x = f;
            break;
          }
          case 5125: {
            uint32_t u;
            std::memcpy(&u, p, 4);
            x = u;
            break;
          }
          case 5123: {
            uint16_t u;
            std::memcpy(&u, p, 2);
            x = u;
            break;
          }
          case 5122: {
            int16_t u;
            std::memcpy(&u, p, 2);
            x = u;
            break;
          }
          case 5121:
            x = uint8_t(*p);
            break;
          case 5120:
            x = int8_t(*p);
            break;
        }
        out[i * size_t(components) + size_t(c)] = x;
      }
    return true;
  }
};

bool readGltf(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
              ReadStats& stats) {
  Placement p;
  if (!makePlacement(uri, options, true, p, diag)) return false;
  Gltf g;
  if (!g.load(uri, diag)) {
    diag.error("gltf-malformed", g.error, uri);
    return false;
  }
  stats.bytes += g.bytes;
  if (options.bytesRead) *options.bytesRead += g.bytes;
  bool perFile = optionOr(options, "mesh.split", "object") == "file";
  int lod = std::atoi(optionOr(options, "mesh.lod", "2").c_str());
  std::string stem = fileStem(uri);
  const json& nodes = g.doc.contains("nodes") && g.doc["nodes"].is_array() ? g.doc["nodes"] : json::array();
  const json& meshes = g.doc.contains("meshes") && g.doc["meshes"].is_array() ? g.doc["meshes"] : json::array();
  const json& materials =
      g.doc.contains("materials") && g.doc["materials"].is_array() ? g.doc["materials"] : json::array();
  Feature fileFeature = newFeature(stem, "", uri, p, lod);
  bool texturesDropped = false, stop = false;
  int unnamed = 0;
  std::vector<int> visiting;
  std::function<void(int, const Mat4&)> visit = [&](int ni, const Mat4& parent) {
    if (stop || ni < 0 || size_t(ni) >= nodes.size() || std::count(visiting.begin(), visiting.end(), ni)) return;
    visiting.push_back(ni);
    const json& n = nodes[size_t(ni)];
    Mat4 m = mul(parent, nodeMatrix(n));
    if (n.contains("mesh") && n["mesh"].is_number_integer() && size_t(n["mesh"].get<int>()) < meshes.size()) {
      const json& mesh = meshes[size_t(n["mesh"].get<int>())];
      std::string name = n.value("name", std::string());
      if (name.empty()) name = mesh.value("name", std::string());
      Feature own = newFeature(name.empty() ? stem + "#" + std::to_string(++unnamed) : name, name, uri, p, lod);
      Feature& f = perFile ? fileFeature : own;
      for (auto& prim : mesh.value("primitives", json::array())) {
        if (prim.value("mode", 4) != 4) continue;  // triangles only
        if (!prim.contains("attributes") || !prim["attributes"].contains("POSITION")) continue;
        std::vector<double> pos, idx;
        int pc = 0, ic = 0;
        if (!g.accessor(prim["attributes"]["POSITION"].get<int>(), pos, pc) || pc != 3) {
          diag.warning("gltf-malformed", "a primitive's POSITION is not readable; skipped", uri, 0, f.obj.id);
          continue;
        }
        size_t nv = pos.size() / 3;
        if (prim.contains("indices")) {
          if (!g.accessor(prim["indices"].get<int>(), idx, ic)) {
            diag.warning("gltf-malformed", "a primitive's indices are not readable; skipped", uri, 0, f.obj.id);
            continue;
          }
        } else {
          for (size_t i = 0; i < nv; ++i) idx.push_back(double(i));
        }
        int material = -1;
        if (prim.contains("material") && prim["material"].is_number_integer()) {
          size_t mi = prim["material"].get<size_t>();
          if (mi < materials.size()) {
            const json& mj = materials[mi];
            Material mat;
            auto pbr = mj.value("pbrMetallicRoughness", json::object());
            auto c = pbr.value("baseColorFactor", json::array({1, 1, 1, 1}));
            if (c.is_array() && c.size() == 4)
              for (int k = 0; k < 3; ++k) mat.diffuse[k] = float(c[k].get<double>());
            if (c.is_array() && c.size() == 4) mat.transparency = float(1 - c[3].get<double>());
            if (pbr.contains("baseColorTexture")) texturesDropped = true;
            f.obj.materials.push_back(mat);
            material = int(f.obj.materials.size() - 1);
          }
        }
        std::vector<Vec3> placed(nv);
        for (size_t i = 0; i < nv; ++i) {
          double x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
          double wx = m[0] * x + m[4] * y + m[8] * z + m[12], wy = m[1] * x + m[5] * y + m[9] * z + m[13],
                 wz = m[2] * x + m[6] * y + m[10] * z + m[14];
          placed[i] = p.place(wx, wy, wz);
        }
        for (size_t t = 0; t + 2 < idx.size(); t += 3) {
          size_t a = size_t(idx[t]), b = size_t(idx[t + 1]), c = size_t(idx[t + 2]);
          if (a >= nv || b >= nv || c >= nv) continue;
          Polygon poly;
          poly.firstRing = uint32_t(f.geom.ringCount());
          poly.ringCount = 1;
          poly.material = material;
          f.geom.points.push_back(placed[a]);
          f.geom.points.push_back(placed[b]);
          f.geom.points.push_back(placed[c]);
          f.geom.ringStart.push_back(uint32_t(f.geom.points.size()));
          f.geom.polygons.push_back(poly);
        }
      }
      if (!perFile && !emit(own, sink, stats)) stop = true;
    }
    for (auto& c : n.value("children", json::array()))
      if (c.is_number_integer()) visit(c.get<int>(), m);
    visiting.pop_back();
  };
  try {
    int scene = g.doc.value("scene", 0);
    auto scenes = g.doc.value("scenes", json::array());
    if (scenes.is_array() && size_t(scene) < scenes.size()) {
      for (auto& r : scenes[size_t(scene)].value("nodes", json::array()))
        if (r.is_number_integer()) visit(r.get<int>(), identity());
    } else {
      for (size_t i = 0; i < nodes.size(); ++i) visit(int(i), identity());  // no scene: every node as a root
    }
  } catch (const json::exception& e) {
    diag.error("gltf-malformed", std::string("unexpected glTF structure: ") + e.what(), uri);
    return false;
  }
  if (perFile) emit(fileFeature, sink, stats);
  if (texturesDropped)
    diag.info("gltf-texture-ignored", "glTF textures are not carried (base colours are); export as OBJ to keep them",
              uri);
  return true;
}

class MeshReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    std::string ext = lowerExt(uri);
    if (ext == ".obj") return readObj(uri, options, sink, diag, stats);
    if (ext == ".gltf" || ext == ".glb") return readGltf(uri, options, sink, diag, stats);
    Placement p;
    if (!makePlacement(uri, options, false, p, diag)) return false;
    bool ok = readOpen3dMesh(uri, p, options, sink, diag, stats);
    return ok;
  }
};

class PointReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions&, ObjectSink&, DiagnosticSink& diag, ReadStats&) override {
    diag.error("pointcloud-not-objects",
               "a point cloud holds no city objects; convert it on its own into a point tileset", uri);
    return false;
  }
  bool readPoints(const std::string& uri, const ReadOptions& options, PointSink& sink, DiagnosticSink& diag,
                  ReadStats& stats) override {
    Placement p;
    if (!makePlacement(uri, options, false, p, diag)) return false;
    return readOpen3dPoints(uri, p, options, sink, diag, stats);
  }
};

// The number after "element face" in a PLY header (-1 when there is no such line).
long plyFaces(std::string_view head) {
  size_t pos = head.find("element face");
  if (pos == std::string_view::npos) return -1;
  return std::atol(std::string(head.substr(pos + 12, 24)).c_str());
}

}  // namespace

std::unique_ptr<Reader> createMeshReader() { return std::make_unique<MeshReader>(); }
std::unique_ptr<Reader> createPointReader() { return std::make_unique<PointReader>(); }

bool sniffMesh(std::string_view head) {
  if (head.size() >= 4 && head.substr(0, 4) == "glTF") return true;
  if (head.substr(0, 4) == "ply\n" || head.substr(0, 5) == "ply\r\n") return plyFaces(head) > 0;
  if (head.substr(0, 3) == "OFF") return true;
  if (head.substr(0, 6) == "solid ") return true;
  if (head.find("\"asset\"") != std::string_view::npos && head.find("\"version\"") != std::string_view::npos &&
      head.find('{') < 8)
    return true;
  // OBJ: the first statement that is not a comment is an OBJ keyword.
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find('\n', pos);
    std::string_view line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') continue;
    line = line.substr(b);
    for (const char* k : {"v ", "vt ", "vn ", "f ", "o ", "g ", "s ", "mtllib ", "usemtl "})
      if (line.rfind(k, 0) == 0) return true;
    return false;
  }
  return false;
}

bool sniffPoints(std::string_view head) {
  if (head.substr(0, 4) == "ply\n" || head.substr(0, 5) == "ply\r\n") return plyFaces(head) <= 0;
  if (head.rfind("# .PCD", 0) == 0 || head.rfind("VERSION", 0) == 0) return true;
  // XYZ/PTS text: the first line is three or more numbers (a PTS file starts with the count).
  size_t nl = head.find('\n');
  std::string first(head.substr(0, nl == std::string_view::npos ? std::min<size_t>(head.size(), 256) : nl));
  if (first.empty() || first.find_first_not_of("0123456789+-.eE \t\r,") != std::string::npos) return false;
  if (nl != std::string_view::npos && first.find_first_of(" \t,") == std::string::npos) {  // PTS count line
    size_t nl2 = head.find('\n', nl + 1);
    first = std::string(head.substr(nl + 1, nl2 == std::string_view::npos ? std::string_view::npos : nl2 - nl - 1));
  }
  int numbers = 0;
  const char* c = first.c_str();
  char* end = nullptr;
  while (*c) {
    std::strtod(c, &end);
    if (end == c) break;
    ++numbers;
    c = end;
    while (*c == ' ' || *c == '\t' || *c == ',' || *c == '\r') ++c;
  }
  return numbers >= 3 && *c == 0;
}

}  // namespace twin::mesh
