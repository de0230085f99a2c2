#pragma once
// The land-use store: parcels, zoning districts, building summaries, roads, permits, the links
// between them and an audit log, behind one interface with two implementations:
//   - a GeoPackage file (SQLite; R*Tree spatial indexes; opens in QGIS/GDAL) — the default,
//     needs no server;
//   - PostgreSQL + PostGIS ("postgresql://user@host:port/db"), for many users at once.
// Geometry is kept in the store's projected CRS (chosen at the first import).
//
// Errors (cannot open, SQL failure, a lost connection, schema too new) are thrown as StoreError:
// environment failures, not bad input, in the middle of work that must then stop as a whole (a
// transaction is rolled back, and retried by transaction() when another writer was in the way).
// This is the one place landuse throws, and it does not leave the library's commands: openStore,
// importFiles, checkBuildings, lookupSite, envelopeOf (commands.h) catch it and return a
// "store-error" diagnostic. Code that uses a Store directly (the server's handlers) catches it
// at its own boundary (the server answers 500 with an incident number).

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "twin/landuse/records.h"

namespace twin::landuse {

struct StoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct StoreCounts {
  int64_t parcels = 0, districts = 0, buildings = 0, roads = 0, permits = 0, buildingParcelLinks = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating when missing) a GeoPackage path or a postgresql:// URI.
  static std::unique_ptr<Store> open(const std::string& uri);
  // True when `uri` names a PostgreSQL database.
  static bool isPostgres(const std::string& uri);

  // The store's projected CRS ("EPSG:6677"), or empty before the first import.
  virtual std::string crs() = 0;
  // Sets the CRS and creates the spatial tables; only on an empty store.
  virtual void initialize(const std::string& crs) = 0;

  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  // Runs `fn` between begin() and commit() (rollback() when it throws). A transaction that meets
  // another connection's write and fails for it (SQLite "database is locked" when a read turns
  // into a write; PostgreSQL serialisation failures, deadlocks) is rolled back and run again, so
  // `fn` must be safe to repeat.
  void transaction(const std::function<void()>& fn);

  // Inserts or replaces by id. Replacing parcels or districts clears the links computed from them.
  virtual void put(const Parcel& p) = 0;
  virtual void put(const District& d) = 0;
  virtual void put(const Building& b) = 0;
  virtual void put(const Road& r) = 0;

  virtual std::vector<Parcel> parcelsIn(const Box2& box) = 0;
  virtual std::vector<Parcel> parcelsAt(const P2& point) = 0;  // containing the point
  virtual std::optional<Parcel> parcel(const std::string& id) = 0;
  // By 地番 ("194-1"), "locality 地番" ("作草部町 194-1") or 不動産番号. Several when ambiguous.
  virtual std::vector<Parcel> findParcels(const std::string& text) = 0;
  // Parcels whose address ("大字名丁目 地番", spaces ignored) starts with `prefix`, at most `limit`.
  virtual std::vector<Parcel> searchParcels(const std::string& prefix, size_t limit) = 0;
  virtual std::vector<District> districtsIn(const Box2& box) = 0;
  virtual std::optional<District> district(const std::string& id) = 0;
  // The district kinds present in the box (to tell "not in a fire district" from "no fire data").
  virtual std::vector<std::string> districtKindsIn(const Box2& box) = 0;
  virtual std::vector<Building> buildingsIn(const Box2& box) = 0;
  virtual std::optional<Building> building(const std::string& id) = 0;
  // Every building, in id order, `batch` at a time (memory bounded by the batch).
  virtual void forEachBuilding(const std::function<void(Building&&)>& f, size_t batch = 1000) = 0;
  virtual std::vector<Road> roadsIn(const Box2& box) = 0;

  // Links (computed by linkBuilding / linkParcel; nullopt: not computed yet).
  virtual void setBuildingParcels(const std::string& buildingId, const std::vector<BuildingParcel>& links) = 0;
  virtual std::optional<std::vector<BuildingParcel>> buildingParcels(const std::string& buildingId) = 0;
  virtual std::vector<BuildingParcel> parcelBuildings(const std::string& parcelId) = 0;
  virtual void setParcelDistricts(const std::string& parcelId, const std::vector<ParcelDistrict>& links) = 0;
  virtual std::optional<std::vector<ParcelDistrict>> parcelDistricts(const std::string& parcelId) = 0;
  virtual void clearLinks() = 0;

  // Permits. putPermit with version 0 creates; otherwise it updates only when the stored version
  // equals permit.version (returns false on a conflict) and bumps the version.
  virtual bool putPermit(Permit& permit, const std::string& actor) = 0;
  virtual std::optional<Permit> permit(const std::string& id) = 0;
  virtual std::vector<Permit> permitsFor(const std::string& parcelOrBuildingId) = 0;
  virtual std::vector<Permit> permits() = 0;

  // Documents of permits; putDocument records the upload in the audit log, both in one
  // transaction. An empty d.id gets the next free "<permit id>-<n>" (set in `d`).
  virtual void putDocument(Document& d, const std::string& actor) = 0;
  virtual std::vector<Document> documents(const std::string& permitId) = 0;  // without data
  virtual std::optional<Document> document(const std::string& id) = 0;       // with data

  // API tokens (hashes only) and the audit log.
  virtual void putToken(const Token& t, const std::string& actor) = 0;
  virtual std::optional<Token> token(const std::string& hash) = 0;
  // Revokes every token of `user` not yet revoked (with an audit entry); returns how many.
  virtual int revokeTokens(const std::string& user, const std::string& actor) = 0;
  virtual std::vector<AuditEntry> audit(size_t limit) = 0;  // newest first

  virtual StoreCounts counts() = 0;
  virtual std::string describe() = 0;  // "GeoPackage store.gpkg" / "PostGIS db@host"

  // The data revision: a counter the store bumps in every committed write of parcels, districts,
  // buildings or roads (what rule results are computed from), by this process or any other.
  // Results cached under one revision are stale once it moves (0: never written so far).
  virtual int64_t revision() = 0;
};

}  // namespace twin::landuse
