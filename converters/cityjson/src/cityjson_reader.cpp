// CityJSON 1.0/1.1/2.0 and CityJSONSeq reader (see cityjson_reader.h).
#include "twin/cityjson/cityjson_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "twin/crs.h"
#include "twin/vfs.h"

namespace twin::cityjson {

namespace {

using nlohmann::json;

// Building attributes CityGML defines, under their CityGML names.
const std::map<std::string, std::string, std::less<>>& buildingAttributeNames() {
  static const std::map<std::string, std::string, std::less<>> names = {
      {"measuredHeight", "bldg:measuredHeight"},
      {"storeysAboveGround", "bldg:storeysAboveGround"},
      {"storeysBelowGround", "bldg:storeysBelowGround"},
      {"storeyHeightsAboveGround", "bldg:storeyHeightsAboveGround"},
      {"storeyHeightsBelowGround", "bldg:storeyHeightsBelowGround"},
      {"yearOfConstruction", "bldg:yearOfConstruction"},
      {"yearOfDemolition", "bldg:yearOfDemolition"},
      {"roofType", "bldg:roofType"},
      {"function", "bldg:function"},
      {"usage", "bldg:usage"},
      {"class", "bldg:class"},
  };
  return names;
}

bool looksLikeDate(const std::string& s) {
  if (s.size() != 10 && !(s.size() > 10 && s[10] == 'T')) return false;
  for (size_t i = 0; i < 10; ++i) {
    bool digit = s[i] >= '0' && s[i] <= '9';
    if ((i == 4 || i == 7) ? s[i] != '-' : !digit) return false;
  }
  return true;
}

bool toAttribute(const std::string& key, const json& v, Attribute& a) {
  a.key = key;
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return false;
    case json::value_t::boolean:
      a.type = AttributeType::Boolean;
      a.boolean = v.get<bool>();
      a.text = a.boolean ? "true" : "false";
      return true;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      a.type = AttributeType::Integer;
      a.integer = v.get<int64_t>();
      a.text = std::to_string(a.integer);
      return true;
    case json::value_t::number_float:
      a.type = AttributeType::Double;
      a.number = v.get<double>();
      a.text = v.dump();
      return true;
    case json::value_t::string:
      a.text = v.get<std::string>();
      a.type = looksLikeDate(a.text) ? AttributeType::Date : AttributeType::String;
      return true;
    case json::value_t::object:
      a.type = AttributeType::Group;
      for (auto& [k, c] : v.items()) {
        Attribute ca;
        if (toAttribute(k, c, ca)) a.children.push_back(std::move(ca));
      }
      return !a.children.empty();
    case json::value_t::array:
    case json::value_t::binary:
      a.type = AttributeType::String;
      a.text = v.dump();
      return true;
  }
  return false;
}

// The string member `key` of `o`, or "" when `o` is no object or the member no string.
std::string str(const json& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The element `i` of `v` when `v` is an array that long, else nullptr.
const json* at(const json* v, size_t i) {
  if (!v || !v->is_array() || i >= v->size()) return nullptr;
  return &(*v)[i];
}

int indexOf(const json* v) {
  if (!v || !v->is_number_integer()) return -1;
  int64_t i = v->get<int64_t>();
  return i >= 0 && i < (1ll << 31) ? int(i) : -1;
}

// What one document or one CityJSONSeq header says about every feature.
struct Header {
  std::array<double, 3> scale{1, 1, 1}, translate{0, 0, 0};
  std::string srs;
  bool swapXY = false;
  std::vector<std::array<double, 3>> templateVertices;
  json templates;  // geometry-templates.templates
};

struct Appearance {
  std::vector<Material> materials;
  std::vector<Texture> textures;
  std::vector<Vec2f> uvs;
};

Appearance parseAppearance(const json& doc, const std::string& baseUri) {
  Appearance app;
  auto it = doc.find("appearance");
  if (it == doc.end() || !it->is_object()) return app;
  const json& a = *it;
  if (auto m = a.find("materials"); m != a.end() && m->is_array())
    for (auto& mj : *m) {
      Material mat;
      if (auto d = mj.find("diffuseColor"); d != mj.end() && d->is_array() && d->size() == 3)
        for (int k = 0; k < 3; ++k)
          if ((*d)[k].is_number()) mat.diffuse[k] = float(std::clamp((*d)[k].get<double>(), 0.0, 1.0));
      if (auto t = mj.find("transparency"); t != mj.end() && t->is_number())
        mat.transparency = float(std::clamp(t->get<double>(), 0.0, 1.0));
      app.materials.push_back(mat);
    }
  if (auto t = a.find("textures"); t != a.end() && t->is_array())
    for (auto& tj : *t) {
      Texture tex;
      std::string image = str(tj, "image");
      tex.uri = image.empty() ? std::string() : vfs::resolve(baseUri, image);
      std::string type = str(tj, "type");
      tex.mimeType = type == "PNG" ? "image/png" : type == "JPG" ? "image/jpeg" : "";
      app.textures.push_back(std::move(tex));
    }
  if (auto v = a.find("vertices-texture"); v != a.end() && v->is_array())
    for (auto& uv : *v) {
      if (uv.is_array() && uv.size() >= 2 && uv[0].is_number() && uv[1].is_number())
        app.uvs.push_back({uv[0].get<float>(), uv[1].get<float>()});
      else
        app.uvs.push_back({0, 0});
    }
  return app;
}

// Parses "2.2" / 2 into (2, 2.2).
bool parseLod(const json& g, int& lod, double& refinement) {
  auto it = g.find("lod");
  if (it == g.end()) return false;
  if (it->is_number())
    refinement = it->get<double>();
  else if (it->is_string())
    refinement = std::atof(it->get<std::string>().c_str());
  else
    return false;
  if (!(refinement >= 0 && refinement < 5)) return false;
  lod = int(std::floor(refinement));
  return true;
}

// Turns one feature's city objects (a whole document, or one CityJSONFeature) into top-level
// CityObjects for the sink.
class FeatureConverter {
 public:
  FeatureConverter(const Header& h, const ReadOptions& o, const std::string& uri, DiagnosticSink& d, ReadStats& s)
      : header_(h), options_(o), uri_(uri), diag_(d), stats_(s) {
    auto it = o.formatOptions.find("cityjson.theme");
    if (it != o.formatOptions.end()) theme_ = it->second;
  }

  // Returns false when the sink asked to stop.
  bool convert(const json& doc, int64_t line, ObjectSink& sink) {
    line_ = line;
    const json* objects = nullptr;
    if (auto it = doc.find("CityObjects"); it != doc.end() && it->is_object()) objects = &*it;
    if (!objects) {
      diag_.error("cityjson-malformed", "no \"CityObjects\" member", uri_, line_);
      return true;
    }
    vertices_.clear();
    if (auto it = doc.find("vertices"); it != doc.end() && it->is_array()) {
      vertices_.reserve(it->size());
      size_t bad = 0;
      for (auto& v : *it) {
        if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number()) {
          ++bad;
          vertices_.push_back({NAN, NAN, NAN});
          continue;
        }
        vertices_.push_back({v[0].get<double>() * header_.scale[0] + header_.translate[0],
                             v[1].get<double>() * header_.scale[1] + header_.translate[1],
                             v[2].get<double>() * header_.scale[2] + header_.translate[2]});
      }
      if (bad)
        diag_.error("cityjson-bad-vertex",
                    std::to_string(bad) + " vertices are not three numbers; surfaces using them are dropped", uri_,
                    line_);
    }
    app_ = parseAppearance(doc, uri_);
    for (auto& t : app_.textures)
      if (!t.uri.empty() && checkedTextures_.insert(t.uri).second && !vfs::exists(t.uri))
        diag_.warning("texture-missing",
                      "texture image " + t.uri + " not found; its surfaces are drawn in a plain colour", uri_, line_);
    objects_ = objects;
    for (auto& [id, o] : objects->items()) {
      if (options_.cancel && options_.cancel->load()) return false;
      if (!o.is_object()) {
        diag_.error("cityjson-malformed", "city object is not a JSON object", uri_, line_, id);
        continue;
      }
      bool topLevel = true;
      if (auto p = o.find("parents"); p != o.end() && p->is_array() && !p->empty()) {
        topLevel = false;
        for (auto& pid : *p)
          if (!pid.is_string() || !objects->contains(pid.get<std::string>())) {
            diag_.warning("cityjson-broken-reference",
                          "parent " + pid.dump() + " is not in the file; the object is read on its own", uri_, line_,
                          id);
            topLevel = true;
          }
      }
      if (!topLevel) continue;
      std::string type = str(o, "type");
      if (!wanted(type)) {
        stats_.skippedByType[type.empty() ? "(no type)" : type]++;
        continue;
      }
      CityObject obj;
      std::set<std::string> visiting;
      build(id, o, obj, visiting);
      stats_.objectsByType[obj.type]++;
      for (auto& c : obj.children) stats_.objectsByType[c.type]++;
      if (!sink.accept(std::move(obj))) return false;
    }
    return true;
  }

 private:
  const Header& header_;
  const ReadOptions& options_;
  const std::string& uri_;
  DiagnosticSink& diag_;
  ReadStats& stats_;
  std::string theme_;
  int64_t line_ = 0;
  std::vector<std::array<double, 3>> vertices_;
  Appearance app_;
  const json* objects_ = nullptr;
  std::set<std::string> checkedTextures_;

  bool wanted(const std::string& type) const {
    const auto& types = options_.objectTypes;
    if (types.empty()) return type == "Building";
    for (auto& t : types)
      if (t == "*" || t == type || (t == "ReliefFeature" && type == "TINRelief") ||
          (t == "Square" && type == "TransportSquare"))
        return true;
    return false;
  }

  static bool isPart(const std::string& type) {
    return type.size() > 4 && type.compare(type.size() - 4, 4, "Part") == 0;
  }
  static bool mergesIntoParent(const std::string& type) {
    return type.find("Installation") != std::string::npos || type.find("ConstructiveElement") != std::string::npos;
  }

  void build(const std::string& id, const json& o, CityObject& obj, std::set<std::string>& visiting) {
    visiting.insert(id);
    obj.id = id;
    obj.type = str(o, "type");
    if (obj.type.empty()) obj.type = "GenericCityObject";
    obj.srs = header_.srs;
    obj.sourceFile = uri_;
    obj.sourceLine = line_;
    bool building = obj.type == "Building" || obj.type == "BuildingPart";
    if (auto a = o.find("attributes"); a != o.end() && a->is_object()) {
      for (auto& [k, v] : a->items()) {
        std::string key = k;
        if (building) {
          auto it = buildingAttributeNames().find(k);
          if (it != buildingAttributeNames().end()) key = it->second;
        }
        Attribute attr;
        if (!toAttribute(key, v, attr)) continue;
        if (key == "bldg:measuredHeight" && attr.type == AttributeType::Integer) {
          attr.type = AttributeType::Double;
          attr.number = double(attr.integer);
        }
        if (key == "bldg:measuredHeight") attr.uom = "m";
        obj.attributes.push_back(std::move(attr));
      }
    }
    if (auto a = o.find("address"); a != o.end()) {
      const json* first = a->is_array() ? at(&*a, 0) : &*a;
      if (first && first->is_object()) {
        Attribute addr;
        json copy = *first;
        copy.erase("location");
        if (toAttribute("address", copy, addr)) obj.attributes.push_back(std::move(addr));
      }
    }
    std::vector<double> refinement;  // per obj.geometries entry
    if (auto g = o.find("geometry"); g != o.end() && g->is_array())
      for (auto& gj : *g) addGeometry(gj, obj, refinement);
    if (auto c = o.find("children"); c != o.end() && c->is_array()) {
      for (auto& cid : *c) {
        if (!cid.is_string()) continue;
        std::string childId = cid.get<std::string>();
        auto it = objects_->find(childId);
        if (it == objects_->end() || !it->is_object()) {
          diag_.warning("cityjson-broken-reference", "child \"" + childId + "\" is not in the file", uri_, line_, id);
          continue;
        }
        if (visiting.count(childId)) {
          diag_.warning("cityjson-broken-reference", "child \"" + childId + "\" is its own ancestor; ignored", uri_,
                        line_, id);
          continue;
        }
        std::string childType = str(*it, "type");
        if (isPart(childType)) {
          CityObject child;
          build(childId, *it, child, visiting);
          obj.children.push_back(std::move(child));
        } else if (mergesIntoParent(childType)) {
          CityObject child;
          build(childId, *it, child, visiting);
          mergeInto(obj, refinement, child);
        } else {
          stats_.skippedByType[childType.empty() ? "(no type)" : childType]++;
        }
      }
    }
    visiting.erase(id);
  }

  // Appends `child`'s geometry (and its own merged children) to `obj` at the same LODs.
  void mergeInto(CityObject& obj, std::vector<double>& refinement, CityObject& child) {
    for (auto& cg : child.geometries) {
      Geometry* g = nullptr;
      for (auto& og : obj.geometries)
        if (og.lod == cg.lod) g = &og;
      if (!g) {
        obj.geometries.emplace_back();
        refinement.push_back(cg.lod);
        g = &obj.geometries.back();
        g->lod = cg.lod;
      }
      appendGeometry(
          *g, cg, [&](int t) { return objectTexture(obj, child.textures[t]); },
          [&](int m) { return objectMaterial(obj, child.materials[m]); });
    }
    for (auto& c : child.children) obj.children.push_back(std::move(c));
  }

  // Appends `from`'s polygons to `to`; texture and material indices of `from` are remapped by
  // `remapTexture` / `remapMaterial` (identity when null).
  template <class TexFn, class MatFn>
  static void appendGeometry(Geometry& to, const Geometry& from, TexFn remapTexture, MatFn remapMaterial) {
    uint32_t pointBase = uint32_t(to.points.size());
    uint32_t ringBase = uint32_t(to.ringCount());
    if (!from.uvs.empty() && to.uvs.size() != to.points.size()) to.uvs.resize(to.points.size(), Vec2f{0, 0});
    to.points.insert(to.points.end(), from.points.begin(), from.points.end());
    for (size_t r = 1; r < from.ringStart.size(); ++r) to.ringStart.push_back(pointBase + from.ringStart[r]);
    if (!from.uvs.empty())
      to.uvs.insert(to.uvs.end(), from.uvs.begin(), from.uvs.end());
    else if (!to.uvs.empty())
      to.uvs.resize(to.points.size(), Vec2f{0, 0});
    for (auto p : from.polygons) {
      p.firstRing += ringBase;
      if (p.texture >= 0) p.texture = remapTexture(p.texture);
      if (p.material >= 0) p.material = remapMaterial(p.material);
      to.polygons.push_back(p);
    }
  }

  static int objectTexture(CityObject& obj, const Texture& t) {
    for (size_t i = 0; i < obj.textures.size(); ++i)
      if (obj.textures[i] == t) return int(i);
    obj.textures.push_back(t);
    return int(obj.textures.size() - 1);
  }
  static int objectMaterial(CityObject& obj, const Material& m) {
    for (size_t i = 0; i < obj.materials.size(); ++i)
      if (obj.materials[i] == m) return int(i);
    obj.materials.push_back(m);
    return int(obj.materials.size() - 1);
  }

  // The values array of the chosen theme of a "material" or "texture" member, or nullptr; for
  // materials, `single` is set by {"value": i}.
  const json* themeValues(const json& g, const char* member, int& single) const {
    single = -1;
    auto it = g.find(member);
    if (it == g.end() || !it->is_object() || it->empty()) return nullptr;
    const json* theme = nullptr;
    if (!theme_.empty()) {
      auto t = it->find(theme_);
      if (t == it->end()) return nullptr;
      theme = &*t;
    } else {
      theme = &it->begin().value();  // first theme by name
    }
    if (!theme->is_object()) return nullptr;
    if (auto v = theme->find("value"); v != theme->end()) single = indexOf(&*v);
    if (auto v = theme->find("values"); v != theme->end() && v->is_array()) return &*v;
    return nullptr;
  }

  void addGeometry(const json& gj, CityObject& obj, std::vector<double>& refinement) {
    if (!gj.is_object()) return;
    std::string type = str(gj, "type");
    if (type == "GeometryInstance") {
      addInstance(gj, obj, refinement);
      return;
    }
    addGeometryWith(gj, vertices_, obj, refinement);
  }

  void addInstance(const json& gj, CityObject& obj, std::vector<double>& refinement) {
    int t = -1;
    if (auto it = gj.find("template"); it != gj.end()) t = indexOf(&*it);
    const json* tpl = at(&header_.templates, size_t(std::max(t, 0)));
    const json* ref = nullptr;
    if (auto it = gj.find("boundaries"); it != gj.end()) ref = at(&*it, 0);
    int refIndex = indexOf(ref);
    auto m = gj.find("transformationMatrix");
    if (t < 0 || !tpl || refIndex < 0 || size_t(refIndex) >= vertices_.size() || m == gj.end() || !m->is_array() ||
        m->size() != 16) {
      diag_.error("cityjson-bad-template",
                  "geometry instance with a missing template, reference point or 4x4 transformationMatrix; skipped",
                  uri_, line_, obj.id);
      return;
    }
    double M[16];
    for (int i = 0; i < 16; ++i) M[i] = (*m)[i].is_number() ? (*m)[i].get<double>() : 0.0;
    auto origin = vertices_[refIndex];
    std::vector<std::array<double, 3>> placed;
    placed.reserve(header_.templateVertices.size());
    for (auto& v : header_.templateVertices) {
      std::array<double, 3> p;
      for (int r = 0; r < 3; ++r)
        p[r] = M[4 * r] * v[0] + M[4 * r + 1] * v[1] + M[4 * r + 2] * v[2] + M[4 * r + 3] + origin[r];
      placed.push_back(p);
    }
    // The instance's appearance comes from the template's geometry object.
    addGeometryWith(*tpl, placed, obj, refinement);
  }

  void addGeometryWith(const json& gj, const std::vector<std::array<double, 3>>& verts, CityObject& obj,
                       std::vector<double>& refinement) {
    std::string type = str(gj, "type");
    int depth = 0;  // array levels above a surface
    if (type == "MultiSurface" || type == "CompositeSurface")
      depth = 1;
    else if (type == "Solid")
      depth = 2;
    else if (type == "MultiSolid" || type == "CompositeSolid")
      depth = 3;
    else {
      stats_.skippedByType[type.empty() ? "(geometry without type)" : type + " geometry"]++;
      return;
    }
    int lod = 0;
    double refine = 0;
    if (!parseLod(gj, lod, refine)) {
      diag_.warning("cityjson-bad-lod", type + " geometry without a valid \"lod\"; skipped", uri_, line_, obj.id);
      return;
    }
    auto b = gj.find("boundaries");
    if (b == gj.end() || !b->is_array()) {
      diag_.warning("cityjson-malformed", type + " geometry without \"boundaries\"; skipped", uri_, line_, obj.id);
      return;
    }
    const json* semSurfaces = nullptr;
    const json* semValues = nullptr;
    if (auto s = gj.find("semantics"); s != gj.end() && s->is_object()) {
      if (auto ss = s->find("surfaces"); ss != s->end() && ss->is_array()) semSurfaces = &*ss;
      if (auto sv = s->find("values"); sv != s->end() && sv->is_array()) semValues = &*sv;
    }
    int singleMaterial = -1, unused = -1;
    const json* matValues = themeValues(gj, "material", singleMaterial);
    const json* texValues = themeValues(gj, "texture", unused);

    Geometry g;
    g.lod = lod;
    std::vector<Vec2f> uvs;
    bool textured = false;
    size_t badIndices = 0, badTextures = 0;
    std::map<int, int> texMap, matMap;

    auto addSurface = [&](const json& surface, const json* sem, const json* mat, const json* tex) {
      if (!surface.is_array() || surface.empty()) return;
      Polygon poly;
      poly.firstRing = uint32_t(g.ringCount());
      int si = indexOf(sem);
      if (si >= 0 && semSurfaces && size_t(si) < semSurfaces->size()) {
        const json& sj = (*semSurfaces)[si];
        if (sj.is_object()) poly.surface = surfaceTypeFromName(str(sj, "type"));
      }
      int mi = mat ? indexOf(mat) : singleMaterial;
      if (mi >= 0 && size_t(mi) < app_.materials.size()) {
        auto [it, fresh] = matMap.try_emplace(mi, -1);
        if (fresh) it->second = objectMaterial(obj, app_.materials[mi]);
        poly.material = it->second;
      }
      // Texture: every ring needs [texture, uv per vertex].
      int ti = -1;
      bool texOk = tex && tex->is_array() && tex->size() == surface.size();
      if (texOk) {
        const json* first = at(at(tex, 0), 0);
        ti = indexOf(first);
        if (!first || first->is_null())
          texOk = false;
        else if (ti < 0 || size_t(ti) >= app_.textures.size())
          texOk = false, ++badTextures;
      }
      size_t pointsBefore = g.points.size();
      size_t ringsBefore = g.ringStart.size();
      for (size_t r = 0; r < surface.size(); ++r) {
        const json& ring = surface[r];
        if (!ring.is_array() || ring.size() < 3) {
          if (r == 0) break;
          continue;
        }
        const json* tr = texOk ? at(tex, r) : nullptr;
        bool ringTex = tr && tr->is_array() && tr->size() == ring.size() + 1;
        if (texOk && !ringTex) texOk = false, ++badTextures;
        bool ok = true;
        size_t start = g.points.size();
        for (size_t k = 0; k < ring.size(); ++k) {
          int vi = indexOf(&ring[k]);
          if (vi < 0 || size_t(vi) >= verts.size() || std::isnan(verts[vi][0])) {
            ok = false;
            break;
          }
          auto v = verts[vi];
          if (header_.swapXY) std::swap(v[0], v[1]);
          g.points.push_back({v[0], v[1], v[2]});
          Vec2f uv{0, 0};
          if (ringTex) {
            int ui = indexOf(&(*tr)[k + 1]);
            if (ui >= 0 && size_t(ui) < app_.uvs.size())
              uv = app_.uvs[ui];
            else
              texOk = false, ++badTextures;
          }
          uvs.push_back(uv);
        }
        if (!ok) {
          ++badIndices;
          g.points.resize(start);
          uvs.resize(start);
          if (r == 0) break;
          continue;
        }
        g.ringStart.push_back(uint32_t(g.points.size()));
      }
      uint32_t rings = uint32_t(g.ringStart.size() - ringsBefore);
      if (rings == 0 || g.ringStart[ringsBefore] - uint32_t(pointsBefore) < 3 ||
          (ringsBefore > 0 && g.ringStart[ringsBefore - 1] != pointsBefore)) {
        // the exterior was unusable: drop what this surface added
        g.points.resize(pointsBefore);
        uvs.resize(pointsBefore);
        g.ringStart.resize(ringsBefore);
        return;
      }
      poly.ringCount = rings;
      if (texOk && ti >= 0) {
        auto [it, fresh] = texMap.try_emplace(ti, -1);
        if (fresh) it->second = objectTexture(obj, app_.textures[ti]);
        poly.texture = it->second;
        textured = true;
      }
      g.polygons.push_back(poly);
    };

    const json& bj = *b;
    if (depth == 1) {
      for (size_t s = 0; s < bj.size(); ++s) addSurface(bj[s], at(semValues, s), at(matValues, s), at(texValues, s));
    } else if (depth == 2) {
      // A solid's first shell is its outside; inner shells bound voids and are not drawn.
      const json* shell = at(&bj, 0);
      if (shell && shell->is_array())
        for (size_t s = 0; s < shell->size(); ++s)
          addSurface((*shell)[s], at(at(semValues, 0), s), at(at(matValues, 0), s), at(at(texValues, 0), s));
    } else {
      for (size_t d = 0; d < bj.size(); ++d) {
        const json* shell = at(at(&bj, d), 0);
        if (!shell || !shell->is_array()) continue;
        for (size_t s = 0; s < shell->size(); ++s)
          addSurface((*shell)[s], at(at(at(semValues, d), 0), s), at(at(at(matValues, d), 0), s),
                     at(at(at(texValues, d), 0), s));
      }
    }
    if (badIndices)
      diag_.error("cityjson-bad-vertex",
                  std::to_string(badIndices) + " rings of a " + type + " name vertices the file does not have; dropped",
                  uri_, line_, obj.id);
    if (badTextures)
      diag_.warning("texture-coords-mismatch",
                    std::to_string(badTextures) +
                        " textured surfaces have texture values that do not match their rings; left untextured",
                    uri_, line_, obj.id);
    if (textured) g.uvs = std::move(uvs);
    if (g.empty()) return;
    // One geometry per LOD: a finer refinement (LOD 1.3 over 1.2) replaces, an equal one adds.
    for (size_t i = 0; i < obj.geometries.size(); ++i) {
      if (obj.geometries[i].lod != lod) continue;
      if (refine > refinement[i]) {
        obj.geometries[i] = std::move(g);
        refinement[i] = refine;
      } else if (refine == refinement[i]) {
        auto same = [](int i) { return i; };  // indices already point into obj
        appendGeometry(obj.geometries[i], g, same, same);
      }
      return;
    }
    obj.geometries.push_back(std::move(g));
    refinement.push_back(refine);
  }
};

// Hostile-input limits: JSON nesting (CityJSON needs about 10 levels; deeper documents would
// exhaust the stack of any recursive walk) and a whole file's size (large data: CityJSONSeq).
constexpr int kMaxJsonDepth = 128;
constexpr size_t kMaxDocumentBytes = size_t(2) << 30;

// The byte where `text` first nests deeper than kMaxJsonDepth, or npos.
size_t tooDeepAt(std::string_view text) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

int64_t lineOf(const std::string& text, size_t byte) {
  return 1 + std::count(text.begin(), text.begin() + std::min(byte, text.size()), '\n');
}

// Reads transform, CRS and templates from a document or a CityJSONSeq first line.
bool readHeader(const json& doc, const ReadOptions& options, const std::string& uri, int64_t line, Header& h,
                DiagnosticSink& diag) {
  std::string type = str(doc, "type");
  if (type != "CityJSON" && !doc.contains("CityObjects")) {
    diag.error("cityjson-malformed", "not a CityJSON document (\"type\" is \"" + type + "\")", uri, line);
    return false;
  }
  std::string version = doc.contains("version") && doc["version"].is_string() ? doc["version"].get<std::string>() : "";
  if (version != "1.0" && version != "1.1" && version != "2.0" && version.rfind("2.0.", 0) != 0)
    diag.warning("cityjson-version",
                 "CityJSON version \"" + version + "\" is not one twin knows (1.0, 1.1, 2.0); reading it as 2.0", uri,
                 line);
  if (auto t = doc.find("transform"); t != doc.end() && t->is_object()) {
    auto s = t->find("scale"), tr = t->find("translate");
    bool ok = s != t->end() && tr != t->end() && s->is_array() && tr->is_array() && s->size() == 3 && tr->size() == 3;
    for (int k = 0; ok && k < 3; ++k) {
      ok = (*s)[k].is_number() && (*tr)[k].is_number();
      if (ok) h.scale[k] = (*s)[k].get<double>(), h.translate[k] = (*tr)[k].get<double>();
    }
    if (!ok) {
      diag.error("cityjson-malformed", "\"transform\" needs \"scale\" and \"translate\" of three numbers each", uri,
                 line);
      return false;
    }
  }
  std::string crs;
  if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
    auto r = m->find("referenceSystem");
    if (r != m->end() && r->is_string()) crs = r->get<std::string>();
  }
  if (!options.crsOverride.empty()) crs = options.crsOverride;
  if (crs.empty()) {
    diag.error("crs-missing", "the file has no metadata.referenceSystem; give its CRS with --crs EPSG:n", uri, line);
    return false;
  }
  h.srs = canonicalSrs(crs).value_or(crs);
  h.swapXY = crsNorthFirst(h.srs);
  if (auto g = doc.find("geometry-templates"); g != doc.end() && g->is_object()) {
    if (auto t = g->find("templates"); t != g->end() && t->is_array()) h.templates = *t;
    if (auto v = g->find("vertices-templates"); v != g->end() && v->is_array()) {
      for (auto& p : *v) {
        if (p.is_array() && p.size() == 3 && p[0].is_number() && p[1].is_number() && p[2].is_number())
          h.templateVertices.push_back({p[0].get<double>(), p[1].get<double>(), p[2].get<double>()});
        else
          h.templateVertices.push_back({NAN, NAN, NAN});
      }
    }
  }
  return true;
}

class CityJsonReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    std::string err;
    auto in = vfs::open(uri, err);
    if (!in) {
      diag.error("input-unreadable", err, uri);
      return false;
    }
    // CityJSONSeq when the first line is a header and a CityJSONFeature follows.
    std::string head(8192, '\0');
    int64_t n = in->read(head.data(), head.size());
    if (n < 0) {
      diag.error("input-unreadable", "read error", uri);
      return false;
    }
    head.resize(size_t(n));
    std::string lower = uri;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    bool seq = head.find("\"CityJSONFeature\"") != std::string::npos ||
               (lower.size() > 6 && lower.compare(lower.size() - 6, 6, ".jsonl") == 0);
    if (seq) return readSeq(uri, std::move(head), *in, options, sink, diag, stats);
    std::string text = std::move(head);
    char buf[1 << 16];
    while ((n = in->read(buf, sizeof buf)) > 0) {
      text.append(buf, size_t(n));
      if (text.size() > kMaxDocumentBytes) {
        diag.error("cityjson-too-large",
                   "a CityJSON document larger than " + std::to_string(kMaxDocumentBytes >> 30) +
                       " GB is not read whole: convert it to CityJSONSeq (cjio ... export jsonl) and read that",
                   uri);
        return false;
      }
    }
    if (n < 0) {
      diag.error("input-unreadable", "read error", uri);
      return false;
    }
    stats.bytes += text.size();
    if (options.bytesRead) *options.bytesRead += text.size();
    if (size_t at = tooDeepAt(text); at != std::string::npos) {
      diag.error("json-too-deep",
                 "JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep; file refused", uri,
                 lineOf(text, at));
      return false;
    }
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      // A CityJSONSeq under a .json name: the first line alone is a CityJSON header.
      size_t nl = text.find('\n');
      if (nl != std::string::npos && lineOf(text, e.byte) == 2) {
        auto first = json::parse(text.substr(0, nl), nullptr, false);
        if (first.is_object() && str(first, "type") == "CityJSON") {
          stats.bytes -= text.size();
          if (options.bytesRead) *options.bytesRead -= text.size();
          return readSeqText(uri, std::move(text), options, sink, diag, stats);
        }
      }
      diag.error("json-malformed", std::string("JSON syntax error: ") + e.what(), uri, lineOf(text, e.byte));
      return false;
    } catch (const json::exception& e) {  // e.g. a number too large for a double (out_of_range)
      diag.error("json-malformed", std::string("JSON error: ") + e.what(), uri);
      return false;
    }
    if (!doc.is_object()) {
      diag.error("cityjson-malformed", "not a CityJSON document (the top level is not an object)", uri, 1);
      return false;
    }
    try {
      Header h;
      if (!readHeader(doc, options, uri, 0, h, diag)) return false;
      FeatureConverter conv(h, options, uri, diag, stats);
      conv.convert(doc, 0, sink);
    } catch (const json::exception& e) {  // a member of an unexpected JSON type somewhere
      diag.error("cityjson-malformed", std::string("unexpected JSON structure: ") + e.what(), uri);
      return false;
    }
    return true;
  }

 private:
  bool readSeqText(const std::string& uri, std::string text, const ReadOptions& options, ObjectSink& sink,
                   DiagnosticSink& diag, ReadStats& stats) {
    struct Empty : vfs::InputStream {
      int64_t read(char*, size_t) override { return 0; }
      int64_t size() const override { return 0; }
    } empty;
    return readSeq(uri, std::move(text), empty, options, sink, diag, stats);
  }

  bool readSeq(const std::string& uri, std::string buffer, vfs::InputStream& in, const ReadOptions& options,
               ObjectSink& sink, DiagnosticSink& diag, ReadStats& stats) {
    Header h;
    bool haveHeader = false, stop = false;
    std::unique_ptr<FeatureConverter> conv;
    int64_t lineNo = 0;
    size_t pos = 0;
    bool eof = false;
    char buf[1 << 16];
    auto handle = [&](std::string_view line) {
      ++lineNo;
      stats.bytes += line.size() + 1;
      if (options.bytesRead) *options.bytesRead += line.size() + 1;
      size_t b = line.find_first_not_of(" \t\r");
      if (b == std::string_view::npos) return;
      if (tooDeepAt(line) != std::string_view::npos) {
        diag.error("json-too-deep",
                   "JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep; line skipped", uri,
                   lineNo);
        if (!haveHeader) stop = true;
        return;
      }
      json doc;
      try {
        doc = json::parse(line);
      } catch (const json::exception& e) {  // parse_error, or out_of_range for an absurd number
        diag.error("json-malformed", std::string("JSON error: ") + e.what() + "; line skipped", uri, lineNo);
        if (!haveHeader) stop = true;
        return;
      }
      if (!haveHeader) {
        if (!doc.is_object() || str(doc, "type") != "CityJSON") {
          diag.error("cityjson-seq-header",
                     "a CityJSONSeq file starts with a \"CityJSON\" line holding the transform and CRS", uri, lineNo);
          stop = true;
          return;
        }
        if (!readHeader(doc, options, uri, lineNo, h, diag)) {
          stop = true;
          return;
        }
        haveHeader = true;
        conv = std::make_unique<FeatureConverter>(h, options, uri, diag, stats);
        // A header may hold city objects of its own (CityJSONSeq allows none; be lenient).
        if (doc.contains("CityObjects") && doc["CityObjects"].is_object() && !doc["CityObjects"].empty())
          if (!conv->convert(doc, lineNo, sink)) stop = true;
        return;
      }
      if (!doc.is_object() || str(doc, "type") != "CityJSONFeature") {
        diag.error("cityjson-malformed", "line is not a CityJSONFeature; skipped", uri, lineNo);
        return;
      }
      try {
        if (!conv->convert(doc, lineNo, sink)) stop = true;
      } catch (const json::exception& e) {
        diag.error("cityjson-malformed", std::string("unexpected JSON structure: ") + e.what() + "; line skipped", uri,
                   lineNo);
      }
    };
    while (!stop) {
      size_t nl = buffer.find('\n', pos);
      if (nl != std::string::npos) {
        handle(std::string_view(buffer).substr(pos, nl - pos));
        pos = nl + 1;
        continue;
      }
      if (eof) {
        if (pos < buffer.size()) handle(std::string_view(buffer).substr(pos));
        break;
      }
      buffer.erase(0, pos);
      pos = 0;
      int64_t n = in.read(buf, sizeof buf);
      if (n < 0) {
        diag.error("input-unreadable", "read error", uri, lineNo);
        return false;
      }
      if (n == 0)
        eof = true;
      else
        buffer.append(buf, size_t(n));
      if (buffer.size() > kMaxDocumentBytes) {
        diag.error("cityjson-too-large",
                   "a line longer than " + std::to_string(kMaxDocumentBytes >> 30) +
                       " GB: not a CityJSONSeq feature; reading stopped",
                   uri, lineNo + 1);
        return haveHeader;
      }
      if (options.cancel && options.cancel->load()) break;
    }
    return haveHeader;
  }
};

}  // namespace

std::unique_ptr<Reader> createReader() { return std::make_unique<CityJsonReader>(); }

bool sniff(std::string_view head) {
  return head.find("\"CityJSON\"") != std::string_view::npos ||
         head.find("\"CityJSONFeature\"") != std::string_view::npos ||
         head.find("\"CityObjects\"") != std::string_view::npos;
}

}  // namespace twin::cityjson
