#pragma once
// Importing into the land-use store: an ObjectSink that turns city objects from any reader into
// parcels, districts, buildings or roads, one transaction per input file (a file that fails
// leaves nothing behind; files already imported stay). The store gets its projected CRS from the
// first object imported (chooseProjectedCrs) unless one is given.

#include <map>
#include <memory>
#include <string>

#include "twin/landuse/records.h"
#include "twin/landuse/rules.h"
#include "twin/landuse/store.h"
#include "twin/reader.h"

namespace twin::landuse {

enum class ImportKind { Parcels, Zoning, Buildings, Roads };
const char* importKindName(ImportKind k);

struct ImportOptions {
  ImportKind kind = ImportKind::Parcels;
  std::string storeCrs;  // projected CRS for a new store (empty: chosen from the data)
  ParcelFields parcelFields;
  ZoningFields zoningFields;
  std::string roadWidthField;
  const RuleSet* rules = nullptr;  // district names and known codes (zoning)
};

// What an import of this kind asks readers for (object types; vector features for every kind).
ReadOptions readOptionsFor(ImportKind kind);

struct ImportStats {
  uint64_t stored = 0, skipped = 0;
  std::map<std::string, uint64_t> byType;  // stored, by district kind / object type
};

class ImportSink : public ObjectSink {
 public:
  ImportSink(Store& store, const ImportOptions& options, DiagnosticSink& diag);
  ~ImportSink() override;

  void beginFile(const std::string& uri);
  // Commits the file's records, or rolls them back when `ok` is false.
  void endFile(bool ok);
  // Reads one file with `reader` into the store in one transaction. Returns false, keeping
  // nothing of it, when the reader could not finish the file (unreadable, malformed XML).
  bool readFile(const std::string& uri, Reader& reader, const ReadOptions& options);
  bool accept(CityObject&& obj) override;
  const ImportStats& stats() const { return stats_; }

 private:
  PlaneTransform* transformFor(const CityObject& obj);
  Store& store_;
  ImportOptions options_;
  DiagnosticSink& diag_;
  std::map<std::string, std::unique_ptr<PlaneTransform>> transforms_;
  ImportStats stats_, fileStats_;
  bool inFile_ = false;
  std::string file_;
};

// Permits from CSV (header row; columns id, type, status, applied_on, decided_on, parcels
// (separated by ';'), building_id, applicant, notes) or JSON (an array of objects with those
// keys). Existing permits are updated (their version bumped, the change in the audit log).
// Returns the number imported; bad rows are reported with their line and skipped.
size_t importPermits(Store& store, const std::string& path, const std::string& actor, DiagnosticSink& diag);

}  // namespace twin::landuse
