// The conversion pipeline (see twin/tiler/convert.h): a Run reads inputs into packs (worker.h) or
// adopts the packs of shard outputs, splits them into a quadtree (quadtree.h), writes the tiles
// (tile_writer.h) and the tileset, explicit or implicit (implicit.h), and keeps its state for the
// next run (run_state.h). Also the options that state records, and --types lists.
#include "twin/tiler/convert.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "implicit.h"
#include "quadtree.h"
#include "run_state.h"
#include "sort.h"
#include "tile_writer.h"
#include "twin/fsutil.h"
#include "twin/hash.h"
#include "twin/tiler/pointcloud.h"
#include "twin/tileset.h"
#include "worker.h"

namespace twin::tiler {

std::vector<std::string> objectTypesFromList(const std::string& list) {
  static const std::map<std::string, std::vector<std::string>> aliases = {
      {"building", {"Building"}},
      {"road", {"Road", "Railway", "Track", "Square"}},
      {"landuse", {"LandUse"}},
      {"relief", {"ReliefFeature"}},
      {"furniture", {"CityFurniture"}},
      {"water", {"WaterBody"}},
      {"vegetation", {"PlantCover", "SolitaryVegetationObject"}},
      {"zoning",
       {"UseDistrict", "HeightControlDistrict", "FirePreventionDistrict", "ScenicDistrict", "AreaClassification",
        "SpecialUseDistrict", "ParkingPlaceDevelopmentZone", "PortZone", "ProductiveGreenZone",
        "SpecialGreenSpaceConservationDistrict", "DistrictPlan", "HighLevelUseDistrict",
        "HighRiseResidentialAttractionDistrict", "SpecialUrbanRenaissanceDistrict", "LandscapeZone", "ScenicZone"}},
      {"parcel", {"Parcel"}},
      {"all", {"*"}},
  };
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::string lower = item;
    for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto it = aliases.find(lower);
    if (it != aliases.end())
      out.insert(out.end(), it->second.begin(), it->second.end());
    else
      out.push_back(item);
  }
  if (out == std::vector<std::string>{"Building"}) out.clear();  // the default
  return out;
}

namespace {

std::string optionsJson(const ConvertOptions& o) {
  nlohmann::json j;
  j["lod"] = o.lod;
  j["draco"] = o.draco;
  j["meshopt"] = o.meshopt;
  j["quantize"] = o.quantize;
  j["geoidFile"] = o.geoidFile;
  j["crsOverride"] = o.crsOverride;
  j["objectTypes"] = o.objectTypes;
  j["formatOptions"] = o.formatOptions;
  j["className"] = o.className;
  j["maxTileBytes"] = o.maxTileBytes;
  j["maxFeaturesPerTile"] = o.maxFeaturesPerTile;
  j["maxLeafDegrees"] = o.maxLeafDegrees;
  j["levelsOfDetail"] = o.levelsOfDetail;
  j["parentFraction"] = o.parentFraction;
  j["tilesVersion"] = o.tilesVersion;
  j["maxTextureSize"] = o.maxTextureSize;
  j["overviewTextureSize"] = o.overviewTextureSize;
  j["atlas"] = o.atlas;
  j["webp"] = o.webp;
  j["implicit"] = o.implicit;
  j["subtreeLevels"] = o.subtreeLevels;
  return j.dump();
}

void optionsFromJson(const std::string& text, ConvertOptions& o) {
  auto j = nlohmann::json::parse(text);
  o.lod = j["lod"];
  o.draco = j["draco"];
  o.meshopt = j["meshopt"];
  o.quantize = j["quantize"];
  o.geoidFile = j["geoidFile"];
  o.crsOverride = j["crsOverride"];
  o.objectTypes = j["objectTypes"].get<std::vector<std::string>>();
  if (j.contains("formatOptions")) o.formatOptions = j["formatOptions"].get<std::map<std::string, std::string>>();
  o.className = j["className"];
  o.maxTileBytes = j["maxTileBytes"];
  o.maxFeaturesPerTile = j["maxFeaturesPerTile"];
  o.maxLeafDegrees = j["maxLeafDegrees"];
  o.levelsOfDetail = j["levelsOfDetail"];
  o.parentFraction = j["parentFraction"];
  o.tilesVersion = j["tilesVersion"];
  o.maxTextureSize = j["maxTextureSize"];
  o.overviewTextureSize = j["overviewTextureSize"];
  o.atlas = j["atlas"];
  o.webp = j["webp"];
  o.implicit = j["implicit"];
  o.subtreeLevels = j["subtreeLevels"];
}

// One run: (optionally) reads inputs into packs, then tiles every pack of the run. convert()
// and merge() differ only in where the packs come from.
class Run {
 public:
  Run(const ConvertOptions& options, DiagnosticSink& diag) : o_(options), diag_(diag), shared_(o_, diag) {
    // An implicit grid cannot hold a building that crosses the edge of a child cell in that
    // child, and a parent's content would vanish under REPLACE refinement: implicit tilesets keep
    // such buildings in the parent at full detail and refine ADD, without simplified overviews.
    if (o_.implicit) o_.levelsOfDetail = false;
  }

  ConvertResult result;

  bool begin() {
    t0_ = std::chrono::steady_clock::now();
    std::string err;
    if (!out_.begin(err)) {
      diag_.error("output-dir", err);
      return false;
    }
    stateDir_ = out_.path() + "/.twin";
    packsDir_ = stateDir_ + "/packs";
    coarseDir_ = stateDir_ + "/coarse";
    std::filesystem::create_directories(packsDir_);
    std::filesystem::create_directories(coarseDir_);
    optionsJson_ = optionsJson(o_);
    // A previous run into the same directory with the same options: inputs and tiles it made
    // from unchanged data are reused (incremental).
    std::string e2;
    prevDir_ = o_.outDir + "/.twin";
    hasPrev_ = o_.incremental && prev_.load(prevDir_, e2) && prev_.optionsJson == optionsJson_;
    if (options_progress()) startProgress();
    return true;
  }

  // Inputs to read (converted into new packs) unless the previous run has them unchanged.
  bool read(const std::vector<InputFile>& inputs) {
    uint64_t totalBytes = 0;
    std::vector<uint32_t> toRead;
    std::map<std::string, const InputState*> prevByUri;
    if (hasPrev_)
      for (auto& i : prev_.inputs) prevByUri[i.uri] = &i;
    for (auto& in : inputs) {
      InputState st;
      st.uri = in.uri;
      statInput(in.uri, st.size, st.mtime);
      auto it = prevByUri.find(in.uri);
      bool reused = false;
      if (it != prevByUri.end() && it->second->size == st.size && it->second->mtime == st.mtime) {
        reused = true;
        std::string err;
        for (auto& name : it->second->packs)
          if (!packIntact(prevDir_ + "/packs/" + name)) reused = false;
        for (auto& name : it->second->packs)
          for (const char* ext : {".bin", ".idx", ".keys"})
            if (reused && !fs::linkOrCopy(prevDir_ + "/packs/" + name + ext, packsDir_ + "/" + name + ext, err))
              reused = false;
        if (reused) {
          st.packs = it->second->packs;
          st.triangles = it->second->triangles;
          st.dropped = it->second->dropped;
          st.crs = it->second->crs;
          st.geoid = it->second->geoid;
          result.inputsReused++;
        }
      }
      if (!reused) {
        toRead.push_back(uint32_t(inputs_.size()));
        totalBytes += in.bytes;
      }
      inputs_.push_back(std::move(st));
    }
    totalBytes_ = totalBytes;
    for (auto& in : inputs) result.inputBytes += in.bytes;

    const int threads = std::max(1, o_.threads);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int i = 0; i < threads; ++i) workers.push_back(std::make_unique<Worker>(shared_, uint32_t(i), packsDir_));
    ReadOptions ro;
    ro.crsOverride = o_.crsOverride;
    ro.objectTypes = o_.objectTypes;
    ro.formatOptions = o_.formatOptions;
    ro.bytesRead = &shared_.bytesRead;
    ro.cancel = o_.cancel;
    auto readOne = [&](const InputFile& in, ObjectSink& sink, const ReadOptions& readOptions) {
      ReadStats st;
      auto reader = in.format->create();
      reader->read(in.uri, readOptions, sink, diag_, st);
      std::lock_guard lock(shared_.mutex);
      shared_.read.merge(st);
    };
    // Many files (a PLATEAU dataset: one per 1 km mesh): each thread reads whole files and
    // converts what it reads itself, no hand-off. Few files: each is parsed in parts on all
    // threads (a large CityGML file is split at member boundaries).
    const bool threadPerFile = threads == 1 || toRead.size() >= size_t(threads) * 2;
    if (threadPerFile) {
      ReadOptions inlineOptions = ro;
      inlineOptions.parallelism = 1;
      std::atomic<size_t> next{0};
      auto run = [&](Worker& w) {
        DirectSink sink(w, o_.cancel);
        for (size_t i; (i = next.fetch_add(1)) < toRead.size();) {
          if (o_.cancel && o_.cancel->load()) break;
          sink.input = toRead[i];
          readOne(inputs[toRead[i]], sink, inlineOptions);
        }
      };
      std::vector<std::thread> pool;
      for (int t = 1; t < threads; ++t) pool.emplace_back(run, std::ref(*workers[t]));
      run(*workers[0]);
      for (auto& t : pool) t.join();
    } else {
      ReadOptions partsOptions = ro;
      partsOptions.parallelism = threads;
      for (uint32_t i : toRead) {
        if (o_.cancel && o_.cancel->load()) break;
        ConcurrentSink sink(workers, o_.cancel, i);
        readOne(inputs[i], sink, partsOptions);
      }
    }
    bool ok = true;
    for (auto& w : workers) {
      for (auto& [input, name] : w->finish()) inputs_[input].packs.push_back(name);
      ok = ok && w->ok();
    }
    for (auto& [i, n] : shared_.inputTriangles) inputs_[i].triangles = n;
    for (auto& [i, n] : shared_.inputDropped) inputs_[i].dropped = n;
    for (auto& [i, c] : shared_.inputCrs) inputs_[i].crs.assign(c.begin(), c.end());
    for (auto& [i, g] : shared_.inputGeoid) inputs_[i].geoid = g;
    for (auto& st : inputs_) std::sort(st.packs.begin(), st.packs.end());
    result.read = shared_.read;
    if (o_.cancel && o_.cancel->load()) {
      diag_.error("cancelled", "conversion cancelled; nothing written");
      return false;
    }
    return ok;
  }

  // Takes the packs of finished outputs (shards) instead of reading inputs.
  bool adopt(const std::vector<std::string>& dirs) {
    std::set<std::string> seen;
    for (auto& d : dirs) {
      RunState st;
      std::string err;
      if (!st.load(d + "/.twin", err)) {
        diag_.error("merge-input", d + ": not a twin output with its state (" + err + ")");
        return false;
      }
      if (st.optionsJson != optionsJson_) {
        diag_.error("merge-options",
                    d + " was converted with other options than " + dirs[0] + "; shards must share every option");
        return false;
      }
      for (auto& in : st.inputs) {
        if (!seen.insert(in.uri).second) {
          diag_.error("merge-overlap", in.uri + " is in more than one shard");
          return false;
        }
        for (auto& name : in.packs)
          for (const char* ext : {".bin", ".idx", ".keys"})
            if (!fs::linkOrCopy(d + "/.twin/packs/" + name + ext, packsDir_ + "/" + name + ext, err)) {
              diag_.error("merge-input", err);
              return false;
            }
        inputs_.push_back(in);
      }
    }
    // One order whatever the shards: by input.
    std::sort(inputs_.begin(), inputs_.end(), [](const InputState& a, const InputState& b) { return a.uri < b.uri; });
    return true;
  }

  bool tile() {
    auto tRead = std::chrono::steady_clock::now();
    result.readSeconds = std::chrono::duration<double>(tRead - t0_).count();
    // ---- the packs of every input: key tables into one schema; their indexes into the sorted
    // tile index on disk (two passes over the index files: bounds, then Morton keys) ----
    std::set<std::string> sourceCrs;
    std::map<std::string, std::string> geoidByCrs;  // source CRS -> geoid grid applied to its heights
    std::vector<std::vector<PackKey>> packKeys;
    QuadNode root;
    root.west = root.south = INFINITY;
    root.east = root.north = -INFINITY;
    uint64_t total = 0;
    for (uint32_t ii = 0; ii < inputs_.size(); ++ii) {
      auto& in = inputs_[ii];
      result.triangles += in.triangles;
      result.featuresDropped += in.dropped;
      for (auto& c : in.crs) {
        sourceCrs.insert(c);
        if (!in.geoid.empty()) geoidByCrs[c] = in.geoid;
      }
      for (auto& name : in.packs) {
        PackIn p;
        p.name = name;
        p.input = ii;
        std::string base = packsDir_ + "/" + name, err;
        std::vector<FeatureRef> pr;
        std::vector<PackKey> keys;
        if (!readPackIndex(base + ".idx", pr, err) || !readPackKeys(base + ".keys", keys, err)) {
          diag_.error("spill-read", err);
          return false;
        }
        p.fd = ::open((base + ".bin").c_str(), O_RDONLY);
        if (p.fd < 0) {
          diag_.error("spill-read", "cannot open " + base + ".bin");
          return false;
        }
        for (auto& r : pr) {
          // Implicit tiling: the root cell holds every feature whole, not only its centre.
          const LonLatExtent x = o_.implicit ? featureExtent(r) : LonLatExtent{r.lon, r.lat, r.lon, r.lat};
          root.west = std::min(root.west, x.west);
          root.east = std::max(root.east, x.east);
          root.south = std::min(root.south, x.south);
          root.north = std::max(root.north, x.north);
        }
        total += pr.size();
        packKeys.push_back(std::move(keys));
        packs_.push_back(std::move(p));
      }
    }
    std::vector<std::vector<uint32_t>> observed(packs_.size());
    for (size_t pi = 0; pi < packs_.size(); ++pi)
      for (auto& k : packKeys[pi]) {
        if (observed[pi].size() <= k.index) observed[pi].resize(k.index + 1, UINT32_MAX);
        observed[pi][k.index] = shared_.schema.observeKinds(k.name, k.kinds);
      }
    std::vector<uint32_t> remap;  // observed key index -> schema position (sorted by name)
    const std::vector<PropertyDef> schema = shared_.schema.build(&remap);
    for (size_t pi = 0; pi < packs_.size(); ++pi) {
      packs_[pi].remap.assign(observed[pi].size(), UINT32_MAX);
      for (size_t k = 0; k < observed[pi].size(); ++k)
        if (observed[pi][k] != UINT32_MAX) packs_[pi].remap[k] = remap[observed[pi][k]];
    }
    uint64_t schemaHash = fnv1a64(optionsJson_);
    for (auto& d : schema) schemaHash = hashMix(hashMix(schemaHash, fnv1a64(d.name)), uint64_t(d.type));

    result.features = total;
    if (total == 0 && o_.allowEmpty && o_.keepState) {
      // A shard with nothing in its share: its state only, so that `twin merge` can take it.
      RunState state;
      state.optionsJson = optionsJson_;
      state.inputs = inputs_;
      std::string err;
      if (!state.save(stateDir_, err) || !out_.commit(err)) {
        diag_.error("output-write", err);
        return false;
      }
      result.ok = true;
      return true;
    }
    if (total == 0) {
      diag_.error("nothing-converted", "no building could be converted; no tileset written");
      return false;
    }
    // square-ish root so quadrants stay well shaped
    // A square root cell (degrees) so that quadrants stay well shaped, moved where needed to stay
    // on the globe ([-180, 180] x [-90, 90]: implicit tiling writes it as the root region); data
    // spanning more latitude than a square can hold there gets a rectangle instead.
    const double span = std::max(root.east - root.west, root.north - root.south) * 1.0000001 + 1e-9;
    double spanX = std::min(span, 360.0), spanY = std::min(span, 180.0);
    spanX = std::max(spanX, (root.east - root.west) * 1.0000001 + 1e-9);
    spanY = std::max(spanY, (root.north - root.south) * 1.0000001 + 1e-9);
    root.west = std::max(root.west, -180.0);
    root.south = std::max(root.south, -90.0);
    if (root.west + spanX > 180.0) root.west = std::max(-180.0, 180.0 - spanX);
    if (root.south + spanY > 90.0) root.south = std::max(-90.0, 90.0 - spanY);
    root.east = std::min(180.0, root.west + spanX);
    root.north = std::min(90.0, root.south + spanY);
    spanX = root.east - root.west;
    spanY = root.north - root.south;
    const std::array<double, 4> grid{root.west, root.south, root.east, root.north};
    {
      // Deterministic order regardless of threads, shards and packs: position (Morton code in the
      // root square), then size, then id hash. External sort: memory bounded by the run size.
      const std::string tmp = stateDir_ + "/tmp";
      std::filesystem::create_directories(tmp);
      RefSorter sorter(tmp, o_.sortRunRecords);
      std::string err;
      const double cells = double(1u << 31);
      for (uint32_t pi = 0; pi < packs_.size(); ++pi) {
        std::vector<FeatureRef> pr;
        if (!readPackIndex(packsDir_ + "/" + packs_[pi].name + ".idx", pr, err)) {
          diag_.error("spill-read", err);
          return false;
        }
        for (auto& r : pr) {
          r.pack = pi;
          r.input = packs_[pi].input;
          auto cellX = [&](double v) { return uint32_t(std::clamp((v - root.west) / spanX * cells, 0.0, cells - 1)); };
          auto cellY = [&](double v) { return uint32_t(std::clamp((v - root.south) / spanY * cells, 0.0, cells - 1)); };
          SortedRef sr;
          if (o_.implicit) {
            // The deepest level whose cell holds the feature whole; the code of that cell.
            const LonLatExtent x = featureExtent(r);
            const uint32_t x0 = cellX(x.west), x1 = cellX(x.east);
            const uint32_t y0 = cellY(x.south), y1 = cellY(x.north);
            // A feature reaching past the root cell (only at the poles or the antimeridian) is
            // kept in the root, which holds everything.
            const bool past = x.west < root.west || x.east > root.east || x.south < root.south || x.north > root.north;
            int level = past ? 0 : 31;
            while (level > 0 &&
                   ((x0 >> (31 - level)) != (x1 >> (31 - level)) || (y0 >> (31 - level)) != (y1 >> (31 - level))))
              --level;
            const int drop = 31 - level;
            r.level = uint8_t(level);
            sr.morton = level == 0 ? 0 : morton31((x0 >> drop) << drop, (y0 >> drop) << drop);
          } else {
            sr.morton = morton31(cellX(r.lon), cellY(r.lat));
          }
          sr.ref = r;
          if (!sorter.add(sr, err)) {
            diag_.error("spill-write", err);
            return false;
          }
        }
      }
      if (!sorter.finish(tmp + "/index.bin", err) || !refFile_.open(tmp + "/index.bin", err)) {
        diag_.error("spill-write", err);
        return false;
      }
    }
    root.begin = 0;
    root.end = refFile_.size();
    {
      std::string err;
      if (!split(root, refFile_, o_, err)) {
        diag_.error("spill-read", err);
        return false;
      }
    }
    const RefFile& refs = refFile_;
    // A root that is a single leaf still gets a parent: with levels of detail its overview, else
    // a tile without content whose error means something.
    QuadNode wrapper;
    QuadNode* tree = &root;
    if (root.children.empty() && !o_.implicit) {
      wrapper.top = true;
      wrapper.maxDiagonal = root.maxDiagonal;
      wrapper.west = root.west;
      wrapper.south = root.south;
      wrapper.east = root.east;
      wrapper.north = root.north;
      wrapper.children.push_back(std::move(root));
      tree = &wrapper;
    }
    std::vector<QuadNode*> leaves;
    collectLeaves(*tree, leaves);
    std::vector<std::vector<QuadNode*>> parentsByDepth;
    if (o_.levelsOfDetail) collectParents(*tree, parentsByDepth, 0);
    size_t parentCount = 0;
    for (auto& l : parentsByDepth) parentCount += l.size();

    // ---- what each tile is made of: unchanged tiles of the previous run are kept ----
    std::vector<uint64_t> inputFp(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) inputFp[i] = inputs_[i].fingerprint();
    std::unordered_map<const QuadNode*, uint64_t> hashes;
    std::function<uint64_t(const QuadNode&)> hashOf = [&](const QuadNode& n) {
      uint64_t h = hashMix(schemaHash, fnv1a64(nodeKey(n)));
      std::vector<SortedRef> range;
      if (n.contentEnd > n.begin && refs.read(n.begin, n.contentEnd - n.begin, range))
        for (auto& r : range) h = hashMix(hashMix(h, inputFp[r.ref.input]), r.ref.idHash);
      for (auto& c : n.children) h = hashMix(h, hashOf(c));
      hashes[&n] = h;
      return h;
    };
    hashOf(*tree);
    std::unordered_map<std::string, const TileState*> prevTiles;
    if (hasPrev_)
      for (auto& t : prev_.tiles) prevTiles[t.key] = &t;
    auto reuse = [&](QuadNode& n) {
      auto it = prevTiles.find(nodeKey(n));
      if (it == prevTiles.end() || it->second->hash != hashes[&n]) return false;
      const TileState& t = *it->second;
      std::string err;
      if (t.content && !fs::linkOrCopy(o_.outDir + "/" + tileUri(n, o_), out_.path() + "/" + tileUri(n, o_), err))
        return false;
      std::string coarse = coarsePath(prevDir_ + "/coarse", n);
      if (o_.levelsOfDetail && &n != tree && !fs::linkOrCopy(coarse, coarsePath(coarseDir_, n), err)) return false;
      n.written = t.content;
      n.boxSet = t.boxSet;
      n.box = OrientedBox::fromArray(t.box);
      n.error = t.error;
      n.bytes = t.bytes;
      n.textures = t.textures;
      n.shown = t.shown;
      return true;
    };

    // ---- write tiles: leaves, then parents level by level from the deepest ----
    phase_ = 1;
    tilesTotal_ = leaves.size() + parentCount;
    std::atomic<bool> writeFailed{false};
    std::atomic<uint64_t> reused{0};
    const int threads = std::max(1, o_.threads);
    auto runPool = [&](const std::vector<QuadNode*>& nodes, bool parents) {
      std::atomic<size_t> next{0};
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          TileWriter tw(refs, packs_, schema, o_, out_.path(), coarseDir_, diag_, shared_);
          for (size_t i; (i = next.fetch_add(1)) < nodes.size();) {
            if (writeFailed.load() || (o_.cancel && o_.cancel->load())) break;
            QuadNode& n = *nodes[i];
            bool ok;
            if (reuse(n)) {
              ok = true;
              reused.fetch_add(1);
            } else {
              ok = parents ? tw.writeParent(n, &n == tree) : tw.write(n);
            }
            if (!ok) writeFailed = true;
            tilesDone_.fetch_add(1);
          }
        });
      for (auto& t : pool) t.join();
    };
    auto tLeaves = std::chrono::steady_clock::now();
    runPool(leaves, false);
    auto tParents = std::chrono::steady_clock::now();
    for (size_t d = parentsByDepth.size(); d-- > 0 && !writeFailed.load();) runPool(parentsByDepth[d], true);
    result.leafSeconds = std::chrono::duration<double>(tParents - tLeaves).count();
    result.parentSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tParents).count();
    if (o_.cancel && o_.cancel->load()) {
      diag_.error("cancelled", "conversion cancelled; nothing written");
      return false;
    }
    if (writeFailed.load()) {
      diag_.error("output-write", "writing tiles failed; no tileset written");
      return false;
    }
    RunState state;
    state.optionsJson = optionsJson_;
    state.inputs = inputs_;
    std::function<void(const QuadNode&)> tally = [&](const QuadNode& n) {
      if (n.written) {
        result.outputBytes += n.bytes;
        result.textures += n.textures;
        result.tiles++;
        if (n.children.empty()) result.leafBytes += n.bytes;
      }
      if (n.written || n.boxSet) {
        TileState t;
        t.key = nodeKey(n);
        t.hash = hashes[&n];
        t.content = n.written;
        t.boxSet = n.boxSet;
        t.box = n.box.toArray();
        t.error = n.error;
        t.bytes = n.bytes;
        t.textures = n.textures;
        t.shown = n.shown;
        state.tiles.push_back(t);
      }
      for (auto& c : n.children) tally(c);
    };
    tally(*tree);
    result.inputs = inputs_.size();
    result.tilesReused = reused.load();
    result.tilesWritten = leaves.size() + parentCount - result.tilesReused;
    result.rootBytes = tree->bytes;
    result.rootError = tree->error;

    TileNode rootTile = assemble(*tree, o_);
    rootTile.refine = o_.levelsOfDetail ? "REPLACE" : "ADD";
    TilesetInfo info;
    info.generator = "twin 0.1.0";
    info.version = o_.tilesVersion;
    info.sourceCrs.assign(sourceCrs.begin(), sourceCrs.end());
    // The geoid grids applied, each named once (sorted), and per source CRS.
    std::set<std::string> geoids;
    for (auto& [c, g] : geoidByCrs) geoids.insert(g);
    std::string geoid;
    for (auto& g : geoids) geoid += (geoid.empty() ? "" : "; ") + g;
    info.geoid = geoid;
    info.geoidByCrs = geoidByCrs;
    info.numbers["features"] = double(result.features);
    info.numbers["tiles"] = double(result.tiles);
    info.objectTypes = o_.objectTypes;
    // The tileset's own error (nothing drawn at all): at least the largest building.
    info.geometricError = std::max(rootTile.geometricError, double(tree->maxDiagonal));
    std::string json;
    if (o_.implicit) {
      std::string err2;
      json = implicitTileset(*tree, grid, rootTile.refine, info, out_.path(), o_, err2);
      if (json.empty()) {
        diag_.error("output-write", err2);
        return false;
      }
    } else {
      json = tilesetJson(rootTile, info);
    }
    result.outputBytes += json.size();
    for (auto& p : packs_)
      if (p.fd >= 0) ::close(p.fd);
    packs_.clear();
    std::string err;
    std::filesystem::remove_all(stateDir_ + "/tmp");  // the sorted tile index
    if (!o_.keepState) std::filesystem::remove_all(stateDir_);
    if ((o_.keepState && !state.save(stateDir_, err)) ||
        !fs::writeFileAtomic(out_.path() + "/tileset.json", json, err) || !out_.commit(err)) {
      diag_.error("output-write", err);
      return false;
    }
    result.sourceCrs = sourceCrs;
    result.geoid = geoid;
    result.geoidByCrs = geoidByCrs;
    result.ok = true;
    auto tEnd = std::chrono::steady_clock::now();
    result.seconds = std::chrono::duration<double>(tEnd - t0_).count();
    result.tileSeconds = std::chrono::duration<double>(tEnd - tRead).count();
    return true;
  }

  ~Run() {
    for (auto& p : packs_)
      if (p.fd >= 0) ::close(p.fd);
    stopProgress();
  }

  void stopProgress() {
    done_ = true;
    if (progressThread_.joinable()) progressThread_.join();
  }

 private:
  ConvertOptions o_;
  DiagnosticSink& diag_;
  Shared shared_;
  fs::StagedDirectory out_{o_.outDir};
  std::string stateDir_, packsDir_, coarseDir_, prevDir_, optionsJson_;
  RunState prev_;
  bool hasPrev_ = false;
  std::vector<InputState> inputs_;
  std::vector<PackIn> packs_;
  RefFile refFile_;
  std::chrono::steady_clock::time_point t0_;
  uint64_t totalBytes_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<int> phase_{0};
  std::atomic<uint64_t> tilesDone_{0}, tilesTotal_{0};
  std::thread progressThread_;

  bool options_progress() const { return bool(o_.progress); }

  void startProgress() {
    progressThread_ = std::thread([this] {
      while (!done_.load()) {
        Progress p;
        if (phase_.load() == 0) {
          p.phase = "reading";
          p.done = shared_.bytesRead.load();
          p.total = totalBytes_;
        } else {
          p.phase = "writing tiles";
          p.done = tilesDone_.load();
          p.total = tilesTotal_.load();
        }
        p.features = shared_.features.load();
        o_.progress(p);
        for (int i = 0; i < 4 && !done_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
};

}  // namespace

ConvertResult convert(const std::vector<InputFile>& inputs, const ConvertOptions& options, DiagnosticSink& diag) {
  size_t clouds = 0;
  for (auto& in : inputs) clouds += in.format && in.format->pointCloud;
  if (clouds && clouds != inputs.size()) {
    diag.error("inputs-mixed", std::to_string(clouds) + " of the " + std::to_string(inputs.size()) +
                                   " inputs are point clouds: convert point clouds and city objects into separate "
                                   "tilesets");
    return {};
  }
  if (clouds) return convertPointCloud(inputs, options, diag);
  Run run(options, diag);
  if (run.begin() && run.read(inputs)) run.tile();
  run.stopProgress();
  return run.result;
}

ConvertResult merge(const std::vector<std::string>& shardDirs, const ConvertOptions& mergeOptions,
                    DiagnosticSink& diag) {
  ConvertResult failed;
  if (shardDirs.empty()) {
    diag.error("merge-input", "no shard outputs given");
    return failed;
  }
  RunState first;
  std::string err;
  if (!first.load(shardDirs[0] + "/.twin", err)) {
    diag.error("merge-input", shardDirs[0] + ": not a twin output with its state (" + err + ")");
    return failed;
  }
  ConvertOptions o = mergeOptions;
  optionsFromJson(first.optionsJson, o);  // the shards' options, so the result equals one run
  Run run(o, diag);
  if (run.begin() && run.adopt(shardDirs)) run.tile();
  run.stopProgress();
  return run.result;
}

}  // namespace twin::tiler
