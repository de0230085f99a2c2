#pragma once
// Rule-check reports: a text table for the terminal, CSV (one row per building and rule),
// GeoJSON (footprints in longitude/latitude with the results as properties) and a readable HTML
// page. Written building by building: memory does not grow with the number of buildings.

#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "twin/crs.h"
#include "twin/landuse/site.h"

namespace twin::landuse {

enum class ReportFormat { Table, Csv, GeoJson, Html, Json };
bool parseReportFormat(const std::string& s, ReportFormat& f);

// The overall verdict of a building: fail if any rule fails, else unknown if any is unknown.
Verdict overall(const std::vector<RuleResult>& results);

class CheckReport {
 public:
  // `storeCrs` is needed for GeoJSON (footprints are turned into longitude/latitude).
  CheckReport(std::ostream& out, ReportFormat format, const std::string& storeCrs, const std::string& rulesName);
  ~CheckReport();
  void add(const BuildingCheck& c);
  void finish();  // closes the document and writes the summary
  const std::map<std::string, uint64_t>& counts() const { return counts_; }  // by overall verdict

 private:
  std::ostream& out_;
  ReportFormat format_;
  std::string rules_;
  std::unique_ptr<PlaneTransform> toLonLat_;
  std::map<std::string, uint64_t> counts_;
  uint64_t n_ = 0;
};

std::string htmlEscape(const std::string& s);

}  // namespace twin::landuse
