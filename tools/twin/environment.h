#pragma once
// What the `twin` command takes from its environment; the libraries read none of it and get
// these as options.
//   TWIN_DATA_DIR   a directory holding twin's data (geoid/, rules/, web/), searched first
//   TWIN_RULES_DIR  a directory whose japan.json is the default rules file
#include <cstdlib>
#include <string>

#include "twin/landuse/rules.h"

namespace twincli {

inline std::string dataDirFromEnvironment() {
  const char* e = std::getenv("TWIN_DATA_DIR");
  return e ? std::string(e) : std::string();
}

// The rules file when --rules is not given.
inline std::string defaultRulesPath() {
  if (const char* e = std::getenv("TWIN_RULES_DIR"); e && *e) return std::string(e) + "/japan.json";
  return twin::landuse::RuleSet::defaultPath(dataDirFromEnvironment());
}

}  // namespace twincli
