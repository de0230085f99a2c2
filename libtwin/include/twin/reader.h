#pragma once
// The reader interface every converter implements, and the format registry the CLI is built
// from. Readers stream: they push one top-level city object at a time into an ObjectSink, so
// memory depends on the largest object, never on the file size.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "twin/city_model.h"
#include "twin/diagnostics.h"

namespace twin {

struct ReadOptions {
  std::string crsOverride;                     // used instead of the file's srsName when set
  std::atomic<uint64_t>* bytesRead = nullptr;  // progress: bytes consumed so far (added to)
  const std::atomic<bool>* cancel = nullptr;   // stop early when set
  // City object types to read, by element name ("Building", "Road", "LandUse", "ReliefFeature",
  // "UseDistrict", ...), or "*" for all; empty: buildings only. Others are counted and skipped.
  std::vector<std::string> objectTypes;
  // How many threads a reader may use for one file (parsing parts of a large file at once).
  // Above 1, ObjectSink::accept may be called from that many threads at the same time.
  int parallelism = 1;
  // Reader-specific settings, by "format.name" ("ogr.height-field", "ogr.floor-height", ...).
  std::map<std::string, std::string> formatOptions;
};

struct ReadStats {
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> objectsByType;  // emitted (Building, BuildingPart, ...)
  std::map<std::string, uint64_t> skippedByType;  // read but not converted (Road, LandUse, ...)
  void merge(const ReadStats& o);
};

class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // Takes one top-level object (with its parts as children). Returns false to stop reading.
  virtual bool accept(CityObject&& object) = 0;
};

// A batch of points from a point cloud, in `srs` (its own axis order), colours optional
// (parallel to `points` when present).
struct PointChunk {
  std::string srs;
  std::vector<Vec3> points;
  std::vector<std::array<uint8_t, 3>> colors;
};

class PointSink {
 public:
  virtual ~PointSink() = default;
  // Takes one batch. Returns false to stop reading.
  virtual bool accept(PointChunk&& chunk) = 0;
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Point-cloud formats (FormatInfo::pointCloud) deliver points here instead of city objects;
  // their read() reports that they hold no city objects.
  virtual bool readPoints(const std::string& uri, const ReadOptions& options, PointSink& sink, DiagnosticSink& diag,
                          ReadStats& stats) {
    (void)uri, (void)options, (void)sink, (void)diag, (void)stats;
    return false;
  }
  // Reads `uri` (a path or "archive.zip!/entry"). Returns false when the file could not be read
  // at all (an error diagnostic says why); objects already delivered stay delivered.
  virtual bool read(const std::string& uri, const ReadOptions& options, ObjectSink& sink, DiagnosticSink& diag,
                    ReadStats& stats) = 0;
};

// One input to read: a file (or an entry of a zip archive) and the format that reads it.
struct FormatInfo;
struct InputFile {
  std::string uri;  // path or "archive.zip!/entry"
  const FormatInfo* format = nullptr;
  uint64_t bytes = 0;  // size, for progress
};

// A setting a reader takes (ReadOptions::formatOptions[key]); the command offers each as a flag
// `--name` on the commands that read inputs (convert, export), with `help` as its help text.
struct ReaderOption {
  std::string key;   // "ogr.height-field": the formatOptions key the reader looks up
  std::string name;  // "height-field": the flag
  std::string help;
  enum class Kind { Text, Number, Path, Choice } kind = Kind::Text;  // Path: made absolute by the command
  std::vector<std::string> choices;                                  // Choice
};

struct FormatInfo {
  std::string id;                       // "citygml"
  std::string description;              // one line for `twin formats`
  std::vector<std::string> extensions;  // lowercase, with dot: ".gml", ".xml"
  std::function<std::unique_ptr<Reader>()> create;
  // True when the first bytes of a file look like this format (may be null).
  std::function<bool(std::string_view head)> sniff;
  bool pointCloud = false;            // readPoints() instead of read(): tiled as points, not as city objects
  std::vector<ReaderOption> options;  // the settings the reader takes
};

class FormatRegistry {
 public:
  void add(FormatInfo info) { formats_.push_back(std::move(info)); }
  const FormatInfo* find(const std::string& id) const;
  // The formats whose extensions match the end of `uri` (case-insensitive).
  std::vector<const FormatInfo*> byExtension(const std::string& uri) const;
  // Picks a format by extension, then by sniffing `head` when several or none match.
  const FormatInfo* forFile(const std::string& uri, std::string_view head) const;
  const std::vector<FormatInfo>& all() const { return formats_; }
  // Every reader setting of every format, once per key (formats sharing a setting declare it
  // alike), in registration order.
  std::vector<ReaderOption> options() const;

 private:
  std::vector<FormatInfo> formats_;
};

}  // namespace twin
