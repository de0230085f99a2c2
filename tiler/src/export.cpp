// `twin export`: a selection of the city as GLB / OBJ (local ENU frame) or GeoJSON / GeoPackage
// footprints (see export.h).
#include "twin/tiler/export.h"

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "twin/building_summary.h"
#include "twin/crs.h"
#include "twin/glb_writer.h"
#include "twin/mesh.h"
#include "twin/metadata.h"

namespace twin::tiler {

namespace {

namespace sfs = std::filesystem;
using nlohmann::json;

std::string lowerOf(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool anyId(const CityObject& o, const std::set<std::string>& ids) {
  if (ids.count(o.id)) return true;
  for (auto& c : o.children)
    if (anyId(c, ids)) return true;
  return false;
}

// One selected object, ready to write.
struct Item {
  std::string id, type;
  std::vector<FlatAttribute> attributes;
  FeatureMesh mesh;     // GLB / OBJ (ECEF)
  MultiPoly footprint;  // GeoJSON / GeoPackage (plane CRS)
  double height = NAN, area = NAN;
  int storeys = -1;
};

class Selector : public ObjectSink {
 public:
  Selector(const ExportOptions& o, bool meshes, DiagnosticSink& diag) : o_(o), meshes_(meshes), diag_(diag) {}
  std::vector<Item> items;
  uint64_t selected = 0, skipped = 0;
  std::string planeCrs;
  Vec3 minEcef{INFINITY, INFINITY, INFINITY}, maxEcef{-INFINITY, -INFINITY, -INFINITY};
  double minHeight = INFINITY;

  bool accept(CityObject&& obj) override {
    if (o_.cancel && o_.cancel->load()) return false;
    if (!o_.ids.empty() && !anyId(obj, o_.ids)) return true;
    CrsTransform* crs = transformFor(obj);
    if (!crs) return true;
    // Longitude/latitude envelope for the bounding-box test and the plane CRS choice.
    std::vector<Vec3> pts;
    collectPoints(obj, pts);
    if (pts.empty()) {
      ++selected, ++skipped;
      diag_.warning("export-no-geometry", "selected object has no geometry; not written", obj.sourceFile,
                    obj.sourceLine, obj.id);
      return true;
    }
    crs->toLonLatHeight(pts.data(), pts.size());
    double w = INFINITY, s = INFINITY, e = -INFINITY, n = -INFINITY;
    for (auto& p : pts)
      if (std::isfinite(p[0]) && std::isfinite(p[1]))
        w = std::min(w, p[0]), e = std::max(e, p[0]), s = std::min(s, p[1]), n = std::max(n, p[1]);
    if (!(w <= e)) {
      ++selected, ++skipped;
      diag_.warning("export-no-geometry", "no coordinate of the object could be transformed; not written",
                    obj.sourceFile, obj.sourceLine, obj.id);
      return true;
    }
    if (o_.bbox) {
      auto& b = *o_.bbox;
      if (e < b[0] || w > b[2] || n < b[1] || s > b[3]) return true;
    }
    ++selected;
    Item item;
    item.id = obj.id;
    item.type = obj.type;
    item.attributes = flattenAttributes(obj);
    if (meshes_) {
      toEcef(obj, *crs);
      MeshStats stats;
      buildFeatureMesh(obj, o_.lod, item.mesh, stats, diag_);
      if (item.mesh.empty()) {
        ++skipped;
        return true;
      }
      for (int k = 0; k < 3; ++k)
        minEcef[k] = std::min(minEcef[k], item.mesh.min[k]), maxEcef[k] = std::max(maxEcef[k], item.mesh.max[k]);
      for (auto& p : pts) minHeight = std::min(minHeight, p[2]);
    } else {
      if (planeCrs.empty())
        planeCrs = !o_.planeCrs.empty() ? o_.planeCrs : chooseProjectedCrs((w + e) / 2, (s + n) / 2);
      PlaneTransform* plane = planeFor(obj);
      if (!plane) return true;
      auto b = summarizeBuilding(obj, *plane, o_.floorHeight, diag_);
      if (!b || b->footprint.empty()) {
        ++skipped;
        diag_.warning("export-no-footprint", "no footprint could be made (no LOD0 surface, no ground surface or solid)",
                      obj.sourceFile, obj.sourceLine, obj.id);
        return true;
      }
      item.footprint = std::move(b->footprint);
      item.height = b->height;
      item.area = b->buildingArea;
      item.storeys = b->storeysAbove;
    }
    items.push_back(std::move(item));
    return true;
  }

 private:
  const ExportOptions& o_;
  bool meshes_;
  DiagnosticSink& diag_;
  std::map<std::string, std::unique_ptr<CrsTransform>> crs_;
  std::map<std::string, std::unique_ptr<PlaneTransform>> planes_;

  CrsTransform* transformFor(const CityObject& obj) {
    auto it = crs_.find(obj.srs);
    if (it != crs_.end()) return it->second.get();
    GeoidOptions g;
    g.gridFile = o_.geoidFile;
    g.dataDir = o_.dataDir;
    auto r = CrsTransform::create(obj.srs, g);
    if (!r) {
      for (auto d : r.diagnostics) {
        d.file = obj.sourceFile, d.line = obj.sourceLine, d.featureId = obj.id;
        d.message += "; objects in this CRS are not exported";
        diag_.report(d);
      }
      crs_.emplace(obj.srs, nullptr);
      return nullptr;
    }
    return crs_.emplace(obj.srs, std::move(*r.value)).first->second.get();
  }

  PlaneTransform* planeFor(const CityObject& obj) {
    auto it = planes_.find(obj.srs);
    if (it != planes_.end()) return it->second.get();
    auto r = PlaneTransform::create(obj.srs, planeCrs);
    if (!r) {
      for (auto d : r.diagnostics) {
        d.file = obj.sourceFile, d.featureId = obj.id;
        diag_.report(d);
      }
      planes_.emplace(obj.srs, nullptr);
      return nullptr;
    }
    return planes_.emplace(obj.srs, std::move(*r.value)).first->second.get();
  }

  static void collectPoints(const CityObject& o, std::vector<Vec3>& out) {
    for (auto& g : o.geometries) out.insert(out.end(), g.points.begin(), g.points.end());
    for (auto& c : o.children) collectPoints(c, out);
  }

  void toEcef(CityObject& o, CrsTransform& crs) {
    for (auto& g : o.geometries) crs.toEcef(g.points.data(), g.points.size());
    for (auto& c : o.children) {
      CrsTransform* t = &crs;
      if (!c.srs.empty() && c.srs != o.srs) t = transformFor(c);
      if (t) toEcef(c, *t);
    }
  }
};

// ---------------------------------------------------------------------------------- local frame

// The export's frame: east-north-up metres at `llh` (longitude, latitude, ellipsoidal height).
struct Frame : LocalFrame {
  Vec3 llh{0, 0, 0};
  Vec3 dirToEnu(const std::array<float, 3>& n) const { return LocalFrame::dirToEnu({n[0], n[1], n[2]}); }
};

// Origin: the selection's centre on the ground (its lowest ellipsoidal height).
Frame frameFor(const Selector& s) {
  Frame f;
  Vec3 c{(s.minEcef[0] + s.maxEcef[0]) / 2, (s.minEcef[1] + s.maxEcef[1]) / 2, (s.minEcef[2] + s.maxEcef[2]) / 2};
  Vec3 llh = ecefToLonLatHeight(c);
  llh[2] = std::isfinite(s.minHeight) ? s.minHeight : llh[2];
  // round to the centimetre so that the origin reads well in the file
  llh[2] = std::round(llh[2] * 100) / 100;
  f.llh = llh;
  static_cast<LocalFrame&>(f) = LocalFrame::at(lonLatHeightToEcef(llh));
  return f;
}

json attributesJson(const std::vector<FlatAttribute>& attrs) {
  json j = json::object();
  for (auto& a : attrs) std::visit([&](auto& v) { j[a.key] = v; }, a.value);
  return j;
}

// ---------------------------------------------------------------------------------- GLB

struct Materials {
  std::vector<std::pair<std::string, std::array<float, 4>>> keys;  // texture, colour
  int indexOf(const MeshGroup& g) {
    auto key = std::make_pair(g.texture, g.texture.empty() ? g.color : std::array<float, 4>{1, 1, 1, 1});
    for (size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return int(i);
    keys.push_back(key);
    return int(keys.size() - 1);
  }
};

bool writeGlbFile(const std::vector<Item>& items, const Frame& f, const std::string& path, DiagnosticSink& diag) {
  json gltf;
  gltf["asset"] = {{"version", "2.0"},
                   {"generator", "twin export"},
                   {"extras",
                    {{"twin",
                      {{"frame", "local east-north-up, metres; glTF axes: x east, y up, z south"},
                       {"origin", {{"longitude", f.llh[0]}, {"latitude", f.llh[1]}, {"ellipsoidalHeight", f.llh[2]}}},
                       {"originEcef", {f.origin[0], f.origin[1], f.origin[2]}}}}}}};
  std::vector<uint8_t> bin;
  auto align = [&] {
    while (bin.size() % 4) bin.push_back(0);
  };
  json bufferViews = json::array(), accessors = json::array(), meshes = json::array(), nodes = json::array();
  auto addView = [&](const void* data, size_t bytes, int target) {
    align();
    size_t off = bin.size();
    bin.insert(bin.end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
    json v = {{"buffer", 0}, {"byteOffset", off}, {"byteLength", bytes}};
    if (target) v["target"] = target;
    bufferViews.push_back(v);
    return int(bufferViews.size() - 1);
  };
  Materials mats;
  json children = json::array();
  for (auto& item : items) {
    json prims = json::array();
    for (auto& g : item.mesh.groups) {
      if (g.indices.empty()) continue;
      std::vector<float> pos, nor, uv;
      float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
      for (size_t i = 0; i < g.positions.size(); ++i) {
        Vec3 e = f.toEnu(g.positions[i]);
        float p[3] = {float(e[0]), float(e[2]), float(-e[1])};  // glTF y-up
        for (int k = 0; k < 3; ++k) mn[k] = std::min(mn[k], p[k]), mx[k] = std::max(mx[k], p[k]), pos.push_back(p[k]);
        Vec3 n = i < g.normals.size() ? f.dirToEnu(g.normals[i]) : Vec3{0, 0, 1};
        double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(len > 0)) n = {0, 0, 1}, len = 1;
        nor.push_back(float(n[0] / len)), nor.push_back(float(n[2] / len)), nor.push_back(float(-n[1] / len));
      }
      json attrs;
      int pv = addView(pos.data(), pos.size() * 4, 34962);
      accessors.push_back({{"bufferView", pv},
                           {"componentType", 5126},
                           {"count", g.positions.size()},
                           {"type", "VEC3"},
                           {"min", {mn[0], mn[1], mn[2]}},
                           {"max", {mx[0], mx[1], mx[2]}}});
      attrs["POSITION"] = accessors.size() - 1;
      int nv = addView(nor.data(), nor.size() * 4, 34962);
      accessors.push_back(
          {{"bufferView", nv}, {"componentType", 5126}, {"count", g.positions.size()}, {"type", "VEC3"}});
      attrs["NORMAL"] = accessors.size() - 1;
      if (!g.texture.empty() && g.uvs.size() == g.positions.size()) {
        for (auto& t : g.uvs) uv.push_back(t[0]), uv.push_back(t[1]);
        int tv = addView(uv.data(), uv.size() * 4, 34962);
        accessors.push_back({{"bufferView", tv}, {"componentType", 5126}, {"count", g.uvs.size()}, {"type", "VEC2"}});
        attrs["TEXCOORD_0"] = accessors.size() - 1;
      }
      int iv = addView(g.indices.data(), g.indices.size() * 4, 34963);
      uint32_t maxIndex = *std::max_element(g.indices.begin(), g.indices.end());
      accessors.push_back({{"bufferView", iv},
                           {"componentType", 5125},
                           {"count", g.indices.size()},
                           {"type", "SCALAR"},
                           {"min", {0}},
                           {"max", {maxIndex}}});
      prims.push_back({{"attributes", attrs}, {"indices", accessors.size() - 1}, {"material", mats.indexOf(g)}});
    }
    if (prims.empty()) continue;
    meshes.push_back({{"name", item.id}, {"primitives", prims}});
    json extras = attributesJson(item.attributes);
    extras["twin:type"] = item.type;
    nodes.push_back({{"name", item.id}, {"mesh", meshes.size() - 1}, {"extras", extras}});
    children.push_back(nodes.size() - 1);
  }
  // Materials, and the textures they use (embedded).
  json materials = json::array(), textures = json::array(), images = json::array();
  std::map<std::string, int> textureIndex;
  for (auto& [tex, color] : mats.keys) {
    json pbr = {{"metallicFactor", 0.0}, {"roughnessFactor", 1.0}};
    json m = {{"pbrMetallicRoughness", pbr}};
    if (!tex.empty()) {
      auto it = textureIndex.find(tex);
      if (it == textureIndex.end()) {
        GlbImage img;
        std::string err;
        int index = -1;
        if (loadTextureImage(tex, img, err)) {
          int view = addView(img.data.data(), img.data.size(), 0);
          images.push_back({{"bufferView", view}, {"mimeType", img.mimeType}});
          textures.push_back({{"source", images.size() - 1}, {"sampler", 0}});
          index = int(textures.size() - 1);
        } else {
          diag.warning("texture-missing", err + "; exported without it", tex);
        }
        it = textureIndex.emplace(tex, index).first;
      }
      if (it->second >= 0) m["pbrMetallicRoughness"]["baseColorTexture"] = {{"index", it->second}};
    } else {
      m["pbrMetallicRoughness"]["baseColorFactor"] = {color[0], color[1], color[2], color[3]};
      if (color[3] < 1) m["alphaMode"] = "BLEND";
    }
    materials.push_back(m);
  }
  nodes.push_back({{"name", "twin export"}, {"children", children}});
  gltf["scene"] = 0;
  gltf["scenes"] = json::array({{{"nodes", {nodes.size() - 1}}}});
  gltf["nodes"] = nodes;
  gltf["meshes"] = meshes;
  gltf["materials"] = materials;
  if (!textures.empty()) {
    gltf["textures"] = textures;
    gltf["images"] = images;
    gltf["samplers"] = json::array({{{"wrapS", 10497}, {"wrapT", 10497}}});
  }
  gltf["accessors"] = accessors;
  gltf["bufferViews"] = bufferViews;
  align();
  gltf["buffers"] = json::array({{{"byteLength", bin.size()}}});
  auto bytes = glbContainer(gltf.dump(), std::move(bin));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  out.close();
  if (!out) {
    diag.error("export-write", "could not write " + path);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------- OBJ

bool writeObjFiles(const std::vector<Item>& items, const Frame& f, const std::string& objPath,
                   const std::string& finalObjName, std::vector<std::pair<std::string, std::string>>& renames,
                   DiagnosticSink& diag) {
  sfs::path finalObj(finalObjName);
  std::string stem = finalObj.stem().string();
  sfs::path dir = finalObj.parent_path();
  std::string mtlName = stem + ".mtl";
  std::string texDirName = stem + "_textures";
  std::string mtlTmp = (dir / (mtlName + ".part")).string();
  std::string texTmp = (dir / (texDirName + ".part")).string();
  std::error_code ec;
  sfs::remove_all(texTmp, ec);
  std::ofstream obj(objPath, std::ios::trunc), mtl(mtlTmp, std::ios::trunc);
  char buf[256];
  obj << "# twin export: " << items.size() << " objects\n";
  std::snprintf(buf, sizeof buf,
                "# frame: local east-north-up in metres (x east, y north, z up) about longitude %.9f, latitude %.9f, "
                "ellipsoidal height %.3f m (EPSG:4979); ECEF origin %.3f %.3f %.3f\n",
                f.llh[0], f.llh[1], f.llh[2], f.origin[0], f.origin[1], f.origin[2]);
  obj << buf << "mtllib " << mtlName << "\n";
  Materials mats;
  std::map<std::string, std::string> texFiles;
  size_t v = 1, vt = 1;
  for (auto& item : items) {
    std::string name = item.id;
    for (auto& c : name)
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') c = '_';
    obj << "o " << name << "\n";
    for (auto& g : item.mesh.groups) {
      if (g.indices.empty()) continue;
      int m = mats.indexOf(g);
      bool textured = !g.texture.empty() && g.uvs.size() == g.positions.size();
      obj << "usemtl m" << m << "\n";
      for (auto& p : g.positions) {
        Vec3 e = f.toEnu(p);
        std::snprintf(buf, sizeof buf, "v %.4f %.4f %.4f\n", e[0], e[1], e[2]);
        obj << buf;
      }
      for (auto& n : g.normals) {
        Vec3 e = f.dirToEnu(n);
        std::snprintf(buf, sizeof buf, "vn %.4f %.4f %.4f\n", e[0], e[1], e[2]);
        obj << buf;
      }
      if (textured)
        for (auto& t : g.uvs) {
          std::snprintf(buf, sizeof buf, "vt %.6f %.6f\n", t[0], 1.0f - t[1]);  // OBJ: v up
          obj << buf;
        }
      bool normals = g.normals.size() == g.positions.size();
      for (size_t i = 0; i + 2 < g.indices.size(); i += 3) {
        obj << "f";
        for (int k = 0; k < 3; ++k) {
          size_t a = v + g.indices[i + k];
          size_t t = vt + g.indices[i + k];
          if (textured && normals)
            obj << ' ' << a << '/' << t << '/' << a;
          else if (textured)
            obj << ' ' << a << '/' << t;
          else if (normals)
            obj << ' ' << a << "//" << a;
          else
            obj << ' ' << a;
        }
        obj << "\n";
      }
      v += g.positions.size();
      if (textured) vt += g.uvs.size();
    }
  }
  bool texDirMade = false;
  for (size_t i = 0; i < mats.keys.size(); ++i) {
    auto& [tex, color] = mats.keys[i];
    mtl << "newmtl m" << i << "\n";
    std::snprintf(buf, sizeof buf, "Kd %.4f %.4f %.4f\nd %.4f\nillum 1\n", tex.empty() ? color[0] : 1.0,
                  tex.empty() ? color[1] : 1.0, tex.empty() ? color[2] : 1.0, tex.empty() ? color[3] : 1.0);
    mtl << buf;
    if (tex.empty()) continue;
    auto it = texFiles.find(tex);
    if (it == texFiles.end()) {
      GlbImage img;
      std::string err, file;
      if (loadTextureImage(tex, img, err)) {
        if (!texDirMade) sfs::create_directories(texTmp, ec), texDirMade = true;
        file = "t" + std::to_string(texFiles.size()) + (img.mimeType == "image/png" ? ".png" : ".jpg");
        std::ofstream t(sfs::path(texTmp) / file, std::ios::binary);
        t.write(reinterpret_cast<const char*>(img.data.data()), std::streamsize(img.data.size()));
      } else {
        diag.warning("texture-missing", err + "; exported without it", tex);
      }
      it = texFiles.emplace(tex, file).first;
    }
    if (!it->second.empty()) mtl << "map_Kd " << texDirName << "/" << it->second << "\n";
  }
  obj.close();
  mtl.close();
  if (!obj || !mtl) {
    diag.error("export-write", "could not write " + objPath);
    return false;
  }
  renames.push_back({mtlTmp, (dir / mtlName).string()});
  if (texDirMade) renames.push_back({texTmp, (dir / texDirName).string()});
  return true;
}

// ---------------------------------------------------------------------------------- GeoJSON / GeoPackage

bool writeFootprints(std::vector<Item>& items, const std::string& planeCrs, const std::string& format,
                     const std::string& path, std::string& outCrs, DiagnosticSink& diag) {
  GDALAllRegister();
  bool geojson = format == "geojson";
  GDALDriverH drv = GDALGetDriverByName(geojson ? "GeoJSON" : "GPKG");
  if (!drv) {
    diag.error("export-format", std::string("GDAL has no ") + (geojson ? "GeoJSON" : "GPKG") + " driver");
    return false;
  }
  std::error_code ec;
  sfs::remove(path, ec);
  GDALDatasetH ds = GDALCreate(drv, path.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  if (!ds) {
    diag.error("export-write", std::string("could not create ") + path + ": " + CPLGetLastErrorMsg());
    return false;
  }
  // GeoJSON: longitude/latitude (RFC 7946); GeoPackage: the plane CRS in metres.
  std::unique_ptr<PlaneTransform> plane;
  if (geojson) {
    auto r = PlaneTransform::create("EPSG:4326", planeCrs);  // only its toLonLat is used
    if (r) plane = std::move(*r.value);
  }
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
  outCrs = geojson ? "EPSG:4326" : planeCrs;
  OSRSetFromUserInput(srs, outCrs.c_str());
  char** lco = nullptr;
  if (geojson) lco = CSLSetNameValue(lco, "RFC7946", "YES");
  OGRLayerH layer = GDALDatasetCreateLayer(ds, "buildings", srs, wkbMultiPolygon, lco);
  CSLDestroy(lco);
  OSRDestroySpatialReference(srs);
  if (!layer) {
    diag.error("export-write", std::string("could not create the layer in ") + path + ": " + CPLGetLastErrorMsg());
    GDALClose(ds);
    return false;
  }
  // Fields: twin's derived numbers first, then every attribute key, typed over the selection.
  SchemaBuilder schema;
  for (auto& it : items)
    for (auto& a : it.attributes) schema.observe(a.key, a.value);
  std::vector<uint32_t> remap;
  auto props = schema.build(&remap);
  auto addField = [&](const std::string& name, OGRFieldType t) {
    OGRFieldDefnH fd = OGR_Fld_Create(name.c_str(), t);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
  };
  addField("twin:type", OFTString);
  addField("twin:height", OFTReal);
  addField("twin:buildingArea", OFTReal);
  addField("twin:storeys", OFTInteger);
  for (auto& p : props)
    addField(p.name, p.type == PropertyType::Int32     ? OFTInteger
                     : p.type == PropertyType::Float64 ? OFTReal
                                                       : OFTString);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  std::map<std::string, int> fieldIndex;
  for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) fieldIndex[OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i))] = i;
  GDALDatasetStartTransaction(ds, FALSE);
  bool ok = true;
  for (auto& it : items) {
    OGRFeatureH f = OGR_F_Create(defn);
    OGR_F_SetFieldString(f, fieldIndex["twin:type"], it.type.c_str());
    if (std::isfinite(it.height)) OGR_F_SetFieldDouble(f, fieldIndex["twin:height"], it.height);
    if (std::isfinite(it.area)) OGR_F_SetFieldDouble(f, fieldIndex["twin:buildingArea"], it.area);
    if (it.storeys >= 0) OGR_F_SetFieldInteger(f, fieldIndex["twin:storeys"], it.storeys);
    for (auto& a : it.attributes) {
      auto fi = fieldIndex.find(a.key);
      if (fi == fieldIndex.end()) continue;
      OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, fi->second));
      std::visit(
          [&](auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::string>) {
              OGR_F_SetFieldString(f, fi->second, v.c_str());
            } else if (t == OFTString) {
              OGR_F_SetFieldString(f, fi->second, json(v).dump().c_str());
            } else if (t == OFTInteger) {
              OGR_F_SetFieldInteger(f, fi->second, int(v));
            } else {
              OGR_F_SetFieldDouble(f, fi->second, double(v));
            }
          },
          a.value);
    }
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    for (auto& poly : it.footprint) {
      OGRGeometryH pg = OGR_G_CreateGeometry(wkbPolygon);
      auto addRing = [&](const Ring& r) {
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        std::vector<Vec3> pts;
        for (auto& p : r) pts.push_back({p[0], p[1], 0});
        if (plane) plane->toLonLat(pts.data(), pts.size());
        for (auto& p : pts) OGR_G_AddPoint_2D(ring, p[0], p[1]);
        if (!pts.empty()) OGR_G_AddPoint_2D(ring, pts[0][0], pts[0][1]);
        OGR_G_AddGeometryDirectly(pg, ring);
      };
      addRing(poly.outer);
      for (auto& h : poly.holes) addRing(h);
      OGR_G_AddGeometryDirectly(mp, pg);
    }
    OGR_F_SetGeometryDirectly(f, mp);
    if (OGR_L_CreateFeature(layer, f) != OGRERR_NONE) {
      diag.error("export-write", std::string("could not write feature: ") + CPLGetLastErrorMsg(), path, 0, it.id);
      ok = false;
    }
    OGR_F_Destroy(f);
  }
  GDALDatasetCommitTransaction(ds);
  GDALClose(ds);
  return ok;
}

}  // namespace

std::string exportFormatFor(const std::string& path) {
  std::string ext = lowerOf(sfs::path(path).extension().string());
  if (ext == ".glb") return "glb";
  if (ext == ".obj") return "obj";
  if (ext == ".geojson" || ext == ".json") return "geojson";
  if (ext == ".gpkg") return "gpkg";
  return {};
}

ExportResult exportSelection(const std::vector<InputFile>& inputs, const std::string& output,
                             const ExportOptions& options, DiagnosticSink& diag) {
  ExportResult r;
  r.format = options.format.empty() ? exportFormatFor(output) : lowerOf(options.format);
  if (r.format != "glb" && r.format != "obj" && r.format != "geojson" && r.format != "gpkg") {
    diag.error("export-format", "unknown export format '" + r.format + "' (glb, obj, geojson, gpkg)", output);
    return r;
  }
  bool meshes = r.format == "glb" || r.format == "obj";
  Selector sel(options, meshes, diag);
  ReadOptions ro;
  ro.crsOverride = options.crsOverride;
  ro.objectTypes = options.objectTypes;
  ro.formatOptions = options.formatOptions;
  ro.cancel = options.cancel;
  uint64_t total = 0, done = 0;
  for (auto& in : inputs) total += in.bytes;
  for (auto& in : inputs) {
    if (options.cancel && options.cancel->load()) break;
    auto reader = in.format->create();
    reader->read(in.uri, ro, sel, diag, r.read);
    done += in.bytes;
    if (options.progress) options.progress({"reading", done, total, sel.selected});
  }
  r.selected = sel.selected;
  r.skipped = sel.skipped;
  if (sel.items.empty()) {
    diag.error("export-empty",
               sel.selected ? "no selected object has usable geometry; nothing written"
                            : "nothing matches the selection (ids, bounding box, types); nothing written",
               output);
    return r;
  }
  std::error_code ec;
  sfs::path out(output);
  if (out.has_parent_path()) sfs::create_directories(out.parent_path(), ec);
  // Written under a temporary name with the same extension (GDAL drivers go by it), then renamed.
  std::string tmp = (out.parent_path() / (out.stem().string() + ".part" + out.extension().string())).string();
  std::vector<std::pair<std::string, std::string>> renames;
  bool ok = false;
  if (r.format == "glb" || r.format == "obj") {
    Frame f = frameFor(sel);
    r.origin = {f.llh[0], f.llh[1], f.llh[2]};
    ok = r.format == "glb" ? writeGlbFile(sel.items, f, tmp, diag)
                           : writeObjFiles(sel.items, f, tmp, output, renames, diag);
  } else {
    ok = writeFootprints(sel.items, sel.planeCrs, r.format, tmp, r.crs, diag);
  }
  if (!ok) {
    sfs::remove(tmp, ec);
    for (auto& [from, to] : renames) sfs::remove_all(from, ec);
    return r;
  }
  for (auto& [from, to] : renames) {
    sfs::remove_all(to, ec);
    sfs::rename(from, to, ec);
    r.files.push_back(to);
  }
  sfs::rename(tmp, output, ec);
  if (ec) {
    diag.error("export-write", "could not rename " + tmp + " to " + output + ": " + ec.message());
    return r;
  }
  r.files.insert(r.files.begin(), output);
  r.written = sel.items.size();
  r.ok = true;
  return r;
}

}  // namespace twin::tiler
