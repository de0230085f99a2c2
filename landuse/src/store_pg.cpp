// PostgreSQL + PostGIS backend (libpq): geometry(MultiPolygon, srid) columns with GiST indexes,
// parameters always bound (never spliced into SQL text).
#include <libpq-fe.h>

#include <cstring>
#include <map>

#include "sql_backend.h"
#include "twin/landuse/store.h"

namespace twin::landuse {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// '?' -> $1, $2, ...; '?N' -> $N. Our statements hold no '?' inside string literals.
std::string renumber(const std::string& sql) {
  std::string out;
  int next = 1;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '?') {
      out.push_back(sql[i]);
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
    if (j > i + 1) {
      out += "$" + sql.substr(i + 1, j - i - 1);
      i = j - 1;
    } else {
      out += "$" + std::to_string(next++);
    }
  }
  return out;
}

class PgBackend : public SqlBackend {
 public:
  explicit PgBackend(const std::string& uri) {
    conn_ = PQconnectdb(uri.c_str());
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      std::string e = conn_ ? PQerrorMessage(conn_) : "out of memory";
      if (conn_) PQfinish(conn_);
      conn_ = nullptr;
      while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
      throw StoreError("cannot connect to the PostgreSQL store: " + e);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn_, "CREATE EXTENSION IF NOT EXISTS postgis");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string e = PQerrorMessage(conn_);
    PQclear(r);
    if (!ok)
      throw StoreError("PostGIS is not available in this database (" + e +
                       "); install postgresql-15-postgis-3 "
                       "and run CREATE EXTENSION postgis as a superuser");
  }
  ~PgBackend() override {
    if (conn_) PQfinish(conn_);
  }

  PGresult* run(const std::string& sql, const std::vector<SqlValue>& params) {
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    for (size_t k = 0; k < params.size(); ++k) {
      auto& v = params[k];
      if (v.kind == SqlValue::Null) {
        values[k] = nullptr;
        continue;
      }
      texts[k] = v.kind == SqlValue::Blob ? v.s : v.text();
      values[k] = texts[k].data();
      lengths[k] = int(texts[k].size());
      formats[k] = v.kind == SqlValue::Blob ? 1 : 0;
    }
    // Each statement is prepared once per connection (parsed and planned once), then executed.
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = "twin_" + std::to_string(prepared_.size());
      std::string q = renumber(sql);
      PGresult* p = PQprepare(conn_, name.c_str(), q.c_str(), int(params.size()), nullptr);
      auto st = PQresultStatus(p);
      std::string e = PQresultErrorMessage(p);
      PQclear(p);
      if (st != PGRES_COMMAND_OK) {
        while (!e.empty() && e.back() == '\n') e.pop_back();
        throw StoreError("store SQL error: " + e);
      }
      it = prepared_.emplace(sql, name).first;
    }
    PGresult* r =
        PQexecPrepared(conn_, it->second.c_str(), int(params.size()), values.data(), lengths.data(), formats.data(), 0);
    auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      while (!e.empty() && e.back() == '\n') e.pop_back();
      throw StoreError("store SQL error: " + e);
    }
    return r;
  }

  void execImpl(const std::string& sql, const std::vector<SqlValue>& params) override {
    if (params.empty() && sql.find(';') != std::string::npos) {
      PGresult* r = PQexec(conn_, sql.c_str());
      auto st = PQresultStatus(r);
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw StoreError("store SQL error: " + e);
      return;
    }
    PGresult* r = run(sql, params);
    const char* n = PQcmdTuples(r);
    changes_ = (n && *n) ? std::atoll(n) : 0;
    PQclear(r);
  }

  std::vector<SqlRow> queryImpl(const std::string& sql, const std::vector<SqlValue>& params) override {
    PGresult* r = run(sql, params);
    int nr = PQntuples(r), nc = PQnfields(r);
    std::vector<SqlRow> rows(static_cast<size_t>(nr), SqlRow(static_cast<size_t>(nc)));
    for (int i = 0; i < nr; ++i)
      for (int c = 0; c < nc; ++c) {
        if (PQgetisnull(r, i, c)) continue;
        std::string v(PQgetvalue(r, i, c), size_t(PQgetlength(r, i, c)));
        if (PQftype(r, c) == 17 /* bytea, text form "\x..." */ && v.size() >= 2 && v[0] == '\\' && v[1] == 'x') {
          std::string b;
          b.reserve((v.size() - 2) / 2);
          for (size_t k = 2; k + 1 < v.size(); k += 2) b.push_back(char(hexValue(v[k]) * 16 + hexValue(v[k + 1])));
          rows[i][c] = SqlValue::blob(std::move(b));
        } else {
          rows[i][c] = SqlValue::of(std::move(v));
        }
      }
    PQclear(r);
    return rows;
  }

  int64_t changes() override { return changes_; }
  bool tableExists(const std::string& t) override {
    return !query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
                  {SqlValue::of(t)})
                .empty();
  }
  std::string describe() override {
    return std::string("PostGIS ") + PQdb(conn_) + "@" + (PQhost(conn_) ? PQhost(conn_) : "local") + ":" +
           (PQport(conn_) ? PQport(conn_) : "");
  }
  std::string keyColumn() override { return "fid BIGSERIAL PRIMARY KEY"; }
  void setSrs(const std::string& crs) override { srid_ = std::stoi(crs.substr(crs.find(':') + 1)); }
  void createFeatureTable(const std::string& t, const std::string& columns) override {
    if (srid_ == 0) loadSrs();
    exec("CREATE TABLE " + t + " (" + keyColumn() + ", " + columns + ", geom geometry(MultiPolygon, " +
         std::to_string(srid_) + "))");
    exec("CREATE INDEX " + t + "_geom_idx ON " + t + " USING GIST (geom)");
  }
  void registerAttributeTable(const std::string&) override {}
  std::string geomParam() override {
    if (srid_ == 0) loadSrs();
    return "ST_Multi(ST_GeomFromWKB(?, " + std::to_string(srid_) + "))";
  }
  SqlValue geomValue(const MultiPoly& m) override { return SqlValue::blob(toWkb(m)); }
  std::string geomSelect(const std::string& alias) override { return "ST_AsBinary(" + alias + ".geom)"; }
  bool geomRead(const SqlValue& v, MultiPoly& out) override {
    if (v.kind != SqlValue::Blob) return false;
    return fromWkb(reinterpret_cast<const uint8_t*>(v.s.data()), v.s.size(), out);
  }
  std::string boxFilter(const std::string&, const std::string& alias) override {
    if (srid_ == 0) loadSrs();
    return alias + ".geom && ST_MakeEnvelope(?1, ?2, ?3, ?4, " + std::to_string(srid_) + ")";
  }

 private:
  void loadSrs() {
    auto rows = query("SELECT value FROM twin_meta WHERE key='crs'", {});
    if (rows.empty()) throw StoreError("the store has no CRS yet");
    std::string crs = rows[0][0].text();
    srid_ = std::stoi(crs.substr(crs.find(':') + 1));
  }
  PGconn* conn_ = nullptr;
  int64_t changes_ = 0;
  int srid_ = 0;
  std::map<std::string, std::string> prepared_;  // SQL -> prepared statement name
};

}  // namespace

std::unique_ptr<SqlBackend> openPostgres(const std::string& uri) { return std::make_unique<PgBackend>(uri); }

}  // namespace twin::landuse
