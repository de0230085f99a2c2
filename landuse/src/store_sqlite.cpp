// GeoPackage 1.3 backend: an SQLite file any GIS opens. Feature tables carry GeoPackage geometry
// blobs (header with envelope + WKB) and R*Tree spatial indexes kept up to date by the standard
// triggers; the ST_* functions those triggers call are registered on our connection.
#include <sqlite3.h>

#include <cstring>
#include <map>

#include "sql_backend.h"
#include "twin/crs.h"
#include "twin/landuse/store.h"

namespace twin::landuse {

std::string SqlValue::text() const {
  switch (kind) {
    case Int:
      return std::to_string(i);
    case Real: {
      char b[40];
      std::snprintf(b, sizeof b, "%.17g", d);
      return b;
    }
    case Text:
    case Blob:
      return s;
    default:
      return {};
  }
}
double SqlValue::real() const {
  switch (kind) {
    case Int:
      return double(i);
    case Real:
      return d;
    case Text: {
      char* e = nullptr;
      double v = std::strtod(s.c_str(), &e);
      return (e && *e == 0 && !s.empty()) ? v : NAN;
    }
    default:
      return NAN;
  }
}
int64_t SqlValue::integer() const {
  switch (kind) {
    case Int:
      return i;
    case Real:
      return int64_t(d);
    case Text:
      return std::strtoll(s.c_str(), nullptr, 10);
    default:
      return 0;
  }
}

namespace {

// GeoPackage geometry blob: "GP", version 0, flags (little-endian, envelope [minx maxx miny maxy]),
// srs_id, envelope, then ISO WKB.
std::string gpBlob(const MultiPoly& m, int32_t srsId) {
  std::string s = "GP";
  s.push_back(0);
  Box2 b = bounds(m);
  bool empty = m.empty() || b.empty();
  s.push_back(char(empty ? 0x11 : 0x03));
  s.append(reinterpret_cast<const char*>(&srsId), 4);
  if (!empty) {
    double env[4] = {b.minx, b.maxx, b.miny, b.maxy};
    s.append(reinterpret_cast<const char*>(env), sizeof env);
  }
  s += toWkb(m);
  return s;
}

// Offset of the WKB in a GeoPackage blob, and the envelope when the header has one.
bool gpParse(const uint8_t* p, size_t n, size_t& wkbOffset, double env[4], bool& hasEnv, bool& empty) {
  if (n < 8 || p[0] != 'G' || p[1] != 'P') return false;
  uint8_t flags = p[3];
  int envType = (flags >> 1) & 7;
  empty = flags & 0x10;
  static const int envSizes[] = {0, 32, 48, 48, 64};
  if (envType > 4) return false;
  wkbOffset = 8 + envSizes[envType];
  if (n < wkbOffset) return false;
  hasEnv = envType > 0;
  if (hasEnv) {
    bool little = flags & 1;
    for (int k = 0; k < 4; ++k) {
      uint64_t v;
      std::memcpy(&v, p + 8 + 8 * k, 8);
      if (!little) v = __builtin_bswap64(v);
      std::memcpy(&env[k], &v, 8);
    }
  }
  return true;
}

// ST_MinX/MaxX/MinY/MaxY/IsEmpty over GeoPackage blobs, for the R*Tree triggers.
void stEnvelope(sqlite3_context* c, int, sqlite3_value** v) {
  int which = int(reinterpret_cast<intptr_t>(sqlite3_user_data(c)));
  if (sqlite3_value_type(v[0]) != SQLITE_BLOB) return sqlite3_result_null(c);
  auto* p = static_cast<const uint8_t*>(sqlite3_value_blob(v[0]));
  size_t n = size_t(sqlite3_value_bytes(v[0]));
  size_t off;
  double env[4];
  bool hasEnv = false, empty = false;
  if (!gpParse(p, n, off, env, hasEnv, empty)) return sqlite3_result_null(c);
  if (which == 4) return sqlite3_result_int(c, empty ? 1 : 0);
  if (!hasEnv) {
    MultiPoly m;
    if (!fromWkb(p + off, n - off, m) || m.empty()) return sqlite3_result_null(c);
    Box2 b = bounds(m);
    env[0] = b.minx, env[1] = b.maxx, env[2] = b.miny, env[3] = b.maxy;
  }
  sqlite3_result_double(c, env[which]);
}

class SqliteBackend : public SqlBackend {
 public:
  explicit SqliteBackend(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string e = db_ ? sqlite3_errmsg(db_) : "out of memory";
      if (db_) sqlite3_close(db_);
      db_ = nullptr;
      throw StoreError("cannot open the store '" + path + "': " + e);
    }
    sqlite3_busy_timeout(db_, 10000);
    const char* names[] = {"ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY", "ST_IsEmpty"};
    for (int k = 0; k < 5; ++k)
      sqlite3_create_function(db_, names[k], 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                              reinterpret_cast<void*>(intptr_t(k)), stEnvelope, nullptr, nullptr);
    // A file that exists but is not a GeoPackage (or SQLite) is refused before anything is written.
    auto rows = query("PRAGMA application_id");
    int64_t app = rows.empty() ? 0 : rows[0][0].integer();
    bool hasTables = !query("SELECT name FROM sqlite_master LIMIT 1").empty();
    if (hasTables && app != 0x47504B47)
      throw StoreError("'" + path + "' is an SQLite database but not a GeoPackage; give a new file name for the store");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    if (!hasTables) createGpkgTables();
  }
  ~SqliteBackend() override {
    for (auto& [_, s] : stmts_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
  }

  sqlite3_stmt* prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), int(sql.size()), &s, nullptr) != SQLITE_OK)
      throw StoreError(std::string("store SQL error: ") + sqlite3_errmsg(db_) + " in: " + sql.substr(0, 200));
    stmts_[sql] = s;
    return s;
  }

  void bind(sqlite3_stmt* s, const std::vector<SqlValue>& params) {
    for (size_t k = 0; k < params.size(); ++k) {
      int i = int(k + 1);
      auto& v = params[k];
      switch (v.kind) {
        case SqlValue::Null:
          sqlite3_bind_null(s, i);
          break;
        case SqlValue::Int:
          sqlite3_bind_int64(s, i, v.i);
          break;
        case SqlValue::Real:
          sqlite3_bind_double(s, i, v.d);
          break;
        case SqlValue::Text:
          sqlite3_bind_text(s, i, v.s.data(), int(v.s.size()), SQLITE_TRANSIENT);
          break;
        case SqlValue::Blob:
          sqlite3_bind_blob(s, i, v.s.data(), int(v.s.size()), SQLITE_TRANSIENT);
          break;
      }
    }
  }

  void execImpl(const std::string& sql, const std::vector<SqlValue>& params) override {
    if (params.empty() && sql.find(';') != std::string::npos) {
      char* err = nullptr;
      if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string e = err ? err : "?";
        sqlite3_free(err);
        throw StoreError("store SQL error: " + e);
      }
      changes_ = sqlite3_changes(db_);
      return;
    }
    sqlite3_stmt* s = prepare(sql);
    bind(s, params);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
      std::string e = sqlite3_errmsg(db_);
      sqlite3_reset(s);
      throw StoreError("store SQL error: " + e + " in: " + sql.substr(0, 120));
    }
    changes_ = sqlite3_changes(db_);
    sqlite3_reset(s);
  }

  std::vector<SqlRow> queryImpl(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* s = prepare(sql);
    bind(s, params);
    std::vector<SqlRow> rows;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      int n = sqlite3_column_count(s);
      SqlRow row(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(s, c)) {
          case SQLITE_INTEGER:
            row[c] = SqlValue::of(int64_t(sqlite3_column_int64(s, c)));
            break;
          case SQLITE_FLOAT:
            row[c] = SqlValue::of(sqlite3_column_double(s, c));
            break;
          case SQLITE_TEXT:
            row[c] = SqlValue::of(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c)),
                                              size_t(sqlite3_column_bytes(s, c))));
            break;
          case SQLITE_BLOB:
            row[c] = SqlValue::blob(
                std::string(static_cast<const char*>(sqlite3_column_blob(s, c)), size_t(sqlite3_column_bytes(s, c))));
            break;
          default:
            break;
        }
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      std::string e = sqlite3_errmsg(db_);
      sqlite3_reset(s);
      throw StoreError("store SQL error: " + e + " in: " + sql.substr(0, 120));
    }
    sqlite3_reset(s);
    return rows;
  }

  int64_t changes() override { return changes_; }
  void beginWrite() override { exec("BEGIN IMMEDIATE"); }
  bool tableExists(const std::string& t) override {
    return !query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", {SqlValue::of(t)}).empty();
  }
  std::string describe() override { return "GeoPackage " + path_; }
  std::string keyColumn() override { return "fid INTEGER PRIMARY KEY AUTOINCREMENT"; }

  void setSrs(const std::string& crs) override {
    srsId_ = std::stoi(crs.substr(crs.find(':') + 1));
    std::string wkt = crsWkt1(crs);
    if (wkt.empty()) throw StoreError("PROJ has no definition of " + crs);
    exec(
        "INSERT OR REPLACE INTO gpkg_spatial_ref_sys(srs_name, srs_id, organization, organization_coordsys_id, "
        "definition, description) VALUES (?, ?, 'EPSG', ?, ?, ?)",
        {SqlValue::of(crs), SqlValue::of(int64_t(srsId_)), SqlValue::of(int64_t(srsId_)), SqlValue::of(wkt),
         SqlValue::of("twin store CRS")});
  }

  void createFeatureTable(const std::string& t, const std::string& columns) override {
    if (srsId_ == 0) loadSrs();
    exec("CREATE TABLE " + t + " (" + keyColumn() + ", " + columns + ", geom MULTIPOLYGON)");
    exec("INSERT INTO gpkg_contents(table_name, data_type, identifier, srs_id) VALUES (?, 'features', ?, ?)",
         {SqlValue::of(t), SqlValue::of(t), SqlValue::of(int64_t(srsId_))});
    exec("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, 0)",
         {SqlValue::of(t), SqlValue::of(int64_t(srsId_))});
    exec(
        "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        {SqlValue::of(t)});
    std::string r = "rtree_" + t + "_geom";
    std::string box = "(NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom))";
    exec("CREATE VIRTUAL TABLE " + r +
         " USING rtree(id, minx, maxx, miny, maxy);"
         "CREATE TRIGGER " +
         r + "_insert AFTER INSERT ON " + t +
         " WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO " + r + " VALUES " + box +
         "; END;"
         // GeoPackage 1.4 update triggers (update6/7 instead of 1.3's update1, whose INSERT OR
         // REPLACE fails inside an UPSERT).
         "CREATE TRIGGER " +
         r + "_update6 AFTER UPDATE OF geom ON " + t +
         " WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT "
         "ST_IsEmpty(OLD.geom)) BEGIN UPDATE " +
         r +
         " SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) "
         "WHERE id = NEW.fid; END;"
         "CREATE TRIGGER " +
         r + "_update7 AFTER UPDATE OF geom ON " + t +
         " WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR "
         "ST_IsEmpty(OLD.geom)) BEGIN INSERT INTO " +
         r + " VALUES " + box +
         "; END;"
         "CREATE TRIGGER " +
         r + "_update2 AFTER UPDATE OF geom ON " + t +
         " WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM " + r +
         " WHERE id = OLD.fid; END;"
         "CREATE TRIGGER " +
         r + "_update5 AFTER UPDATE ON " + t +
         " WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM " + r +
         " WHERE id = OLD.fid; INSERT OR REPLACE INTO " + r + " VALUES " + box +
         "; END;"
         "CREATE TRIGGER " +
         r + "_update4 AFTER UPDATE ON " + t +
         " WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM " + r +
         " WHERE id IN (OLD.fid, NEW.fid); END;"
         "CREATE TRIGGER " +
         r + "_delete AFTER DELETE ON " + t + " WHEN old.geom NOT NULL BEGIN DELETE FROM " + r +
         " WHERE id = OLD.fid; END;");
  }

  void registerAttributeTable(const std::string& t) override {
    exec("INSERT OR IGNORE INTO gpkg_contents(table_name, data_type, identifier) VALUES (?, 'attributes', ?)",
         {SqlValue::of(t), SqlValue::of(t)});
  }

  std::string geomParam() override { return "?"; }
  SqlValue geomValue(const MultiPoly& m) override {
    if (srsId_ == 0) loadSrs();
    return SqlValue::blob(gpBlob(m, srsId_));
  }
  std::string geomSelect(const std::string& alias) override { return alias + ".geom"; }
  bool geomRead(const SqlValue& v, MultiPoly& out) override {
    if (v.kind != SqlValue::Blob) return false;
    auto* p = reinterpret_cast<const uint8_t*>(v.s.data());
    size_t off;
    double env[4];
    bool hasEnv, empty;
    if (!gpParse(p, v.s.size(), off, env, hasEnv, empty)) return false;
    return fromWkb(p + off, v.s.size() - off, out);
  }
  std::string boxFilter(const std::string& table, const std::string& alias) override {
    // Parameter order minx, miny, maxx, maxy: the R*Tree wants maxx >= minx(box) etc.
    return alias + ".fid IN (SELECT id FROM rtree_" + table +
           "_geom WHERE maxx >= ?1 AND maxy >= ?2 AND minx <= ?3 AND miny <= ?4)";
  }

 private:
  void loadSrs() {
    auto rows = query("SELECT value FROM twin_meta WHERE key='crs'");
    if (rows.empty()) throw StoreError("the store has no CRS yet");
    std::string crs = rows[0][0].text();
    srsId_ = std::stoi(crs.substr(crs.find(':') + 1));
  }

  void createGpkgTables() {
    exec(
        "PRAGMA application_id = 1196444487;"  // 'GPKG'
        "PRAGMA user_version = 10300;"
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT "
        "NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);"
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', "
        "'undefined cartesian coordinate reference system');"
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', "
        "'undefined geographic coordinate reference system');"
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS[\"WGS "
        "84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY["
        "\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0."
        "0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],"
        "AUTHORITY[\"EPSG\",\"4326\"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 "
        "spheroid');"
        "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT "
        "UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
        "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id "
        "INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
        "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, "
        "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE "
        "(table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
        "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));"
        "CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition "
        "TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));"
        "CREATE TABLE gpkg_tile_matrix_set (table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL, min_x "
        "DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL);"
        "CREATE TABLE gpkg_tile_matrix (table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL, matrix_width "
        "INTEGER NOT NULL, matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL, tile_height INTEGER NOT "
        "NULL, pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL, CONSTRAINT pk_ttm PRIMARY KEY "
        "(table_name, zoom_level));");
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> stmts_;
  int64_t changes_ = 0;
  int32_t srsId_ = 0;
};

}  // namespace

std::unique_ptr<SqlBackend> openSqlite(const std::string& path) { return std::make_unique<SqliteBackend>(path); }

}  // namespace twin::landuse
