#include "twin/mojxml/mojxml_reader.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "twin/vfs.h"

namespace twin::mojxml {

namespace {

const char* kNamespace = "http://www.moj.go.jp/MINJI/tizuxml";

bool is(const xmlNode* n, const char* local) {
  return n && n->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(n->name), local) == 0;
}

std::string text(const xmlNode* n) {
  if (!n) return {};
  xmlChar* c = xmlNodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  xmlFree(c);
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string s = v ? reinterpret_cast<const char*>(v) : "";
  xmlFree(v);
  return s;
}

const xmlNode* child(const xmlNode* n, const char* local) {
  for (const xmlNode* c = n ? n->children : nullptr; c; c = c->next)
    if (is(c, local)) return c;
  return nullptr;
}

// Every descendant element named `local`, in document order.
void collect(const xmlNode* n, const char* local, std::vector<const xmlNode*>& out) {
  for (const xmlNode* c = n ? n->children : nullptr; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is(c, local)) out.push_back(c);
    collect(c, local, out);
  }
}

bool number(const std::string& s, double& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(v);
}

// "公共座標9系" -> 9; 0 for anything else (任意座標系).
int planeZone(const std::string& crs) {
  const std::string prefix = "公共座標";
  if (crs.rfind(prefix, 0) != 0) return 0;
  std::string rest = crs.substr(prefix.size());
  int zone = 0;
  size_t i = 0;
  while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') zone = zone * 10 + (rest[i++] - '0');
  if (rest.compare(i, std::string::npos, "系") != 0) return 0;
  return zone >= 1 && zone <= 19 ? zone : 0;
}

class MojReader : public Reader {
 public:
  bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
            ReadStats& stats) override {
    std::vector<uint8_t> bytes;
    std::string err;
    if (!vfs::readAll(uri, bytes, err, 2ull << 30)) {
      diag.error("file-unreadable", err, uri);
      return false;
    }
    stats.bytes += bytes.size();
    if (options.bytesRead) options.bytesRead->fetch_add(bytes.size());
    // No network, no entity substitution (XML_PARSE_NOENT off: entities stay unexpanded).
    xmlDocPtr doc = xmlReadMemory(reinterpret_cast<const char*>(bytes.data()), int(bytes.size()), uri.c_str(), nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
      const xmlError* e = xmlGetLastError();
      diag.error("xml-malformed", std::string("not well-formed XML: ") + (e && e->message ? e->message : "?"), uri,
                 e ? e->line : 0);
      return false;
    }
    struct DocGuard {
      xmlDocPtr d;
      ~DocGuard() { xmlFreeDoc(d); }
    } guard{doc};
    if (doc->intSubset && doc->intSubset->entities) {
      diag.error("xml-entity-declared",
                 "the document declares XML entities; they are refused (billion-laughs and external-entity protection)",
                 uri);
      return false;
    }
    const xmlNode* root = xmlDocGetRootElement(doc);
    if (!is(root, "地図")) {
      diag.error("mojxml-not-map", "not a 地図XML document (root element is not 地図)", uri);
      return false;
    }
    const bool wanted = options.objectTypes.empty() ? false : [&] {
      for (auto& t : options.objectTypes)
        if (t == "*" || t == "Parcel") return true;
      return false;
    }();
    const std::string crsName = text(child(root, "座標系"));
    const int zone = planeZone(crsName);
    const xmlNode* themes = child(root, "主題属性");
    std::vector<const xmlNode*> parcels;
    collect(themes, "筆", parcels);
    if (!wanted) {
      stats.skippedByType["Parcel"] += parcels.size();
      return true;
    }
    if (zone == 0) {
      diag.error("mojxml-arbitrary-crs",
                 "map in " + (crsName.empty() ? std::string("no coordinate system") : crsName) +
                     " (任意座標系: local coordinates that cannot be placed on the Earth); its " +
                     std::to_string(parcels.size()) + " parcels are not converted",
                 uri, long(root->line));
      stats.skippedByType["Parcel"] += parcels.size();
      return true;
    }
    const std::string srs = "EPSG:" + std::to_string(6668 + zone);
    // Spatial attributes: points, curves (point references or direct positions), surfaces.
    std::unordered_map<std::string, Vec3> points;
    std::unordered_map<std::string, std::vector<std::string>> curves;  // id -> point ids
    std::unordered_map<std::string, const xmlNode*> surfaces;
    const xmlNode* space = child(root, "空間属性");
    for (const xmlNode* n = space ? space->children : nullptr; n; n = n->next) {
      if (is(n, "GM_Point")) {
        std::vector<const xmlNode*> xs, ys;
        collect(n, "X", xs);
        collect(n, "Y", ys);
        double x, y;
        if (!xs.empty() && !ys.empty() && number(text(xs[0]), x) && number(text(ys[0]), y))
          points[attr(n, "id")] = {x, y, 0.0};  // X north, Y east: the CRS's own axis order
        else
          diag.warning("mojxml-bad-point", "point without usable X/Y", uri, long(n->line), attr(n, "id"));
      } else if (is(n, "GM_Curve")) {
        std::vector<const xmlNode*> refs;
        collect(n, "GM_PointRef.point", refs);
        auto& list = curves[attr(n, "id")];
        for (auto* r : refs) list.push_back(attr(r, "idref"));
        // direct positions (GM_Position.direct) become anonymous points
        std::vector<const xmlNode*> direct;
        collect(n, "GM_Position.direct", direct);
        for (auto* d : direct) {
          std::vector<const xmlNode*> xs, ys;
          collect(d, "X", xs);
          collect(d, "Y", ys);
          double x, y;
          if (!xs.empty() && !ys.empty() && number(text(xs[0]), x) && number(text(ys[0]), y)) {
            std::string id = "#direct" + std::to_string(points.size());
            points[id] = {x, y, 0.0};
            list.push_back(id);
          }
        }
      } else if (is(n, "GM_Surface")) {
        surfaces[attr(n, "id")] = n;
      }
    }
    // The map's own attributes, on every parcel.
    const std::string city = text(child(root, "市区町村コード")), cityName = text(child(root, "市区町村名")),
                      mapName = text(child(root, "地図名"));
    for (const xmlNode* p : parcels) {
      CityObject obj;
      obj.type = "Parcel";
      obj.id = attr(p, "id");
      obj.srs = srs;
      obj.sourceFile = uri;
      obj.sourceLine = long(p->line);
      auto addText = [&](const std::string& key, const std::string& value) {
        if (value.empty()) return;
        Attribute a;
        a.key = key;
        a.text = value;
        obj.attributes.push_back(std::move(a));
      };
      for (const char* k : {"地番", "大字コード", "丁目コード", "小字コード", "予備コード", "大字名", "丁目名",
                            "小字名", "精度区分", "座標値種別", "筆界未定構成筆"})
        addText(k, text(child(p, k)));
      addText("市区町村コード", city);
      addText("市区町村名", cityName);
      addText("地図名", mapName);
      addText("座標系", crsName);
      const xmlNode* shape = child(p, "形状");
      auto surf = shape ? surfaces.find(attr(shape, "idref")) : surfaces.end();
      if (surf == surfaces.end()) {
        diag.error("mojxml-broken-reference",
                   "parcel's 形状 refers to no surface (" + (shape ? attr(shape, "idref") : "") + "); parcel skipped",
                   uri, obj.sourceLine, obj.id);
        continue;
      }
      Geometry g;
      g.lod = 0;
      bool broken = false;
      auto addRing = [&](const xmlNode* ring) {
        std::vector<const xmlNode*> gens;
        collect(ring, "GM_CompositeCurve.generator", gens);
        std::vector<Vec3> pts;
        for (auto* gen : gens) {
          auto c = curves.find(attr(gen, "idref"));
          if (c == curves.end()) {
            broken = true;
            return;
          }
          for (auto& pid : c->second) {
            auto pt = points.find(pid);
            if (pt == points.end()) {
              broken = true;
              return;
            }
            if (pts.empty() || pts.back() != pt->second) pts.push_back(pt->second);
          }
        }
        if (pts.size() > 1 && pts.front() == pts.back()) pts.pop_back();
        if (pts.size() < 3) {
          broken = true;
          return;
        }
        g.points.insert(g.points.end(), pts.begin(), pts.end());
        g.ringStart.push_back(uint32_t(g.points.size()));
      };
      std::vector<const xmlNode*> polys;
      collect(surf->second, "GM_Polygon", polys);
      for (auto* poly : polys) {
        Polygon pg;
        pg.firstRing = uint32_t(g.ringStart.size() - 1);
        std::vector<const xmlNode*> ext, in;
        collect(poly, "GM_SurfaceBoundary.exterior", ext);
        collect(poly, "GM_SurfaceBoundary.interior", in);
        for (auto* e : ext) addRing(e);
        for (auto* i : in) addRing(i);
        if (broken) break;
        pg.ringCount = uint32_t(g.ringStart.size() - 1) - pg.firstRing;
        pg.surface = SurfaceType::Ground;
        if (pg.ringCount > 0) g.polygons.push_back(pg);
      }
      if (broken || g.polygons.empty()) {
        diag.error(
            "mojxml-broken-reference",
            "parcel's surface " + surf->first + " refers to a missing curve or point, or has no ring; parcel skipped",
            uri, obj.sourceLine, obj.id);
        continue;
      }
      obj.geometries.push_back(std::move(g));
      stats.objectsByType["Parcel"]++;
      if (!sink.accept(std::move(obj))) return true;
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Reader> createReader() { return std::make_unique<MojReader>(); }

bool sniff(std::string_view head) {
  return head.find(kNamespace) != std::string_view::npos && head.find("<地図") != std::string_view::npos;
}

}  // namespace twin::mojxml
