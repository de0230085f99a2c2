// End to end: `twin convert` on real samples, then the tileset and every glb checked against the
// 3D Tiles 1.1 and glTF rules (../shared/3DTILES-CHECKLIST.md) and the Khronos glTF validator.
#include <proj.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "test_support.h"
#include "twin/crs.h"
#include "twin/fsutil.h"
#include "twin/glb_writer.h"
#include "twin/tileset.h"

using namespace twin;
using namespace twin::test;
namespace sfs = std::filesystem;
using nlohmann::json;

namespace {

struct TilesetCheck {
  size_t tiles = 0, contents = 0, features = 0, images = 0;
  std::set<std::string> featureIds;        // full-detail features (leaves)
  std::set<std::string> parentFeatureIds;  // features shown by parent (overview) tiles
  size_t parents = 0;                      // parent tiles with content
  size_t parentImages = 0;                 // texture images in overviews
  double worstParentShare = 0;             // largest parent bytes / children's bytes
  double rootError = 0;
  std::vector<Vec3> worldPositions;  // every vertex, ECEF
  bool draco = false;
};

OrientedBox boxOf(const json& tile) {
  return OrientedBox::fromArray(tile["boundingVolume"]["box"].get<std::array<double, 12>>());
}

void checkGlb(const std::string& path, const OrientedBox& box, TilesetCheck& out, bool leaf = true) {
  Glb g = readGlb(path);
  REQUIRE(g.ok);
  const json& j = g.json;
  CHECK(j["asset"]["version"] == "2.0");
  // Declared extensions are used, used ones declared.
  std::set<std::string> used(j["extensionsUsed"].begin(), j["extensionsUsed"].end());
  CHECK(used.count("EXT_mesh_features"));
  CHECK(used.count("EXT_structural_metadata"));
  for (auto& bv : j["bufferViews"]) CHECK(bv["byteLength"].get<size_t>() > 0);
  // Metadata
  const json& meta = j["extensions"]["EXT_structural_metadata"];
  const json& table = meta["propertyTables"][0];
  const size_t rows = table["count"];
  std::regex idRe("^[a-zA-Z_][a-zA-Z0-9_]*$");
  for (auto& [cls, def] : meta["schema"]["classes"].items()) {
    CHECK(std::regex_match(cls, idRe));
    for (auto& [pid, p] : def["properties"].items()) {
      CHECK(std::regex_match(pid, idRe));
      if (p["type"] == "STRING")
        CHECK_FALSE(p.contains("componentType"));
      else
        CHECK(p.contains("componentType"));
    }
  }
  // gml:id column
  REQUIRE(table["properties"].contains("gml_id"));
  const json& col = table["properties"]["gml_id"];
  auto view = [&](int i) { return j["bufferViews"][i]; };
  const json& vals = view(col["values"]);
  const json& offs = view(col["stringOffsets"]);
  CHECK(vals["byteOffset"].get<size_t>() % 8 == 0);
  CHECK(offs["byteLength"].get<size_t>() == 4 * (rows + 1));
  std::vector<uint32_t> o(rows + 1);
  std::memcpy(o.data(), &g.bin[offs["byteOffset"].get<size_t>()], 4 * (rows + 1));
  for (size_t r = 0; r < rows; ++r) {
    CHECK(o[r] <= o[r + 1]);
    (leaf ? out.featureIds : out.parentFeatureIds)
        .insert(std::string(reinterpret_cast<const char*>(&g.bin[vals["byteOffset"].get<size_t>() + o[r]]),
                            o[r + 1] - o[r]));
  }
  if (leaf) out.features += rows;
  if (leaf) out.images += j.value("images", json::array()).size();

  Vec3 t{0, 0, 0};
  if (j["nodes"][0].contains("translation")) {
    auto tr = j["nodes"][0]["translation"];
    t = {tr[0], tr[1], tr[2]};
  }
  double scale = 1;  // KHR_mesh_quantization: uniform node scale
  if (j["nodes"][0].contains("scale")) {
    auto sc = j["nodes"][0]["scale"];
    CHECK(sc[0] == sc[1]);
    CHECK(sc[1] == sc[2]);
    scale = sc[0];
  }
  if (!leaf) out.parentImages += j.value("images", json::array()).size();  // downsampled atlases
  std::set<uint32_t> idsInTile;
  for (auto& prim : j["meshes"][0]["primitives"]) {
    const json& fid = prim["extensions"]["EXT_mesh_features"]["featureIds"][0];
    CHECK(fid["propertyTable"] == 0);
    if (prim.contains("extensions") && prim["extensions"].contains("KHR_draco_mesh_compression")) {
      out.draco = true;
      continue;
    }
    int posAcc = prim["attributes"]["POSITION"];
    auto pos = accessorValues(g, posAcc);
    REQUIRE(pos.size() == 3 * j["accessors"][posAcc]["count"].get<size_t>());
    auto mn = j["accessors"][posAcc]["min"], mx = j["accessors"][posAcc]["max"];
    double lo[3] = {1e30, 1e30, 1e30}, hi[3] = {-1e30, -1e30, -1e30};
    for (size_t i = 0; i + 2 < pos.size(); i += 3) {
      for (int k = 0; k < 3; ++k) lo[k] = std::min(lo[k], pos[i + k]), hi[k] = std::max(hi[k], pos[i + k]);
      // y-up to z-up as 3D Tiles clients do: (x, y, z) -> (x, -z, y), after the node's scale and
      // translation.
      Vec3 w{scale * pos[i] + t[0], -(scale * pos[i + 2] + t[2]), scale * pos[i + 1] + t[1]};
      CHECK(box.contains(w, 0.01));
      if (leaf) out.worldPositions.push_back(w);
    }
    for (int k = 0; k < 3; ++k) {
      CHECK(mn[k].get<double>() == lo[k]);
      CHECK(mx[k].get<double>() == hi[k]);
    }
    auto nrm = accessorValues(g, prim["attributes"]["NORMAL"]);
    // unit normals (8-bit quantised ones within their precision)
    const double tol = j["accessors"][prim["attributes"]["NORMAL"].get<int>()]["componentType"] == 5126 ? 1e-4 : 0.02;
    for (size_t i = 0; i + 2 < nrm.size(); i += 3)
      CHECK(std::abs(std::sqrt(nrm[i] * nrm[i] + nrm[i + 1] * nrm[i + 1] + nrm[i + 2] * nrm[i + 2]) - 1.0) < tol);
    auto ids = accessorValues(g, prim["attributes"]["_FEATURE_ID_0"]);
    std::set<uint32_t> distinct;
    for (double v : ids) {
      CHECK(v == std::floor(v));
      CHECK(v < rows);
      distinct.insert(uint32_t(v));
      idsInTile.insert(uint32_t(v));
    }
    CHECK(fid["featureCount"].get<size_t>() == distinct.size());
    auto idx = accessorValues(g, prim["indices"]);
    CHECK(idx.size() % 3 == 0);
    for (double v : idx) CHECK(v < pos.size() / 3);
  }
  if (!out.draco) CHECK(idsInTile.size() == rows);  // every row is drawn
}

// Walks a tileset. Levels of detail (default): refine REPLACE, leaves hold full detail with
// geometric error 0, parents hold overviews of their children's buildings, at most
// `parentShare` of the children's bytes, with errors that never grow down the tree. Flat: refine
// ADD, only leaves have content.
TilesetCheck checkTileset(const std::string& dir, bool flat = false, double parentShare = 0.25) {
  TilesetCheck out;
  json ts = json::parse(readText(dir + "/tileset.json"));
  CHECK(ts["asset"]["version"] == "1.1");
  CHECK(ts["root"]["refine"] == (flat ? "ADD" : "REPLACE"));
  out.rootError = ts["root"]["geometricError"];
  CHECK(ts["geometricError"].get<double>() >= ts["root"]["geometricError"].get<double>());
  CHECK(ts["asset"]["extras"]["twin"]["targetCrs"] == "EPSG:4978");
  std::function<void(const json&, const json*)> walk = [&](const json& tile, const json* parent) {
    ++out.tiles;
    REQUIRE(tile["boundingVolume"]["box"].size() == 12);
    double ge = tile["geometricError"];
    CHECK(ge >= 0);
    OrientedBox box = boxOf(tile);
    if (parent) {
      CHECK(ge <= (*parent)["geometricError"].get<double>());
      OrientedBox pbox = boxOf(*parent);
      for (auto& c : box.corners()) CHECK(pbox.contains(c, 0.02));
    }
    const bool leaf = !tile.contains("children");
    if (tile.contains("content")) {
      ++out.contents;
      std::string uri = tile["content"]["uri"];
      REQUIRE(sfs::exists(dir + "/" + uri));
      if (leaf) {
        CHECK(ge == 0.0);  // leaves hold full detail
      } else {
        CHECK_FALSE(flat);
        ++out.parents;
        uint64_t childBytes = 0;
        for (auto& c : tile["children"])
          if (c.contains("content")) childBytes += sfs::file_size(dir + "/" + c["content"]["uri"].get<std::string>());
        double share = double(sfs::file_size(dir + "/" + uri)) / double(childBytes);
        CHECK(share <= parentShare);
        out.worstParentShare = std::max(out.worstParentShare, share);
      }
      checkGlb(dir + "/" + uri, box, out, leaf);
    } else {
      CHECK_FALSE(leaf);
    }
    for (auto& c : tile.value("children", json::array())) walk(c, &tile);
  };
  walk(ts["root"], nullptr);
  // Feature identity survives simplification: every building an overview shows is a real one.
  for (auto& id : out.parentFeatureIds) CHECK(out.featureIds.count(id));
  return out;
}

}  // namespace

TEST_CASE("Yokosuka LOD2 with textures: a valid, placed, textured tileset with every building", "[tileset]") {
  std::string out = tempDir("yokosuka") + "/tiles";
  auto r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  auto c = checkTileset(out);
  CHECK(c.features == 13);
  CHECK(c.featureIds.count("bldg_787d830e-2534-410a-8a2a-a531efeb2533"));
  CHECK(c.images == 1);        // the three textures in one atlas
  CHECK(c.parentImages == 1);  // the overview: textured from a downsampled atlas
  json ts = json::parse(readText(out + "/tileset.json"));
  CHECK(ts["asset"]["extras"]["twin"]["sourceCrs"][0] == "EPSG:6697");
  // T.P. heights are referred to GSI's geoid: GSIGEO2011, shipped with twin, not EGM96.
  CHECK(ts["asset"]["extras"]["twin"]["geoid"] == "jp_gsi_gsigeo2011.tif (egm96_15.gtx outside its extent)");
  CHECK(ts["asset"]["extras"]["twin"]["geoidByCrs"]["EPSG:6697"] == ts["asset"]["extras"]["twin"]["geoid"]);
  CHECK(r.output.find("EPSG:6697 -> EPSG:4978, geoid jp_gsi_gsigeo2011.tif") != std::string::npos);
  validateOutput(out);

  // Placement: a known source vertex (the museum's LOD2 roof, T.P. height) must appear in the
  // tiles within 1 cm of PROJ's own EPSG:6697 -> ECEF operation with the same grid on its search
  // path (PROJ then goes through GSIGEO2011: "JGD2011 to JGD2011 height" in the EPSG database).
  PJ_CONTEXT* ctx = proj_context_create();
  {
    std::string grids = std::string(TWIN_SOURCE_DIR) + "/libtwin/data/geoid";
    const char* paths[] = {grids.c_str(), "/usr/share/proj"};
    proj_context_set_search_paths(ctx, 2, paths);
  }
  PJ* p = proj_normalize_for_visualization(ctx, proj_create_crs_to_crs(ctx, "EPSG:6697", "EPSG:4978", nullptr));
  // First point of the museum's LOD2 roof (from the GML: lat, lon, height)
  std::string gml = readText(samples("plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml"));
  size_t at = gml.find("<gml:posList>", gml.find("<bldg:RoofSurface"));
  double lat, lon, h;
  REQUIRE(std::sscanf(gml.c_str() + at + 13, "%lf %lf %lf", &lat, &lon, &h) == 3);
  PJ_COORD ref = proj_trans(p, PJ_FWD, proj_coord(lon, lat, h, 0));
  proj_destroy(p);
  proj_context_destroy(ctx);
  double best = 1e30;
  for (auto& w : c.worldPositions)
    best = std::min(best, std::hypot(w[0] - ref.xyz.x, w[1] - ref.xyz.y, w[2] - ref.xyz.z));
  CHECK(best < 0.01);
}

TEST_CASE("Osaka LOD1 and FZK-Haus (ETRS89/UTM32): valid tilesets; Draco output valid too", "[tileset]") {
  std::string base = tempDir("more");
  auto r = runTwin("convert '" + samples("plateau-osaka-lod1") + "' -o '" + base + "/osaka' --no-progress --threads 2");
  REQUIRE(r.exitCode == 0);
  auto c = checkTileset(base + "/osaka");
  CHECK(c.features == 63);
  validateOutput(base + "/osaka");

  r = runTwin("convert '" + samples("kit-fzk-haus/fzk_haus_lod3_v2.gml") + "' -o '" + base + "/fzk' --no-progress");
  REQUIRE(r.exitCode == 0);
  auto f = checkTileset(base + "/fzk");
  CHECK(f.features == 1);
  // Near Karlsruhe (cs2cs EPSG:25832 -> EPSG:4258 of the model's corner: 8.4224 E, 49.1032 N)
  Vec3 llh = ecefToLonLatHeight(f.worldPositions.at(0));
  CHECK(llh[0] == Approx(8.4224).margin(0.001));
  CHECK(llh[1] == Approx(49.1032).margin(0.001));
  validateOutput(base + "/fzk");

  r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' -o '" + base + "/draco' --draco --no-progress");
  REQUIRE(r.exitCode == 0);
  auto d = checkTileset(base + "/draco");
  CHECK(d.draco);
  CHECK(d.features == 13);
  for (auto& e : sfs::recursive_directory_iterator(base + "/draco"))
    if (e.path().extension() == ".glb") {
      auto g = readGlb(e.path().string());
      CHECK(g.json["extensionsRequired"][0] == "KHR_draco_mesh_compression");
    }
  validateOutput(base + "/draco");
}

TEST_CASE("Quantised and meshopt-compressed tilesets: valid, placed, smaller", "[tileset][compress]") {
  std::string base = tempDir("compress");
  std::map<std::string, uint64_t> bytes;
  std::map<std::string, TilesetCheck> checks;
  for (std::string mode : {"none", "quantize", "meshopt"}) {
    INFO(mode);
    std::string out = base + "/" + mode;
    auto r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' '" + samples("plateau-osaka-lod1") +
                     "' --compress " + mode + " -o '" + out + "' --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    checks[mode] = checkTileset(out);  // decodes meshopt views: every vertex inside its tile's box
    CHECK(checks[mode].features == 13 + 63);
    for (auto& e : sfs::recursive_directory_iterator(out))
      if (e.path().extension() == ".glb") {
        bytes[mode] += sfs::file_size(e.path());
        auto g = readGlb(e.path().string());
        std::set<std::string> req;
        for (auto& x : g.json.value("extensionsRequired", json::array())) req.insert(x);
        CHECK(req.count("KHR_mesh_quantization") == (mode != "none" ? 1u : 0u));
        CHECK(req.count("EXT_meshopt_compression") == (mode == "meshopt" ? 1u : 0u));
      }
  }
  validateOutput(base + "/none");
  validateOutput(base + "/quantize");
  // Positions survive quantisation to within the grid step (sub-centimetre for these tiles): the
  // same vertices as without it.
  for (std::string mode : {"quantize", "meshopt"}) {
    auto& q = checks[mode].worldPositions;
    auto& f = checks["none"].worldPositions;
    REQUIRE(q.size() == f.size());
    double worst = 0;
    for (size_t i = 0; i < q.size(); ++i)
      worst = std::max(worst, std::hypot(q[i][0] - f[i][0], q[i][1] - f[i][1], q[i][2] - f[i][2]));
    INFO(mode << ": largest displacement " << worst << " m");
    CHECK(worst < 0.01);
  }
  INFO("bytes: none " << bytes["none"] << ", quantize " << bytes["quantize"] << ", meshopt " << bytes["meshopt"]);
  CHECK(bytes["quantize"] < bytes["none"]);
  CHECK(bytes["meshopt"] < bytes["quantize"]);
}

TEST_CASE("3D Tiles 1.0 output: b3dm with batch tables", "[tileset][b3dm]") {
  std::string base = tempDir("b3dm");
  auto r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' '" + samples("plateau-osaka-lod1") +
                   "' --tiles-version 1.0 -o '" + base + "/out' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  json ts = json::parse(readText(base + "/out/tileset.json"));
  CHECK(ts["asset"]["version"] == "1.0");
  std::set<std::string> leafIds;
  size_t contents = 0;
  std::function<void(const json&)> walk = [&](const json& tile) {
    if (tile.contains("content")) {
      ++contents;
      std::string uri = tile["content"]["uri"];
      CHECK(uri.size() > 5);
      CHECK(uri.substr(uri.size() - 5) == ".b3dm");
      std::string b = readText(base + "/out/" + uri);
      REQUIRE(b.size() > 28);
      CHECK(b.substr(0, 4) == "b3dm");
      uint32_t h[7];
      std::memcpy(h, b.data(), 28);
      CHECK(h[1] == 1);
      CHECK(h[2] == b.size());
      CHECK(h[2] % 8 == 0);
      CHECK((28 + h[3]) % 8 == 0);
      CHECK(h[4] == 0);
      CHECK((28 + h[3] + h[4] + h[5]) % 8 == 0);
      json ft = json::parse(b.substr(28, h[3]));
      json bt = json::parse(b.substr(28 + h[3], h[5]));
      const size_t n = ft["BATCH_LENGTH"];
      REQUIRE(bt.contains("gml:id"));
      for (auto& [k, col] : bt.items()) CHECK(col.size() == n);
      // the glb inside: batch ids, no 1.1 extensions
      size_t at = 28 + h[3] + h[4] + h[5] + h[6];
      REQUIRE(b.size() >= at + 12);
      uint32_t glbLength;
      std::memcpy(&glbLength, b.data() + at + 8, 4);
      REQUIRE(at + glbLength <= b.size());
      CHECK(b.size() - (at + glbLength) < 8);  // only the b3dm's padding follows
      std::string glb = b.substr(at, glbLength);
      writeText(base + "/glb/" + std::to_string(contents) + ".glb", glb);
      Glb g = readGlb(base + "/glb/" + std::to_string(contents) + ".glb");
      REQUIRE(g.ok);
      CHECK_FALSE(g.json.dump().find("EXT_mesh_features") != std::string::npos);
      std::set<uint32_t> ids;
      for (auto& prim : g.json["meshes"][0]["primitives"]) {
        REQUIRE(prim["attributes"].contains("_BATCHID"));
        for (double v : accessorValues(g, prim["attributes"]["_BATCHID"])) {
          CHECK(v < n);
          ids.insert(uint32_t(v));
        }
      }
      CHECK(ids.size() == n);
      if (!tile.contains("children"))
        for (auto& id : bt["gml:id"]) leafIds.insert(id.get<std::string>());
    }
    for (auto& c : tile.value("children", json::array())) walk(c);
  };
  walk(ts["root"]);
  CHECK(contents >= 3);
  CHECK(leafIds.size() == 13 + 63);
  validateOutput(base + "/glb");
  validateOutput(base + "/out");  // the b3dm tileset itself: 3D Tiles validator and loaders.gl
}

namespace {

// Every textured vertex of a leaf tileset: (world position mm, normal) -> colour sampled from its
// image at its texture coordinates (nearest texel, decoded by twin's own decoder).
struct TexturedVertices {
  std::multimap<std::array<long, 6>, std::array<double, 3>> colours;
  std::vector<std::string> mimeTypes;
  int largestSide = 0;
};

TexturedVertices texturedVertices(const std::string& dir, const std::string& scratch) {
  TexturedVertices out;
  int n = 0;
  for (auto& e : sfs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".glb") continue;
    Glb g = readGlb(e.path().string());
    const json& j = g.json;
    if (!j.contains("images")) continue;
    std::vector<RgbaImage> images;
    for (auto& im : j["images"]) {
      out.mimeTypes.push_back(im["mimeType"]);
      const json& v = j["bufferViews"][im["bufferView"].get<int>()];
      std::string path = scratch + "/img" + std::to_string(n++);
      writeText(path, std::string(reinterpret_cast<const char*>(&g.bin[v.value("byteOffset", size_t(0))]),
                                  v["byteLength"].get<size_t>()));
      RgbaImage img;
      std::string err;
      if (im["mimeType"] != "image/webp") REQUIRE(decodeTextureImage(path, img, err));
      out.largestSide = std::max({out.largestSide, img.width, img.height});
      images.push_back(std::move(img));
    }
    auto source = [&](const json& tex) {
      if (tex.contains("source")) return tex["source"].get<int>();
      return tex["extensions"]["EXT_texture_webp"]["source"].get<int>();
    };
    Vec3 t{0, 0, 0};
    if (j["nodes"][0].contains("translation"))
      t = {j["nodes"][0]["translation"][0], j["nodes"][0]["translation"][1], j["nodes"][0]["translation"][2]};
    for (auto& prim : j["meshes"][0]["primitives"]) {
      const json& mat = j["materials"][prim["material"].get<int>()];
      if (!mat["pbrMetallicRoughness"].contains("baseColorTexture")) continue;
      const RgbaImage& img =
          images[source(j["textures"][mat["pbrMetallicRoughness"]["baseColorTexture"]["index"].get<int>()])];
      if (img.width == 0) continue;
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      auto nrm = accessorValues(g, prim["attributes"]["NORMAL"]);
      auto uv = accessorValues(g, prim["attributes"]["TEXCOORD_0"]);
      for (size_t i = 0; i < uv.size() / 2; ++i) {
        double u = uv[2 * i] - std::floor(uv[2 * i]), v = uv[2 * i + 1] - std::floor(uv[2 * i + 1]);
        int x = std::min(img.width - 1, int(u * img.width)), y = std::min(img.height - 1, int(v * img.height));
        const uint8_t* px = &img.pixels[(size_t(y) * img.width + x) * 4];
        std::array<long, 6> key{
            std::lround((pos[3 * i] + t[0]) * 1000),     std::lround((pos[3 * i + 1] + t[1]) * 1000),
            std::lround((pos[3 * i + 2] + t[2]) * 1000), std::lround(nrm[3 * i] * 100),
            std::lround(nrm[3 * i + 1] * 100),           std::lround(nrm[3 * i + 2] * 100)};
        out.colours.insert({key, {double(px[0]), double(px[1]), double(px[2])}});
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("Texture atlases keep every texel where it was; size limits and WebP", "[tileset][texture]") {
  std::string base = tempDir("texture");
  sfs::create_directories(base + "/scratch");
  auto conv = [&](const std::string& name, const std::string& flags) {
    auto r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' --flat " + flags + " -o '" + base + "/" +
                     name + "' --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    return checkTileset(base + "/" + name, true);
  };
  auto originals = conv("originals", "--no-atlas");
  auto atlas = conv("atlas", "");
  CHECK(originals.images == 3);
  CHECK(atlas.images == 1);
  auto a = texturedVertices(base + "/originals", base + "/scratch");
  auto b = texturedVertices(base + "/atlas", base + "/scratch");
  REQUIRE(a.colours.size() > 100);
  // The colour a vertex shows from the atlas is the colour it showed from its own image (JPEG
  // re-encoding at quality 85 and edge texels aside). Vertices matched by position and normal.
  std::vector<double> diffs;
  for (auto it = a.colours.begin(); it != a.colours.end(); ++it) {
    if (a.colours.count(it->first) != 1 || b.colours.count(it->first) != 1) continue;  // ambiguous corner
    auto& c1 = it->second;
    auto& c2 = b.colours.find(it->first)->second;
    diffs.push_back((std::abs(c1[0] - c2[0]) + std::abs(c1[1] - c2[1]) + std::abs(c1[2] - c2[2])) / 3);
  }
  REQUIRE(diffs.size() > 40);
  std::sort(diffs.begin(), diffs.end());
  double median = diffs[diffs.size() / 2], p90 = diffs[diffs.size() * 9 / 10];
  INFO(diffs.size() << " vertices: median colour difference " << median << ", 90th percentile " << p90 << " (of 255)");
  CHECK(median < 8);
  CHECK(p90 < 30);

  // Overviews are textured from downsampled textures (256 px): where an overview keeps an
  // original corner, it shows about the colour the full-detail tile shows there.
  {
    auto r = runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' -o '" + base + "/lod' --no-progress");
    REQUIRE(r.exitCode == 0);
    sfs::create_directories(base + "/overview");
    sfs::copy_file(base + "/lod/tiles/top.glb", base + "/overview/top.glb");
    auto ov = texturedVertices(base + "/overview", base + "/scratch");
    CHECK(ov.largestSide <= 2048);
    std::vector<double> d;
    for (auto it = ov.colours.begin(); it != ov.colours.end(); ++it) {
      if (ov.colours.count(it->first) != 1 || a.colours.count(it->first) != 1) continue;
      auto& c1 = it->second;
      auto& c2 = a.colours.find(it->first)->second;
      d.push_back((std::abs(c1[0] - c2[0]) + std::abs(c1[1] - c2[1]) + std::abs(c1[2] - c2[2])) / 3);
    }
    REQUIRE(d.size() > 10);
    std::sort(d.begin(), d.end());
    INFO(d.size() << " overview corners: median colour difference " << d[d.size() / 2]);
    CHECK(d[d.size() / 2] < 20);
  }

  // Size limit: no image over 256 px; WebP: EXT_texture_webp, required, valid.
  auto small = conv("small", "--max-texture 256");
  CHECK(texturedVertices(base + "/small", base + "/scratch").largestSide <= 256);
  CHECK(a.largestSide > 256);
  conv("webp", "--texture-format webp");
  auto w = texturedVertices(base + "/webp", base + "/scratch");
  REQUIRE(w.mimeTypes.size() == 1);
  CHECK(w.mimeTypes[0] == "image/webp");
  for (auto& e : sfs::recursive_directory_iterator(base + "/webp"))
    if (e.path().extension() == ".glb") {
      Glb g = readGlb(e.path().string());
      if (!g.json.contains("images")) continue;
      CHECK(g.json["extensionsRequired"].dump().find("EXT_texture_webp") != std::string::npos);
    }
  validateOutput(base + "/atlas");
  validateOutput(base + "/small");
  validateOutput(base + "/webp");
}

// Reads an implicit tileset written by twin and checks it as the specification reads it: every
// content lies inside the region a client derives for its tile by halving the root region level
// by level (not only inside the tile's TILE_BOUNDING_BOX metadata), every feature is written once
// (refine ADD), and subtrees, availability and metadata agree.
void checkImplicit(const std::string& dir, size_t expectFeatures, int minLevels) {
  json ts = json::parse(readText(dir + "/tileset.json"));
  const json& root = ts["root"];
  REQUIRE(root.contains("implicitTiling"));
  CHECK(root["implicitTiling"]["subdivisionScheme"] == "QUADTREE");
  CHECK(root["content"]["uri"] == "tiles/{level}/{x}/{y}.glb");
  const int subtreeLevels = root["implicitTiling"]["subtreeLevels"];
  const int availableLevels = root["implicitTiling"]["availableLevels"];
  auto region = root["boundingVolume"]["region"];
  REQUIRE(region.size() == 6);
  CHECK(region[0].get<double>() <= region[2].get<double>());
  CHECK(region[1].get<double>() <= region[3].get<double>());
  CHECK(ts["schema"]["classes"]["tile"]["properties"]["boundingBox"]["semantic"] == "TILE_BOUNDING_BOX");

  struct Tile {
    std::array<double, 12> box;
    double error;
    bool content;
  };
  std::map<std::tuple<int, uint32_t, uint32_t>, Tile> tiles;
  std::function<void(int, uint32_t, uint32_t)> readSubtree = [&](int level, uint32_t x, uint32_t y) {
    std::string path =
        dir + "/subtrees/" + std::to_string(level) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".subtree";
    REQUIRE(sfs::exists(path));
    std::string b = readText(path);
    REQUIRE(b.substr(0, 4) == "subt");
    uint64_t jl, bl;
    std::memcpy(&jl, b.data() + 8, 8);
    std::memcpy(&bl, b.data() + 16, 8);
    CHECK(jl % 8 == 0);
    REQUIRE(24 + jl + bl == b.size());
    json sj = json::parse(b.substr(24, jl));
    const uint8_t* bin = reinterpret_cast<const uint8_t*>(b.data() + 24 + jl);
    CHECK(sj["buffers"][0]["byteLength"] == bl);
    auto bit = [&](const json& avail, size_t i) {
      if (avail.contains("constant")) return avail["constant"].get<int>() == 1;
      const json& v = sj["bufferViews"][avail["bitstream"].get<int>()];
      CHECK(v["byteOffset"].get<size_t>() % 8 == 0);
      return ((bin[v["byteOffset"].get<size_t>() + i / 8] >> (i % 8)) & 1) != 0;
    };
    const json& table = sj["propertyTables"][sj["tileMetadata"].get<int>()];
    const json& boxView = sj["bufferViews"][table["properties"]["boundingBox"]["values"].get<int>()];
    const json& errView = sj["bufferViews"][table["properties"]["geometricError"]["values"].get<int>()];
    size_t row = 0;
    for (int l = 0; l < subtreeLevels; ++l)
      for (uint64_t m = 0; m < (uint64_t(1) << (2 * l)); ++m) {
        size_t i = size_t(((uint64_t(1) << (2 * l)) - 1) / 3 + m);
        if (!bit(sj["tileAvailability"], i)) {
          CHECK_FALSE(bit(sj["contentAvailability"][0], i));
          continue;
        }
        uint32_t lx = 0, ly = 0;
        for (int k = 0; k < l; ++k) {
          lx |= uint32_t((m >> (2 * k)) & 1) << k;
          ly |= uint32_t((m >> (2 * k + 1)) & 1) << k;
        }
        Tile t;
        std::memcpy(t.box.data(), bin + boxView["byteOffset"].get<size_t>() + row * 96, 96);
        std::memcpy(&t.error, bin + errView["byteOffset"].get<size_t>() + row * 8, 8);
        t.content = bit(sj["contentAvailability"][0], i);
        tiles[{level + l, (x << l) + lx, (y << l) + ly}] = t;
        ++row;
      }
    CHECK(row == table["count"].get<size_t>());
    for (uint64_t m = 0; m < (uint64_t(1) << (2 * subtreeLevels)); ++m)
      if (bit(sj["childSubtreeAvailability"], size_t(m))) {
        uint32_t lx = 0, ly = 0;
        for (int k = 0; k < subtreeLevels; ++k) {
          lx |= uint32_t((m >> (2 * k)) & 1) << k;
          ly |= uint32_t((m >> (2 * k + 1)) & 1) << k;
        }
        readSubtree(level + subtreeLevels, (x << subtreeLevels) + lx, (y << subtreeLevels) + ly);
      }
  };
  readSubtree(0, 0, 0);
  REQUIRE(tiles.count({0, 0u, 0u}));
  TilesetCheck c;
  int deepest = 0;
  CHECK(root["refine"] == "ADD");
  const double w = region[0], so = region[1], e = region[2], no = region[3], h0 = region[4], h1 = region[5];
  size_t outside = 0, checked = 0;
  for (auto& [key, t] : tiles) {
    auto [l, x, y] = key;
    deepest = std::max(deepest, l);
    if (l > 0) {
      // a parent is available, its box holds this one and its error is no smaller
      auto p = tiles.find({l - 1, x / 2, y / 2});
      REQUIRE(p != tiles.end());
      CHECK(t.error <= p->second.error);
      OrientedBox pb = OrientedBox::fromArray(p->second.box);
      for (auto& corner : OrientedBox::fromArray(t.box).corners()) CHECK(pb.contains(corner, 0.02));
    }
    bool leaf = true;
    for (uint32_t k = 0; k < 4; ++k) leaf = leaf && !tiles.count({l + 1, 2 * x + (k & 1), 2 * y + (k >> 1)});
    if (!t.content) {
      CHECK_FALSE(leaf);
      continue;
    }
    std::string uri = "tiles/" + std::to_string(l) + "/" + std::to_string(x) + "/" + std::to_string(y) + ".glb";
    REQUIRE(sfs::exists(dir + "/" + uri));
    if (leaf) CHECK(t.error == 0.0);
    size_t before = c.worldPositions.size();
    checkGlb(dir + "/" + uri, OrientedBox::fromArray(t.box), c, true);
    // The region the specification derives for tile (l, x, y): the root region halved l times.
    const double n = double(1u << l);
    const double tw = w + (e - w) * x / n, te = w + (e - w) * (x + 1) / n;
    const double ts_ = so + (no - so) * y / n, tn = so + (no - so) * (y + 1) / n;
    const double tol = 0.02 / 6378137.0;  // 2 cm in radians
    for (size_t i = before; i < c.worldPositions.size(); ++i) {
      Vec3 llh = ecefToLonLatHeight(c.worldPositions[i]);
      const double lon = llh[0] * M_PI / 180, lat = llh[1] * M_PI / 180;
      ++checked;
      if (lon < tw - tol || lon > te + tol || lat < ts_ - tol || lat > tn + tol || llh[2] < h0 - 0.02 ||
          llh[2] > h1 + 0.02)
        ++outside;
    }
  }
  INFO(checked << " vertices checked");
  CHECK(checked > 0);
  CHECK(outside == 0);
  CHECK(deepest + 1 == availableLevels);
  CHECK(availableLevels >= minLevels);
  CHECK(c.features == expectFeatures);  // refine ADD: every feature in exactly one content
  validateOutput(dir);
}

TEST_CASE("Implicit tiling: every content inside the volume the specification derives for its tile",
          "[tileset][implicit]") {
  std::string base = tempDir("implicit");
  // Three sources, three cities: buildings of Yokosuka and Osaka, Kawasaki's street furniture.
  std::string in = "'" + samples("plateau-yokosuka-lod2tex") + "' '" + samples("plateau-osaka-lod1") + "' '" +
                   samples("plateau-kawasaki-zip/kawasaki-shi/udx/frn") + "' --types building,furniture";
  auto r = runTwin("convert " + in + " --implicit -o '" + base + "/implicit' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  checkImplicit(base + "/implicit", 13 + 63 + 28, 3);
  // The root region is the square grid the tiles were numbered in (degrees: as wide as tall).
  json ts = json::parse(readText(base + "/implicit/tileset.json"));
  auto region = ts["root"]["boundingVolume"]["region"];
  CHECK(region[2].get<double>() - region[0].get<double>() ==
        Approx(region[3].get<double>() - region[1].get<double>()).epsilon(1e-6));
  // Kawasaki's zoning (large districts cut into pieces): the sample on which 26 of 27 contents lay
  // up to 7.9 km outside their tiles. Small tiles force a deeper tree.
  auto z = runTwin("convert '" + samples("plateau-urf/kawasaki-shi") +
                   "' --types zoning --implicit --max-tile-mb 0.01 -o '" + base + "/zoning' --no-progress");
  INFO(z.output);
  REQUIRE(z.exitCode == 0);
  checkImplicit(base + "/zoning", 38, 3);
  // A deeper tree over a small area: Osaka's 63 buildings, tiles of a few buildings each.
  auto o = runTwin("convert '" + samples("plateau-osaka-lod1") + "' --implicit --max-tile-mb 0.01 -o '" + base +
                   "/osaka' --no-progress");
  INFO(o.output);
  REQUIRE(o.exitCode == 0);
  checkImplicit(base + "/osaka", 63, 3);
}

TEST_CASE("A spatial split bounds tile size; output is deterministic across thread counts", "[tileset]") {
  std::string base = tempDir("split");
  auto r = runTwin("convert '" + samples("plateau-osaka-lod1") + "' -o '" + base +
                   "/a' --max-tile-mb 0.02 --threads 1 --no-progress");
  REQUIRE(r.exitCode == 0);
  auto c = checkTileset(base + "/a");
  CHECK(c.contents > 1);
  CHECK(c.features == 63);
  for (auto& e : sfs::recursive_directory_iterator(base + "/a"))
    if (e.path().extension() == ".glb") CHECK(sfs::file_size(e.path()) < 60000);
  r = runTwin("convert '" + samples("plateau-osaka-lod1") + "' -o '" + base +
              "/b' --max-tile-mb 0.02 --threads 2 --no-progress");
  REQUIRE(r.exitCode == 0);
  CHECK(readText(base + "/a/tileset.json") == readText(base + "/b/tileset.json"));
  for (auto& e : sfs::recursive_directory_iterator(base + "/a"))
    if (e.path().extension() == ".glb") {
      auto rel = sfs::relative(e.path(), base + "/a");
      CHECK(readText(e.path().string()) == readText((sfs::path(base + "/b") / rel).string()));
    }
  validateOutput(base + "/a");
}

TEST_CASE("Levels of detail over several real files: overviews are small, real and placed", "[tileset][lod]") {
  // Yokosuka (textured LOD2), Osaka (LOD1) and Kawasaki city furniture: three places, 160 km
  // apart, in one tileset.
  std::string base = tempDir("lod");
  std::string in = "'" + samples("plateau-yokosuka-lod2tex") + "' '" + samples("plateau-osaka-lod1") + "' '" +
                   samples("plateau-kawasaki-zip/kawasaki-shi/udx/frn") + "'";
  auto r = runTwin("convert " + in + " --types building,furniture -o '" + base + "/lod' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  auto c = checkTileset(base + "/lod");
  CHECK(c.features == 13 + 63 + 28);  // every feature once in full detail
  CHECK(c.parents >= 2);              // the root and at least one level below it
  CHECK(c.rootError > 0);
  CHECK(c.worstParentShare > 0);
  CHECK_FALSE(c.parentFeatureIds.empty());
  CHECK(c.parentFeatureIds.size() < c.featureIds.size());  // small ones are left out at the top
  validateOutput(base + "/lod");
  // The overview of the textured buildings carries their colours as vertex colours.
  bool colours = false;
  for (auto& e : sfs::recursive_directory_iterator(base + "/lod"))
    if (e.path().extension() == ".glb") {
      Glb g = readGlb(e.path().string());
      for (auto& p : g.json["meshes"][0]["primitives"]) colours |= p["attributes"].contains("COLOR_0");
    }
  CHECK(colours);

  // The same input flat: no overviews, refine ADD, the same full-detail features.
  r = runTwin("convert " + in + " --types building,furniture --flat -o '" + base + "/flat' --no-progress");
  REQUIRE(r.exitCode == 0);
  auto f = checkTileset(base + "/flat", true);
  CHECK(f.parents == 0);
  CHECK(f.featureIds == c.featureIds);
}

namespace {

// Every file of a tileset (not its .twin state) -> its bytes.
std::map<std::string, std::string> tilesetFiles(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = sfs::recursive_directory_iterator(dir); it != sfs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == ".twin") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out[sfs::relative(it->path(), dir).string()] = readText(it->path().string());
  }
  return out;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_ino;
}

}  // namespace

TEST_CASE("Incremental runs rewrite only the tiles changed inputs touch", "[tileset][incremental]") {
  // Two real files in a dataset directory; then one of them changes.
  std::string base = tempDir("incremental");
  sfs::create_directories(base + "/in");
  sfs::copy(samples("plateau-osaka-lod1/udx/bldg/51357309_bldg_6697_op.gml"), base + "/in/osaka.gml");
  sfs::copy(samples("plateau-yokosuka-lod2tex/udx/bldg"), base + "/in", sfs::copy_options::recursive);
  const std::string out = base + "/out";
  auto r = runTwin("convert '" + base + "/in' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("unchanged kept") != std::string::npos);
  auto before = tilesetFiles(out);
  REQUIRE(before.size() >= 4);  // tileset.json, two leaves (Osaka and Yokosuka are far apart), root

  // Nothing changed: nothing read, nothing written, the same files (same inodes: kept, not rewritten).
  std::map<std::string, ino_t> inodes;
  for (auto& [rel, bytes] : before) inodes[rel] = inodeOf(out + "/" + rel);
  r = runTwin("convert '" + base + "/in' -o '" + out + "' --no-progress");
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("2 unchanged since the last run") != std::string::npos);
  CHECK(r.output.find(" 0 written, 3 unchanged kept") != std::string::npos);
  CHECK(tilesetFiles(out) == before);
  for (auto& [rel, ino] : inodes)
    if (rel != "tileset.json") CHECK(inodeOf(out + "/" + rel) == ino);

  // One building of the Osaka file gets another height: its leaf and the root are rewritten, the
  // Yokosuka leaf is kept as it was.
  std::string gml = readText(base + "/in/osaka.gml");
  size_t at = gml.find("<bldg:measuredHeight");
  REQUIRE(at != std::string::npos);
  size_t v = gml.find('>', at) + 1;
  gml.replace(v, gml.find('<', v) - v, "99.5");
  writeText(base + "/in/osaka.gml", gml);
  r = runTwin("convert '" + base + "/in' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("1 unchanged since the last run") != std::string::npos);
  CHECK(r.output.find(" 2 written, 1 unchanged kept") != std::string::npos);
  auto after = tilesetFiles(out);
  size_t kept = 0, changed = 0;
  for (auto& [rel, bytes] : after) {
    if (rel == "tileset.json") continue;
    if (inodeOf(out + "/" + rel) == inodes[rel]) {
      ++kept;
      CHECK(before[rel] == bytes);
    } else {
      ++changed;
    }
  }
  CHECK(kept == 1);
  CHECK(changed == 2);
  // ... and the result is exactly what a full run makes.
  r = runTwin("convert '" + base + "/in' -o '" + base + "/fresh' --full --no-progress");
  REQUIRE(r.exitCode == 0);
  CHECK(tilesetFiles(base + "/fresh") == after);
  checkTileset(out);
  validateOutput(out);

  // A texture replaced (same GML) is a change of its file: the Yokosuka leaf is made again.
  sfs::path tex;
  for (auto& e : sfs::directory_iterator(base + "/in/52397519_bldg_6697_appearance")) tex = e.path();
  REQUIRE(!tex.empty());
  std::string img = readText(tex.string());
  sfs::remove(tex);
  writeText(tex.string(), img);  // same bytes, new file and time
  sfs::last_write_time(tex, sfs::file_time_type::clock::now() + std::chrono::seconds(5));
  r = runTwin("convert '" + base + "/in' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("1 unchanged since the last run") != std::string::npos);
  CHECK(r.output.find(" 2 written, 1 unchanged kept") != std::string::npos);

  // A damaged state (a pack cut short) makes its input read again; the run still succeeds and
  // gives the same tileset.
  for (auto& e : sfs::directory_iterator(out + "/.twin/packs"))
    if (e.path().extension() == ".bin") sfs::resize_file(e.path(), sfs::file_size(e.path()) / 2);
  r = runTwin("convert '" + base + "/in' -o '" + out + "' --no-progress");
  INFO(r.output);
  REQUIRE(r.exitCode == 0);
  CHECK(r.output.find("unchanged since the last run") == std::string::npos);  // both read again
  CHECK(tilesetFiles(out) == after);
}

TEST_CASE("Shards joined by twin merge make the same tileset as one run", "[tileset][shard]") {
  std::string base = tempDir("shard");
  std::string in = "'" + samples("plateau-yokosuka-lod2tex") + "' '" + samples("plateau-osaka-lod1") + "' '" +
                   samples("plateau-kawasaki-zip/kawasaki-shi/udx/frn") + "' '" + samples("kit-fzk-haus") + "'";
  auto one = runTwin("convert " + in + " --types building,furniture -o '" + base + "/one' --no-progress");
  REQUIRE(one.exitCode == 0);
  std::string shards;
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    std::string dir = base + "/shard" + std::to_string(i);
    auto r = runTwin("convert " + in + " --types building,furniture --shard " + std::to_string(i) + "/3 -o '" + dir +
                     "' --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    unsigned mine = 0, all = 0;
    size_t at = r.output.find("shard " + std::to_string(i) + "/3: ");
    REQUIRE(at != std::string::npos);
    REQUIRE(std::sscanf(r.output.c_str() + at, "shard %*u/%*u: %u of %u", &mine, &all) == 2);
    total += mine;
    CHECK(all == 7);  // yokosuka 1, osaka 1, kawasaki furniture 1, fzk-haus 4
    shards += " '" + dir + "'";
  }
  CHECK(total == 7);  // every input in exactly one shard
  auto merged = runTwin("merge" + shards + " -o '" + base + "/merged' --threads 2");
  INFO(merged.output);
  REQUIRE(merged.exitCode == 0);
  auto a = tilesetFiles(base + "/one"), b = tilesetFiles(base + "/merged");
  CHECK(a.size() == b.size());
  CHECK(a == b);
  validateOutput(base + "/merged");
  // Shards with other options are refused.
  auto other = runTwin("convert '" + samples("plateau-osaka-lod1") + "' --flat -o '" + base + "/other' --no-progress");
  REQUIRE(other.exitCode == 0);
  auto bad = runTwin("merge" + shards + " '" + base + "/other' -o '" + base + "/bad'");
  CHECK(bad.exitCode == 1);
  CHECK(bad.output.find("merge-options") != std::string::npos);
  CHECK_FALSE(sfs::exists(base + "/bad"));
}

namespace {

// Vertices (ECEF, as a client places them) of every feature in the leaves of a tileset, by gml:id.
// Calls fn(glb, world) for every leaf content of an explicit tileset; world(position accessor
// values, vertex) gives a vertex in ECEF as a client places it (node scale and translation, y-up
// to z-up).
using WorldPosition = std::function<Vec3(const std::vector<double>&, size_t)>;
void forEachLeafGlb(const std::string& dir, const std::function<void(const Glb&, const WorldPosition&)>& fn) {
  json ts = json::parse(readText(dir + "/tileset.json"));
  std::function<void(const json&)> walk = [&](const json& tile) {
    if (!tile.contains("children") && tile.contains("content")) {
      Glb g = readGlb(dir + "/" + tile["content"]["uri"].get<std::string>());
      const json& node = g.json["nodes"][0];
      Vec3 t{0, 0, 0};
      if (node.contains("translation")) t = {node["translation"][0], node["translation"][1], node["translation"][2]};
      const double sc = node.contains("scale") ? node["scale"][0].get<double>() : 1.0;
      fn(g, [&](const std::vector<double>& pos, size_t i) {
        return Vec3{sc * pos[3 * i] + t[0], -(sc * pos[3 * i + 2] + t[2]), sc * pos[3 * i + 1] + t[1]};
      });
    }
    for (auto& c : tile.value("children", json::array())) walk(c);
  };
  walk(ts["root"]);
}

// Vertices (ECEF, as a client places them) of every feature in the leaves of a tileset, by gml:id.
std::map<std::string, std::vector<Vec3>> leafFeatureVertices(const std::string& dir) {
  std::map<std::string, std::vector<Vec3>> out;
  forEachLeafGlb(dir, [&](const Glb& g, const WorldPosition& world) {
    const json& table = g.json["extensions"]["EXT_structural_metadata"]["propertyTables"][0];
    const json& col = table["properties"]["gml_id"];
    const size_t rows = table["count"];
    auto view = [&](int i) { return g.json["bufferViews"][i]; };
    std::vector<uint32_t> o(rows + 1);
    std::memcpy(o.data(), &g.bin[view(col["stringOffsets"])["byteOffset"].get<size_t>()], 4 * (rows + 1));
    size_t base = view(col["values"])["byteOffset"];
    std::vector<std::string> ids;
    for (size_t r = 0; r < rows; ++r)
      ids.emplace_back(reinterpret_cast<const char*>(&g.bin[base + o[r]]), o[r + 1] - o[r]);
    for (auto& prim : g.json["meshes"][0]["primitives"]) {
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      auto fid = accessorValues(g, prim["attributes"]["_FEATURE_ID_0"]);
      for (size_t i = 0; i < fid.size(); ++i) out[ids[size_t(fid[i])]].push_back(world(pos, i));
    }
  });
  return out;
}

}  // namespace

TEST_CASE("Buildings stand on the relief: both layers through the same geoid", "[tileset][ground]") {
  // The Yokosuka buildings and a relief under them, as two tilesets. The samples hold no relief
  // that overlaps buildings, so tests/make_ground.py makes one from the buildings' own ground
  // heights (T.P., as PLATEAU gives them). Converted separately, both must meet: a layer without
  // the geoid would float or sink by ~37 m here.
  std::string base = tempDir("ground");
  std::string src = samples("plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml");
  REQUIRE(
      run("python3 '" + std::string(TWIN_SOURCE_DIR) + "/tests/make_ground.py' '" + src + "' '" + base + "/ground.gml'")
          .exitCode == 0);
  REQUIRE(
      runTwin("convert '" + samples("plateau-yokosuka-lod2tex") + "' -o '" + base + "/bldg' --no-progress").exitCode ==
      0);
  REQUIRE(runTwin("convert '" + base + "/ground.gml' --types relief -o '" + base + "/dem' --no-progress").exitCode ==
          0);
  validateOutput(base + "/dem");
  auto buildings = leafFeatureVertices(base + "/bldg");
  REQUIRE(buildings.size() == 13);
  // The relief's triangles (lon, lat, height corners) from its leaf tiles.
  std::vector<std::array<Vec3, 3>> triangles;
  forEachLeafGlb(base + "/dem", [&](const Glb& g, const WorldPosition& world) {
    for (auto& prim : g.json["meshes"][0]["primitives"]) {
      auto pos = accessorValues(g, prim["attributes"]["POSITION"]);
      auto idx = accessorValues(g, prim["indices"]);
      for (size_t t = 0; t + 2 < idx.size(); t += 3) {
        std::array<Vec3, 3> tri;
        for (int k = 0; k < 3; ++k) tri[k] = ecefToLonLatHeight(world(pos, size_t(idx[t + k])));
        triangles.push_back(tri);
      }
    }
  });
  REQUIRE(triangles.size() > 100);
  // Relief height at (lon, lat): the triangle holding it, interpolated.
  auto reliefAt = [&](double lon, double lat, double& h) {
    for (auto& t : triangles) {
      double x1 = t[0][0], y1 = t[0][1], x2 = t[1][0], y2 = t[1][1], x3 = t[2][0], y3 = t[2][1];
      double d = (y2 - y3) * (x1 - x3) + (x3 - x2) * (y1 - y3);
      if (d == 0) continue;
      double a = ((y2 - y3) * (lon - x3) + (x3 - x2) * (lat - y3)) / d;
      double b = ((y3 - y1) * (lon - x3) + (x1 - x3) * (lat - y3)) / d;
      double c = 1 - a - b;
      if (a < -1e-9 || b < -1e-9 || c < -1e-9) continue;
      h = a * t[0][2] + b * t[1][2] + c * t[2][2];
      return true;
    }
    return false;
  };
  // For each building: the relief under each of its lowest corners (within 0.5 m of its lowest
  // point: the ground line) against the corner's height. A building floats or sinks by the gap.
  size_t onRelief = 0;
  std::vector<double> gaps;
  for (auto& [id, vs] : buildings) {
    double lowest = 1e9;
    std::vector<Vec3> llh;
    for (auto& v : vs) {
      llh.push_back(ecefToLonLatHeight(v));
      lowest = std::min(lowest, llh.back()[2]);
    }
    double worst = 0;
    size_t n = 0;
    for (auto& p : llh) {
      double h;
      if (p[2] > lowest + 0.5 || !reliefAt(p[0], p[1], h)) continue;
      worst = std::max(worst, std::abs(p[2] - h));
      gaps.push_back(p[2] - h);
      ++n;
    }
    INFO(id << ": lowest point " << lowest << " m, " << n << " ground corners, worst gap " << worst << " m");
    if (n == 0) continue;  // outside the relief
    ++onRelief;
    CHECK(worst < 5.0);  // the made-up relief is interpolated: on slopes it departs by metres
  }
  CHECK(onRelief >= 10);
  REQUIRE_FALSE(gaps.empty());
  std::sort(gaps.begin(), gaps.end());
  INFO("median gap " << gaps[gaps.size() / 2] << " m over " << gaps.size() << " ground corners");
  CHECK(std::abs(gaps[gaps.size() / 2]) < 0.1);  // measured: 1 mm
}

TEST_CASE("twin info describes a tileset and a source file", "[tileset]") {
  std::string base = tempDir("info");
  REQUIRE(runTwin("convert '" + samples("plateau-osaka-lod1") + "' -o '" + base + "/t' --no-progress").exitCode == 0);
  auto r = runTwin("info '" + base + "/t'");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("1.1") != std::string::npos);
  CHECK(r.output.find("EPSG:6697") != std::string::npos);
  CHECK(r.output.find("features     63") != std::string::npos);
  r = runTwin("info '" + samples("plateau-yokosuka-lod2tex/udx/bldg/52397519_bldg_6697_op.gml") + "'");
  CHECK(r.exitCode == 0);
  CHECK(r.output.find("Building: 13") != std::string::npos);
  CHECK(r.output.find("BuildingPart: 2") != std::string::npos);
  CHECK(r.output.find("LOD2") != std::string::npos);
  CHECK(r.output.find("textures     3 images") != std::string::npos);
}

TEST_CASE("A staged output directory that is not committed leaves nothing behind", "[tileset]") {
  std::string base = tempDir("staged");
  {
    fs::StagedDirectory s(base + "/out");
    std::string err;
    REQUIRE(s.begin(err));
    std::string e2;
    REQUIRE(fs::writeFileAtomic(s.path() + "/tileset.json", std::string("{}"), e2));
    // destroyed without commit: an interrupted run
  }
  CHECK_FALSE(sfs::exists(base + "/out"));
  CHECK(sfs::is_empty(base));
  // A run killed outright (kill -9) leaves its staging directory; the next run removes it when
  // its process is gone, and keeps those of live runs.
  sfs::create_directories(base + "/.out.twin-tmp-2147483000/tiles");
  std::string live = base + "/.out.twin-tmp-" + std::to_string(getppid());
  sfs::create_directories(live);
  REQUIRE(runTwin("convert '" + samples("plateau-osaka-lod1") + "' -o '" + base + "/out' --no-progress").exitCode == 0);
  CHECK_FALSE(sfs::exists(base + "/.out.twin-tmp-2147483000"));
  CHECK(sfs::exists(live));
  sfs::remove_all(live);
}

TEST_CASE("A large file parsed in parts on several threads gives the same tileset and true lines", "[tileset]") {
  // ~12 MB of made-up box buildings (made, not real data: the point is the file size), with a
  // broken coordinate near the end whose line number must be exact.
  std::string members;
  for (int i = 0; i < 4800; ++i)
    members +=
        boxBuilding("b" + std::to_string(i), 35.60 + (i / 80) * 0.0005, 139.70 + (i % 80) * 0.0005, 3, 6 + i % 20);
  std::string doc = cityModel(members);
  size_t at = doc.rfind("<gml:posList>") + 13;
  doc.replace(at, 3, "NaN");
  int64_t badLine = 1 + std::count(doc.begin(), doc.begin() + at, '\n');
  REQUIRE(doc.size() > 10u << 20);
  std::string base = tempDir("parts");
  writeText(base + "/big.gml", doc);
  auto one = runTwin("convert '" + base + "/big.gml' -o '" + base + "/one' --threads 1 --no-progress");
  // ... and with the tile index sorted in runs of 100 records merged from disk (48 runs).
  auto four = run("TWIN_SORT_RUN_RECORDS=100 '" + std::string(twinExe()) + "' convert '" + base + "/big.gml' -o '" +
                  base + "/four' --threads 4 --no-progress");
  REQUIRE(one.exitCode == 0);
  REQUIRE(four.exitCode == 0);
  CHECK(one.output.find("Building               4800") != std::string::npos);
  CHECK(four.output.find("Building               4800") != std::string::npos);
  std::string where = "big.gml:" + std::to_string(badLine) + ": b4799: warning";
  CHECK(one.output.find(where) != std::string::npos);
  CHECK(four.output.find(where) != std::string::npos);
  CHECK(readText(base + "/one/tileset.json") == readText(base + "/four/tileset.json"));
  size_t glbs = 0;
  for (auto& e : sfs::recursive_directory_iterator(base + "/one"))
    if (e.path().extension() == ".glb") {
      ++glbs;
      auto rel = sfs::relative(e.path(), base + "/one");
      CHECK(readText(e.path().string()) == readText((sfs::path(base + "/four") / rel).string()));
    }
  CHECK(glbs > 1);
  validateOutput(base + "/four");
}

TEST_CASE("Other PLATEAU layers as their own tilesets: roads, relief, land use, zoning", "[tileset]") {
  std::string base = tempDir("layers");
  struct Layer {
    const char* sample;
    const char* types;
    size_t features;
  };
  for (const Layer& l : {Layer{"plateau-tran-tokyo", "road", 9}, Layer{"plateau-dem-yokosuka", "relief", 2},
                         Layer{"plateau-luse-numazu", "landuse", 225}, Layer{"plateau-urf/tokyo23-ku", "zoning", 38}}) {
    INFO(l.sample);
    std::string out = base + "/" + l.types;
    auto r = runTwin("convert '" + samples(l.sample) + "' -o '" + out + "' --types " + l.types + " --no-progress");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    CHECK(r.output.find("features") != std::string::npos);
    auto c = checkTileset(out);
    CHECK(c.featureIds.size() == l.features);  // distinct gml:ids (large features are cut into pieces)
    CHECK(c.features >= l.features);
    validateOutput(out);
    for (auto& e : sfs::recursive_directory_iterator(out))
      if (e.path().extension() == ".glb") {
        Glb g = readGlb(e.path().string());
        CHECK(g.json["extensions"]["EXT_structural_metadata"]["schema"]["classes"].contains("feature"));
      }
    if (std::string(l.types) == "relief") {
      // Each relief TIN spans its 1 km mesh sheet (> 1.5 km diagonal): cut into 500 m pieces.
      CHECK(c.features > l.features);
      CHECK(r.output.find("feature-split") != std::string::npos);
      // The Yokosuka TIN spans -0.02 .. 24.2 m T.P.; with the geoid (~36-37 m there) every vertex
      // lies between 30 and 70 m above the ellipsoid.
      for (auto& w : c.worldPositions) {
        double h = ecefToLonLatHeight(w)[2];
        CHECK(h > 30.0);
        CHECK(h < 70.0);
      }
    }
  }
  // Buildings stay the default: the road file gives none.
  auto r = runTwin("convert '" + samples("plateau-tran-tokyo") + "' -o '" + base + "/none' --no-progress");
  CHECK(r.exitCode == 1);
  CHECK(r.output.find("Road") != std::string::npos);  // counted as skipped
}

TEST_CASE("Every sample, alone and all together: both validators and loaders.gl accept the tilesets",
          "[tileset][samples]") {
  // Real data of many kinds at once: PLATEAU files of four cities and several years (i-UR 1.x to
  // 3.1, attribute sets that differ between files), CityGML 2.0 and 3.0 from Germany, CityJSON
  // from the Netherlands and Switzerland, a zipped PLATEAU dataset, cadastral 地図XML. Inputs the
  // converter cannot place (CityJSON files without a CRS, a local engineering CRS) are reported
  // (exit code 3) and the rest is converted.
  std::string base = tempDir("samples");
  const std::string root = std::string(TWIN_SAMPLES);
  std::vector<std::string> folders;
  for (auto& e : sfs::directory_iterator(root))
    if (e.is_directory()) folders.push_back(e.path().filename().string());
  std::sort(folders.begin(), folders.end());
  REQUIRE(folders.size() >= 10);
  for (auto& f : folders) {
    INFO(f);
    std::string out = base + "/" + f;
    auto r = runTwin("convert '" + root + "/" + f + "' --types all -o '" + out + "' --no-progress -q");
    INFO(r.output);
    CHECK((r.exitCode == 0 || r.exitCode == 3));
    REQUIRE(sfs::exists(out + "/tileset.json"));
    validateOutput(out);
  }
  auto all = runTwin("convert '" + root + "' --types all -o '" + base + "/all' --no-progress");
  INFO(all.output);
  CHECK((all.exitCode == 0 || all.exitCode == 3));
  json ts = json::parse(readText(base + "/all/tileset.json"));
  const json& twin = ts["asset"]["extras"]["twin"];
  CHECK(twin["features"].get<double>() > 1500);
  // Five source CRSs, each with its geoid: GSIGEO2011 for the Japanese datums, EGM96 elsewhere.
  CHECK(twin["geoidByCrs"]["EPSG:6697"] == "jp_gsi_gsigeo2011.tif (egm96_15.gtx outside its extent)");
  CHECK(twin["geoidByCrs"]["EPSG:6677"] == "jp_gsi_gsigeo2011.tif (egm96_15.gtx outside its extent)");
  CHECK(twin["geoidByCrs"]["EPSG:25832+5783"] == "egm96_15.gtx");
  CHECK(twin["geoidByCrs"]["EPSG:2056"] == "egm96_15.gtx");
  validateOutput(base + "/all");
  // The same, implicitly tiled.
  auto imp = runTwin("convert '" + root + "' --types all --implicit -o '" + base + "/all-implicit' --no-progress -q");
  INFO(imp.output);
  CHECK((imp.exitCode == 0 || imp.exitCode == 3));
  validateOutput(base + "/all-implicit");
  // Implicit and compressed: the root's own buildings span continents here; content that wide
  // goes out uncompressed (else 16-bit steps of kilometres), the rest compressed; every vertex
  // still inside its tile's derived volume (loaders.gl, 5 cm).
  auto impc = runTwin("convert '" + root + "' --types all --implicit --compress meshopt -o '" + base +
                      "/all-implicit-meshopt' --no-progress");
  INFO(impc.output);
  CHECK((impc.exitCode == 0 || impc.exitCode == 3));
  CHECK(impc.output.find("content-uncompressed") != std::string::npos);
  validateOutput(base + "/all-implicit-meshopt");
}
