#pragma once
// Private: appearances. AppearanceStore holds texture coordinates per ring id and materials per
// polygon id; AppearanceParser fills one from app:appearance elements (the file's global ones in
// the pre-pass, a building's own as the building is read).

#include <libxml/parser.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "twin/city_model.h"
#include "xml_util.h"

namespace twin::citygml {

struct TexRef {
  uint32_t texture;
  uint32_t offset;  // into uvs (in floats)
  uint32_t count;   // number of uv pairs
};

// Sorted (key, value) pairs: a compact map filled once, then only searched.
template <class V>
class FlatMap {
 public:
  void add(uint64_t key, const V& v) { items_.push_back({key, v}); }
  // Sorts; for keys given twice the first one stays (CityGML: the first appearance wins).
  void seal() {
    std::stable_sort(items_.begin(), items_.end(), [](auto& a, auto& b) { return a.first < b.first; });
    items_.erase(std::unique(items_.begin(), items_.end(), [](auto& a, auto& b) { return a.first == b.first; }),
                 items_.end());
    items_.shrink_to_fit();
  }
  const V* find(uint64_t key) const {
    auto it = std::lower_bound(items_.begin(), items_.end(), key, [](auto& a, uint64_t k) { return a.first < k; });
    return it != items_.end() && it->first == key ? &it->second : nullptr;
  }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<uint64_t, V>> items_;
};

struct AppearanceStore {
  std::vector<Texture> textures;
  std::vector<Material> materials;
  // Keyed by the 64-bit FNV-1a hash of the gml:id: a file holds up to millions of textured
  // rings, and 24 bytes each plus their coordinates is what memory grows by. A false match needs
  // two ids of one file with equal 64-bit hashes. seal() before searching.
  FlatMap<TexRef> ringTex;
  FlatMap<uint32_t> polyMaterial;
  std::vector<float> uvs;
  void seal();
  void clear();
  bool empty() const { return ringTex.empty() && polyMaterial.empty(); }
};

// Appearance parsing, used for global appearances (pre-pass) and object-local ones.
struct AppearanceParser {
  AppearanceStore* store = nullptr;
  std::string baseUri;
  int depth = -1;  // depth of the app:Appearance element's container; -1 when not inside
  // current surface data
  enum class Kind { None, Texture, Material, Other } kind = Kind::None;
  int dataDepth = -1;
  std::string imageUri, mimeType;
  Material material;
  std::vector<std::string> materialTargets;
  // pending texture coordinates of the current ParameterizedTexture (resolved at its end)
  std::vector<std::pair<std::string, std::vector<float>>> pendingCoords;
  std::string ringRef;
  std::string* text = nullptr;  // where characters go
  std::string buffer;
  enum class Field { None, ImageUri, MimeType, TexCoords, Diffuse, Transparency, Target } field = Field::None;
  uint64_t skippedOther = 0;

  void start(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d);

  void characters(const char* ch, int len);

  static std::string stripHash(std::string s);

  void end(const xmlChar* local, Ns ns, int d);
};

}  // namespace twin::citygml
