#pragma once
// Private: code lists (gml:Dictionary files next to the data, PLATEAU's codelists/ folder) that
// turn a coded attribute value into its name, each file read once and cached per resolved path.

#include <string>
#include <unordered_map>

namespace twin::citygml {

class CodeLists {
 public:
  // Returns the name for `code` in the dictionary at `uri`, or empty.
  std::string lookup(const std::string& uri, const std::string& code);

 private:
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> cache_;

  static std::unordered_map<std::string, std::string> load(const std::string& uri);
};

}  // namespace twin::citygml
