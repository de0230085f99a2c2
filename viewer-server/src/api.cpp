// The JSON API: parcels, zoning, buildings with their rule checks, envelopes, procedures,
// permits and their documents, tokens and the audit log. Documented in web/openapi.json.
#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>

#include "internal.h"
#include "twin/landuse/commands.h"
#include "twin/landuse/envelope_tiles.h"
#include "twin/landuse/report.h"
#include "twin/landuse/report_json.h"

namespace twin::viewer {

using nlohmann::json;
using namespace twin::landuse;

namespace {

constexpr size_t kMaxJsonBody = 1u << 20;
constexpr size_t kMaxFeatures = 5000;

json parseBody(const http::Request& req, http::Response& res, bool& ok) {
  ok = false;
  if (req.body.size() > kMaxJsonBody) {
    jsonError(res, 413, "too-large", "JSON bodies are limited to 1 MB");
    return {};
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    jsonError(res, 400, "bad-json", "the body must be a JSON object");
    return {};
  }
  ok = true;
  return j;
}

bool need(const Caller& c, Role r, http::Response& res) {
  if (c.role == Role::Admin || c.role == r || r == Role::Public) return true;
  if (c.role == Role::Public)
    jsonError(res, 401, "unauthorized",
              c.user == "invalid-token" ? "the token is not valid" : "sign in: this needs a staff token");
  else
    jsonError(res, 403, "forbidden", "this needs an " + std::string(roleName(r)) + " token");
  return false;
}

bool parseBox(const std::string& s, double v[4]) {
  if (s.empty()) return false;
  char* e = nullptr;
  const char* p = s.c_str();
  for (int i = 0; i < 4; ++i) {
    v[i] = std::strtod(p, &e);
    if (e == p || !std::isfinite(v[i])) return false;
    p = e;
    if (i < 3) {
      if (*p != ',') return false;
      ++p;
    }
  }
  return *p == 0 && v[0] <= v[2] && v[1] <= v[3] && v[0] >= -180 && v[2] <= 180 && v[1] >= -90 && v[3] <= 90;
}

json lonLatGeometry(Context& ctx, const MultiPoly& m) {
  MultiPoly ll = m;
  for (auto& poly : ll) {
    auto conv = [&](Ring& r) {
      std::vector<Vec3> pts;
      for (auto& p : r) pts.push_back({p[0], p[1], 0});
      ctx.toLonLat().toLonLat(pts.data(), pts.size());
      for (size_t i = 0; i < r.size(); ++i) r[i] = {pts[i][0], pts[i][1]};
    };
    conv(poly.outer);
    for (auto& h : poly.holes) conv(h);
  }
  return json::parse(toGeoJson(ll, 8));
}

json lonLatOf(Context& ctx, const P2& p) {
  Vec3 v{p[0], p[1], 0};
  ctx.toLonLat().toLonLat(&v, 1);
  return {{"lon", v[0]}, {"lat", v[1]}};
}

// Store CRS box of a lon/lat box (corners and edge midpoints transformed).
Box2 storeBox(Context& ctx, const double b[4]) {
  Box2 box;
  for (double fx : {0.0, 0.5, 1.0})
    for (double fy : {0.0, 0.5, 1.0}) {
      double lon = b[0] + (b[2] - b[0]) * fx, lat = b[1] + (b[3] - b[1]) * fy;
      Vec3 p{lat, lon, 0};  // EPSG:6668 / 4326 axis order
      if (ctx.toStore().forward(&p, 1) == 0) box.add(P2{p[0], p[1]});
    }
  return box;
}

json permitJson(const Permit& p, bool staff) {
  json j = {{"id", p.id},
            {"type", p.type},
            {"status", p.status},
            {"applied_on", p.appliedOn},
            {"decided_on", p.decidedOn},
            {"parcels", p.parcels},
            {"building_id", p.buildingId},
            {"notes", p.notes},
            {"version", p.version},
            {"updated_at", p.updatedAt}};
  // Personal data (the applicant) only for staff.
  if (staff) j["applicant"] = p.applicant;
  return j;
}

json documentJson(const Document& d) {
  return {{"id", d.id},     {"permit_id", d.permitId}, {"kind", d.kind},
          {"name", d.name}, {"mime_type", d.mimeType}, {"public", d.isPublic},
          {"size", d.size}, {"added_at", d.addedAt}};
}

json parcelSummary(Context& ctx, const Parcel& p) {
  return {{"id", p.id},
          {"chiban", p.chiban},
          {"realestate_no", p.realEstateNo},
          {"locality", p.locality},
          {"city", p.city},
          {"area", p.area},
          {"center", lonLatOf(ctx, pointInside(p.geom))}};
}

// The geoid for placing envelopes: the default model, with twin's data where the operator put it.
GeoidOptions envelopeGeoid(const Context& ctx) {
  GeoidOptions g;
  g.dataDir = ctx.options.dataDir;
  return g;
}

// The envelope's drawing options from the query (setback, adjacent_setback: metres, 0 to 50), and
// the query that carries them on (for the tileset's content); false with a 400 when malformed.
bool envelopeOptionsOf(const http::Request& req, http::Response& res, EnvelopeOptions& o, std::string& query) {
  for (auto [key, out] :
       {std::pair<const char*, double*>{"setback", &o.roadSetback}, {"adjacent_setback", &o.adjacentSetback}}) {
    if (!req.hasParam(key)) continue;
    std::string v = req.param(key);
    char* e = nullptr;
    double d = std::strtod(v.c_str(), &e);
    if (v.empty() || *e || !(d >= 0 && d <= 50))
      return jsonError(res, 400, "bad-setback", std::string(key) + " is metres from 0 to 50"), false;
    *out = d;
    query += std::string(query.empty() ? "?" : "&") + key + "=" + v;
  }
  if (req.hasParam("shadow")) {
    std::string v = req.param("shadow");
    o.shadow = shadowDesignationOf(v);
    if (!o.shadow)
      return jsonError(
                 res, 400, "bad-shadow",
                 "shadow is L5-L10@H: hours allowed beyond 5 m and 10 m and the measuring height (m), e.g. 4-2.5@4"),
             false;
    query += std::string(query.empty() ? "?" : "&") + "shadow=" + http::encodeComponent(v);
  }
  return true;
}

// A parcel by id, 地番, "locality 地番" or 不動産番号 (several joined with '+': one site).
bool siteFromArg(Context& ctx, const std::string& arg, Site& site, http::Response& res) {
  auto q = lookupSite(ctx.store(), arg);
  if (q.candidates.size() > 1) {
    json cand = json::array();
    for (auto& p : q.candidates) cand.push_back(p.id);
    jsonReply(res, {{"error", {{"status", 409}, {"code", "ambiguous"}, {"message", q.error}, {"candidates", cand}}}},
              409);
    return false;
  }
  if (!q.site) {
    jsonError(res, 404, "not-found", q.error);
    return false;
  }
  site = std::move(*q.site);
  return true;
}

// The envelope a request asks for: its parcel's site, drawn with the query's setbacks (and the
// query that carries them on). False with the answer already made (400, 404, 409).
bool requestedEnvelope(Context& ctx, const http::Request& req, http::Response& res, Site& site, EnvelopeResult& e,
                       std::string& query) {
  EnvelopeOptions eo;
  if (!envelopeOptionsOf(req, res, eo, query) || !siteFromArg(ctx, req.matches[1].str(), site, res)) return false;
  eo.groundHeight = siteGroundHeight(ctx.store(), site);       // 令135条の2 (NaN: unknown, the envelope says so)
  neighbourGrounds(ctx.store(), site);                         // 令135条の3, 135条の4
  shadowSurroundings(ctx.store(), site, eo.groundHeight, eo);  // 法56条の2第5項, 令135条の12第1項2号
  e = ctx.rules.envelope(site, eo);
  return true;
}

}  // namespace

bool ResultCache::at(int64_t revision) {
  if (revision > revision_) {  // the data changed: nothing kept is valid
    checks_.clear();
    verdicts_.clear();
    revision_ = revision;
  }
  return revision == revision_;
}

std::optional<json> ResultCache::check(const std::string& id, int64_t revision) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!at(revision)) return std::nullopt;
  auto it = checks_.find(id);
  if (it == checks_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ResultCache::verdict(const std::string& id, int64_t revision) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!at(revision)) return std::nullopt;
  auto it = verdicts_.find(id);
  if (it == verdicts_.end()) return std::nullopt;
  return it->second;
}

void ResultCache::putCheck(const std::string& id, int64_t revision, const json& check) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!at(revision)) return;
  if (checks_.size() >= kMaxEntries) checks_.clear();
  checks_[id] = check;
}

void ResultCache::putVerdict(const std::string& id, int64_t revision, const std::string& verdict) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!at(revision)) return;
  if (verdicts_.size() >= kMaxEntries) verdicts_.clear();
  verdicts_[id] = verdict;
}

namespace {

BuildingCheck checkOne(Context& ctx, const Building& b) {
  auto& st = ctx.store();
  BuildingCheck c;
  st.transaction([&] { c = checkBuilding(st, ctx.rules, b); });
  return c;
}

bool permitFromJson(const json& j, Permit& p, http::Response& res) {
  auto str = [&](const char* k, std::string& out) {
    if (!j.contains(k)) return true;
    if (j[k].is_null()) return out.clear(), true;
    if (!j[k].is_string()) {
      jsonError(res, 400, "bad-field", std::string("'") + k + "' must be a string");
      return false;
    }
    out = j[k].get<std::string>();
    return true;
  };
  if (!str("type", p.type) || !str("status", p.status) || !str("applied_on", p.appliedOn) ||
      !str("decided_on", p.decidedOn) || !str("building_id", p.buildingId) || !str("applicant", p.applicant) ||
      !str("notes", p.notes))
    return false;
  if (j.contains("parcels")) {
    if (!j["parcels"].is_array())
      return jsonError(res, 400, "bad-field", "'parcels' must be an array of strings"), false;
    p.parcels.clear();
    for (auto& x : j["parcels"]) {
      if (!x.is_string()) return jsonError(res, 400, "bad-field", "'parcels' must be an array of strings"), false;
      p.parcels.push_back(x.get<std::string>());
    }
  }
  for (auto* d : {&p.appliedOn, &p.decidedOn})
    if (!d->empty() && !(d->size() >= 10 && (*d)[4] == '-' && (*d)[7] == '-'))
      return jsonError(res, 400, "bad-date", "dates are ISO 8601 (YYYY-MM-DD)"), false;
  if (p.type.empty())
    return jsonError(res, 400, "missing-field", "'type' is required (建築確認, 開発許可, ...)"), false;
  if (p.id.size() > 100 || p.notes.size() > 100000) return jsonError(res, 400, "too-long", "field too long"), false;
  return true;
}

}  // namespace

void addApiRoutes(http::Router& server, Context& ctx) {
  // ---- status ----
  server.get("/api/status", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    auto n = ctx.store().counts();
    jsonReply(
        res,
        {{"crs", ctx.storeCrs},
         {"rules", ctx.rules.name()},
         {"role", roleName(c.role)},
         {"user", c.role == Role::Public ? "" : c.user},
         {"counts",
          {{"parcels", n.parcels}, {"districts", n.districts}, {"buildings", n.buildings}, {"permits", n.permits}}}});
  });
  server.get("/api/openapi.json", [&](const http::Request&, http::Response& res) {
    std::ifstream f(ctx.options.webDir + "/openapi.json", std::ios::binary);
    if (!f) return jsonError(res, 404, "not-found", "openapi.json is not installed with the viewer");
    std::string s((std::istreambuf_iterator<char>(f)), {});
    res.setContent(s, "application/json");
  });

  // ---- parcels ----
  server.get("/api/parcels", [&](const http::Request& req, http::Response& res) {
    double b[4];
    if (!parseBox(req.param("bbox"), b))
      return jsonError(res, 400, "bad-bbox", "bbox=west,south,east,north in degrees (lon/lat) is required");
    auto ps = ctx.store().parcelsIn(storeBox(ctx, b));
    json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
    for (auto& p : ps) {
      if (fc["features"].size() >= kMaxFeatures) {
        fc["truncated"] = true;
        break;
      }
      fc["features"].push_back(
          {{"type", "Feature"},
           {"id", p.id},
           {"geometry", lonLatGeometry(ctx, p.geom)},
           {"properties", {{"id", p.id}, {"chiban", p.chiban}, {"locality", p.locality}, {"area", p.area}}}});
    }
    jsonReply(res, fc);
  });
  server.get("/api/parcels/at", [&](const http::Request& req, http::Response& res) {
    char* e1 = nullptr;
    char* e2 = nullptr;
    std::string slon = req.param("lon"), slat = req.param("lat");
    double lon = std::strtod(slon.c_str(), &e1), lat = std::strtod(slat.c_str(), &e2);
    if (slon.empty() || slat.empty() || *e1 || *e2 || !(std::abs(lon) <= 180) || !(std::abs(lat) <= 90))
      return jsonError(res, 400, "bad-point", "lon and lat in degrees are required");
    Vec3 p{lat, lon, 0};
    if (ctx.toStore().forward(&p, 1))
      return jsonError(res, 400, "bad-point", "the point cannot be placed in the store's CRS");
    json out = json::array();
    for (auto& x : ctx.store().parcelsAt({p[0], p[1]})) out.push_back(parcelSummary(ctx, x));
    jsonReply(res, {{"parcels", out}});
  });
  server.get(R"(/api/parcels/([^/]+))", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    Site site;
    if (!siteFromArg(ctx, req.matches[1].str(), site, res)) return;
    const Parcel& p = site.parcels[0];
    json j = parcelSummary(ctx, p);
    j["geometry"] = lonLatGeometry(ctx, p.geom);
    j["attributes"] = json::parse(p.attributes.empty() ? "{}" : p.attributes, nullptr, false);
    j["corner_lot"] = p.cornerLot;
    j["districts"] = toJson(site.districts);
    j["front_road_width"] = std::isfinite(site.frontRoadWidth) ? json(site.frontRoadWidth) : json(nullptr);
    json bs = json::array();
    for (auto& l : ctx.store().parcelBuildings(p.id)) bs.push_back({{"id", l.buildingId}, {"overlap", l.overlap}});
    j["buildings"] = bs;
    json permits = json::array();
    std::set<std::string> seen;
    for (const std::string& ref : {p.id, p.chiban})
      for (auto& x : ctx.store().permitsFor(ref))
        if (seen.insert(x.id).second) permits.push_back(permitJson(x, c.role != Role::Public));
    j["permits"] = permits;
    jsonReply(res, j);
  });
  server.get(R"(/api/parcels/([^/]+)/envelope)", [&](const http::Request& req, http::Response& res) {
    Site site;
    EnvelopeResult e;
    std::string query;
    if (!requestedEnvelope(ctx, req, res, site, e, query)) return;
    json j = envelopeToJson(e, site);
    j["tileset"] = "api/parcels/" + http::encodeComponent(req.matches[1].str()) + "/envelope/tileset.json" + query;
    j["setback"] = e.options.roadSetback;
    j["adjacent_setback"] = e.options.adjacentSetback;
    jsonReply(res, j);
  });
  // 日影規制: the shadow-time map of the buildings on a parcel's site, or of a planned building over
  // the whole site (height=M, storeys=N), against the data's designation or `designation`.
  server.get(R"(/api/parcels/([^/]+)/shadow)", [&](const http::Request& req, http::Response& res) {
    std::optional<ShadowDesignation> d;
    if (req.hasParam("designation")) {
      d = shadowDesignationOf(req.param("designation"));
      if (!d)
        return jsonError(res, 400, "bad-shadow",
                         "designation is L5-L10@H: hours allowed beyond 5 m and 10 m and the measuring height (m), "
                         "e.g. 4-2.5@4");
    }
    std::optional<PlannedSolid> planned;
    if (req.hasParam("height")) {
      std::string v = req.param("height");
      char* e = nullptr;
      double h = std::strtod(v.c_str(), &e);
      if (v.empty() || *e || !(h > 0 && h <= 300))
        return jsonError(res, 400, "bad-height", "height is metres, more than 0 and at most 300");
      planned = PlannedSolid{};
      planned->height = h;
      if (req.hasParam("storeys")) planned->storeys = std::atoi(req.param("storeys").c_str());
    }
    bool withMap = req.param("map") != "no";
    Site site;
    if (!siteFromArg(ctx, req.matches[1].str(), site, res)) return;
    auto r = shadowOfSite(ctx.store(), ctx.rules, site, d, planned, 2, site.area > 2500 ? 2 : 1);
    if (!r) return jsonError(res, 500, "store", r.errorMessage());
    jsonReply(res, shadowToJson(*r, ctx.storeCrs, withMap));
  });
  // 天空率: the buildings on a parcel's site, or a planned building over the whole site (height=M),
  // against the conforming buildings of the three slant planes.
  server.get(R"(/api/parcels/([^/]+)/sky-factor)", [&](const http::Request& req, http::Response& res) {
    std::optional<PlannedSolid> planned;
    if (req.hasParam("height")) {
      std::string v = req.param("height");
      char* e = nullptr;
      double h = std::strtod(v.c_str(), &e);
      if (v.empty() || *e || !(h > 0 && h <= 300))
        return jsonError(res, 400, "bad-height", "height is metres, more than 0 and at most 300");
      planned = PlannedSolid{};
      planned->height = h;
    }
    EnvelopeOptions eo;
    std::string query;
    if (!envelopeOptionsOf(req, res, eo, query)) return;
    Site site;
    if (!siteFromArg(ctx, req.matches[1].str(), site, res)) return;
    auto r = skyFactorOfSite(ctx.store(), ctx.rules, site, planned, eo);
    if (!r) return jsonError(res, 500, "store", r.errorMessage());
    jsonReply(res, skyToJson(*r));
  });
  // Handlers outlive this function: they capture this helper by value (it refers to ctx only).
  auto envelopeGround = [&ctx](const Site& site) {
    double g = siteGroundHeight(ctx.store(), site);
    return std::isfinite(g) ? g : 0.0;
  };
  server.get(R"(/api/parcels/([^/]+)/envelope/envelope.glb)",
             [&, envelopeGround](const http::Request& req, http::Response& res) {
               Site site;
               EnvelopeResult e;
               std::string query;
               if (!requestedEnvelope(ctx, req, res, site, e, query)) return;
               DiagnosticCollector diag;
               auto glb = envelopeGlb(e, ctx.storeCrs, envelopeGround(site), envelopeGeoid(ctx), diag);
               if (glb.empty()) return jsonError(res, 404, "no-envelope", "no envelope can be drawn for this parcel");
               res.setContent(std::string(glb.begin(), glb.end()), "model/gltf-binary");
             });
  server.get(R"(/api/parcels/([^/]+)/envelope/tileset.json)",
             [&, envelopeGround](const http::Request& req, http::Response& res) {
               Site site;
               EnvelopeResult e;
               std::string query;
               if (!requestedEnvelope(ctx, req, res, site, e, query)) return;
               if (e.vertices.empty())
                 return jsonError(res, 404, "no-envelope", "no envelope can be drawn for this parcel");
               DiagnosticCollector diag;
               std::string ts = envelopeTileset(e, ctx.storeCrs, envelopeGround(site), envelopeGeoid(ctx), diag,
                                                "envelope.glb" + query);
               if (ts.empty()) return jsonError(res, 404, "no-envelope", "no envelope can be drawn for this parcel");
               res.setContent(std::move(ts), "application/json");
             });
  server.post(R"(/api/parcels/([^/]+)/procedures)", [&](const http::Request& req, http::Response& res) {
    if (req.body.size() > kMaxJsonBody) return jsonError(res, 413, "too-large", "JSON bodies are limited to 1 MB");
    // A JSON object with the plan's keys (twin procedures --plan takes the same).
    size_t first = req.body.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || req.body[first] != '{')
      return jsonError(res, 400, "bad-json", "the body must be a JSON object");
    auto plan = parsePlan(req.body);
    if (!plan) {
      const auto& d = plan.diagnostics.at(0);
      return jsonError(res, 400, d.code == "plan-malformed" ? "bad-json" : "bad-field", d.message);
    }
    Site site;
    if (!siteFromArg(ctx, req.matches[1].str(), site, res)) return;
    // 用途制限 (法48条) of the planned use, when the plan names one: under "checks".
    std::vector<RuleResult> checks;
    if (!plan->use.empty()) checks.push_back(ctx.rules.checkUse(site, *plan));
    jsonReply(res, proceduresToJson(ctx.rules.procedures(site, *plan), site, checks));
  });

  // ---- zoning ----
  server.get("/api/districts", [&](const http::Request& req, http::Response& res) {
    double b[4];
    if (!parseBox(req.param("bbox"), b))
      return jsonError(res, 400, "bad-bbox", "bbox=west,south,east,north in degrees (lon/lat) is required");
    std::string kind = req.param("kind");
    json fc = {{"type", "FeatureCollection"}, {"features", json::array()}};
    for (auto& d : ctx.store().districtsIn(storeBox(ctx, b))) {
      if (!kind.empty() && d.kind != kind) continue;
      if (fc["features"].size() >= kMaxFeatures) {
        fc["truncated"] = true;
        break;
      }
      auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
      fc["features"].push_back({{"type", "Feature"},
                                {"id", d.id},
                                {"geometry", lonLatGeometry(ctx, d.geom)},
                                {"properties",
                                 {{"id", d.id},
                                  {"kind", d.kind},
                                  {"code", d.code},
                                  {"name", d.name},
                                  {"coverage_rate", num(d.coverageRate)},
                                  {"floor_area_rate", num(d.floorAreaRate)},
                                  {"height_limit", num(d.heightLimit)},
                                  {"max_height", num(d.maxHeight)}}}});
    }
    jsonReply(res, fc);
  });

  // ---- search ----
  server.get("/api/search", [&](const http::Request& req, http::Response& res) {
    std::string q = req.param("q");
    if (q.empty() || q.size() > 200) return jsonError(res, 400, "bad-query", "q (1 to 200 characters) is required");
    json out = json::array();
    auto found = ctx.store().findParcels(q);
    if (found.empty()) found = ctx.store().searchParcels(q, 50);  // address text: 大字名 (丁目) 地番 prefix
    for (auto& p : found) {
      json s = parcelSummary(ctx, p);
      s["type"] = "parcel";
      s["label"] = p.locality + " " + p.chiban;
      out.push_back(s);
      if (out.size() >= 50) break;
    }
    if (auto b = ctx.store().building(q)) {
      json s = {
          {"type", "building"}, {"id", b->id}, {"label", b->id}, {"center", lonLatOf(ctx, pointInside(b->footprint))}};
      s["ground_height"] = std::isfinite(b->groundHeight) ? json(b->groundHeight) : json(nullptr);
      s["height"] = std::isfinite(b->height) ? json(b->height) : json(nullptr);
      out.push_back(s);
    }
    jsonReply(res, {{"query", q}, {"results", out}});
  });

  // ---- buildings ----
  server.get(R"(/api/buildings/([^/]+))", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    std::string id = req.matches[1].str();
    // The rule check of a building depends on the store's buildings, parcels and zoning: kept
    // for the store revision it was computed at (permits are read each time).
    const int64_t revision = ctx.store().revision();
    json j;
    if (auto kept = ctx.results.check(id, revision)) j = std::move(*kept);
    if (j.is_null()) {
      auto b = ctx.store().building(id);
      if (!b) return jsonError(res, 404, "not-found", "no building '" + id + "' in the store");
      auto check = checkOne(ctx, *b);
      j = toJson(check);
      j["building"]["center"] = lonLatOf(ctx, pointInside(b->footprint));  // inside even for L-shapes
      j["building"]["ground_height"] = std::isfinite(b->groundHeight) ? json(b->groundHeight) : json(nullptr);
      j["building"]["attributes"] = json::parse(b->attributes.empty() ? "{}" : b->attributes, nullptr, false);
      ctx.results.putCheck(id, revision, j);
    }
    json permits = json::array();
    std::set<std::string> seen;
    std::vector<std::string> refs{id};
    for (auto& p : j["site"]["parcels"]) refs.push_back(p["id"]), refs.push_back(p["chiban"]);
    for (auto& ref : refs)
      for (auto& x : ctx.store().permitsFor(ref))
        if (seen.insert(x.id).second) {
          json pj = permitJson(x, c.role != Role::Public);
          json docs = json::array();
          for (auto& d : ctx.store().documents(x.id))
            if (d.isPublic || c.role != Role::Public) docs.push_back(documentJson(d));
          pj["documents"] = docs;
          permits.push_back(pj);
        }
    j["permits"] = permits;
    ctx.results.putVerdict(id, revision, j["verdict"].get<std::string>());
    jsonReply(res, j);
  });
  server.post("/api/buildings/verdicts", [&](const http::Request& req, http::Response& res) {
    bool ok;
    json j = parseBody(req, res, ok);
    if (!ok) return;
    if (!j.contains("ids") || !j["ids"].is_array() || j["ids"].size() > 2000)
      return jsonError(res, 400, "bad-ids", "'ids': an array of at most 2,000 building ids");
    json out = json::object();
    const int64_t revision = ctx.store().revision();
    for (auto& x : j["ids"]) {
      if (!x.is_string()) continue;
      std::string id = x;
      if (auto kept = ctx.results.verdict(id, revision)) {
        out[id] = *kept;
        continue;
      }
      auto b = ctx.store().building(id);
      if (!b) continue;
      std::string v = verdictName(overall(checkOne(ctx, *b).results));
      ctx.results.putVerdict(id, revision, v);
      out[id] = v;
    }
    jsonReply(res, {{"verdicts", out}});
  });

  // ---- permits ----
  server.get("/api/permits", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    std::string ref = req.hasParam("parcel") ? req.param("parcel") : req.param("building");
    auto list = ref.empty() ? ctx.store().permits() : ctx.store().permitsFor(ref);
    json out = json::array();
    for (auto& p : list) out.push_back(permitJson(p, c.role != Role::Public));
    jsonReply(res, {{"permits", out}});
  });
  server.get(R"(/api/permits/([^/]+))", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    auto p = ctx.store().permit(req.matches[1].str());
    if (!p) return jsonError(res, 404, "not-found", "no permit '" + req.matches[1].str() + "'");
    json j = permitJson(*p, c.role != Role::Public);
    json docs = json::array();
    for (auto& d : ctx.store().documents(p->id))
      if (d.isPublic || c.role != Role::Public) docs.push_back(documentJson(d));
    j["documents"] = docs;
    jsonReply(res, j);
  });
  server.post("/api/permits", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Staff, res)) return;
    bool ok;
    json j = parseBody(req, res, ok);
    if (!ok) return;
    Permit p;
    if (!j.contains("id") || !j["id"].is_string() || j["id"].get<std::string>().empty())
      return jsonError(res, 400, "missing-field", "'id' (string) is required");
    p.id = j["id"];
    if (!permitFromJson(j, p, res)) return;
    if (p.status.empty()) p.status = "applied";
    p.version = 0;
    if (!ctx.store().putPermit(p, c.user))
      return jsonError(res, 409, "exists", "permit '" + p.id + "' exists: update it");
    jsonReply(res, permitJson(p, true), 201);
  });
  auto update = [&](const http::Request& req, http::Response& res, bool close) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Staff, res)) return;
    bool ok;
    json j = parseBody(req, res, ok);
    if (!ok) return;
    auto cur = ctx.store().permit(req.matches[1].str());
    if (!cur) return jsonError(res, 404, "not-found", "no permit '" + req.matches[1].str() + "'");
    if (!j.contains("version") || !j["version"].is_number_integer())
      return jsonError(res, 400, "missing-version",
                       "'version' (the version you read) is required: updates are versioned");
    Permit p = *cur;
    p.version = j["version"];
    if (!close && !permitFromJson(j, p, res)) return;
    if (close) p.status = "closed";
    if (p.version != cur->version || !ctx.store().putPermit(p, c.user)) {
      auto now = ctx.store().permit(p.id);
      jsonReply(res,
                {{"error",
                  {{"status", 409},
                   {"code", "conflict"},
                   {"message", "the permit changed since you read it (your version " +
                                   std::to_string(j["version"].get<int64_t>()) + ", now " +
                                   std::to_string(now ? now->version : 0) + "): read it again"},
                   {"current", now ? permitJson(*now, true) : json(nullptr)}}}},
                409);
      return;
    }
    jsonReply(res, permitJson(p, true));
  };
  server.put(R"(/api/permits/([^/]+))",
             [&, update](const http::Request& req, http::Response& res) { update(req, res, false); });
  server.post(R"(/api/permits/([^/]+)/close)",
              [&, update](const http::Request& req, http::Response& res) { update(req, res, true); });
  server.post(R"(/api/permits/([^/]+)/documents)", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Staff, res)) return;
    auto p = ctx.store().permit(req.matches[1].str());
    if (!p) return jsonError(res, 404, "not-found", "no permit '" + req.matches[1].str() + "'");
    if (req.body.empty()) return jsonError(res, 400, "empty", "the document is the request body");
    Document d;  // its id comes from the store, inside the transaction that writes it
    d.permitId = p->id;
    d.kind = req.param("kind");
    d.name = req.param("name");
    if (d.kind.empty() || d.name.empty()) return jsonError(res, 400, "missing-field", "kind and name are required");
    if (d.kind.size() > 200 || d.name.size() > 255 || !http::validUtf8(d.kind) || !http::validUtf8(d.name))
      return jsonError(res, 400, "bad-field", "kind and name are UTF-8 text of at most 200 and 255 bytes");
    d.mimeType = req.header("Content-Type");
    if (d.mimeType.empty()) d.mimeType = "application/octet-stream";
    // The 建築計画概要書 is public by law (建築基準法第93条の2); anything else is staff-only.
    d.isPublic = d.kind == "建築計画概要書";
    d.data = req.body;
    ctx.store().putDocument(d, c.user);
    d.size = int64_t(d.data.size());
    jsonReply(res, documentJson(d), 201);
  });
  server.get(R"(/api/permits/([^/]+)/documents/([^/]+))", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    auto d = ctx.store().document(req.matches[2].str());
    // A staff-only document does not exist for the public: the same 404 as a missing one.
    if (!d || d->permitId != req.matches[1].str() || (!d->isPublic && c.role == Role::Public))
      return jsonError(res, 404, "not-found", "no such document");
    if (!d->isPublic && !need(c, Role::Staff, res)) return;
    res.setHeader("Content-Disposition", "attachment; filename*=UTF-8''" + http::encodeComponent(d->name));
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setContent(d->data, d->mimeType);
  });

  // ---- admin ----
  server.post("/api/admin/tokens", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Admin, res)) return;
    bool ok;
    json j = parseBody(req, res, ok);
    if (!ok) return;
    std::string user = j.value("user", ""), role = j.value("role", "");
    if (user.empty() || (role != "staff" && role != "admin"))
      return jsonError(res, 400, "bad-field", "'user' and 'role' (staff or admin) are required");
    int days = 90;
    if (j.contains("days")) {
      if (!j["days"].is_number_integer() || j["days"].get<int64_t>() < 1 || j["days"].get<int64_t>() > 3650)
        return jsonError(res, 400, "bad-field", "'days' is a whole number of days from 1 to 3650");
      days = j["days"].get<int>();
    }
    auto issued = issueToken(ctx.store(), user, role, days, c.user);
    jsonReply(res, {{"user", user}, {"role", role}, {"token", issued.token}, {"expires", issued.expiresAt}}, 201);
  });
  server.post("/api/admin/tokens/revoke", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Admin, res)) return;
    bool ok;
    json j = parseBody(req, res, ok);
    if (!ok) return;
    std::string user = j.value("user", "");
    if (user.empty()) return jsonError(res, 400, "missing-field", "'user' is required");
    jsonReply(res, {{"user", user}, {"revoked", ctx.store().revokeTokens(user, c.user)}});
  });
  server.get("/api/admin/audit", [&](const http::Request& req, http::Response& res) {
    Caller c = callerOf(ctx, req);
    if (!need(c, Role::Admin, res)) return;
    size_t limit = std::min<size_t>(1000, std::max<size_t>(1, std::strtoul(req.param("limit").c_str(), nullptr, 10)));
    if (!req.hasParam("limit")) limit = 100;
    json out = json::array();
    for (auto& a : ctx.store().audit(limit))
      out.push_back({{"seq", a.seq},
                     {"at", a.at},
                     {"actor", a.actor},
                     {"action", a.action},
                     {"entity", a.entity},
                     {"entity_id", a.entityId},
                     {"before", json::parse(a.before.empty() ? "null" : a.before, nullptr, false)},
                     {"after", json::parse(a.after.empty() ? "null" : a.after, nullptr, false)}});
    jsonReply(res, {{"audit", out}});
  });
}

}  // namespace twin::viewer
