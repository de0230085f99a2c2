// The land-use store on a SQL backend (GeoPackage or PostGIS): one schema, one set of queries.
#include "twin/landuse/store.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "sql_backend.h"

namespace twin::landuse {

namespace {

bool isTransient(const StoreError& e) {
  std::string m = e.what();
  return m.find("database is locked") != std::string::npos || m.find("could not serialize") != std::string::npos ||
         m.find("deadlock detected") != std::string::npos;
}

// Runs begin(); fn(); commit() until it does not fail for another writer (at most 50 tries, a
// growing pause between them); rollback() after every failure.
template <class Begin, class Fn, class Commit, class Rollback>
void retryTransaction(Begin begin, Fn fn, Commit commit, Rollback rollback) {
  for (int attempt = 0;; ++attempt) {
    begin();
    try {
      fn();
      commit();
      return;
    } catch (const StoreError& e) {
      rollback();
      if (!isTransient(e) || attempt >= 50) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + attempt * 4));
    } catch (...) {
      rollback();
      throw;
    }
  }
}

}  // namespace

void Store::transaction(const std::function<void()>& fn) {
  retryTransaction([&] { begin(); }, fn, [&] { commit(); }, [&] { rollback(); });
}

namespace {

using V = SqlValue;
constexpr int kSchemaVersion = 4;  // 2: tokens, documents; 3: token expiry and revocation; 4: road surface heights

std::string nowIso() {
  auto t = std::chrono::system_clock::now();
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

const char* kParcelCols =
    "id, chiban, realestate_no, locality, city, area, corner_lot, front_road_width, attributes, source, line";
const char* kDistrictCols =
    "id, kind, code, name, coverage_rate, floor_area_rate, height_limit, max_height, min_height, min_site_area, "
    "wall_setback, area, attributes, source, line";
const char* kBuildingCols =
    "id, footprint_source, building_area, height, height_source, ground_height, storeys_above, storeys_below, "
    "floor_area, floor_area_estimated, floor_area_source, usage, fire_resistance, attributes, source, line";
const char* kRoadCols = "id, width, name, source, level_min, level_max";
const char* kPermitCols =
    "id, type, status, applied_on, decided_on, parcels, building_id, applicant, notes, version, updated_at";

int columnCount(const char* cols) {
  int n = 1;
  for (const char* c = cols; *c; ++c) n += *c == ',';
  return n;
}

std::string placeholders(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

std::string upsertSql(const std::string& table, const char* cols, const std::string& geomParam) {
  std::string sets;
  std::string c = cols;
  size_t pos = 0;
  while (pos < c.size()) {
    size_t e = c.find(',', pos);
    if (e == std::string::npos) e = c.size();
    std::string name = c.substr(pos, e - pos);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    if (name != "id") sets += name + " = excluded." + name + ", ";
    pos = e + 1;
  }
  sets += "geom = excluded.geom";
  return "INSERT INTO " + table + " (" + cols + ", geom) VALUES (" + placeholders(columnCount(cols)) + ", " +
         geomParam + ") ON CONFLICT (id) DO UPDATE SET " + sets;
}

class SqlStore : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlBackend> b) : db_(std::move(b)) {
    if (!db_->tableExists("twin_meta")) {
      db_->exec("CREATE TABLE twin_meta (key TEXT PRIMARY KEY, value TEXT)");
      db_->registerAttributeTable("twin_meta");
      db_->exec("INSERT INTO twin_meta VALUES ('schema_version', ?)", {V::of(std::to_string(kSchemaVersion))});
    } else {
      auto rows = db_->query("SELECT value FROM twin_meta WHERE key = 'schema_version'");
      int v = rows.empty() ? 0 : int(rows[0][0].integer());
      if (v > kSchemaVersion)
        throw StoreError("the store was written by a newer twin (schema " + std::to_string(v) + "); upgrade twin");
    }
    auto rows = db_->query("SELECT value FROM twin_meta WHERE key = 'crs'");
    if (!rows.empty()) {
      crs_ = rows[0][0].text();
      upgrade();
    }
  }

  // Adds a column a store made by an older twin lacks.
  void addColumn(const std::string& table, const std::string& col, const std::string& type) {
    if (db_->keyColumn().find("BIGSERIAL") != std::string::npos) {
      db_->exec("ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + col + " " + type);
      return;
    }
    bool has = true;
    try {
      db_->query("SELECT " + col + " FROM " + table + " WHERE 1 = 0");
    } catch (const StoreError&) {
      has = false;
    }
    if (!has) db_->exec("ALTER TABLE " + table + " ADD COLUMN " + col + " " + type);
  }

  // Tables added after schema 1, created in stores made by an older twin.
  void upgrade() {
    if (!db_->tableExists("tokens")) {
      db_->exec(
          "CREATE TABLE tokens (hash TEXT PRIMARY KEY, username TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT, "
          "expires_at TEXT, revoked_at TEXT)");
      db_->registerAttributeTable("tokens");
    }
    // 3: tokens expire and can be revoked. Each column on its own (a store upgraded half-way
    // by a process that died is finished by the next); PostgreSQL: IF NOT EXISTS, so that two
    // servers upgrading the same store at once both succeed.
    for (const char* col : {"expires_at", "revoked_at"}) addColumn("tokens", col, "TEXT");
    // 4: the height range of a road's surface (令135条の2: the road's height against the site's).
    if (db_->tableExists("roads"))
      for (const char* col : {"level_min", "level_max"}) addColumn("roads", col, "REAL");
    if (!db_->tableExists("documents")) {
      db_->exec(
          std::string("CREATE TABLE documents (id TEXT PRIMARY KEY, permit_id TEXT NOT NULL, kind TEXT, name TEXT, "
                      "mime_type TEXT, is_public INTEGER, data ") +
          (db_->keyColumn().find("BIGSERIAL") != std::string::npos ? "BYTEA" : "BLOB") +
          ", size INTEGER, added_at TEXT, added_by TEXT)");
      db_->exec("CREATE INDEX documents_permit ON documents (permit_id)");
      db_->registerAttributeTable("documents");
    }
    db_->exec("UPDATE twin_meta SET value = ? WHERE key = 'schema_version'", {V::of(std::to_string(kSchemaVersion))});
  }

  std::string crs() override { return crs_; }

  void initialize(const std::string& crs) override {
    if (!crs_.empty()) {
      if (crs != crs_) throw StoreError("the store is in " + crs_ + ", not " + crs);
      return;
    }
    db_->exec("INSERT INTO twin_meta VALUES ('crs', ?)", {V::of(crs)});
    db_->setSrs(crs);
    crs_ = crs;
    db_->createFeatureTable(
        "parcels",
        "id TEXT NOT NULL UNIQUE, chiban TEXT, realestate_no TEXT, locality TEXT, city TEXT, area "
        "REAL, corner_lot INTEGER, front_road_width REAL, attributes TEXT, source TEXT, line INTEGER");
    db_->exec("CREATE INDEX parcels_chiban ON parcels (chiban)");
    db_->exec("CREATE INDEX parcels_realestate ON parcels (realestate_no)");
    db_->createFeatureTable("districts",
                            "id TEXT NOT NULL UNIQUE, kind TEXT, code TEXT, name TEXT, coverage_rate REAL, "
                            "floor_area_rate REAL, height_limit REAL, max_height REAL, min_height REAL, min_site_area "
                            "REAL, wall_setback REAL, area REAL, attributes TEXT, source TEXT, line INTEGER");
    db_->createFeatureTable("buildings",
                            "id TEXT NOT NULL UNIQUE, footprint_source TEXT, building_area REAL, height REAL, "
                            "height_source TEXT, ground_height REAL, storeys_above INTEGER, storeys_below INTEGER, "
                            "floor_area REAL, floor_area_estimated INTEGER, floor_area_source TEXT, usage TEXT, "
                            "fire_resistance TEXT, attributes TEXT, source TEXT, line INTEGER");
    db_->createFeatureTable("roads",
                            "id TEXT NOT NULL UNIQUE, width REAL, name TEXT, source TEXT, level_min REAL, level_max REAL");
    for (const char* ddl :
         {"CREATE TABLE building_parcels (building_id TEXT NOT NULL, parcel_id TEXT NOT NULL, overlap REAL, PRIMARY "
          "KEY (building_id, parcel_id))",
          "CREATE INDEX building_parcels_parcel ON building_parcels (parcel_id)",
          "CREATE TABLE building_links_done (building_id TEXT PRIMARY KEY)",
          "CREATE TABLE parcel_districts (parcel_id TEXT NOT NULL, district_id TEXT NOT NULL, kind TEXT, overlap "
          "REAL, share REAL, PRIMARY KEY (parcel_id, district_id))",
          "CREATE TABLE parcel_links_done (parcel_id TEXT PRIMARY KEY)",
          "CREATE TABLE permits (id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT, applied_on TEXT, decided_on "
          "TEXT, parcels TEXT, building_id TEXT, applicant TEXT, notes TEXT, version INTEGER NOT NULL, updated_at "
          "TEXT)",
          "CREATE TABLE permit_refs (permit_id TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (permit_id, ref))",
          "CREATE INDEX permit_refs_ref ON permit_refs (ref)"})
      db_->exec(ddl);
    // The key column's type names the dialect's auto-increment integer.
    std::string seq = db_->keyColumn();
    seq.replace(0, 3, "seq");
    db_->exec("CREATE TABLE audit_log (" + seq +
              ", at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT "
              "NOT NULL, before TEXT, after TEXT)");
    for (const char* t : {"building_parcels", "building_links_done", "parcel_districts", "parcel_links_done", "permits",
                          "permit_refs", "audit_log"})
      db_->registerAttributeTable(t);
    upgrade();
  }

  void begin() override {
    db_->exec("BEGIN");
    inTxn_ = true;
  }
  void commit() override {
    cleanIfDirty();  // links computed from replaced parcels or districts are stale
    if (dataChanged_) bumpRevision();
    db_->exec("COMMIT");
    inTxn_ = false;
    dataChanged_ = false;
  }
  void rollback() override {
    inTxn_ = false;
    dataChanged_ = false;
    try {
      db_->exec("ROLLBACK");
    } catch (const StoreError&) {
    }
  }

  void requireCrs() {
    if (crs_.empty()) throw StoreError("the store is empty: import parcels, zoning or buildings first");
  }

  void put(const Parcel& p) override {
    requireCrs();
    db_->exec(upsertSql("parcels", kParcelCols, db_->geomParam()),
              {V::of(p.id), V::of(p.chiban), V::of(p.realEstateNo), V::of(p.locality), V::of(p.city), V::of(p.area),
               V::of(int64_t(p.cornerLot)), V::of(p.frontRoadWidth), V::of(p.attributes), V::of(p.source),
               V::of(int64_t(p.line)), db_->geomValue(p.geom)});
    linksDirty_ = true;
    dataWritten();
  }
  void put(const District& d) override {
    requireCrs();
    db_->exec(upsertSql("districts", kDistrictCols, db_->geomParam()),
              {V::of(d.id), V::of(d.kind), V::of(d.code), V::of(d.name), V::of(d.coverageRate), V::of(d.floorAreaRate),
               V::of(d.heightLimit), V::of(d.maxHeight), V::of(d.minHeight), V::of(d.minSiteArea), V::of(d.wallSetback),
               V::of(d.area), V::of(d.attributes), V::of(d.source), V::of(int64_t(d.line)), db_->geomValue(d.geom)});
    linksDirty_ = true;
    dataWritten();
  }
  void put(const Building& b) override {
    requireCrs();
    db_->exec(upsertSql("buildings", kBuildingCols, db_->geomParam()),
              {V::of(b.id), V::of(b.footprintSource), V::of(b.buildingArea), V::of(b.height), V::of(b.heightSource),
               V::of(b.groundHeight), b.storeysAbove >= 0 ? V::of(int64_t(b.storeysAbove)) : V::null(),
               b.storeysBelow >= 0 ? V::of(int64_t(b.storeysBelow)) : V::null(), V::of(b.floorArea),
               V::of(int64_t(b.floorAreaEstimated)), V::of(b.floorAreaSource), V::of(b.usage), V::of(b.fireResistance),
               V::of(b.attributes), V::of(b.source), V::of(int64_t(b.line)), db_->geomValue(b.footprint)});
    db_->exec("DELETE FROM building_links_done WHERE building_id = ?", {V::of(b.id)});
    dataWritten();
  }
  void put(const Road& r) override {
    requireCrs();
    db_->exec(upsertSql("roads", kRoadCols, db_->geomParam()),
              {V::of(r.id), V::of(r.width), V::of(r.name), V::of(r.source), V::of(r.levelMin), V::of(r.levelMax),
               db_->geomValue(r.geom)});
    dataWritten();
  }

  // ---- revision ----

  int64_t revision() override {
    auto rows = db_->query("SELECT value FROM twin_meta WHERE key = 'revision'");
    return rows.empty() ? 0 : std::strtoll(rows[0][0].text().c_str(), nullptr, 10);
  }
  // Inside a transaction the revision moves at commit (once); outside, with the write.
  void dataWritten() {
    if (inTxn_)
      dataChanged_ = true;
    else
      bumpRevision();
  }
  void bumpRevision() {
    db_->exec(
        "INSERT INTO twin_meta (key, value) VALUES ('revision', '1') ON CONFLICT (key) DO UPDATE SET value = "
        "CAST(CAST(twin_meta.value AS BIGINT) + 1 AS TEXT)");
  }

  // ---- reads ----

  template <class T>
  std::vector<T> select(const std::string& table, const char* cols, const std::string& where,
                        const std::vector<V>& params, T (SqlStore::*make)(const SqlRow&)) {
    if (crs_.empty()) return {};
    auto rows = db_->query(
        "SELECT " + std::string(cols) + ", " + db_->geomSelect("t") + " FROM " + table + " t WHERE " + where, params);
    std::vector<T> out;
    out.reserve(rows.size());
    for (auto& r : rows) out.push_back((this->*make)(r));
    return out;
  }

  MultiPoly geomOf(const SqlValue& v) {
    MultiPoly m;
    if (!db_->geomRead(v, m)) throw StoreError("a geometry in the store cannot be read (damaged blob)");
    return m;
  }

  Parcel makeParcel(const SqlRow& r) {
    Parcel p;
    p.id = r[0].text(), p.chiban = r[1].text(), p.realEstateNo = r[2].text(), p.locality = r[3].text();
    p.city = r[4].text(), p.area = r[5].real(), p.cornerLot = r[6].integer() != 0, p.frontRoadWidth = r[7].real();
    p.attributes = r[8].text(), p.source = r[9].text(), p.line = r[10].integer();
    p.geom = geomOf(r[11]);
    return p;
  }
  District makeDistrict(const SqlRow& r) {
    District d;
    d.id = r[0].text(), d.kind = r[1].text(), d.code = r[2].text(), d.name = r[3].text();
    d.coverageRate = r[4].real(), d.floorAreaRate = r[5].real(), d.heightLimit = r[6].real();
    d.maxHeight = r[7].real(), d.minHeight = r[8].real(), d.minSiteArea = r[9].real(), d.wallSetback = r[10].real();
    d.area = r[11].real(), d.attributes = r[12].text(), d.source = r[13].text(), d.line = r[14].integer();
    d.geom = geomOf(r[15]);
    return d;
  }
  Building makeBuilding(const SqlRow& r) {
    Building b;
    b.id = r[0].text(), b.footprintSource = r[1].text(), b.buildingArea = r[2].real(), b.height = r[3].real();
    b.heightSource = r[4].text(), b.groundHeight = r[5].real();
    b.storeysAbove = r[6].isNull() ? -1 : int(r[6].integer());
    b.storeysBelow = r[7].isNull() ? -1 : int(r[7].integer());
    b.floorArea = r[8].real(), b.floorAreaEstimated = r[9].integer() != 0, b.floorAreaSource = r[10].text();
    b.usage = r[11].text(), b.fireResistance = r[12].text(), b.attributes = r[13].text(), b.source = r[14].text();
    b.line = r[15].integer();
    b.footprint = geomOf(r[16]);
    return b;
  }
  Road makeRoad(const SqlRow& r) {
    Road x;
    x.id = r[0].text(), x.width = r[1].real(), x.name = r[2].text(), x.source = r[3].text();
    x.levelMin = r[4].real(), x.levelMax = r[5].real();
    x.geom = geomOf(r[6]);
    return x;
  }

  std::vector<V> boxParams(const Box2& b) { return {V::of(b.minx), V::of(b.miny), V::of(b.maxx), V::of(b.maxy)}; }

  std::vector<Parcel> parcelsIn(const Box2& box) override {
    return select("parcels", kParcelCols, db_->boxFilter("parcels", "t") + " ORDER BY t.id", boxParams(box),
                  &SqlStore::makeParcel);
  }
  std::vector<Parcel> parcelsAt(const P2& p) override {
    Box2 b;
    b.add(p);
    std::vector<Parcel> out;
    for (auto& c : parcelsIn(b))
      if (contains(c.geom, p)) out.push_back(std::move(c));
    return out;
  }
  std::optional<Parcel> parcel(const std::string& id) override {
    auto v = select("parcels", kParcelCols, "t.id = ?", {V::of(id)}, &SqlStore::makeParcel);
    if (v.empty()) return std::nullopt;
    return std::move(v[0]);
  }
  std::vector<Parcel> findParcels(const std::string& textIn) override {
    std::string text = textIn;
    while (!text.empty() && text.back() == ' ') text.pop_back();
    auto byId = select("parcels", kParcelCols, "t.id = ? OR t.realestate_no = ? OR t.chiban = ? ORDER BY t.id",
                       {V::of(text), V::of(text), V::of(text)}, &SqlStore::makeParcel);
    if (!byId.empty()) return byId;
    // "locality 地番": the 地番 is the last word.
    auto sp = text.find_last_of(" \t\u3000");
    size_t cut = text.rfind(' ');
    if (sp == std::string::npos || cut == std::string::npos) return {};
    std::string loc = text.substr(0, cut), chiban = text.substr(cut + 1);
    while (!loc.empty() && loc.back() == ' ') loc.pop_back();
    return select("parcels", kParcelCols, "t.chiban = ? AND (t.locality = ? OR t.city || t.locality = ?) ORDER BY t.id",
                  {V::of(chiban), V::of(loc), V::of(loc)}, &SqlStore::makeParcel);
  }
  std::vector<Parcel> searchParcels(const std::string& prefixIn, size_t limit) override {
    std::string prefix;
    for (char c : prefixIn)
      if (c != ' ') prefix.push_back(c);
    // Full-width spaces too (U+3000 is E3 80 80 in UTF-8).
    for (size_t p; (p = prefix.find("\xE3\x80\x80")) != std::string::npos;) prefix.erase(p, 3);
    if (prefix.empty()) return {};
    std::string like;
    for (char c : prefix) {
      if (c == '%' || c == '_' || c == '!') like.push_back('!');
      like.push_back(c);
    }
    like += "%";
    return select("parcels", kParcelCols,
                  "(t.locality || t.chiban) LIKE ? ESCAPE '!' OR (t.city || t.locality || t.chiban) LIKE ? ESCAPE '!' "
                  "ORDER BY t.locality, t.chiban LIMIT " +
                      std::to_string(limit),
                  {V::of(like), V::of(like)}, &SqlStore::makeParcel);
  }
  std::vector<District> districtsIn(const Box2& box) override {
    return select("districts", kDistrictCols, db_->boxFilter("districts", "t") + " ORDER BY t.kind, t.id",
                  boxParams(box), &SqlStore::makeDistrict);
  }
  std::optional<District> district(const std::string& id) override {
    auto v = select("districts", kDistrictCols, "t.id = ?", {V::of(id)}, &SqlStore::makeDistrict);
    if (v.empty()) return std::nullopt;
    return std::move(v[0]);
  }
  std::vector<std::string> districtKindsIn(const Box2& box) override {
    std::vector<std::string> out;
    if (crs_.empty()) return out;
    for (auto& r : db_->query(
             "SELECT DISTINCT t.kind FROM districts t WHERE " + db_->boxFilter("districts", "t") + " ORDER BY t.kind",
             boxParams(box)))
      out.push_back(r[0].text());
    return out;
  }
  std::vector<Building> buildingsIn(const Box2& box) override {
    return select("buildings", kBuildingCols, db_->boxFilter("buildings", "t") + " ORDER BY t.id", boxParams(box),
                  &SqlStore::makeBuilding);
  }
  std::optional<Building> building(const std::string& id) override {
    auto v = select("buildings", kBuildingCols, "t.id = ?", {V::of(id)}, &SqlStore::makeBuilding);
    if (v.empty()) return std::nullopt;
    return std::move(v[0]);
  }
  void forEachBuilding(const std::function<void(Building&&)>& f, size_t batch) override {
    if (crs_.empty()) return;
    std::string last;
    bool first = true;
    while (true) {
      auto v = select("buildings", kBuildingCols,
                      std::string(first ? "1 = 1" : "t.id > ?") + " ORDER BY t.id LIMIT " + std::to_string(batch),
                      first ? std::vector<V>{} : std::vector<V>{V::of(last)}, &SqlStore::makeBuilding);
      first = false;
      if (v.empty()) break;
      last = v.back().id;
      for (auto& b : v) f(std::move(b));
      if (v.size() < batch) break;
    }
  }
  std::vector<Road> roadsIn(const Box2& box) override {
    return select("roads", kRoadCols, db_->boxFilter("roads", "t") + " ORDER BY t.id", boxParams(box),
                  &SqlStore::makeRoad);
  }

  // ---- links ----

  void cleanIfDirty() {
    if (!linksDirty_) return;
    linksDirty_ = false;
    clearLinks();
  }

  // Links are computed lazily by whichever request first needs them: several server threads may
  // write the same building's links at once. One write transaction each (SQLite: BEGIN IMMEDIATE,
  // which waits for the write lock instead of failing with "database is locked" when a read must
  // become a write) keeps them whole and serialised.
  template <class F>
  void writeTransaction(F f) {
    if (inTxn_) return f();
    retryTransaction([&] { db_->beginWrite(); }, f, [&] { db_->exec("COMMIT"); },
                     [&] {
                       try {
                         db_->exec("ROLLBACK");
                       } catch (const StoreError&) {
                       }
                     });
  }

  void setBuildingParcels(const std::string& b, const std::vector<BuildingParcel>& links) override {
    cleanIfDirty();
    writeTransaction([&] {
      db_->exec("DELETE FROM building_parcels WHERE building_id = ?", {V::of(b)});
      for (auto& l : links)
        db_->exec("INSERT INTO building_parcels VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                  {V::of(b), V::of(l.parcelId), V::of(l.overlap)});
      db_->exec("INSERT INTO building_links_done VALUES (?) ON CONFLICT (building_id) DO NOTHING", {V::of(b)});
    });
  }
  std::optional<std::vector<BuildingParcel>> buildingParcels(const std::string& b) override {
    cleanIfDirty();
    if (crs_.empty() || db_->query("SELECT 1 FROM building_links_done WHERE building_id = ?", {V::of(b)}).empty())
      return std::nullopt;
    std::vector<BuildingParcel> out;
    for (auto& r : db_->query(
             "SELECT parcel_id, overlap FROM building_parcels WHERE building_id = ? ORDER BY parcel_id", {V::of(b)}))
      out.push_back({b, r[0].text(), r[1].real()});
    return out;
  }
  std::vector<BuildingParcel> parcelBuildings(const std::string& p) override {
    std::vector<BuildingParcel> out;
    if (crs_.empty()) return out;
    for (auto& r : db_->query(
             "SELECT building_id, overlap FROM building_parcels WHERE parcel_id = ? ORDER BY building_id", {V::of(p)}))
      out.push_back({r[0].text(), p, r[1].real()});
    return out;
  }
  void setParcelDistricts(const std::string& p, const std::vector<ParcelDistrict>& links) override {
    cleanIfDirty();
    writeTransaction([&] {
      db_->exec("DELETE FROM parcel_districts WHERE parcel_id = ?", {V::of(p)});
      for (auto& l : links)
        db_->exec("INSERT INTO parcel_districts VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                  {V::of(p), V::of(l.districtId), V::of(l.kind), V::of(l.overlap), V::of(l.share)});
      db_->exec("INSERT INTO parcel_links_done VALUES (?) ON CONFLICT (parcel_id) DO NOTHING", {V::of(p)});
    });
  }
  std::optional<std::vector<ParcelDistrict>> parcelDistricts(const std::string& p) override {
    cleanIfDirty();
    if (crs_.empty() || db_->query("SELECT 1 FROM parcel_links_done WHERE parcel_id = ?", {V::of(p)}).empty())
      return std::nullopt;
    std::vector<ParcelDistrict> out;
    for (auto& r : db_->query("SELECT district_id, kind, overlap, share FROM parcel_districts WHERE parcel_id = ? "
                              "ORDER BY kind, district_id",
                              {V::of(p)}))
      out.push_back({p, r[0].text(), r[1].text(), r[2].real(), r[3].real()});
    return out;
  }
  void clearLinks() override {
    if (crs_.empty()) return;
    for (const char* t : {"building_parcels", "building_links_done", "parcel_districts", "parcel_links_done"})
      db_->exec(std::string("DELETE FROM ") + t);
  }

  // ---- permits ----

  static std::string permitJson(const Permit& p) {
    nlohmann::json j = {{"id", p.id},
                        {"type", p.type},
                        {"status", p.status},
                        {"applied_on", p.appliedOn},
                        {"decided_on", p.decidedOn},
                        {"parcels", p.parcels},
                        {"building_id", p.buildingId},
                        {"applicant", p.applicant},
                        {"notes", p.notes},
                        {"version", p.version}};
    return j.dump();
  }
  Permit makePermit(const SqlRow& r) {
    Permit p;
    p.id = r[0].text(), p.type = r[1].text(), p.status = r[2].text(), p.appliedOn = r[3].text();
    p.decidedOn = r[4].text();
    auto j = nlohmann::json::parse(r[5].text().empty() ? "[]" : r[5].text(), nullptr, false);
    if (j.is_array())
      for (auto& x : j)
        if (x.is_string()) p.parcels.push_back(x.get<std::string>());
    p.buildingId = r[6].text(), p.applicant = r[7].text(), p.notes = r[8].text(), p.version = r[9].integer();
    p.updatedAt = r[10].text();
    return p;
  }
  std::vector<Permit> permitRows(const std::string& where, const std::vector<V>& params) {
    std::vector<Permit> out;
    if (crs_.empty()) return out;
    for (auto& r : db_->query("SELECT " + std::string(kPermitCols) + " FROM permits WHERE " + where, params))
      out.push_back(makePermit(r));
    return out;
  }

  // A permit, its references and its audit entry are written in one transaction, or none is.
  bool putPermit(Permit& p, const std::string& actor) override {
    requireCrs();
    bool written = false;
    Permit attempt = p;
    writeTransaction([&] {
      attempt = p;
      written = putPermitRows(attempt, actor);
    });
    if (written) p = attempt;
    return written;
  }
  bool putPermitRows(Permit& p, const std::string& actor) {
    std::string now = nowIso();
    std::optional<Permit> before = permit(p.id);
    nlohmann::json parcels = p.parcels;
    if (p.version == 0) {
      if (before) return false;  // exists: creating it again would overwrite
      p.version = 1;
      p.updatedAt = now;
      // ON CONFLICT: another writer created it meanwhile (PostgreSQL, READ COMMITTED): it exists.
      db_->exec(
          "INSERT INTO permits (" + std::string(kPermitCols) + ") VALUES (" + placeholders(11) +
              ") ON CONFLICT (id) DO NOTHING",
          {V::of(p.id), V::of(p.type), V::of(p.status), V::of(p.appliedOn), V::of(p.decidedOn), V::of(parcels.dump()),
           V::of(p.buildingId), V::of(p.applicant), V::of(p.notes), V::of(p.version), V::of(p.updatedAt)});
      if (db_->changes() != 1) {
        p.version = 0;
        return false;
      }
    } else {
      db_->exec(
          "UPDATE permits SET type = ?, status = ?, applied_on = ?, decided_on = ?, parcels = ?, building_id = ?, "
          "applicant = ?, notes = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
          {V::of(p.type), V::of(p.status), V::of(p.appliedOn), V::of(p.decidedOn), V::of(parcels.dump()),
           V::of(p.buildingId), V::of(p.applicant), V::of(p.notes), V::of(now), V::of(p.id), V::of(p.version)});
      if (db_->changes() != 1) return false;
      p.version += 1;
      p.updatedAt = now;
    }
    db_->exec("DELETE FROM permit_refs WHERE permit_id = ?", {V::of(p.id)});
    std::vector<std::string> refs = p.parcels;
    if (!p.buildingId.empty()) refs.push_back(p.buildingId);
    for (auto& r : refs)
      db_->exec("INSERT INTO permit_refs VALUES (?, ?) ON CONFLICT (permit_id, ref) DO NOTHING",
                {V::of(p.id), V::of(r)});
    auditLog(actor, before ? "update" : "create", "permit", p.id, before ? permitJson(*before) : "", permitJson(p));
    return true;
  }
  std::optional<Permit> permit(const std::string& id) override {
    auto v = permitRows("id = ?", {V::of(id)});
    if (v.empty()) return std::nullopt;
    return std::move(v[0]);
  }
  std::vector<Permit> permitsFor(const std::string& ref) override {
    return permitRows("id IN (SELECT permit_id FROM permit_refs WHERE ref = ?) ORDER BY applied_on, id", {V::of(ref)});
  }
  std::vector<Permit> permits() override { return permitRows("1 = 1 ORDER BY id", {}); }

  void auditLog(const std::string& actor, const std::string& action, const std::string& entity, const std::string& id,
                const std::string& before, const std::string& after) {
    db_->exec(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
        {V::of(nowIso()), V::of(actor), V::of(action), V::of(entity), V::of(id),
         before.empty() ? V::null() : V::of(before), after.empty() ? V::null() : V::of(after)});
  }

  // The document and its audit entry in one transaction. Without an id, the next free
  // "<permit>-<n>" is taken by the insert itself (ON CONFLICT DO NOTHING, then the next n), so
  // concurrent uploads never collide, on either backend.
  void putDocument(Document& d, const std::string& actor) override {
    requireCrs();
    nlohmann::json j = {
        {"permit_id", d.permitId}, {"kind", d.kind}, {"name", d.name}, {"size", d.data.size()}, {"public", d.isPublic}};
    std::string audit = j.dump();  // before writing: text that cannot be logged writes nothing
    const bool numbered = d.id.empty();
    std::string id;
    writeTransaction([&] {
      int64_t n =
          numbered
              ? db_->query("SELECT COUNT(*) FROM documents WHERE permit_id = ?", {V::of(d.permitId)})[0][0].integer() +
                    1
              : 0;
      for (int tries = 0;; ++tries, ++n) {
        id = numbered ? d.permitId + "-" + std::to_string(n) : d.id;
        db_->exec(
            "INSERT INTO documents (id, permit_id, kind, name, mime_type, is_public, data, size, added_at, added_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            {V::of(id), V::of(d.permitId), V::of(d.kind), V::of(d.name), V::of(d.mimeType), V::of(int64_t(d.isPublic)),
             V::blob(d.data), V::of(int64_t(d.data.size())), V::of(nowIso()), V::of(actor)});
        if (db_->changes() == 1) break;
        if (!numbered || tries > 10000) throw StoreError("document id '" + id + "' exists");
      }
      j["id"] = id;
      auditLog(actor, "attach", "document", id, "", j.dump());
    });
    d.id = id;
  }
  Document makeDocument(const SqlRow& r, bool withData) {
    Document d;
    d.id = r[0].text(), d.permitId = r[1].text(), d.kind = r[2].text(), d.name = r[3].text();
    d.mimeType = r[4].text(), d.isPublic = r[5].integer() != 0, d.size = r[6].integer();
    d.addedAt = r[7].text(), d.addedBy = r[8].text();
    if (withData && r.size() > 9) d.data = r[9].s;
    return d;
  }
  std::vector<Document> documents(const std::string& permitId) override {
    std::vector<Document> out;
    if (crs_.empty()) return out;
    for (auto& r : db_->query("SELECT id, permit_id, kind, name, mime_type, is_public, size, added_at, added_by FROM "
                              "documents WHERE permit_id = ? ORDER BY added_at, id",
                              {V::of(permitId)}))
      out.push_back(makeDocument(r, false));
    return out;
  }
  std::optional<Document> document(const std::string& id) override {
    if (crs_.empty()) return std::nullopt;
    auto rows = db_->query(
        "SELECT id, permit_id, kind, name, mime_type, is_public, size, added_at, added_by, data FROM "
        "documents WHERE id = ?",
        {V::of(id)});
    if (rows.empty()) return std::nullopt;
    return makeDocument(rows[0], true);
  }

  void putToken(const Token& t, const std::string& actor) override {
    requireCrs();
    writeTransaction([&] { putTokenRows(t, actor); });
  }
  void putTokenRows(const Token& t, const std::string& actor) {
    db_->exec(
        "INSERT INTO tokens (hash, username, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) "
        "DO UPDATE SET username = excluded.username, role = excluded.role, expires_at = excluded.expires_at",
        {V::of(t.hash), V::of(t.user), V::of(t.role), V::of(nowIso()),
         t.expiresAt.empty() ? V::null() : V::of(t.expiresAt)});
    // The hash is a secret's fingerprint: the log keeps who and what role, not the hash.
    nlohmann::json j = {{"user", t.user},
                        {"role", t.role},
                        {"expires", t.expiresAt.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.expiresAt)}};
    auditLog(actor, "create", "token", t.user, "", j.dump());
  }
  std::optional<Token> token(const std::string& hash) override {
    if (crs_.empty()) return std::nullopt;
    auto rows = db_->query("SELECT hash, username, role, created_at, expires_at, revoked_at FROM tokens WHERE hash = ?",
                           {V::of(hash)});
    if (rows.empty()) return std::nullopt;
    return Token{rows[0][0].text(), rows[0][1].text(), rows[0][2].text(),
                 rows[0][3].text(), rows[0][4].text(), rows[0][5].text()};
  }
  int revokeTokens(const std::string& user, const std::string& actor) override {
    requireCrs();
    int n = 0;
    writeTransaction([&] {
      db_->exec("UPDATE tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
                {V::of(nowIso()), V::of(user)});
      n = int(db_->changes());
      if (n > 0) auditLog(actor, "revoke", "token", user, "", nlohmann::json{{"user", user}, {"tokens", n}}.dump());
    });
    return n;
  }
  std::vector<AuditEntry> audit(size_t limit) override {
    std::vector<AuditEntry> out;
    if (crs_.empty()) return out;
    for (auto& r : db_->query("SELECT seq, at, actor, action, entity, entity_id, before, after FROM audit_log ORDER BY "
                              "seq DESC LIMIT " +
                              std::to_string(limit)))
      out.push_back(
          {r[0].integer(), r[1].text(), r[2].text(), r[3].text(), r[4].text(), r[5].text(), r[6].text(), r[7].text()});
    return out;
  }

  StoreCounts counts() override {
    StoreCounts c;
    if (crs_.empty()) return c;
    auto n = [&](const char* t) { return db_->query(std::string("SELECT COUNT(*) FROM ") + t)[0][0].integer(); };
    c.parcels = n("parcels"), c.districts = n("districts"), c.buildings = n("buildings"), c.roads = n("roads");
    c.permits = n("permits"), c.buildingParcelLinks = n("building_parcels");
    return c;
  }
  std::string describe() override { return db_->describe() + (crs_.empty() ? "" : " (" + crs_ + ")"); }

 private:
  std::unique_ptr<SqlBackend> db_;
  std::string crs_;
  bool linksDirty_ = false;
  bool inTxn_ = false;        // inside begin() ... commit()
  bool dataChanged_ = false;  // parcels, districts, buildings or roads written in this transaction
};

}  // namespace

bool Store::isPostgres(const std::string& uri) {
  return uri.rfind("postgresql://", 0) == 0 || uri.rfind("postgres://", 0) == 0;
}

std::unique_ptr<Store> Store::open(const std::string& uri) {
  if (isPostgres(uri)) return std::make_unique<SqlStore>(openPostgres(uri));
  return std::make_unique<SqlStore>(openSqlite(uri));
}

}  // namespace twin::landuse
