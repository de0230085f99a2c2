#pragma once
// What the store needs from a SQL database: statements with parameters, rows back, and the few
// places where GeoPackage (SQLite) and PostGIS differ (geometry encoding, bounding-box filter,
// column types). One SqlStore implements the Store on top of either.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "twin/geom2d.h"

namespace twin::landuse {

struct SqlValue {
  enum Kind { Null, Int, Real, Text, Blob } kind = Null;
  int64_t i = 0;
  double d = 0;
  std::string s;  // Text or Blob bytes
  static SqlValue null() { return {}; }
  static SqlValue of(int64_t v) {
    SqlValue x;
    x.kind = Int;
    x.i = v;
    return x;
  }
  static SqlValue of(double v) {
    if (!std::isfinite(v)) return {};
    SqlValue x;
    x.kind = Real;
    x.d = v;
    return x;
  }
  static SqlValue of(std::string v) {
    SqlValue x;
    x.kind = Text;
    x.s = std::move(v);
    return x;
  }
  static SqlValue of(const char* v) { return of(std::string(v)); }
  static SqlValue blob(std::string v) {
    SqlValue x;
    x.kind = Blob;
    x.s = std::move(v);
    return x;
  }

  bool isNull() const { return kind == Null; }
  std::string text() const;
  double real() const;  // NaN when null
  int64_t integer() const;
};
using SqlRow = std::vector<SqlValue>;

class SqlBackend {
 public:
  virtual ~SqlBackend() = default;
  // Statements use '?' placeholders; the PostgreSQL backend renumbers them.
  void exec(const std::string& sql, const std::vector<SqlValue>& params = {}) { execImpl(sql, params); }
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    return queryImpl(sql, params);
  }
  virtual void execImpl(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  virtual std::vector<SqlRow> queryImpl(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  virtual int64_t changes() = 0;  // rows touched by the last exec
  // Starts a transaction that will write (SQLite: BEGIN IMMEDIATE, taking the write lock at once).
  virtual void beginWrite() { exec("BEGIN"); }
  virtual bool tableExists(const std::string& table) = 0;

  virtual std::string describe() = 0;
  virtual std::string keyColumn() = 0;  // "fid INTEGER PRIMARY KEY AUTOINCREMENT" / "fid BIGSERIAL PRIMARY KEY"
  // Called once when the store gets its CRS: registers it (gpkg_spatial_ref_sys / PostGIS srid).
  virtual void setSrs(const std::string& crs) = 0;
  // Creates `table` (its columns in `columns`, without the geometry) with a geometry column
  // "geom" and its spatial index, and registers it (gpkg_contents / geometry_columns).
  virtual void createFeatureTable(const std::string& table, const std::string& columns) = 0;
  virtual void registerAttributeTable(const std::string& table) = 0;
  // Geometry as a parameter expression and its value.
  virtual std::string geomParam() = 0;
  virtual SqlValue geomValue(const MultiPoly& m) = 0;
  // The select expression for table.geom, and decoding what it returns.
  virtual std::string geomSelect(const std::string& alias) = 0;
  virtual bool geomRead(const SqlValue& v, MultiPoly& out) = 0;
  // A WHERE condition selecting rows of `table` (aliased `alias`) whose geometry's box meets the
  // box given as 4 parameters in the order minx, miny, maxx, maxy.
  virtual std::string boxFilter(const std::string& table, const std::string& alias) = 0;
};

std::unique_ptr<SqlBackend> openSqlite(const std::string& path);
std::unique_ptr<SqlBackend> openPostgres(const std::string& uri);

}  // namespace twin::landuse
