#pragma once
// Reading a rules file's text into RulesFile (not installed): rules_file.cpp, used by RuleSet.
#include <string>
#include <vector>

#include "twin/diagnostics.h"
#include "twin/landuse/rules_file.h"

namespace twin::landuse {

// Fills `out` from the JSON text (// comments allowed). Returns every error found, each naming
// the entry and key at fault and what was expected; empty when the file is valid.
std::vector<Diagnostic> parseRulesFile(const std::string& text, const std::string& name, RulesFile& out);

}  // namespace twin::landuse
