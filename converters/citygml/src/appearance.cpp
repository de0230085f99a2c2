// Appearances: the store of texture coordinates and materials, and the parser that fills it
// (see appearance.h).
#include "appearance.h"

#include "twin/vfs.h"

namespace twin::citygml {

void AppearanceStore::seal() {
  ringTex.seal();
  polyMaterial.seal();
  uvs.shrink_to_fit();
}

void AppearanceStore::clear() {
  textures.clear();
  materials.clear();
  ringTex.clear();
  polyMaterial.clear();
  uvs.clear();
}

void AppearanceParser::start(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d) {
  if (ns != Ns::App) return;
  if (eq(local, "ParameterizedTexture")) {
    kind = Kind::Texture;
    dataDepth = d;
    imageUri.clear();
    mimeType.clear();
    pendingCoords.clear();
  } else if (eq(local, "X3DMaterial")) {
    kind = Kind::Material;
    dataDepth = d;
    material = Material{};
    materialTargets.clear();
  } else if (eq(local, "GeoreferencedTexture") || eq(local, "TexCoordGen")) {
    if (kind != Kind::Texture) {
      kind = Kind::Other;
      dataDepth = d;
    }
    ++skippedOther;
  } else if (kind == Kind::Texture && eq(local, "imageURI")) {
    field = Field::ImageUri;
  } else if (kind == Kind::Texture && eq(local, "mimeType")) {
    field = Field::MimeType;
  } else if (kind == Kind::Texture && eq(local, "textureCoordinates")) {
    field = Field::TexCoords;
    ringRef = attrValue(nbAttrs, attrs, "ring");
  } else if (kind == Kind::Material && eq(local, "diffuseColor")) {
    field = Field::Diffuse;
  } else if (kind == Kind::Material && eq(local, "transparency")) {
    field = Field::Transparency;
  } else if (kind == Kind::Material && eq(local, "target")) {
    std::string href = attrValue(nbAttrs, attrs, "href");  // CityGML 3.0: <app:target xlink:href="#id"/>
    if (!href.empty())
      materialTargets.push_back(stripHash(href));
    else
      field = Field::Target;
  }
  if (field != Field::None) buffer.clear();
}

void AppearanceParser::characters(const char* ch, int len) {
  if (field != Field::None && buffer.size() < (64u << 20)) buffer.append(ch, len);
}

std::string AppearanceParser::stripHash(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  if (!s.empty() && s[0] == '#') s.erase(0, 1);
  return s;
}

void AppearanceParser::end(const xmlChar* local, Ns ns, int d) {
  if (ns != Ns::App) return;
  switch (field) {
    case Field::ImageUri:
      imageUri = stripHash(buffer);
      break;  // not a ref, but trims
    case Field::MimeType:
      mimeType = stripHash(buffer);
      break;
    case Field::TexCoords: {
      std::vector<double> v;
      std::vector<float> f;
      if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v)) {
        f.reserve(v.size());
        for (double x : v) f.push_back(float(x));
      }
      pendingCoords.emplace_back(stripHash(ringRef), std::move(f));
      break;
    }
    case Field::Diffuse: {
      std::vector<double> v;
      if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v) && v.size() == 3)
        for (int k = 0; k < 3; ++k) material.diffuse[k] = float(std::clamp(v[k], 0.0, 1.0));
      break;
    }
    case Field::Transparency: {
      std::vector<double> v;
      if (parseDoubles(buffer.data(), buffer.data() + buffer.size(), v) && v.size() == 1)
        material.transparency = float(std::clamp(v[0], 0.0, 1.0));
      break;
    }
    case Field::Target:
      materialTargets.push_back(stripHash(buffer));
      break;
    default:
      break;
  }
  field = Field::None;
  if (d != dataDepth) return;
  if (kind == Kind::Texture && eq(local, "ParameterizedTexture")) {
    uint32_t texIndex = static_cast<uint32_t>(store->textures.size());
    store->textures.push_back({vfs::resolve(baseUri, imageUri), mimeType});
    for (auto& [ring, uv] : pendingCoords) {
      if (ring.empty() || uv.size() < 2) continue;
      TexRef ref{texIndex, static_cast<uint32_t>(store->uvs.size()), static_cast<uint32_t>(uv.size() / 2)};
      store->ringTex.add(idHash(ring), ref);
      store->uvs.insert(store->uvs.end(), uv.begin(), uv.end());
    }
    pendingCoords.clear();
  } else if (kind == Kind::Material && eq(local, "X3DMaterial")) {
    uint32_t mi = static_cast<uint32_t>(store->materials.size());
    store->materials.push_back(material);
    for (auto& t : materialTargets) store->polyMaterial.add(idHash(t), mi);
  }
  kind = Kind::None;
  dataDepth = -1;
}

}  // namespace twin::citygml
