// Check reports in several formats.
#include "twin/landuse/report.h"

#include <cmath>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "twin/landuse/commands.h"
#include "twin/landuse/report_json.h"

namespace twin::landuse {

using nlohmann::json;

bool parseReportFormat(const std::string& s, ReportFormat& f) {
  if (s == "table")
    f = ReportFormat::Table;
  else if (s == "csv")
    f = ReportFormat::Csv;
  else if (s == "geojson")
    f = ReportFormat::GeoJson;
  else if (s == "html")
    f = ReportFormat::Html;
  else if (s == "json")
    f = ReportFormat::Json;
  else
    return false;
  return true;
}

std::string htmlEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o.push_back(c);
    }
  }
  return o;
}

namespace {

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"')
      o += "\"\"";
    else
      o.push_back(c);
  }
  return o + "\"";
}

json numOrNull(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

json toJson(const RuleResult& r) {
  json in = json::array();
  for (auto& [k, v] : r.inputs) in.push_back({{"name", k}, {"value", v}});
  return {{"rule", r.rule},
          {"title", r.title},
          {"article", r.article},
          {"verdict", verdictName(r.verdict)},
          {"value", numOrNull(r.value)},
          {"limit", numOrNull(r.limit)},
          {"unit", r.unit},
          {"formula", r.formula},
          {"inputs", in},
          {"reason", r.reason}};
}

json toJson(const Site& s) {
  json parcels = json::array();
  for (auto& p : s.parcels)
    parcels.push_back({{"id", p.id},
                       {"chiban", p.chiban},
                       {"realestate_no", p.realEstateNo},
                       {"locality", p.locality},
                       {"area", p.area}});
  return {{"parcels", parcels},
          {"area", s.area},
          {"districts", toJson(s.districts)},
          {"front_road_width", numOrNull(s.frontRoadWidth)},
          {"front_road_source", s.frontRoadSource}};
}

namespace {

// A site with the buildings standing on it and each one's part of the totals.
json siteWithBuildings(const Site& s, const std::vector<SiteShare>& shares) {
  json j = toJson(s);
  double area = 0, floor = 0;
  bool floorKnown = true;
  for (auto& b : shares) {
    area += b.buildingArea;
    if (given(b.floorArea))
      floor += b.floorArea;
    else
      floorKnown = false;
  }
  json bs = json::array();
  for (auto& b : shares)
    bs.push_back({{"id", b.id},
                  {"building_area", b.buildingArea},
                  {"building_area_share", area > 0 ? json(b.buildingArea / area) : json(nullptr)},
                  {"floor_area", numOrNull(b.floorArea)},
                  {"floor_area_estimated", b.floorAreaEstimated},
                  {"floor_area_share", floorKnown && floor > 0 ? json(b.floorArea / floor) : json(nullptr)}});
  j["buildings"] = bs;
  return j;
}

}  // namespace

json toJson(const BuildingCheck& c) {
  const Building& b = c.building;
  json results = json::array();
  for (auto& r : c.results) results.push_back(toJson(r));
  return {{"building",
           {{"id", b.id},
            {"building_area", b.buildingArea},
            {"footprint_source", b.footprintSource},
            {"height", numOrNull(b.height)},
            {"height_source", b.heightSource},
            {"storeys_above", b.storeysAbove >= 0 ? json(b.storeysAbove) : json(nullptr)},
            {"floor_area", numOrNull(b.floorArea)},
            {"floor_area_estimated", b.floorAreaEstimated},
            {"floor_area_source", b.floorAreaSource},
            {"usage", b.usage},
            {"fire_resistance", b.fireResistance}}},
          {"site", siteWithBuildings(c.site, c.siteBuildings)},
          {"verdict", verdictName(overall(c.results))},
          {"results", results}};
}

json toJson(const SiteCheck& c) {
  json site = siteWithBuildings(c.site, c.shares());
  json results = json::array(), buildings = json::array();
  for (auto& r : c.results) results.push_back(toJson(r));
  for (size_t i = 0; i < c.buildings.size(); ++i) {
    json own = json::array();
    for (auto& r : c.buildingResults[i]) own.push_back(toJson(r));
    BuildingCheck v = buildingView(c, i);
    json b = toJson(v)["building"];
    buildings.push_back({{"building", b}, {"verdict", verdictName(overall(c.buildingResults[i]))}, {"results", own}});
  }
  return {{"site", site}, {"verdict", verdictName(c.verdict())}, {"results", results}, {"buildings", buildings}};
}

namespace {

std::string parcelsText(const Site& s) {
  std::string t;
  for (auto& p : s.parcels) t += (t.empty() ? "" : " ") + (p.chiban.empty() ? p.id : p.locality + p.chiban);
  return t.empty() ? "-" : t;
}

std::string numText(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << v;
  return o.str();
}

}  // namespace

json toJson(const std::vector<DistrictShare>& ds) {
  json a = json::array();
  for (auto& d : ds)
    a.push_back({{"id", d.district.id},
                 {"kind", d.district.kind},
                 {"code", d.district.code},
                 {"name", d.district.name},
                 {"share", d.share},
                 {"coverage_rate", numOrNull(d.district.coverageRate)},
                 {"floor_area_rate", numOrNull(d.district.floorAreaRate)},
                 {"height_limit", numOrNull(d.district.heightLimit)},
                 {"max_height", numOrNull(d.district.maxHeight)},
                 {"min_height", numOrNull(d.district.minHeight)},
                 {"min_site_area", numOrNull(d.district.minSiteArea)}});
  return a;
}

namespace {

// The envelope's top area by the limit that made it (m², horizontal projection) — which rule
// shapes how much of the solid.
json facesByRule(const EnvelopeResult& e) {
  std::map<std::string, double> area;
  for (size_t t = 0; t < e.triangleRule.size() && 3 * t + 2 < e.triangles.size(); ++t) {
    if (e.triangleRule[t] == "wall") continue;
    const auto &a = e.vertices[e.triangles[3 * t]], &b = e.vertices[e.triangles[3 * t + 1]],
               &c = e.vertices[e.triangles[3 * t + 2]];
    area[e.triangleRule[t]] += std::abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2;
  }
  json out = json::object();
  for (auto& [k, v] : area) out[k] = v;
  return out;
}

}  // namespace

json shadowPartToJson(const ShadowPart& s) {
  if (!s.applied) return nullptr;
  return json{{"designation",
               {{"limit_5m", s.designation.limit5},
                {"limit_10m", s.designation.limit10},
                {"measuring_height", s.designation.measuringHeight},
                {"source", s.designation.source}}},
              {"subject", s.subject},
              {"solar_time", {s.start, s.end}},
              {"cell", s.cell},
              {"step_minutes", s.stepMinutes},
              {"max_hours_beyond_5m", s.max5},
              {"max_hours_beyond_10m", s.max10},
              {"volume_lowered", s.lowered}};
}

json shadowToJson(const ShadowSiteRun& run, const std::string& crs, bool withMap) {
  json j{{"site", toJson(run.site)},
         {"result", toJson(run.run.result)},
         {"shadow", shadowPartToJson(run.run.part)},
         {"buildings", run.buildings},
         {"not_modelled", run.run.part.applied ? shadowNotModelledList() : std::vector<std::string>{}}};
  if (run.run.part.applied) {
    const ShadowCheck& c = run.run.check;
    j["worst_5m"] = {c.worst5[0], c.worst5[1]};
    j["worst_10m"] = {c.worst10[0], c.worst10[1]};
    j["tolerance_hours"] = c.tolerance;
  }
  if (withMap && run.run.map.nx > 0) {
    const ShadowMap& m = run.run.map;
    json hours = json::array();
    for (float h : m.hours) hours.push_back(std::round(h * 1000) / 1000);
    j["map"] = {{"crs", crs},          {"x0", m.x0}, {"y0", m.y0}, {"cell", m.cell}, {"nx", m.nx},
                {"ny", m.ny},          {"measuring_height", m.measuringHeight},      {"hours", std::move(hours)}};
  }
  return j;
}

json skyToJson(const SkySiteRun& run) {
  json checks = json::array();
  for (auto& c : run.checks) {
    json pts = json::array();
    for (auto& p : c.points) {
      json pt{{"x", p.at[0]}, {"y", p.at[1]}, {"plan", p.plan}, {"conforming", p.conforming}, {"pass", p.pass}};
      if (!p.part.empty()) pt["part"] = p.part;  // 令135条の6第2項 etc.: the district part compared
      pts.push_back(std::move(pt));
    }
    checks.push_back({{"result", toJson(c.result)}, {"points", pts}});
  }
  return json{{"site", toJson(run.site)}, {"buildings", run.buildings}, {"checks", checks}};
}

json envelopeToJson(const EnvelopeResult& e, const Site& site) {
  json limits = json::array();
  for (auto& r : e.limits) limits.push_back(toJson(r));
  return json{{"site", toJson(site)},
              {"shadow", shadowPartToJson(e.shadow)},
              {"site_area", e.siteArea},
              {"max_building_area", numOrNull(e.maxBuildingArea)},
              {"max_floor_area", numOrNull(e.maxFloorArea)},
              {"max_height", numOrNull(e.maxHeight)},
              {"mesh_top", e.meshTop},
              {"capped", e.capped},
              {"volume", e.volume},
              {"faces_by_rule", facesByRule(e)},
              {"not_modelled", e.notModelled},
              {"limits", limits},
              {"notes", e.notes}};
}

json proceduresToJson(const std::vector<ProcedureNeed>& ps, const Site& site, const std::vector<RuleResult>& checks) {
  json list = json::array();
  for (auto& p : ps)
    list.push_back({{"id", p.id},
                    {"name", p.name},
                    {"english", p.english},
                    {"article", p.article},
                    {"status", p.status},
                    {"why", p.why},
                    {"missing", p.missing}});
  json out{{"site", toJson(site)}, {"procedures", list}};
  if (!checks.empty()) {
    out["checks"] = json::array();
    for (auto& r : checks) out["checks"].push_back(toJson(r));
  }
  return out;
}

CheckReport::CheckReport(std::ostream& out, ReportFormat format, const std::string& storeCrs, const std::string& rules)
    : out_(out), format_(format), rules_(rules) {
  if (format_ == ReportFormat::GeoJson) {
    auto t = PlaneTransform::create(storeCrs, storeCrs);
    if (t.value) toLonLat_ = std::move(*t.value);
    out_ << "{\"type\":\"FeatureCollection\",\"features\":[\n";
  } else if (format_ == ReportFormat::Csv) {
    out_ << "building_id,parcels,site_area_m2,rule,title,verdict,value,limit,unit,formula,reason,article\n";
  } else if (format_ == ReportFormat::Html) {
    out_ << "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>twin check — land-use "
            "rules</title>\n"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;width:100%;"
            "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;font-size:90%}"
            "th{background:#f3f3f3;text-align:left}.pass{background:#dff5df}.fail{background:#fbdcdc}"
            ".unknown{background:#fff3cd}h2{font-size:110%;margin-top:2em}.small{color:#555;font-size:85%}</style>"
            "</head><body>\n<h1>Land-use rule check 法令チェック</h1>\n<p class=\"small\">Rules: " +
                htmlEscape(rules_) +
                ". Each result shows its inputs, formula, limit and reason; “unknown” says what data is missing.</p>\n";
  } else if (format_ == ReportFormat::Json) {
    out_ << "[\n";
  } else {
    out_ << std::left << std::setw(40) << "building" << std::setw(22) << "parcels (地番)" << std::setw(20) << "rule"
         << std::setw(9) << "verdict" << std::setw(10) << "value" << std::setw(10) << "limit"
         << "reason\n";
  }
}

CheckReport::~CheckReport() = default;

void CheckReport::add(const SiteCheck& c) {
  Verdict v = c.verdict();
  counts_[verdictName(v)]++;
  buildings_ += c.buildings.size();
  std::string ids, idList;
  for (auto& b : c.buildings) {
    ids += (ids.empty() ? "" : ";") + b.id;
    idList += (idList.empty() ? "" : ", ") + b.id;
  }
  // Rows: the site's results (under every building's id), then each building's own.
  std::vector<std::pair<std::string, const RuleResult*>> rows;
  for (auto& r : c.results) rows.push_back({ids, &r});
  for (size_t i = 0; i < c.buildings.size(); ++i)
    for (auto& r : c.buildingResults[i]) rows.push_back({c.buildings[i].id, &r});
  switch (format_) {
    case ReportFormat::Csv:
      for (auto& [id, r] : rows)
        out_ << csvField(id) << "," << csvField(parcelsText(c.site)) << "," << numText(c.site.area) << ","
             << csvField(r->rule) << "," << csvField(r->title) << "," << verdictName(r->verdict) << ","
             << numText(r->value) << "," << numText(r->limit) << "," << csvField(r->unit) << "," << csvField(r->formula)
             << "," << csvField(r->reason) << "," << csvField(r->article) << "\n";
      break;
    case ReportFormat::GeoJson:
      // One feature per building (what a map colours), with its site's results and its own.
      for (size_t i = 0; i < c.buildings.size(); ++i) {
        const Building& b = c.buildings[i];
        json props = toJson(buildingView(c, i));
        MultiPoly ll = b.footprint;
        if (toLonLat_)
          for (auto& poly : ll) {
            auto conv = [&](Ring& r) {
              std::vector<Vec3> pts;
              for (auto& p : r) pts.push_back({p[0], p[1], 0});
              toLonLat_->toLonLat(pts.data(), pts.size());
              for (size_t k = 0; k < r.size(); ++k) r[k] = {pts[k][0], pts[k][1]};
            };
            conv(poly.outer);
            for (auto& h : poly.holes) conv(h);
          }
        out_ << (features_ ? ",\n" : "") << "{\"type\":\"Feature\",\"id\":" << json(b.id).dump()
             << ",\"geometry\":" << toGeoJson(ll, 8) << ",\"properties\":" << props.dump() << "}";
        ++features_;
      }
      break;
    case ReportFormat::Json:
      out_ << (n_ ? ",\n" : "") << toJson(c).dump();
      break;
    case ReportFormat::Html: {
      out_ << "<h2 class=\"" << verdictName(v) << "\">" << htmlEscape(idList) << " — " << verdictName(v) << "</h2>\n"
           << "<p class=\"small\">Parcels (地番): " << htmlEscape(parcelsText(c.site)) << "; site area "
           << numText(c.site.area) << " m²</p>\n<ul class=\"small\">\n";
      for (auto& b : c.buildings) {
        out_ << "<li>" << htmlEscape(b.id) << ": building area " << numText(b.buildingArea) << " m²";
        if (std::isfinite(b.height))
          out_ << "; height " << numText(b.height) << " m (" << htmlEscape(b.heightSource) << ")";
        if (std::isfinite(b.floorArea))
          out_ << "; floor area " << numText(b.floorArea) << " m² (" << htmlEscape(b.floorAreaSource) << ")";
        out_ << "</li>\n";
      }
      out_ << "</ul>\n";
      if (!c.site.districts.empty()) {
        out_ << "<p class=\"small\">Districts: ";
        bool first = true;
        for (auto& d : c.site.districts) {
          out_ << (first ? "" : "; ") << htmlEscape(d.district.kind) << " " << htmlEscape(d.district.code) << " "
               << htmlEscape(d.district.name) << " (" << numText(d.share * 100) << " % of the site)";
          first = false;
        }
        out_ << "</p>\n";
      }
      out_ << "<table><tr><th>building</th><th>rule</th><th>verdict</th><th>value</th><th>limit</th><th>formula</th>"
              "<th>reason</th><th>article</th></tr>\n";
      for (auto& [id, r] : rows)
        out_ << "<tr class=\"" << verdictName(r->verdict) << "\"><td>" << htmlEscape(id) << "</td><td>"
             << htmlEscape(r->title) << "</td><td>" << verdictName(r->verdict) << "</td><td>" << numText(r->value)
             << " " << htmlEscape(r->unit) << "</td><td>" << numText(r->limit) << " " << htmlEscape(r->unit)
             << "</td><td>" << htmlEscape(r->formula) << "</td><td>" << htmlEscape(r->reason) << "</td><td>"
             << htmlEscape(r->article) << "</td></tr>\n";
      out_ << "</table>\n";
      break;
    }
    case ReportFormat::Table: {
      std::string last;
      for (size_t i = 0; i < rows.size(); ++i) {
        auto& [ids_, r] = rows[i];
        std::string id = ids_ == last ? "" : ids_, parcels = i == 0 ? parcelsText(c.site) : "";
        last = ids_;
        if (id.size() > 38) id = id.substr(0, 35) + "...";
        out_ << std::left << std::setw(40) << id << std::setw(22) << parcels << std::setw(20) << r->rule << std::setw(9)
             << verdictName(r->verdict) << std::setw(10) << (numText(r->value) + r->unit.substr(0, 1)) << std::setw(10)
             << numText(r->limit) << r->reason << "\n";
      }
      break;
    }
  }
  ++n_;
}

void CheckReport::finish() {
  std::string summary = std::to_string(n_) + " sites, " + std::to_string(buildings_) +
                        " buildings: " + std::to_string(counts_["pass"]) + " pass, " + std::to_string(counts_["fail"]) +
                        " fail, " + std::to_string(counts_["unknown"]) + " unknown";
  switch (format_) {
    case ReportFormat::GeoJson:
      out_ << "\n]}\n";
      break;
    case ReportFormat::Json:
      out_ << "\n]\n";
      break;
    case ReportFormat::Html:
      out_ << "<p><b>" << htmlEscape(summary) << "</b></p>\n</body></html>\n";
      break;
    case ReportFormat::Table:
      out_ << summary << "\n";
      break;
    default:
      break;
  }
  out_.flush();
}

}  // namespace twin::landuse
