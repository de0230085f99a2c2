#include "twin/citygml/citygml_reader.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "twin/crs.h"
#include "twin/hash.h"
#include "twin/vfs.h"

namespace twin::citygml {

namespace {

// ---------------------------------------------------------------------------------------------
// Namespaces

// Module: another CityGML module (transportation, bridge, relief, ...); Other: anything else, such
// as an Application Domain Extension.
enum class Ns : uint8_t { Other, Gml, Core, Bldg, Con, App, Gen, Uro, Urf, Xlink, Xal, Module };

uint64_t idHash(const std::string& id) { return fnv1a64(id); }

Ns classify(const xmlChar* uriX) {
  if (!uriX) return Ns::Other;
  std::string_view uri(reinterpret_cast<const char*>(uriX));
  if (uri == "http://www.opengis.net/gml" || uri == "http://www.opengis.net/gml/3.2") return Ns::Gml;
  if (uri.find("opengis.net/citygml/building/") != std::string_view::npos) return Ns::Bldg;
  if (uri.find("opengis.net/citygml/appearance/") != std::string_view::npos) return Ns::App;
  if (uri.find("opengis.net/citygml/generics/") != std::string_view::npos) return Ns::Gen;
  if (uri.find("opengis.net/citygml/construction/") != std::string_view::npos) return Ns::Con;  // 3.0
  if (uri == "http://www.opengis.net/citygml/2.0" || uri == "http://www.opengis.net/citygml/1.0" ||
      uri == "http://www.opengis.net/citygml/3.0")
    return Ns::Core;
  if (uri.find("/uro") != std::string_view::npos && uri.find("iur") != std::string_view::npos) return Ns::Uro;
  if (uri.find("/urf") != std::string_view::npos && uri.find("iur") != std::string_view::npos) return Ns::Urf;
  if (uri == "http://www.w3.org/1999/xlink") return Ns::Xlink;
  if (uri.find("xAL") != std::string_view::npos) return Ns::Xal;
  if (uri.find("opengis.net/citygml") != std::string_view::npos) return Ns::Module;
  return Ns::Other;
}

const char* canonicalPrefix(Ns ns) {
  switch (ns) {
    case Ns::Gml:
      return "gml";
    case Ns::Core:
      return "core";
    case Ns::Bldg:
      return "bldg";
    case Ns::Con:
      return "con";
    case Ns::App:
      return "app";
    case Ns::Gen:
      return "gen";
    case Ns::Uro:
      return "uro";
    case Ns::Urf:
      return "urf";
    case Ns::Xlink:
      return "xlink";
    case Ns::Xal:
      return "xAL";
    default:
      return nullptr;
  }
}

inline bool eq(const xmlChar* a, const char* b) { return std::strcmp(reinterpret_cast<const char*>(a), b) == 0; }
inline std::string str(const xmlChar* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : std::string(); }

// SAX2 attributes: (localname, prefix, URI, value, end) quintuples.
std::string attrValue(int nb, const xmlChar** attrs, const char* local, Ns ns = Ns::Other, bool anyNs = true) {
  for (int i = 0; i < nb; ++i) {
    const xmlChar** a = attrs + 5 * i;
    if (!eq(a[0], local)) continue;
    if (!anyNs && classify(a[2]) != ns) continue;
    return std::string(reinterpret_cast<const char*>(a[3]), reinterpret_cast<const char*>(a[4]));
  }
  return {};
}

// Parses whitespace-separated doubles. Returns false on a token that is not a finite number.
bool parseDoubles(const char* p, const char* end, std::vector<double>& out) {
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ',')) ++p;
    if (p >= end) return true;
    double v;
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc() || !std::isfinite(v)) return false;
    out.push_back(v);
    p = r.ptr;
  }
}

SurfaceType surfaceTypeOf(const xmlChar* local) { return surfaceTypeFromName(reinterpret_cast<const char*>(local)); }

// ---------------------------------------------------------------------------------------------
// Code lists (gml:Dictionary files next to the data), cached per resolved path.

class CodeLists {
 public:
  // Returns the name for `code` in the dictionary at `uri`, or empty.
  std::string lookup(const std::string& uri, const std::string& code) {
    auto it = cache_.find(uri);
    if (it == cache_.end()) it = cache_.emplace(uri, load(uri)).first;
    auto e = it->second.find(code);
    return e == it->second.end() ? std::string() : e->second;
  }

 private:
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> cache_;

  static std::unordered_map<std::string, std::string> load(const std::string& uri) {
    std::unordered_map<std::string, std::string> map;
    std::vector<uint8_t> bytes;
    std::string err;
    if (!vfs::readAll(uri, bytes, err, 64u << 20)) return map;
    xmlDocPtr doc = xmlReadMemory(reinterpret_cast<const char*>(bytes.data()), int(bytes.size()), uri.c_str(), nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) return map;
    // gml:Definition (or gml:DefinitionProxy) with gml:name = code, gml:description = name
    std::vector<xmlNodePtr> stack{xmlDocGetRootElement(doc)};
    while (!stack.empty()) {
      xmlNodePtr n = stack.back();
      stack.pop_back();
      if (!n) continue;
      if (n->type == XML_ELEMENT_NODE && (eq(n->name, "Definition") || eq(n->name, "DefinitionProxy"))) {
        std::string code, name;
        for (xmlNodePtr c = n->children; c; c = c->next) {
          if (c->type != XML_ELEMENT_NODE) continue;
          xmlChar* t = xmlNodeGetContent(c);
          std::string v = str(t);
          xmlFree(t);
          if (eq(c->name, "name") && code.empty())
            code = v;
          else if (eq(c->name, "description"))
            name = v;
        }
        if (!code.empty()) map.emplace(code, name);
        continue;
      }
      for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) stack.push_back(c);
    }
    xmlFreeDoc(doc);
    return map;
  }
};

// ---------------------------------------------------------------------------------------------
// Appearance store: texture coordinates per ring id, materials per polygon id.

struct TexRef {
  uint32_t texture;
  uint32_t offset;  // into uvs (in floats)
  uint32_t count;   // number of uv pairs
};

// Sorted (key, value) pairs: a compact map filled once, then only searched.
template <class V>
class FlatMap {
 public:
  void add(uint64_t key, const V& v) { items_.push_back({key, v}); }
  // Sorts; for keys given twice the first one stays (CityGML: the first appearance wins).
  void seal() {
    std::stable_sort(items_.begin(), items_.end(), [](auto& a, auto& b) { return a.first < b.first; });
    items_.erase(std::unique(items_.begin(), items_.end(), [](auto& a, auto& b) { return a.first == b.first; }),
                 items_.end());
    items_.shrink_to_fit();
  }
  const V* find(uint64_t key) const {
    auto it = std::lower_bound(items_.begin(), items_.end(), key, [](auto& a, uint64_t k) { return a.first < k; });
    return it != items_.end() && it->first == key ? &it->second : nullptr;
  }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<uint64_t, V>> items_;
};

struct AppearanceStore {
  std::vector<Texture> textures;
  std::vector<Material> materials;
  // Keyed by the 64-bit FNV-1a hash of the gml:id: a file holds up to millions of textured
  // rings, and 24 bytes each plus their coordinates is what memory grows by. A false match needs
  // two ids of one file with equal 64-bit hashes. seal() before searching.
  FlatMap<TexRef> ringTex;
  FlatMap<uint32_t> polyMaterial;
  std::vector<float> uvs;
  void seal() {
    ringTex.seal();
    polyMaterial.seal();
    uvs.shrink_to_fit();
  }
  void clear() {
    textures.clear();
    materials.clear();
    ringTex.clear();
    polyMaterial.clear();
    uvs.clear();
  }
  bool empty() const { return ringTex.empty() && polyMaterial.empty(); }
};

// Appearance parsing, used for global appearances (pre-pass) and object-local ones.
struct AppearanceParser {
  AppearanceStore* store = nullptr;
  std::string baseUri;
  int depth = -1;  // depth of the app:Appearance element's container; -1 when not inside
  // current surface data
  enum class Kind { None, Texture, Material, Other } kind = Kind::None;
  int dataDepth = -1;
  std::string imageUri, mimeType;
  Material material;
  std::vector<std::string> materialTargets;
  // pending texture coordinates of the current ParameterizedTexture (resolved at its end)
  std::vector<std::pair<std::string, std::vector<float>>> pendingCoords;
  std::string ringRef;
  std::string* text = nullptr;  // where characters go
  std::string buffer;
  enum class Field { None, ImageUri, MimeType, TexCoords, Diffuse, Transparency, Target } field = Field::None;
  uint64_t skippedOther = 0;

  void start(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d) {
    if (ns != Ns::App) return;
    if (eq(local, "ParameterizedTexture")) {
      kind = Kind::Texture;
      dataDepth = d;
      imageUri.clear();
      mimeType.clear();
      pendingCoords.clear();
    } else if (eq(local, "X3DMaterial")) {
      kind = Kind::Material;
      dataDepth = d;
      material = Material{};
      materialTargets.clear();
    } else if (eq(local, "GeoreferencedTexture") || eq(local, "TexCoordGen")) {
      if (kind != Kind::Texture) {
        kind = Kind::Other;
        dataDepth = d;
      }
      ++skippedOther;
    } else if (kind == Kind::Texture && eq(local, "imageURI")) {
      field = Field::ImageUri;
    } else if (kind == Kind::Texture && eq(local, "mimeType")) {
      field = Field::MimeType;
    } else if (kind == Kind::Texture && eq(local, "textureCoordinates")) {
      field = Field::TexCoords;
      ringRef = attrValue(nbAttrs, attrs, "ring");
    } else if (kind == Kind::Material && eq(local, "diffuseColor")) {
      field = Field::Diffuse;
    } else if (kind == Kind::Material && eq(local, "transparency")) {
      field = Field::Transparency;
    } else if (kind == Kind::Material && eq(local, "target")) {
      std::string href = attrValue(nbAttrs, attrs, "href");  // CityGML 3.0: <app:target xlink:href="#id"/>
      if (!href.empty())
        materialTargets.push_back(stripHash(href));
      else
        field = Field::Target;
    }
    if (field != Field::None) buffer.clear();
  }

  void characters(const char* ch, int len) {
    if (field != Field::None && buffer.size() < (64u << 20)) buffer.append(ch, len);
  }

  static std::string stripHash(std::string s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    if (!s.empty() && s[0] == '#') s.erase(0, 1);
    return s;
  }

  void end(const xmlChar* local, Ns ns, int d) {
    if (ns != Ns::App) return;
    switch (field) {
      case Field::ImageUri:
        imageUri = stripHash(buffer);
        break;  // not a ref, but trims
      case Field::MimeType:
        mimeType = stripHash(buffer);
        break;
      case Field::TexCoords: {
        std::vector<double> v;
        std::vector<float> f;
        if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v)) {
          f.reserve(v.size());
          for (double x : v) f.push_back(float(x));
        }
        pendingCoords.emplace_back(stripHash(ringRef), std::move(f));
        break;
      }
      case Field::Diffuse: {
        std::vector<double> v;
        if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v) && v.size() == 3)
          for (int k = 0; k < 3; ++k) material.diffuse[k] = float(std::clamp(v[k], 0.0, 1.0));
        break;
      }
      case Field::Transparency: {
        std::vector<double> v;
        if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v) && v.size() == 1)
          material.transparency = float(std::clamp(v[0], 0.0, 1.0));
        break;
      }
      case Field::Target:
        materialTargets.push_back(stripHash(buffer));
        break;
      default:
        break;
    }
    field = Field::None;
    if (d != dataDepth) return;
    if (kind == Kind::Texture && eq(local, "ParameterizedTexture")) {
      uint32_t texIndex = static_cast<uint32_t>(store->textures.size());
      store->textures.push_back({vfs::resolve(baseUri, imageUri), mimeType});
      for (auto& [ring, uv] : pendingCoords) {
        if (ring.empty() || uv.size() < 2) continue;
        TexRef ref{texIndex, static_cast<uint32_t>(store->uvs.size()), static_cast<uint32_t>(uv.size() / 2)};
        store->ringTex.add(idHash(ring), ref);
        store->uvs.insert(store->uvs.end(), uv.begin(), uv.end());
      }
      pendingCoords.clear();
    } else if (kind == Kind::Material && eq(local, "X3DMaterial")) {
      uint32_t mi = static_cast<uint32_t>(store->materials.size());
      store->materials.push_back(material);
      for (auto& t : materialTargets) store->polyMaterial.add(idHash(t), mi);
    }
    kind = Kind::None;
    dataDepth = -1;
  }
};

// ---------------------------------------------------------------------------------------------
// Attribute capture: a small tree for one property element of a city object.

struct ANode {
  Ns ns = Ns::Other;
  std::string local;
  std::string key;
  std::string genName;  // gen:*Attribute @name
  std::string codeSpace, uom;
  std::string text;
  bool hasId = false;  // carries a gml:id: an object (feature), not a data type
  std::vector<ANode> children;
};

// GML geometry elements (and their coordinate lists): never attribute values.
bool isGmlGeometry(const xmlChar* localX) {
  static const std::unordered_set<std::string_view> names = {"Point",
                                                             "MultiPoint",
                                                             "LineString",
                                                             "Curve",
                                                             "CompositeCurve",
                                                             "MultiCurve",
                                                             "MultiLineString",
                                                             "OrientableCurve",
                                                             "Polygon",
                                                             "Surface",
                                                             "CompositeSurface",
                                                             "MultiSurface",
                                                             "MultiPolygon",
                                                             "OrientableSurface",
                                                             "PolyhedralSurface",
                                                             "TriangulatedSurface",
                                                             "Tin",
                                                             "Solid",
                                                             "CompositeSolid",
                                                             "MultiSolid",
                                                             "MultiGeometry",
                                                             "GeometricComplex",
                                                             "LinearRing",
                                                             "Ring",
                                                             "Envelope",
                                                             "posList",
                                                             "pos",
                                                             "coordinates",
                                                             "boundedBy"};
  return names.count(std::string_view(reinterpret_cast<const char*>(localX))) > 0;
}

bool isIntegerText(std::string_view t) {
  if (t.empty() || t.size() > 18) return false;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i == t.size()) return false;
  if (t[i] == '0' && t.size() - i > 1) return false;  // leading zero: an identifier, keep as text
  for (; i < t.size(); ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

bool parseDoubleText(std::string_view t, double& v) {
  if (t.empty()) return false;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(v);
}

bool isDateText(std::string_view t) {
  // YYYY-MM-DD (optionally with time or zone)
  if (t.size() < 10) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (t[i] < '0' || t[i] > '9') return false;
  return t[4] == '-' && t[7] == '-';
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// ---------------------------------------------------------------------------------------------
// The parser

struct Href {
  std::string id;
  int lod;
  SurfaceType surface;
  bool reversed;
};

struct ObjCtx {
  CityObject obj;
  int depth = 0;
  std::array<int, 5> geomIndex{-1, -1, -1, -1, -1};
  std::vector<std::vector<std::string>> ringIds;  // per geometry
  std::vector<std::vector<std::string>> polyIds;  // per geometry, per polygon
  std::vector<Href> hrefs;
  struct Aggregate {
    int lod;
    uint32_t first, last;  // polygon range in the LOD's geometry
  };
  std::unordered_map<std::string, Aggregate> aggregates;  // CompositeSurface, MultiSurface, ... by gml:id

  uint32_t polygonCount(int lod) const {
    return geomIndex[lod] < 0 ? 0u : static_cast<uint32_t>(obj.geometries[geomIndex[lod]].polygons.size());
  }

  Geometry& geometryFor(int lod) {
    if (geomIndex[lod] < 0) {
      geomIndex[lod] = static_cast<int>(obj.geometries.size());
      obj.geometries.emplace_back();
      obj.geometries.back().lod = lod;
      ringIds.emplace_back();
      polyIds.emplace_back();
    }
    return obj.geometries[geomIndex[lod]];
  }
};

// A building read completely but not yet finished: its xlink references and appearances are
// resolved by build() once the building and all its parts are read.
struct PendingBuilding {
  ObjCtx top;
  std::vector<ObjCtx> parts;
  AppearanceStore local;  // the building's own app:appearance
  std::string uri;
  std::string srs;  // the CRS to give objects without their own
  bool overrideSrs = false;
};

void dropDegenerate(CityObject& o) {
  o.geometries.erase(
      std::remove_if(o.geometries.begin(), o.geometries.end(), [](const Geometry& g) { return g.empty(); }),
      o.geometries.end());
}

struct PolyLoc {
  ObjCtx* ctx;
  int geom;
  uint32_t poly;
};

void resolveHrefs(PendingBuilding& b, DiagnosticSink& diag) {
  std::vector<ObjCtx*> all{&b.top};
  for (auto& p : b.parts) all.push_back(&p);
  bool any = false;
  for (auto* c : all) any = any || !c->hrefs.empty();
  if (!any) return;
  std::unordered_map<std::string, PolyLoc> index;
  for (auto* c : all)
    for (int g = 0; g < int(c->polyIds.size()); ++g)
      for (uint32_t p = 0; p < c->polyIds[g].size(); ++p)
        if (!c->polyIds[g][p].empty()) index.emplace(c->polyIds[g][p], PolyLoc{c, g, p});
  // References to aggregates (CompositeSurface, ...) stand for each polygon in them.
  std::unordered_map<std::string, std::vector<PolyLoc>> aggIndex;
  for (auto* c : all)
    for (auto& [id, a] : c->aggregates) {
      int g = c->geomIndex[a.lod];
      if (g < 0) continue;
      auto& v = aggIndex[id];
      for (uint32_t p = a.first; p < a.last; ++p) v.push_back(PolyLoc{c, g, p});
    }
  for (auto* c : all) {
    std::vector<Href> expanded;
    for (auto& h : c->hrefs) {
      if (index.count(h.id) || !aggIndex.count(h.id)) {
        expanded.push_back(h);
        continue;
      }
      for (auto& loc : aggIndex[h.id]) {
        std::string pid = loc.ctx->polyIds[loc.geom][loc.poly];
        if (pid.empty()) {
          pid = "twin-agg-" + h.id + "-" + std::to_string(loc.poly);
          loc.ctx->polyIds[loc.geom][loc.poly] = pid;
        }
        index.emplace(pid, loc);
        expanded.push_back({pid, h.lod, h.surface, h.reversed});
      }
    }
    c->hrefs = std::move(expanded);
  }
  for (auto* c : all) {
    for (auto& h : c->hrefs) {
      auto it = index.find(h.id);
      if (it == index.end()) {
        diag.warning("xlink-unresolved",
                     "surface reference #" + h.id + " does not resolve to a polygon of this building", b.uri,
                     c->obj.sourceLine, c->obj.id);
        continue;
      }
      const PolyLoc& loc = it->second;
      int lod = h.lod;
      if (lod < 0) continue;
      if (loc.ctx == c && c->obj.geometries[loc.geom].lod == lod) continue;  // already there
      // Copy the polygon into this object's geometry of the referencing LOD.
      const Polygon sp = loc.ctx->obj.geometries[loc.geom].polygons[loc.poly];
      // Skip when the same polygon was already copied into this LOD.
      Geometry& dst = c->geometryFor(lod);
      auto& dstPolyIds = c->polyIds[c->geomIndex[lod]];
      if (std::find(dstPolyIds.begin(), dstPolyIds.end(), h.id) != dstPolyIds.end()) continue;
      const Geometry& srcRef = loc.ctx->obj.geometries[loc.geom];  // may alias dst: copy first
      std::vector<Vec3> pts;
      std::vector<uint32_t> sizes;
      std::vector<std::string> rids;
      for (uint32_t r = sp.firstRing; r < sp.firstRing + sp.ringCount; ++r) {
        pts.insert(pts.end(), srcRef.points.begin() + srcRef.ringStart[r],
                   srcRef.points.begin() + srcRef.ringStart[r + 1]);
        sizes.push_back(srcRef.ringStart[r + 1] - srcRef.ringStart[r]);
        rids.push_back(loc.ctx->ringIds[loc.geom][r]);
      }
      Polygon np;
      np.surface = h.surface != SurfaceType::Unknown ? h.surface : sp.surface;
      np.firstRing = static_cast<uint32_t>(dst.ringCount());
      np.ringCount = static_cast<uint32_t>(sizes.size());
      size_t at = 0;
      auto& ringIds = c->ringIds[c->geomIndex[lod]];
      for (size_t r = 0; r < sizes.size(); ++r) {
        dst.points.insert(dst.points.end(), pts.begin() + at, pts.begin() + at + sizes[r]);
        at += sizes[r];
        dst.ringStart.push_back(static_cast<uint32_t>(dst.points.size()));
        ringIds.push_back(rids[r]);
      }
      dst.polygons.push_back(np);
      dstPolyIds.push_back(h.id);
    }
  }
}

void applyAppearance(ObjCtx& ctx, const AppearanceStore& local_, const AppearanceStore& global_, DiagnosticSink& diag,
                     const std::string& uri_) {
  if (global_.empty() && local_.empty()) return;
  std::unordered_map<const void*, std::unordered_map<uint32_t, int32_t>> texMap;  // store -> global idx -> local
  auto textureIndex = [&](const AppearanceStore& store, uint32_t t) {
    auto& m = texMap[&store];
    auto it = m.find(t);
    if (it != m.end()) return it->second;
    const Texture& tex = store.textures[t];
    int32_t idx = -1;
    for (size_t i = 0; i < ctx.obj.textures.size(); ++i)
      if (ctx.obj.textures[i] == tex) idx = int32_t(i);
    if (idx < 0) {
      idx = int32_t(ctx.obj.textures.size());
      ctx.obj.textures.push_back(tex);
    }
    m.emplace(t, idx);
    return idx;
  };
  auto materialIndex = [&](const Material& m) {
    for (size_t i = 0; i < ctx.obj.materials.size(); ++i)
      if (ctx.obj.materials[i] == m) return int32_t(i);
    ctx.obj.materials.push_back(m);
    return int32_t(ctx.obj.materials.size() - 1);
  };
  for (size_t g = 0; g < ctx.obj.geometries.size(); ++g) {
    Geometry& geom = ctx.obj.geometries[g];
    auto& rids = ctx.ringIds[g];
    auto& pids = ctx.polyIds[g];
    for (size_t p = 0; p < geom.polygons.size(); ++p) {
      Polygon& poly = geom.polygons[p];
      // material by polygon id
      if (p < pids.size() && !pids[p].empty()) {
        for (const AppearanceStore* s : {&local_, &global_}) {
          if (const uint32_t* m = s->polyMaterial.find(idHash(pids[p]))) {
            poly.material = materialIndex(s->materials[*m]);
            break;
          }
        }
      }
      // texture by ring ids: every ring needs coordinates
      const AppearanceStore* store = nullptr;
      std::vector<const TexRef*> refs;
      for (uint32_t r = poly.firstRing; r < poly.firstRing + poly.ringCount; ++r) {
        const TexRef* ref = nullptr;
        if (r < rids.size() && !rids[r].empty()) {
          for (const AppearanceStore* s : {&local_, &global_}) {
            if (const TexRef* t = s->ringTex.find(idHash(rids[r]))) {
              ref = t;
              if (!store) store = s;
              break;
            }
          }
        }
        refs.push_back(ref);
      }
      if (!store || !refs[0]) continue;
      bool ok = true;
      for (uint32_t k = 0; k < poly.ringCount; ++k) {
        uint32_t r = poly.firstRing + k;
        uint32_t n = geom.ringStart[r + 1] - geom.ringStart[r];
        const TexRef* ref = refs[k];
        // GML rings repeat the first point; the texture coordinates usually do too.
        if (!ref || (ref->count != n && ref->count != n + 1)) ok = false;
      }
      if (!ok) {
        diag.warning("texture-coords-mismatch",
                     "texture coordinates do not match the ring's points; polygon left untextured", uri_,
                     ctx.obj.sourceLine, ctx.obj.id);
        continue;
      }
      if (geom.uvs.size() != geom.points.size()) geom.uvs.resize(geom.points.size(), Vec2f{0, 0});
      for (uint32_t k = 0; k < poly.ringCount; ++k) {
        uint32_t r = poly.firstRing + k;
        uint32_t b = geom.ringStart[r], n = geom.ringStart[r + 1] - b;
        const TexRef* ref = refs[k];
        for (uint32_t i = 0; i < n; ++i) {
          const float* uv = &store->uvs[ref->offset + 2 * i];
          geom.uvs[b + i] = {uv[0], uv[1]};
        }
      }
      poly.texture = textureIndex(*store, refs[0]->texture);
    }
  }
}

CityObject build(PendingBuilding& b, const AppearanceStore& global, DiagnosticSink& diag) {
  resolveHrefs(b, diag);
  b.local.seal();
  applyAppearance(b.top, b.local, global, diag, b.uri);
  for (auto& part : b.parts) applyAppearance(part, b.local, global, diag, b.uri);
  auto finish = [&](CityObject& o) {
    if (b.overrideSrs || o.srs.empty()) o.srs = b.srs;
    if (auto c = canonicalSrs(o.srs)) o.srs = *c;
    dropDegenerate(o);
  };
  CityObject out = std::move(b.top.obj);
  finish(out);
  for (auto& part : b.parts) {
    finish(part.obj);
    out.children.push_back(std::move(part.obj));
  }
  return out;
}

// What the pre-pass learnt of a file: its global appearances and where it can be split. Written by
// the pre-pass, then only read (by several part parsers at once).
struct SharedAppearance {
  AppearanceStore store;
  bool found = false;         // the file has top-level appearances
  size_t tailFrom = 0;        // byte offset of the first top-level appearanceMember
  size_t headerEnd = 0;       // end of the root start tag
  std::string rootClose;      // "</core:CityModel>"
  bool objectsAfter = false;  // city objects follow the appearances
  DiagnosticCollector diag;   // what the pre-pass saw (line numbers count from the root tag)
  // Where top-level city object members start (first one, then about every kMarkSpacing bytes),
  // with the number of newlines before each: places where the file can be split for parallel
  // parsing. Filled by the byte search before `located`.
  struct Mark {
    size_t offset;
    int64_t newlines;
  };
  std::vector<Mark> marks;
  size_t fileSize = 0;  // bytes scanned when no appearance was found (the whole file)
};

class Parser {
 public:
  Parser(const std::string& uri, const ReadOptions& options, ObjectSink* sink, DiagnosticSink& diag, ReadStats& stats,
         CodeLists& codeLists, std::shared_ptr<SharedAppearance> shared, bool appearanceOnly)
      : uri_(uri),
        options_(options),
        sink_(sink),
        diag_(diag),
        stats_(stats),
        codeLists_(codeLists),
        shared_(std::move(shared)),
        global_(shared_->store),
        appearanceOnly_(appearanceOnly) {
    globalParser_.store = &global_;
    globalParser_.baseUri = uri;
    localParser_.store = &local_;
    localParser_.baseUri = uri;
  }

  xmlParserCtxtPtr ctxt = nullptr;
  bool stopped = false;
  bool fatal = false;
  bool sawRoot = false;
  bool isCityGml = false;
  bool objectsAfterAppearance = false;
  bool cityGml3 = false;  // the document is CityGML 3.0
  std::string fileSrs;

  static void onStart(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri, int nbNs,
                      const xmlChar** nss, int nbAttrs, int nbDefaulted, const xmlChar** attrs) {
    (void)nbNs, (void)nss, (void)nbDefaulted;
    auto* p = static_cast<Parser*>(ud);
    p->prefix_ = prefix;
    p->start(local, uri, nbAttrs, attrs);
  }
  static void onEnd(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri) {
    (void)prefix;
    static_cast<Parser*>(ud)->end(local, uri);
  }
  static void onChars(void* ud, const xmlChar* ch, int len) {
    static_cast<Parser*>(ud)->characters(reinterpret_cast<const char*>(ch), len);
  }
  static void onError(void* ud, const xmlError* err) {
    auto* p = static_cast<Parser*>(ud);
    if (!err || err->level < XML_ERR_ERROR) return;
    std::string msg = err->message ? trim(err->message) : std::string("XML error");
    if (err->level == XML_ERR_FATAL) {
      if (p->fatal) return;
      p->fatal = true;
      std::string id = p->objects_.empty() ? std::string() : p->objects_.front().obj.id;
      p->diag_.error("xml-malformed",
                     "malformed XML: " + msg + (id.empty() ? "" : " (inside this object, which is dropped)"), p->uri_,
                     err->line + p->lineOffset, id);
    } else {
      p->diag_.warning("xml-error", "XML error: " + msg, p->uri_, err->line + p->lineOffset);
    }
  }

  int64_t line() const { return ctxt ? xmlSAX2GetLineNumber(ctxt) + lineOffset : 0; }

  // Hostile-input limits: element depth, one coordinate list's text.
  static constexpr int kMaxDepth = 1000;
  static constexpr size_t kMaxCoordinateText = size_t(256) << 20;

  // Stops the parse with an error (the object in progress is dropped; those before it stay).
  void refuse(const std::string& code, const std::string& message) {
    std::string id = objects_.empty() ? std::string() : objects_.front().obj.id;
    diag_.error(code, message + (id.empty() ? "" : " (inside this object, which is dropped)"), uri_, line(), id);
    fatal = true;
    stopped = true;
    if (stopAll) stopAll->store(true);
    if (ctxt) xmlStopParser(ctxt);
  }

  // <!ENTITY ...> in the document type: refused. Entities are never expanded (no "billion
  // laughs"), external ones never loaded; a file that declares them is not a city model.
  static void onEntityDecl(void* ud, const xmlChar* name, int, const xmlChar*, const xmlChar* systemId, xmlChar*) {
    auto* p = static_cast<Parser*>(ud);
    if (p->stopped) return;
    p->refuse("xml-entity-declared",
              std::string("the document declares the XML entity '") + reinterpret_cast<const char*>(name) + "'" +
                  (systemId ? std::string(" (external: ") + reinterpret_cast<const char*>(systemId) + ")" : "") +
                  "; entity declarations are refused (billion-laughs and external-entity protection)");
  }
  int64_t lineOffset = 0;                // added to libxml2's line numbers (chunked parsing: lines not fed)
  std::atomic<bool>* stopAll = nullptr;  // set when any parser of the file must stop

 private:
  std::string uri_;
  const ReadOptions& options_;
  ObjectSink* sink_;
  DiagnosticSink& diag_;
  ReadStats& stats_;
  CodeLists& codeLists_;
  std::shared_ptr<SharedAppearance> shared_;
  AppearanceStore& global_;
  AppearanceStore local_;
  AppearanceParser globalParser_, localParser_;
  bool appearanceOnly_;
  const xmlChar* prefix_ = nullptr;  // of the element being started

  int depth_ = 0;
  int skipDepth_ = -1;  // ignoring everything until the element at this depth ends
  std::string skipType_;
  int memberDepth_ = -1;                       // depth of core:cityObjectMember
  int globalAppDepth_ = -1;                    // depth of a top-level appearanceMember being parsed
  int localAppDepth_ = -1;                     // depth of an object-local app:appearance
  std::vector<ObjCtx> objects_;                // stack: building, part, ...
  std::vector<ObjCtx> doneParts_;              // finished parts of the current top-level building (flattened)
  std::vector<std::pair<int, int>> lodStack_;  // (depth, lod)
  std::vector<std::pair<int, SurfaceType>> surfaceStack_;  // (depth, type)
  std::vector<int> reversedStack_;                         // depths of OrientableSurface "-"
  int envelopeDepth_ = -1;
  int fileDim_ = 3;

  // polygon in progress
  bool inPolygon_ = false;
  int polygonDepth_ = -1;
  std::string polygonId_;
  std::vector<Vec3> polyPoints_;
  std::vector<uint32_t> polyRingStart_;
  std::vector<std::string> polyRingIds_;
  bool polygonBad_ = false;
  int polygonDim_ = 0;
  // ring in progress
  bool inRing_ = false;
  std::string ringId_;
  size_t ringBegin_ = 0;
  // coordinate text
  enum class Coord { None, PosList, Pos, Coordinates } coord_ = Coord::None;
  int coordDim_ = 3;
  std::string text_;
  std::vector<double> nums_;

  // attribute capture
  int attrDepth_ = -1;
  std::vector<ANode*> attrStack_;
  ANode attrRoot_;
  bool attrTextTruncated_ = false;
  uint32_t attrGeometries_ = 0;  // GML geometries dropped from the property being captured
  uint32_t unknownValues_ = 0;   // PLATEAU "unknown" numbers left out of the property being captured

  struct OpenAggregate {
    int depth;
    std::string id;
    int lod;
    uint32_t first;
  };
  std::vector<OpenAggregate> aggregateStack_;

  bool inObject() const { return !objects_.empty(); }
  static bool isBuildingType(const std::string& t) { return t == "Building" || t == "BuildingPart"; }

  // Texture images that do not exist are reported here, where the file, line and object are
  // known (once per image).
  std::set<std::string> checkedTextures_;
  void checkTextures(const AppearanceStore& st, size_t from) {
    for (size_t i = from; i < st.textures.size(); ++i) {
      const std::string& uri = st.textures[i].uri;
      if (uri.empty() || !checkedTextures_.insert(uri).second || vfs::exists(uri)) continue;
      diag_.warning("texture-missing", "texture image " + uri + " not found; its surfaces are drawn in a plain colour",
                    uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
    }
  }

  // The city object types to read (ReadOptions::objectTypes): buildings unless told otherwise.
  bool wanted(const xmlChar* local, Ns ns) const {
    if (ns == Ns::Gml || ns == Ns::App) return false;
    const auto& types = options_.objectTypes;
    if (types.empty()) return ns == Ns::Bldg && eq(local, "Building");
    for (auto& t : types)
      if (t == "*" || eq(local, t.c_str())) return true;
    return false;
  }
  int currentLod() const { return lodStack_.empty() ? -1 : lodStack_.back().second; }
  SurfaceType currentSurface() const {
    return surfaceStack_.empty() ? SurfaceType::Unknown : surfaceStack_.back().second;
  }
  bool reversed() const { return reversedStack_.size() % 2 == 1; }

  void startSkip(int d) { skipDepth_ = d; }

  void start(const xmlChar* local, const xmlChar* nsUri, int nbAttrs, const xmlChar** attrs) {
    ++depth_;
    const int d = depth_;
    if (d > kMaxDepth && !stopped) {
      refuse("xml-too-deep", "elements are nested more than " + std::to_string(kMaxDepth) +
                                 " levels deep (no city model needs that); the file is refused from here on");
      return;
    }
    if (skipDepth_ >= 0) return;
    if (stopped) return;
    Ns ns = classify(nsUri);

    if (d == 1) {
      sawRoot = true;
      isCityGml = eq(local, "CityModel") || ns == Ns::Core || ns == Ns::Bldg;
      if (nsUri && std::strstr(reinterpret_cast<const char*>(nsUri), "opengis.net/citygml/3.0")) {
        cityGml3 = true;  // core:boundary, con: surfaces, bldg:buildingPart, ... (read alongside 2.0's names)
      }
      return;
    }

    // Global appearance (CityModel/appearanceMember)
    if (globalAppDepth_ >= 0) {
      globalParser_.start(local, ns, nbAttrs, attrs, d);
      return;
    }
    if (!inObject() && eq(local, "appearanceMember")) {
      if (appearanceOnly_) {
        globalAppDepth_ = d;
      } else {
        startSkip(d);  // read in the pre-pass
      }
      return;
    }
    if (appearanceOnly_) {
      if (d == 2) {
        if (ns != Ns::Gml && ns != Ns::App) objectsAfterAppearance = true;
        startSkip(d);
      }
      return;
    }

    // Envelope of the model: srsName, srsDimension
    if (!inObject() && d == 3 && eq(local, "Envelope")) {
      std::string srs = attrValue(nbAttrs, attrs, "srsName");
      if (!srs.empty() && fileSrs.empty()) fileSrs = srs;
      std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
      if (!dim.empty()) fileDim_ = std::atoi(dim.c_str()) == 2 ? 2 : 3;
      return;
    }

    if (attrDepth_ >= 0) {
      if (ns == Ns::Gml && isGmlGeometry(local)) {
        // Geometry is never an attribute: dropped (and counted), whatever property holds it.
        if (!eq(local, "boundedBy")) ++attrGeometries_;
        startSkip(d);
        return;
      }
      captureStart(local, ns, nbAttrs, attrs);
      return;
    }
    if (localAppDepth_ >= 0) {
      localParser_.start(local, ns, nbAttrs, attrs, d);
      return;
    }

    if (!inObject()) {
      if (eq(local, "cityObjectMember") || eq(local, "featureMember") || eq(local, "featureMembers")) {
        memberDepth_ = d;
        return;
      }
      if (d == 2 && (ns == Ns::Gml || ns == Ns::App)) {
        if (!eq(local, "boundedBy")) startSkip(d);  // gml:name, gml:description, ...
        return;
      }
      // Other properties of the model (CityGML 3.0 ver:versionMember, engineeringCRS, ...) hold
      // no city objects of their own: objects are UpperCamelCase elements, properties are not.
      if (d == 2 && std::islower(local[0])) {
        startSkip(d);
        return;
      }
      if (d == memberDepth_ + 1 || d == 2) {
        if (wanted(local, ns)) {
          beginObject(local, nbAttrs, attrs, d);
        } else {
          skipType_ = str(local);
          stats_.skippedByType[skipType_]++;
          startSkip(d);
        }
      }
      return;
    }

    // Inside a building or building part.
    ObjCtx& cur = objects_.back();
    if (ns == Ns::Bldg && eq(local, "BuildingPart")) {
      beginObject(local, nbAttrs, attrs, d);
      return;
    }
    if (cur.obj.srs.empty()) cur.obj.srs = attrValue(nbAttrs, attrs, "srsName");
    if (d == cur.depth + 1) {
      // A property of the object: geometry, structure, appearance, or an attribute.
      if (std::strncmp(reinterpret_cast<const char*>(local), "lod", 3) == 0 && local[3] >= '0' && local[3] <= '4') {
        if (isCurveProperty(local) || ns == Ns::Uro) {  // curves; i-UR geometry-like props are not surfaces
          if (ns == Ns::Uro)
            beginCapture(local, ns, nbAttrs, attrs, d);
          else
            startSkip(d);
          return;
        }
        lodStack_.push_back({d, local[3] - '0'});
        if (eq(local, "lod0FootPrint"))
          surfaceStack_.push_back({d, SurfaceType::Ground});
        else if (eq(local, "lod0RoofEdge"))
          surfaceStack_.push_back({d, SurfaceType::Roof});
        // CityGML 3.0: a building's own LOD0 surface is its footprint (the roof edge is a
        // con:RoofSurface boundary).
        else if (cityGml3 && eq(local, "lod0MultiSurface") && isBuildingType(cur.obj.type))
          surfaceStack_.push_back({d, SurfaceType::Ground});
        return;
      }
      if ((ns == Ns::Bldg || ns == Ns::Core) &&
          (eq(local, "boundedBy") || eq(local, "consistsOfBuildingPart") || eq(local, "outerBuildingInstallation")))
        return;
      // CityGML 3.0 structure: boundary surfaces, parts, installations and constructive elements
      // add to the building; rooms, furniture and storeys/units are interior and skipped.
      if ((ns == Ns::Core && eq(local, "boundary")) ||
          (ns == Ns::Bldg && (eq(local, "buildingPart") || eq(local, "buildingInstallation") ||
                              eq(local, "buildingConstructiveElement"))))
        return;
      if (ns == Ns::Bldg &&
          (eq(local, "buildingRoom") || eq(local, "buildingFurniture") || eq(local, "buildingSubdivision"))) {
        stats_.skippedByType[eq(local, "buildingRoom")        ? "BuildingRoom"
                             : eq(local, "buildingFurniture") ? "BuildingFurniture"
                                                              : "BuildingSubdivision"]++;
        startSkip(d);
        return;
      }
      // Relief: components hold the geometry (dem:reliefComponent/dem:TINRelief/dem:tin); other
      // modules' surface properties (tran:trafficArea, ...) likewise.
      if (eq(local, "reliefComponent") || eq(local, "trafficArea") || eq(local, "auxiliaryTrafficArea")) return;
      if (ns == Ns::Bldg && (eq(local, "interiorRoom") || eq(local, "interiorBuildingInstallation"))) {
        stats_.skippedByType[eq(local, "interiorRoom") ? "Room" : "IntBuildingInstallation"]++;
        startSkip(d);
        return;
      }
      if ((ns == Ns::App || ns == Ns::Core) && eq(local, "appearance")) {
        localAppDepth_ = d;
        return;
      }
      if (ns == Ns::Gml && eq(local, "boundedBy")) {
        envelopeDepth_ = d;
        return;
      }
      beginCapture(local, ns, nbAttrs, attrs, d);
      return;
    }
    if (envelopeDepth_ >= 0) return;

    // Deeper: structure and geometry.
    if (std::strncmp(reinterpret_cast<const char*>(local), "lod", 3) == 0 && local[3] >= '0' && local[3] <= '4') {
      if (isCurveProperty(local)) {
        startSkip(d);
        return;
      }
      lodStack_.push_back({d, local[3] - '0'});
      return;
    }
    if (ns == Ns::Bldg || ns == Ns::Con) {
      SurfaceType st = surfaceTypeOf(local);
      if (st != SurfaceType::Unknown) surfaceStack_.push_back({d, st});
      return;
    }
    if (ns != Ns::Gml) return;
    geometryStart(local, nbAttrs, attrs, d);
  }

  static bool isCurveProperty(const xmlChar* local) {
    std::string_view s(reinterpret_cast<const char*>(local));
    return s.find("Curve") != std::string_view::npos || s.find("TerrainIntersection") != std::string_view::npos ||
           s.find("ImplicitRepresentation") != std::string_view::npos;
  }

  void geometryStart(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d) {
    if (eq(local, "Polygon") || eq(local, "Triangle") || eq(local, "Rectangle")) {
      inPolygon_ = true;
      polygonDepth_ = d;
      polygonId_ = attrValue(nbAttrs, attrs, "id");
      polyPoints_.clear();
      polyRingStart_.assign(1, 0);
      polyRingIds_.clear();
      polygonBad_ = false;
      std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
      polygonDim_ = dim.empty() ? 0 : std::atoi(dim.c_str());
      return;
    }
    if (eq(local, "OrientableSurface")) {
      if (attrValue(nbAttrs, attrs, "orientation") == "-") reversedStack_.push_back(d);
    }
    if (!inPolygon_ &&
        (eq(local, "CompositeSurface") || eq(local, "MultiSurface") || eq(local, "Shell") || eq(local, "Solid") ||
         eq(local, "OrientableSurface") || eq(local, "TriangulatedSurface") || eq(local, "Surface"))) {
      std::string id = attrValue(nbAttrs, attrs, "id");
      int lod = currentLod();
      if (!id.empty() && lod >= 0) aggregateStack_.push_back({d, id, lod, objects_.back().polygonCount(lod)});
    }
    if (inPolygon_) {
      if (eq(local, "LinearRing")) {
        inRing_ = true;
        ringId_ = attrValue(nbAttrs, attrs, "id");
        ringBegin_ = polyPoints_.size();
      } else if (eq(local, "posList") || eq(local, "pos") || eq(local, "coordinates")) {
        coord_ = eq(local, "posList") ? Coord::PosList : eq(local, "pos") ? Coord::Pos : Coord::Coordinates;
        std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
        coordDim_ = !dim.empty() ? std::atoi(dim.c_str()) : polygonDim_ ? polygonDim_ : fileDim_;
        if (coordDim_ != 2 && coordDim_ != 3) coordDim_ = 3;
        text_.clear();
      }
      return;
    }
    // A surface reference: <gml:surfaceMember xlink:href="#id"/> (also baseSurface, patches...)
    std::string href = attrValue(nbAttrs, attrs, "href");
    if (!href.empty()) {
      if (!href.empty() && href[0] == '#') href.erase(0, 1);
      objects_.back().hrefs.push_back({href, currentLod(), currentSurface(), reversed()});
    }
  }

  void characters(const char* ch, int len) {
    if (skipDepth_ >= 0 || stopped) return;
    if (globalAppDepth_ >= 0) {
      globalParser_.characters(ch, len);
      return;
    }
    if (attrDepth_ >= 0) {
      if (!attrStack_.empty()) {
        std::string& t = attrStack_.back()->text;
        if (t.size() + len > (1u << 20)) {
          attrTextTruncated_ = true;
        } else {
          t.append(ch, len);
        }
      }
      return;
    }
    if (localAppDepth_ >= 0) {
      localParser_.characters(ch, len);
      return;
    }
    if (coord_ != Coord::None) {
      if (text_.size() + size_t(len) > kMaxCoordinateText) {
        if (!stopped)
          refuse("coordinates-too-large", "one coordinate list is larger than " +
                                              std::to_string(kMaxCoordinateText >> 20) +
                                              " MB; the file is refused from here on");
        return;
      }
      text_.append(ch, len);
    }
  }

  void end(const xmlChar* local, const xmlChar* nsUri) {
    const int d = depth_--;
    if (skipDepth_ >= 0) {
      if (d == skipDepth_) skipDepth_ = -1;
      return;
    }
    if (stopped) return;
    Ns ns = classify(nsUri);
    if (globalAppDepth_ >= 0) {
      if (d == globalAppDepth_) {
        globalAppDepth_ = -1;
        return;
      }
      size_t before = global_.textures.size();
      globalParser_.end(local, ns, d);
      checkTextures(global_, before);
      return;
    }
    if (attrDepth_ >= 0) {
      attrStack_.pop_back();
      if (d == attrDepth_) endCapture();
      return;
    }
    if (localAppDepth_ >= 0) {
      if (d == localAppDepth_) {
        localAppDepth_ = -1;
        return;
      }
      size_t before = local_.textures.size();
      localParser_.end(local, ns, d);
      checkTextures(local_, before);
      return;
    }
    if (d == envelopeDepth_) envelopeDepth_ = -1;
    if (d == memberDepth_) memberDepth_ = -1;
    if (!lodStack_.empty() && lodStack_.back().first == d) lodStack_.pop_back();
    if (!surfaceStack_.empty() && surfaceStack_.back().first == d) surfaceStack_.pop_back();
    if (!reversedStack_.empty() && reversedStack_.back() == d) reversedStack_.pop_back();

    if (inPolygon_) {
      if (coord_ != Coord::None && (eq(local, "posList") || eq(local, "pos") || eq(local, "coordinates"))) {
        endCoordinates();
        return;
      }
      if (inRing_ && eq(local, "LinearRing")) {
        endRing();
        return;
      }
      if (d == polygonDepth_) {
        endPolygon();
        return;
      }
      return;
    }
    if (!aggregateStack_.empty() && aggregateStack_.back().depth == d) {
      auto& a = aggregateStack_.back();
      ObjCtx& ctx = objects_.back();
      ctx.aggregates[a.id] = {a.lod, a.first, ctx.polygonCount(a.lod)};
      aggregateStack_.pop_back();
    }
    if (inObject() && d == objects_.back().depth) endObject();
  }

  // --- objects ---

  void beginObject(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d) {
    ObjCtx ctx;
    ctx.depth = d;
    ctx.obj.type = str(local);
    ctx.obj.id = attrValue(nbAttrs, attrs, "id");
    ctx.obj.sourceFile = uri_;
    ctx.obj.sourceLine = line();
    if (ctx.obj.id.empty()) {
      ctx.obj.id = "twin-" + std::to_string(ctx.obj.sourceLine);
      diag_.warning("object-no-id", ctx.obj.type + " has no gml:id; using " + ctx.obj.id, uri_, ctx.obj.sourceLine);
    }
    objects_.push_back(std::move(ctx));
  }

  void endObject() {
    ObjCtx ctx = std::move(objects_.back());
    objects_.pop_back();
    stats_.objectsByType[ctx.obj.type]++;
    if (!objects_.empty()) {
      doneParts_.push_back(std::move(ctx));
      return;
    }
    // Top-level building complete: resolve references and appearances (now, or on the thread
    // that takes the object when the caller defers it), then emit.
    auto b = std::make_shared<PendingBuilding>();
    b->srs = !options_.crsOverride.empty() ? options_.crsOverride : !ctx.obj.srs.empty() ? ctx.obj.srs : fileSrs;
    b->overrideSrs = !options_.crsOverride.empty();
    b->uri = uri_;
    b->top = std::move(ctx);
    b->parts = std::move(doneParts_);
    doneParts_.clear();
    b->local = std::move(local_);
    local_.clear();
    CityObject out = build(*b, global_, diag_);
    if (sink_ && !sink_->accept(std::move(out))) {
      stopped = true;
      if (stopAll) stopAll->store(true);
    }
    if (options_.cancel && options_.cancel->load()) stopped = true;
  }

  // --- geometry ---

  void endCoordinates() {
    nums_.clear();
    bool ok;
    if (coord_ == Coord::Coordinates) {
      for (auto& c : text_)
        if (c == ',') c = ' ';
    }
    ok = parseDoubles(text_.data(), text_.data() + text_.size(), nums_);
    if (!ok) {
      polygonBad_ = true;
      diag_.warning("coordinate-invalid",
                    "coordinates contain a value that is not a finite number; polygon " +
                        (polygonId_.empty() ? std::string("(no id)") : polygonId_) + " dropped",
                    uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
    } else {
      if (nums_.size() % coordDim_ != 0) {
        polygonBad_ = true;
        diag_.warning("coordinate-count",
                      "coordinate count " + std::to_string(nums_.size()) + " is not a multiple of the dimension " +
                          std::to_string(coordDim_),
                      uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
      } else if (inRing_) {
        for (size_t i = 0; i + coordDim_ <= nums_.size(); i += coordDim_)
          polyPoints_.push_back({nums_[i], nums_[i + 1], coordDim_ == 3 ? nums_[i + 2] : 0.0});
      }
    }
    coord_ = Coord::None;
    text_.clear();
  }

  void endRing() {
    inRing_ = false;
    // drop the closing point (and consecutive exact duplicates)
    size_t b = ringBegin_;
    size_t w = b;
    for (size_t i = b; i < polyPoints_.size(); ++i) {
      if (w > b && polyPoints_[i] == polyPoints_[w - 1]) continue;
      polyPoints_[w++] = polyPoints_[i];
    }
    polyPoints_.resize(w);
    if (w - b >= 2 && polyPoints_[w - 1] == polyPoints_[b]) polyPoints_.pop_back();
    if (polyPoints_.size() - b < 3) {
      // ring with fewer than 3 distinct points: keep empty ring (texture coords then mismatch)
      polyPoints_.resize(b);
      if (polyRingStart_.size() == 1 && !polygonBad_) {  // exterior unusable
        polygonBad_ = true;
        diag_.warning("polygon-degenerate",
                      "polygon " + (polygonId_.empty() ? std::string("(no id)") : polygonId_) +
                          " has fewer than 3 distinct points; dropped",
                      uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
      }
      return;
    }
    polyRingStart_.push_back(static_cast<uint32_t>(polyPoints_.size()));
    polyRingIds_.push_back(ringId_);
  }

  void endPolygon() {
    inPolygon_ = false;
    int lod = currentLod();
    // Geometry outside an lodN property (a relief TIN under dem:tin) is taken as LOD 1.
    if (lod < 0 && inObject() && objects_.back().obj.type != "Building" && objects_.back().obj.type != "BuildingPart")
      lod = 1;
    if (!inObject() || lod < 0) return;
    ObjCtx& ctx = objects_.back();
    if (polygonBad_ || polyRingStart_.size() < 2) {
      if (!polygonBad_)
        diag_.warning("polygon-degenerate",
                      "polygon " + (polygonId_.empty() ? std::string("(no id)") : polygonId_) +
                          " has fewer than 3 distinct points; dropped",
                      uri_, line(), ctx.obj.id);
      return;
    }
    if (reversed()) {
      for (size_t r = 0; r + 1 < polyRingStart_.size(); ++r)
        std::reverse(polyPoints_.begin() + polyRingStart_[r], polyPoints_.begin() + polyRingStart_[r + 1]);
    }
    Geometry& g = ctx.geometryFor(lod);
    Polygon p;
    p.firstRing = static_cast<uint32_t>(g.ringCount());
    p.ringCount = static_cast<uint32_t>(polyRingStart_.size() - 1);
    p.surface = currentSurface();
    uint32_t base = static_cast<uint32_t>(g.points.size());
    g.points.insert(g.points.end(), polyPoints_.begin(), polyPoints_.end());
    for (size_t r = 1; r < polyRingStart_.size(); ++r) g.ringStart.push_back(base + polyRingStart_[r]);
    g.polygons.push_back(p);
    auto& rids = ctx.ringIds[ctx.geomIndex[lod]];
    rids.insert(rids.end(), polyRingIds_.begin(), polyRingIds_.end());
    ctx.polyIds[ctx.geomIndex[lod]].push_back(polygonId_);
  }

  // --- attributes ---

  // "prefix:local" with a canonical prefix for the namespaces twin knows, else the document's.
  std::string keyOf(const xmlChar* local, Ns ns) const {
    const char* p = canonicalPrefix(ns);
    std::string pre = p ? p : prefix_ ? str(prefix_) : "ns";
    return pre + ":" + str(local);
  }

  void beginCapture(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d) {
    attrDepth_ = d;
    attrRoot_ = ANode{};
    attrTextTruncated_ = false;
    attrGeometries_ = 0;
    unknownValues_ = 0;
    fillNode(attrRoot_, local, ns, nbAttrs, attrs);
    attrStack_.assign(1, &attrRoot_);
  }

  void fillNode(ANode& n, const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs) {
    n.ns = ns;
    n.local = str(local);
    n.key = keyOf(local, ns);
    n.codeSpace = attrValue(nbAttrs, attrs, "codeSpace");
    n.uom = attrValue(nbAttrs, attrs, "uom");
    if (ns == Ns::Gen) n.genName = attrValue(nbAttrs, attrs, "name");
    n.hasId = !attrValue(nbAttrs, attrs, "id", Ns::Gml, false).empty();
  }

  void captureStart(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs) {
    ANode* parent = attrStack_.back();
    if (attrStack_.size() > 32 || parent->children.size() > 10000) {
      // absurdly deep or wide attribute: ignore the rest of it
      parent->children.emplace_back();
      attrStack_.push_back(&parent->children.back());
      return;
    }
    parent->children.emplace_back();
    ANode& n = parent->children.back();
    fillNode(n, local, ns, nbAttrs, attrs);
    attrStack_.push_back(&n);
  }

  void endCapture() {
    attrDepth_ = -1;
    attrStack_.clear();
    if (attrTextTruncated_)
      diag_.error("attribute-too-large", attrRoot_.key + " is larger than 1 MiB: refused, only its first MiB is kept",
                  uri_, line(), objects_.back().obj.id);
    const std::string& objectId = objects_.back().obj.id;
    // An object of an Application Domain Extension twin does not know (a property in a namespace
    // that is not CityGML's or i-UR's, wrapping an object with a gml:id, e.g. an ADE's
    // BuildingUnit): skipped as a whole, with a diagnostic; its attributes are not the building's.
    if (attrRoot_.ns == Ns::Other && attrRoot_.children.size() == 1 && attrRoot_.children[0].ns == Ns::Other &&
        attrRoot_.children[0].hasId && !attrRoot_.children[0].local.empty() &&
        std::isupper(static_cast<unsigned char>(attrRoot_.children[0].local[0]))) {
      diag_.warning(
          "ade-object-skipped",
          attrRoot_.children[0].key + " (in " + attrRoot_.key +
              ") is an object of an Application Domain Extension twin does not read: skipped" +
              (attrGeometries_ ? " with its " + std::to_string(attrGeometries_) + " geometries" : std::string()),
          uri_, line(), objectId);
      return;
    }
    if (attrGeometries_) {
      // Inside a property twin does not know (an ADE's): a warning; inside a known one (the
      // location point of a bldg:address): information. Both are counted in the summary.
      std::string msg = std::to_string(attrGeometries_) + " GML geometries inside the property " + attrRoot_.key +
                        " dropped: geometry is never an attribute";
      if (attrRoot_.ns == Ns::Other)
        diag_.warning("attribute-geometry-dropped", msg, uri_, line(), objectId);
      else
        diag_.info("attribute-geometry-dropped", msg, uri_, line(), objectId);
    }
    Attribute a;
    if (convert(attrRoot_, a)) addAttribute(objects_.back().obj, std::move(a));
    if (unknownValues_)
      diag_.info("unknown-value",
                 attrRoot_.key + ": " + std::to_string(unknownValues_) +
                     " value(s) PLATEAU marks unknown (-9999, 9999 storeys) read as missing",
                 uri_, line(), objectId);
  }

  // Adds a converted attribute; CityGML 3.0's construction attributes also under the CityGML 2.0
  // names rule checks and the viewer read: a measured con:Height is bldg:measuredHeight, the year
  // of con:dateOfConstruction / con:dateOfDemolition is bldg:yearOfConstruction / yearOfDemolition
  // (a date on 1 January, which is how a 2.0 year is written in 3.0, is not kept twice).
  static void addAttribute(CityObject& obj, Attribute a) {
    if (a.key == "con:Height" && a.type == AttributeType::Group) {
      const Attribute *status = nullptr, *value = nullptr;
      for (auto& c : a.children) {
        if (c.key == "con:status") status = &c;
        if (c.key == "con:value" && c.type == AttributeType::Double) value = &c;
      }
      if (status && value && status->text == "measured" && !obj.attribute("bldg:measuredHeight")) {
        Attribute h = *value;
        h.key = "bldg:measuredHeight";
        obj.attributes.push_back(std::move(h));
        return;
      }
    }
    if ((a.key == "con:dateOfConstruction" || a.key == "con:dateOfDemolition") && a.type == AttributeType::Date &&
        a.text.size() >= 4 && isIntegerText(a.text.substr(0, 4))) {
      Attribute y;
      y.key = a.key == "con:dateOfConstruction" ? "bldg:yearOfConstruction" : "bldg:yearOfDemolition";
      y.type = AttributeType::Integer;
      y.text = a.text.substr(0, 4);
      y.integer = std::atoi(y.text.c_str());
      bool janFirst = a.text.compare(4, 6, "-01-01") == 0 && (a.text.size() == 10 || a.text[10] == 'T');
      if (!obj.attribute(y.key)) obj.attributes.push_back(std::move(y));
      if (janFirst) return;
    }
    obj.attributes.push_back(std::move(a));
  }

  // PLATEAU (i-UR) writes -9999 for an unknown number (bldg:measuredHeight, uro:totalFloorArea,
  // ...) and 9999 for unknown storeys: such a value is not a value. True (and counted) when `a` is
  // one; the attribute is then left out, so that it reads as missing everywhere downstream.
  bool unknownSentinel(const Attribute& a) {
    const bool number = a.type == AttributeType::Double || a.type == AttributeType::Integer;
    const double v = a.type == AttributeType::Double ? a.number : double(a.integer);
    std::string key = a.key;
    for (auto& ch : key) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    const bool storeys = key.find("storeys") != std::string::npos;
    if (!number || !(v == -9999 || (storeys && v == 9999))) return false;
    ++unknownValues_;
    return true;
  }

  // Converts a captured property tree to an Attribute. Returns false when empty.
  bool convert(const ANode& n, Attribute& out) {
    // CityGML 3.0: <core:genericAttribute><gen:StringAttribute><gen:name>..</gen:name><gen:value>..
    if (n.local == "genericAttribute" && n.ns == Ns::Core && n.children.size() == 1) return convert(n.children[0], out);
    std::string genName = n.genName;
    if (n.ns == Ns::Gen && genName.empty())
      for (auto& c : n.children)
        if (c.local == "name" && c.ns == Ns::Gen) genName = trim(c.text);
    // gen:*Attribute name="..."><gen:value>...</gen:value> (2.0), gen:*Attribute with gen:name (3.0)
    if (n.ns == Ns::Gen && !genName.empty()) {
      std::string kind = n.local;
      if (!kind.empty()) kind[0] = char(std::tolower(static_cast<unsigned char>(kind[0])));
      out.key = "gen:" + genName;
      if (kind == "genericAttributeSet") {
        out.type = AttributeType::Group;
        for (auto& c : n.children) {
          if (c.local == "name" || c.local == "codeSpace") continue;
          Attribute ca;
          if (convert(c, ca)) out.children.push_back(std::move(ca));
        }
        return !out.children.empty();
      }
      std::string value;
      std::string uom;
      for (auto& c : n.children)
        if (c.local == "value") {
          value = trim(c.text);
          uom = c.uom;
        }
      out.uom = uom;
      out.text = value;
      if (kind == "intAttribute") {
        if (isIntegerText(value) || (value == "0")) {
          out.type = AttributeType::Integer;
          std::from_chars(value.data(), value.data() + value.size(), out.integer);
        } else {
          out.type = AttributeType::String;
        }
      } else if (kind == "doubleAttribute" || kind == "measureAttribute") {
        double v;
        if (parseDoubleText(value, v)) {
          out.type = AttributeType::Double;
          out.number = v;
        }
      } else if (kind == "dateAttribute") {
        out.type = isDateText(value) ? AttributeType::Date : AttributeType::String;
      } else if (kind == "uriAttribute") {
        out.type = AttributeType::Uri;
      } else {
        out.type = AttributeType::String;
      }
      return !unknownSentinel(out);
    }
    out.key = n.key;
    if (n.children.empty()) {
      std::string t = trim(n.text);
      if (t.empty()) return false;
      out.text = t;
      out.uom = n.uom;
      if (!n.codeSpace.empty()) {
        out.type = AttributeType::Code;
        out.codeSpace = n.codeSpace;
        out.codeName = codeLists_.lookup(vfs::resolve(uri_, n.codeSpace), t);
        return true;
      }
      static const std::unordered_set<std::string> integers = {"bldg:storeysAboveGround", "bldg:storeysBelowGround",
                                                               "bldg:yearOfConstruction", "bldg:yearOfDemolition"};
      double v;
      if (!n.uom.empty() && parseDoubleText(t, v)) {
        out.type = AttributeType::Double;  // a measure: always a number with a unit
        out.number = v;
      } else if (integers.count(out.key) && isIntegerText(t)) {
        out.type = AttributeType::Integer;
        std::from_chars(t.data(), t.data() + t.size(), out.integer);
      } else if (isIntegerText(t) || t == "0") {
        out.type = AttributeType::Integer;
        std::from_chars(t.data(), t.data() + t.size(), out.integer);
      } else if (parseDoubleText(t, v) && t.find_first_not_of("0123456789.-+eE") == std::string::npos) {
        out.type = AttributeType::Double;
        out.number = v;
      } else if (isDateText(t)) {
        out.type = AttributeType::Date;
      } else if (t == "true" || t == "false") {
        out.type = AttributeType::Boolean;
        out.boolean = t == "true";
      } else {
        out.type = AttributeType::String;
      }
      return !unknownSentinel(out);
    }
    // Property wrapping one object element (uro:buildingDetailAttribute/uro:BuildingDetailAttribute):
    // name the group after the object.
    const ANode* body = &n;
    if (n.children.size() == 1 && !n.children[0].children.empty()) {
      body = &n.children[0];
      out.key = body->key;
    }
    out.type = AttributeType::Group;
    for (auto& c : body->children) {
      Attribute ca;
      if (convert(c, ca)) out.children.push_back(std::move(ca));
    }
    return !out.children.empty();
  }

 public:
  uint64_t unsupportedTextures() const { return globalParser_.skippedOther + localParser_.skippedOther; }
  bool objectInProgress() const { return !objects_.empty(); }
};

// ---------------------------------------------------------------------------------------------

xmlParserCtxtPtr createParser(Parser& parser, const std::string& uri) {
  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = &Parser::onStart;
  sax.endElementNs = &Parser::onEnd;
  sax.characters = &Parser::onChars;
  sax.serror = reinterpret_cast<xmlStructuredErrorFunc>(&Parser::onError);
  sax.entityDecl = &Parser::onEntityDecl;
  xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &parser, nullptr, 0, uri.c_str());
  if (ctxt) xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
  parser.ctxt = ctxt;
  return ctxt;
}

void finishParser(Parser& parser, xmlParserCtxtPtr ctxt) {
  if (!parser.fatal && !parser.stopped) xmlParseChunk(ctxt, nullptr, 0, 1);
  parser.ctxt = nullptr;
  xmlFreeParserCtxt(ctxt);
}

// Streams `uri` through a fresh SAX2 push parser (the main pass). With `limit` > 0, on reaching
// byte `limit` it asks `atLimit()`: a non-empty answer (the root's end tag) is fed and parsing
// ends there (what follows holds only appearances, read by the pre-pass); an empty one goes on.
bool runParser(Parser& parser, const std::string& uri, DiagnosticSink& diag, const ReadOptions& options, size_t limit,
               const std::function<std::string()>& atLimit, uint64_t& bytesOut, bool& stoppedEarly,
               const std::string& prefix = {}, size_t begin = 0) {
  stoppedEarly = false;
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) {
    diag.error("file-unreadable", err, uri);
    return false;
  }
  if (begin > 0 && !in->seek(begin)) {
    diag.error("file-unreadable", "cannot seek in " + uri, uri);
    return false;
  }
  xmlParserCtxtPtr ctxt = createParser(parser, uri);
  if (!ctxt) {
    diag.error("xml-parser", "cannot create XML parser", uri);
    return false;
  }
  if (!prefix.empty()) xmlParseChunk(ctxt, prefix.data(), int(prefix.size()), 0);
  std::vector<char> buf(1 << 20);
  uint64_t total = begin;  // file offset
  bool ok = true;
  for (;;) {
    size_t want = buf.size();
    if (limit > 0) {
      if (total >= limit) {
        std::string closing = atLimit();
        if (!closing.empty()) {
          xmlParseChunk(ctxt, closing.data(), int(closing.size()), 0);
          stoppedEarly = true;
          break;
        }
        limit = 0;
      } else {
        want = std::min<size_t>(want, limit - total);
      }
    }
    int64_t n = in->read(buf.data(), want);
    if (n < 0) {
      diag.error("file-unreadable", "read error", uri);
      ok = false;
      break;
    }
    if (n == 0) break;
    total += uint64_t(n);
    xmlParseChunk(ctxt, buf.data(), int(n), 0);
    if (options.bytesRead) options.bytesRead->fetch_add(uint64_t(n));
    if (parser.fatal || parser.stopped || (parser.stopAll && parser.stopAll->load())) break;
    if (options.cancel && options.cancel->load()) break;
  }
  finishParser(parser, ctxt);
  bytesOut = total - begin;
  if (total == 0) {
    diag.error("file-empty", "file is empty", uri);
    return false;
  }
  return ok;
}

// Newlines in bytes [from, to) of a file.
int64_t countLines(const std::string& uri, size_t from, size_t to) {
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) return 0;
  std::vector<char> buf(1 << 20);
  size_t pos = 0;
  int64_t lines = 0;
  int64_t n;
  while (pos < to && (n = in->read(buf.data(), buf.size())) > 0) {
    const char* p = buf.data() + (from > pos ? std::min<size_t>(from - pos, size_t(n)) : 0);
    const char* e = buf.data() + std::min<size_t>(size_t(n), to - pos);
    while (p < e && (p = static_cast<const char*>(std::memchr(p, '\n', size_t(e - p))))) {
      ++lines;
      ++p;
    }
    pos += size_t(n);
  }
  return lines;
}

// Finds the end of the root start tag in `head`; returns 0 when not there yet.
size_t rootTagEnd(const std::string& head, std::string& rootClose) {
  size_t i = 0;
  while (i < head.size()) {
    size_t lt = head.find('<', i);
    if (lt == std::string::npos || lt + 1 >= head.size()) return 0;
    char c = head[lt + 1];
    if (c == '?') {
      size_t e = head.find("?>", lt);
      if (e == std::string::npos) return 0;
      i = e + 2;
    } else if (c == '!') {
      size_t e = head.compare(lt, 4, "<!--") == 0 ? head.find("-->", lt) : head.find('>', lt);
      if (e == std::string::npos) return 0;
      i = e + 1;
    } else {
      size_t nameEnd = head.find_first_of(" \t\r\n/>", lt + 1);
      if (nameEnd == std::string::npos) return 0;
      rootClose = "</" + head.substr(lt + 1, nameEnd - lt - 1) + ">";
      char q = 0;
      for (size_t k = lt; k < head.size(); ++k) {
        char ch = head[k];
        if (q) {
          if (ch == q) q = 0;
        } else if (ch == '"' || ch == '\'') {
          q = ch;
        } else if (ch == '>') {
          return k + 1;
        }
      }
      return 0;
    }
  }
  return 0;
}

// Counts '\n' in [p, e).
int64_t countNewlines(const char* p, const char* e) {
  int64_t n = 0;
  while (p < e && (p = static_cast<const char*>(std::memchr(p, '\n', size_t(e - p))))) {
    ++n;
    ++p;
  }
  return n;
}

// True when the match of a member name at w[h] is inside a start tag "<prefix:name" (or "<name");
// sets `lt` to the '<'.
bool startTagAt(const char* w, size_t wl, size_t h, size_t& lt) {
  lt = h;
  while (lt > 0 && w[lt] != '<' && h - lt < 64) --lt;
  if (w[lt] != '<' || lt + 1 >= wl || w[lt + 1] == '/') return false;
  for (size_t k = lt + 1; k < h; ++k)
    if (w[k] == ' ' || w[k] == '>' || w[k] == '\n' || w[k] == '\t' || w[k] == '\r') return false;
  return true;
}

constexpr size_t kMarkSpacing = 4u << 20;

// The pre-pass, in one read of the file. A byte search finds where top-level city object members
// start (SharedAppearance::marks) and the first top-level appearanceMember, and marks `shared`
// located; then the root start tag followed by everything from that appearanceMember to the end
// is parsed into shared.store, and `shared` is marked done (always, also on failure).
void appearancePrePass(const std::string& uri, const ReadOptions& options, SharedAppearance& shared) {
  struct SealOnExit {
    SharedAppearance& s;
    ~SealOnExit() { s.store.seal(); }
  } sealOnExit{shared};
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) return;
  static constexpr char kAppearance[] = "appearanceMember";
  static constexpr char kMember[] = "cityObjectMember";
  constexpr size_t kCarry = 128, kChunk = 1 << 20;
  std::vector<char> buf(kCarry + kChunk);
  size_t carryLen = 0, pos = 0;  // pos: file offset of buf[kCarry]
  std::string head, rootClose;
  size_t headerEnd = 0;
  int64_t newlinesBefore = 0;  // in [0, pos)
  size_t nextMark = 0;         // record the first member at or after this offset
  std::vector<SharedAppearance::Mark> marks;
  for (;;) {
    int64_t n = in->read(buf.data() + kCarry, kChunk);
    if (n <= 0) {
      shared.marks = std::move(marks);
      shared.fileSize = pos;
      shared.headerEnd = headerEnd;
      shared.rootClose = rootClose;
      return;
    }
    if (!headerEnd) {
      head.append(buf.data() + kCarry, size_t(n));
      headerEnd = rootTagEnd(head, rootClose);
      if (!headerEnd && head.size() > (8u << 20)) return;
      if (headerEnd) head.resize(headerEnd);
    }
    const char* w = buf.data() + kCarry - carryLen;
    const size_t wl = carryLen + size_t(n);
    const size_t wStart = pos - carryLen;
    const char* chunk = buf.data() + kCarry;
    // Member marks (only once the root tag is known).
    while (headerEnd && nextMark < pos + size_t(n)) {
      size_t from = nextMark > wStart ? nextMark - wStart : 0;
      const void* hitp = memmem(w + from, wl - from, kMember, sizeof kMember - 1);
      if (!hitp) break;
      size_t h = static_cast<const char*>(hitp) - w, lt;
      if (!startTagAt(w, wl, h, lt) || wStart + lt < headerEnd || wStart + lt < nextMark) {
        nextMark = std::max(nextMark, wStart + h + 1);
        continue;
      }
      size_t off = wStart + lt;
      int64_t nl = newlinesBefore;
      if (off >= pos)
        nl += countNewlines(chunk, chunk + (off - pos));
      else
        nl -= countNewlines(w + lt, chunk);
      marks.push_back({off, nl});
      nextMark = off + kMarkSpacing;
    }
    size_t from = 0;
    while (from < wl) {
      const void* hitp = memmem(w + from, wl - from, kAppearance, sizeof kAppearance - 1);
      if (!hitp) break;
      size_t h = static_cast<const char*>(hitp) - w, lt;
      if (!startTagAt(w, wl, h, lt) || wStart + lt < headerEnd) {
        from = h + 1;
        continue;
      }
      if (!headerEnd) return;
      {
        shared.found = true;
        shared.tailFrom = wStart + lt;
        shared.headerEnd = headerEnd;
        shared.rootClose = rootClose;
        // marks past the appearances are not member starts of the object section
        while (!marks.empty() && marks.back().offset >= shared.tailFrom) marks.pop_back();
        shared.marks = std::move(marks);
      }
      ReadStats ignored;
      CodeLists unused;  // the appearance-only parser reads no attributes
      std::shared_ptr<SharedAppearance> alias(std::shared_ptr<SharedAppearance>(), &shared);
      Parser app(uri, options, nullptr, shared.diag, ignored, unused, alias, true);
      xmlParserCtxtPtr ctxt = createParser(app, uri);
      if (!ctxt) return;
      xmlParseChunk(ctxt, head.data(), int(head.size()), 0);
      xmlParseChunk(ctxt, w + lt, int(wl - lt), 0);
      while (!app.fatal && !(options.cancel && options.cancel->load()) && (n = in->read(buf.data(), kChunk)) > 0)
        xmlParseChunk(ctxt, buf.data(), int(n), 0);
      finishParser(app, ctxt);
      shared.objectsAfter = app.objectsAfterAppearance;
      return;
    }
    newlinesBefore += countNewlines(chunk, chunk + n);
    pos += size_t(n);
    size_t c = std::min(kCarry, size_t(n));
    std::memmove(buf.data() + kCarry - c, buf.data() + kCarry + n - c, c);
    carryLen = c;
  }
}

class CityGmlReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    auto shared = std::make_shared<SharedAppearance>();
    // Pass 1: the byte search for member starts and the file's top-level appearances (texture
    // coordinates, materials).
    appearancePrePass(uri, options, *shared);

    // Pass 2: the city objects, in `parallelism` byte ranges parsed at once (on as many threads)
    // when the caller allows it and the file is plain and large. Each range starts at a member's start tag; its parser
    // is fed the file's beginning up to the first member (root tag, namespaces, envelope) first, and the root's end tag
    // after the range. When nothing but appearances follows the members, the last range stops there.
    std::vector<std::pair<size_t, int64_t>> ranges;  // (begin offset, newlines before it)
    const auto& marks = shared->marks;
    const size_t end = shared->found ? shared->tailFrom : shared->fileSize;
    if (options.parallelism > 1 && !vfs::isZipUri(uri) && marks.size() > 1 && !shared->rootClose.empty() &&
        marks.front().offset < (1u << 20)) {
      const size_t first = marks.front().offset, span = end - first;
      ranges.push_back({first, marks.front().newlines});
      for (int k = 1; k < options.parallelism; ++k) {
        size_t target = first + span * size_t(k) / size_t(options.parallelism);
        for (auto& m : marks)
          if (m.offset >= target) {
            if (m.offset > ranges.back().first) ranges.push_back({m.offset, m.newlines});
            break;
          }
      }
    }
    std::atomic<bool> stopAll{false};
    auto atLimit = [&]() -> std::string { return shared->objectsAfter ? std::string() : shared->rootClose; };
    bool ok = true, stoppedEarly = false, sawRoot = false, isCityGml = false, fatal = false;
    std::atomic<bool> cityGml3{false};  // set by any part parser
    uint64_t unsupported = 0, fed = 0;
    if (ranges.size() < 2) {
      Parser p(uri, options, &sink, diag, stats, codeLists_, shared, false);
      ok = runParser(p, uri, diag, options, shared->found ? shared->tailFrom : 0, atLimit, fed, stoppedEarly);
      sawRoot = p.sawRoot, isCityGml = p.isCityGml, fatal = p.fatal;
      cityGml3 = p.cityGml3;
      unsupported = p.unsupportedTextures();
    } else {
      std::string prefix;
      {
        std::string err;
        auto in = vfs::open(uri, err);
        prefix.resize(ranges.front().first);
        if (!in || in->read(prefix.data(), prefix.size()) != int64_t(prefix.size())) {
          diag.error("file-unreadable", "cannot read " + uri, uri);
          return false;
        }
      }
      const size_t n = ranges.size();
      std::vector<ReadStats> partStats(n);
      std::vector<CodeLists> partCodes(n);  // code lists are not shared between threads
      std::vector<char> partOk(n, 1), partStopped(n, 0), partRoot(n, 0), partGml(n, 0), partFatal(n, 0);
      std::vector<uint64_t> partFed(n, 0), partUnsupported(n, 0);
      auto runPart = [&](size_t i) {
        Parser p(uri, options, &sink, diag, partStats[i], partCodes[i], shared, false);
        p.lineOffset = ranges[i].second - ranges[0].second;
        p.stopAll = &stopAll;
        bool last = i + 1 == n;
        bool early = false;
        std::string close = shared->rootClose;
        partOk[i] =
            runParser(p, uri, diag, options, last ? (shared->found ? shared->tailFrom : 0) : ranges[i + 1].first,
                      last ? atLimit : std::function<std::string()>([&] { return close; }), partFed[i], early, prefix,
                      ranges[i].first);
        partStopped[i] = early;
        partRoot[i] = p.sawRoot, partGml[i] = p.isCityGml, partFatal[i] = p.fatal;
        if (p.cityGml3) cityGml3 = true;
        partUnsupported[i] = p.unsupportedTextures();
      };
      std::vector<std::thread> threads;
      for (size_t i = 1; i < n; ++i) threads.emplace_back(runPart, i);
      runPart(0);
      for (auto& t : threads) t.join();
      for (size_t i = 0; i < n; ++i) {
        stats.merge(partStats[i]);
        ok = ok && partOk[i];
        fatal = fatal || partFatal[i];
        unsupported += partUnsupported[i];
        fed += partFed[i];
      }
      fed += prefix.size();
      stoppedEarly = partStopped[n - 1];
      sawRoot = partRoot[0], isCityGml = partGml[0];
    }
    // Bytes not fed to the main pass (the appearance section) were read by the pre-pass.
    uint64_t size = std::max<uint64_t>(fed, shared->found ? 0 : shared->fileSize);
    {
      std::string err;
      auto in = vfs::open(uri, err);
      if (in && in->size() > int64_t(size)) size = uint64_t(in->size());
    }
    if (options.bytesRead && size > fed) options.bytesRead->fetch_add(size - fed);
    stats.bytes += size;
    if (stoppedEarly) {
      // The main pass did not see the appearance section: report what the pre-pass found there.
      // Its line numbers count from the root start tag straight to the appearances: add the lines
      // in between (counted only when there is something to report).
      auto found = shared->diag.diagnostics();
      int64_t skipped = found.empty() ? 0 : countLines(uri, shared->headerEnd, shared->tailFrom);
      for (auto d : found) {
        if (d.line > 0) d.line += skipped;
        diag.report(std::move(d));
      }
    }
    if (!ok) return false;
    if (!sawRoot) {
      if (!fatal) diag.error("xml-malformed", "no XML document element found", uri);  // else already said why
      return false;
    }
    if (!isCityGml) {
      diag.error("citygml-not", "not a CityGML document (root element is not core:CityModel)", uri);
      return false;
    }
    if (unsupported)
      diag.warning("texture-unsupported",
                   std::to_string(unsupported) + " georeferenced textures or generated texture coordinates ignored",
                   uri);
    if (fatal || (stoppedEarly && shared->diag.errorCount())) return false;
    return true;
  }

 private:
  CodeLists codeLists_;
};

}  // namespace

std::unique_ptr<Reader> createReader() { return std::make_unique<CityGmlReader>(); }

bool sniff(std::string_view head) {
  return head.find("CityModel") != std::string_view::npos &&
         (head.find("opengis.net/citygml/2.0") != std::string_view::npos ||
          head.find("opengis.net/citygml/1.0") != std::string_view::npos);
}

}  // namespace twin::citygml
