// City objects into the store; permits from CSV/JSON; the envelope as glb.
#include "twin/landuse/import.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "twin/vfs.h"

namespace twin::landuse {

const char* importKindName(ImportKind k) {
  switch (k) {
    case ImportKind::Parcels:
      return "parcels";
    case ImportKind::Zoning:
      return "districts";
    case ImportKind::Buildings:
      return "buildings";
    default:
      return "roads";
  }
}

ReadOptions readOptionsFor(ImportKind kind) {
  ReadOptions ro;
  if (kind == ImportKind::Buildings)
    ro.objectTypes = {"Building", "Feature"};
  else if (kind == ImportKind::Roads)
    ro.objectTypes = {"Road", "Feature"};
  else
    ro.objectTypes = {"*"};
  return ro;
}

bool ImportSink::readFile(const std::string& uri, Reader& reader, const ReadOptions& options) {
  // Forwards the reader's diagnostics and notes whether it could parse the file to its end.
  struct Watch : DiagnosticSink {
    DiagnosticSink& to;
    bool malformed = false;
    explicit Watch(DiagnosticSink& t) : to(t) {}
    void report(Diagnostic d) override {
      malformed = malformed || d.code == "xml-malformed";
      to.report(std::move(d));
    }
  } watch(diag_);
  ReadStats stats;
  beginFile(uri);
  bool ok = reader.read(uri, options, *this, watch, stats) && !watch.malformed;
  endFile(ok);
  return ok;
}

ImportSink::ImportSink(Store& store, const ImportOptions& options, DiagnosticSink& diag)
    : store_(store), options_(options), diag_(diag) {}

ImportSink::~ImportSink() {
  if (inFile_) endFile(false);
}

void ImportSink::beginFile(const std::string& uri) {
  file_ = uri;
  fileStats_ = {};
  if (!store_.crs().empty()) {
    store_.begin();
    inFile_ = true;
  }
}

void ImportSink::endFile(bool ok) {
  if (inFile_) {
    if (ok)
      store_.commit();
    else
      store_.rollback();
    inFile_ = false;
  }
  if (ok) {
    stats_.stored += fileStats_.stored;
    stats_.skipped += fileStats_.skipped;
    for (auto& [k, n] : fileStats_.byType) stats_.byType[k] += n;
  } else {
    stats_.skipped += fileStats_.stored + fileStats_.skipped;
  }
  fileStats_ = {};
}

PlaneTransform* ImportSink::transformFor(const CityObject& obj) {
  if (store_.crs().empty()) {
    std::string crs = options_.storeCrs;
    if (crs.empty()) {
      // The first usable point of the object decides the store's CRS.
      auto t = CrsTransform::create(obj.srs);
      if (!t.value) {
        for (auto& d : t.diagnostics) {
          auto x = d;
          x.file = obj.sourceFile, x.line = obj.sourceLine, x.featureId = obj.id;
          diag_.report(x);
        }
        return nullptr;
      }
      for (auto& g : obj.geometries) {
        if (g.points.empty()) continue;
        Vec3 p = g.points[0];
        (*t.value)->toLonLatHeight(&p, 1);
        if (std::isfinite(p[0])) {
          crs = chooseProjectedCrs(p[0], p[1]);
          break;
        }
      }
      if (crs.empty()) return nullptr;
    }
    store_.initialize(crs);
    diag_.info("store-crs", "the store keeps its geometry in " + crs + " (projected, metres)");
    store_.begin();
    inFile_ = true;
  }
  auto it = transforms_.find(obj.srs);
  if (it != transforms_.end()) return it->second.get();
  auto t = PlaneTransform::create(obj.srs, store_.crs());
  if (!t.value) {
    for (auto& d : t.diagnostics) {
      auto x = d;
      x.file = obj.sourceFile, x.line = obj.sourceLine, x.featureId = obj.id;
      diag_.report(x);
    }
    transforms_[obj.srs] = nullptr;
    return nullptr;
  }
  return (transforms_[obj.srs] = std::move(*t.value)).get();
}

bool ImportSink::accept(CityObject&& obj) {
  PlaneTransform* t = transformFor(obj);
  if (!t) {
    ++fileStats_.skipped;
    return true;
  }
  switch (options_.kind) {
    case ImportKind::Parcels: {
      if (obj.type != "Parcel" && obj.type != "Feature") {
        ++fileStats_.skipped;
        return true;
      }
      auto p = parcelFrom(obj, *t, options_.parcelFields, diag_);
      if (!p) break;
      // One 地番 per locality: a second one is stored (both are in the data) but said.
      if (!p->chiban.empty())
        for (auto& other : store_.findParcels(p->locality.empty() ? p->chiban : p->locality + " " + p->chiban))
          if (other.id != p->id && other.locality == p->locality && other.chiban == p->chiban) {
            diag_.warning("parcel-duplicate-chiban",
                          "parcel '" + p->id + "': 地番 " + p->locality + " " + p->chiban + " is already parcel '" +
                              other.id + "' (" + other.source + "); both stored — name a parcel by its id",
                          obj.sourceFile, obj.sourceLine, obj.id);
            break;
          }
      store_.put(*p);
      ++fileStats_.stored;
      fileStats_.byType["Parcel"]++;
      return true;
    }
    case ImportKind::Zoning: {
      if (obj.type == "Building" || obj.type == "BuildingPart") break;
      auto d = districtFrom(obj, *t, options_.zoningFields, diag_);
      if (!d) break;
      if (options_.rules) {
        if (d->name.empty()) d->name = options_.rules->districtName(d->kind, d->code);
        if (!options_.rules->knowsDistrict(d->kind, d->code))
          diag_.warning("zoning-unknown-code",
                        "district '" + d->id + "': " + d->kind + " code '" + d->code + "' is not in the rules file (" +
                            options_.rules->name() + "); stored, but no rule uses it — add it to the rules file",
                        obj.sourceFile, obj.sourceLine, obj.id);
      }
      store_.put(*d);
      ++fileStats_.stored;
      fileStats_.byType[d->kind]++;
      return true;
    }
    case ImportKind::Buildings: {
      auto b = summarizeBuilding(obj, *t, options_.rules ? options_.rules->floorHeight() : 3.0, diag_);
      if (!b) break;
      store_.put(*b);
      ++fileStats_.stored;
      fileStats_.byType[obj.type]++;
      return true;
    }
    case ImportKind::Roads: {
      auto r = roadFrom(obj, *t, options_.roadWidthField, diag_);
      if (!r) break;
      if (!given(r->width))
        diag_.warning("road-no-width", "road '" + r->id + "' has no width; it cannot set the front-road rules",
                      obj.sourceFile, obj.sourceLine, obj.id);
      store_.put(*r);
      ++fileStats_.stored;
      fileStats_.byType["Road"]++;
      return true;
    }
  }
  ++fileStats_.skipped;
  return true;
}

// ---- permits ----------------------------------------------------------------------------------

namespace {

// RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes.
std::vector<std::vector<std::string>> parseCsv(const std::string& text, std::vector<int64_t>& lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  int64_t line = 1, rowLine = 1;
  size_t i = 0;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;  // UTF-8 BOM (Excel)
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field.push_back('"'), ++i;
      else if (c == '"')
        quoted = false;
      else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"')
      quoted = true, any = true;
    else if (c == ',')
      row.push_back(std::move(field)), field.clear(), any = true;
    else if (c == '\r')
      continue;
    else if (c == '\n') {
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
        lines.push_back(rowLine);
      }
      row.clear(), field.clear(), any = false;
      rowLine = ++line;
    } else {
      field.push_back(c), any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
    lines.push_back(rowLine);
  }
  return rows;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ';' || c == '|') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (!(c == ' ' && cur.empty())) {
      cur.push_back(c);
    }
  }
  while (!cur.empty() && cur.back() == ' ') cur.pop_back();
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool storePermit(Store& store, Permit p, const std::string& actor, const std::string& path, int64_t line,
                 DiagnosticSink& diag) {
  if (p.id.empty() || p.type.empty()) {
    diag.error("permit-incomplete", "permit row without id or type; skipped", path, line, p.id);
    return false;
  }
  for (auto* d : {&p.appliedOn, &p.decidedOn})
    if (!d->empty() && !(d->size() >= 10 && (*d)[4] == '-' && (*d)[7] == '-')) {
      diag.error("permit-bad-date", "date '" + *d + "' is not ISO 8601 (YYYY-MM-DD); skipped", path, line, p.id);
      return false;
    }
  if (auto old = store.permit(p.id))
    p.version = old->version;
  else
    p.version = 0;
  if (!store.putPermit(p, actor)) {
    diag.error("permit-conflict", "permit changed while importing; skipped", path, line, p.id);
    return false;
  }
  return true;
}

}  // namespace

size_t importPermits(Store& store, const std::string& path, const std::string& actor, DiagnosticSink& diag) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!vfs::readAll(path, bytes, error, 1ull << 30)) {
    diag.error("permit-unreadable", "cannot read: " + error, path);
    return 0;
  }
  std::string text(bytes.begin(), bytes.end());
  size_t n = 0;
  store.begin();
  try {
    size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    if (first != std::string::npos && (text[first] == '[' || text[first] == '{')) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_object() && j.contains("permits")) j = j["permits"];
      if (!j.is_array()) {
        diag.error("permit-malformed", "JSON permits must be an array of objects", path);
      } else {
        int64_t idx = 0;
        for (auto& o : j) {
          ++idx;
          if (!o.is_object()) continue;
          auto str = [&](const char* k) {
            if (!o.contains(k) || o[k].is_null()) return std::string();
            return o[k].is_string() ? o[k].get<std::string>() : o[k].dump();
          };
          Permit p;
          p.id = str("id"), p.type = str("type"), p.status = str("status"), p.appliedOn = str("applied_on");
          p.decidedOn = str("decided_on"), p.buildingId = str("building_id"), p.applicant = str("applicant");
          p.notes = str("notes");
          if (o.contains("parcels") && o["parcels"].is_array()) {
            for (auto& x : o["parcels"])
              if (x.is_string()) p.parcels.push_back(x.get<std::string>());
          } else {
            p.parcels = splitList(str("parcels"));
          }
          if (storePermit(store, p, actor, path, idx, diag)) ++n;
        }
      }
    } else {
      std::vector<int64_t> lines;
      auto rows = parseCsv(text, lines);
      if (rows.empty()) {
        diag.error("permit-malformed", "empty CSV", path);
      } else {
        std::map<std::string, size_t> col;
        for (size_t c = 0; c < rows[0].size(); ++c) col[rows[0][c]] = c;
        for (const char* need : {"id", "type"})
          if (!col.count(need))
            diag.error("permit-malformed", std::string("CSV header lacks the column '") + need + "'", path, 1);
        if (col.count("id") && col.count("type"))
          for (size_t r = 1; r < rows.size(); ++r) {
            auto get = [&](const char* k) {
              auto it = col.find(k);
              return it != col.end() && it->second < rows[r].size() ? rows[r][it->second] : std::string();
            };
            Permit p;
            p.id = get("id"), p.type = get("type"), p.status = get("status"), p.appliedOn = get("applied_on");
            p.decidedOn = get("decided_on"), p.buildingId = get("building_id"), p.applicant = get("applicant");
            p.notes = get("notes");
            p.parcels = splitList(get("parcels"));
            if (storePermit(store, p, actor, path, lines[r], diag)) ++n;
          }
      }
    }
    store.commit();
  } catch (...) {
    store.rollback();
    throw;
  }
  return n;
}

}  // namespace twin::landuse
