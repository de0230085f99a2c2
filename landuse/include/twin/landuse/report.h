#pragma once
// Rule-check reports, one entry per site (敷地) with the buildings on it: a text table for the
// terminal, CSV (one row per rule: the site's under the ids of all its buildings joined by ';',
// then each building's own), GeoJSON (one feature per building footprint in longitude/latitude
// with its site's results and its own), JSON (one object per site) and a readable HTML page.
// Written site by site: memory does not grow with the number of buildings.

#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "twin/crs.h"
#include "twin/landuse/site.h"

namespace twin::landuse {

enum class ReportFormat { Table, Csv, GeoJson, Html, Json };
bool parseReportFormat(const std::string& s, ReportFormat& f);

class CheckReport {
 public:
  // `storeCrs` is needed for GeoJSON (footprints are turned into longitude/latitude).
  CheckReport(std::ostream& out, ReportFormat format, const std::string& storeCrs, const std::string& rulesName);
  ~CheckReport();
  void add(const SiteCheck& c);
  void finish();  // closes the document and writes the summary
  const std::map<std::string, uint64_t>& counts() const { return counts_; }  // sites, by their verdict

 private:
  std::ostream& out_;
  ReportFormat format_;
  std::string rules_;
  std::unique_ptr<PlaneTransform> toLonLat_;
  std::map<std::string, uint64_t> counts_;
  uint64_t n_ = 0, buildings_ = 0, features_ = 0;
};

std::string htmlEscape(const std::string& s);

}  // namespace twin::landuse
