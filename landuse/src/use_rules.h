#pragma once
// Reading the rules file's "uses" section (用途制限, 建築基準法第48条, 別表第2) into RulesFile::uses
// (not installed): use_rules.cpp, called by rules_file.cpp.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/landuse/rules_file.h"

namespace twin::landuse {

// Fills f.uses from `section` (the value of the top-level "uses" key). f.districts must be read
// first: cells are keyed by the codes of districts.UseDistrict, and every code needs one. Every
// error is appended to `errors` (code rules-invalid, file `file`), naming the entry and key at
// fault ("uses.list.office.districts.4.limits.useArea: ...") and what was expected.
void parseUses(const nlohmann::json& section, const std::string& file, RulesFile& f, std::vector<Diagnostic>& errors);

}  // namespace twin::landuse
