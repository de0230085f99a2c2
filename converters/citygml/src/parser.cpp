// The CityGML SAX2 parser: its callbacks for elements, text and errors, geometry and objects
// (attributes are in attributes.cpp), and the push parser that streams a file or part of one
// through it (see parser.h).
#include "parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "twin/vfs.h"

namespace twin::citygml {

void Parser::onStart(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri, int nbNs,
                     const xmlChar** nss, int nbAttrs, int nbDefaulted, const xmlChar** attrs) {
  (void)nbNs, (void)nss, (void)nbDefaulted;
  auto* p = static_cast<Parser*>(ud);
  p->prefix_ = prefix;
  p->start(local, uri, nbAttrs, attrs);
}

void Parser::onEnd(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri) {
  (void)prefix;
  static_cast<Parser*>(ud)->end(local, uri);
}

void Parser::onChars(void* ud, const xmlChar* ch, int len) {
  static_cast<Parser*>(ud)->characters(reinterpret_cast<const char*>(ch), len);
}

void Parser::onError(void* ud, const xmlError* err) {
  auto* p = static_cast<Parser*>(ud);
  if (!err || err->level < XML_ERR_ERROR) return;
  std::string msg = err->message ? trim(err->message) : std::string("XML error");
  if (err->level == XML_ERR_FATAL) {
    if (p->fatal) return;
    p->fatal = true;
    std::string id = p->objects_.empty() ? std::string() : p->objects_.front().obj.id;
    p->diag_.error("xml-malformed",
                   "malformed XML: " + msg + (id.empty() ? "" : " (inside this object, which is dropped)"), p->uri_,
                   err->line + p->lineOffset, id);
  } else {
    p->diag_.warning("xml-error", "XML error: " + msg, p->uri_, err->line + p->lineOffset);
  }
}

void Parser::refuse(const std::string& code, const std::string& message) {
  std::string id = objects_.empty() ? std::string() : objects_.front().obj.id;
  diag_.error(code, message + (id.empty() ? "" : " (inside this object, which is dropped)"), uri_, line(), id);
  fatal = true;
  stopped = true;
  if (stopAll) stopAll->store(true);
  if (ctxt) xmlStopParser(ctxt);
}

void Parser::onEntityDecl(void* ud, const xmlChar* name, int, const xmlChar*, const xmlChar* systemId, xmlChar*) {
  auto* p = static_cast<Parser*>(ud);
  if (p->stopped) return;
  p->refuse("xml-entity-declared",
            std::string("the document declares the XML entity '") + reinterpret_cast<const char*>(name) + "'" +
                (systemId ? std::string(" (external: ") + reinterpret_cast<const char*>(systemId) + ")" : "") +
                "; entity declarations are refused (billion-laughs and external-entity protection)");
}

void Parser::checkTextures(const AppearanceStore& st, size_t from) {
  for (size_t i = from; i < st.textures.size(); ++i) {
    const std::string& uri = st.textures[i].uri;
    if (uri.empty() || !checkedTextures_.insert(uri).second || vfs::exists(uri)) continue;
    diag_.warning("texture-missing", "texture image " + uri + " not found; its surfaces are drawn in a plain colour",
                  uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
  }
}

bool Parser::wanted(const xmlChar* local, Ns ns) const {
  if (ns == Ns::Gml || ns == Ns::App) return false;
  const auto& types = options_.objectTypes;
  if (types.empty()) return ns == Ns::Bldg && eq(local, "Building");
  for (auto& t : types)
    if (t == "*" || eq(local, t.c_str())) return true;
  return false;
}

void Parser::start(const xmlChar* local, const xmlChar* nsUri, int nbAttrs, const xmlChar** attrs) {
  ++depth_;
  const int d = depth_;
  if (d > kMaxDepth && !stopped) {
    refuse("xml-too-deep", "elements are nested more than " + std::to_string(kMaxDepth) +
                               " levels deep (no city model needs that); the file is refused from here on");
    return;
  }
  if (skipDepth_ >= 0) return;
  if (stopped) return;
  Ns ns = classify(nsUri);

  if (d == 1) {
    sawRoot = true;
    isCityGml = eq(local, "CityModel") || ns == Ns::Core || ns == Ns::Bldg;
    if (nsUri && std::strstr(reinterpret_cast<const char*>(nsUri), "opengis.net/citygml/3.0")) {
      cityGml3 = true;  // core:boundary, con: surfaces, bldg:buildingPart, ... (read alongside 2.0's names)
    }
    return;
  }

  // Global appearance (CityModel/appearanceMember)
  if (globalAppDepth_ >= 0) {
    globalParser_.start(local, ns, nbAttrs, attrs, d);
    return;
  }
  if (!inObject() && eq(local, "appearanceMember")) {
    if (appearanceOnly_) {
      globalAppDepth_ = d;
    } else {
      startSkip(d);  // read in the pre-pass
    }
    return;
  }
  if (appearanceOnly_) {
    if (d == 2) {
      if (ns != Ns::Gml && ns != Ns::App) objectsAfterAppearance = true;
      startSkip(d);
    }
    return;
  }

  // Envelope of the model: srsName, srsDimension
  if (!inObject() && d == 3 && eq(local, "Envelope")) {
    std::string srs = attrValue(nbAttrs, attrs, "srsName");
    if (!srs.empty() && fileSrs.empty()) fileSrs = srs;
    std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
    if (!dim.empty()) fileDim_ = std::atoi(dim.c_str()) == 2 ? 2 : 3;
    return;
  }

  if (attrDepth_ >= 0) {
    if (ns == Ns::Gml && isGmlGeometry(local)) {
      // Geometry is never an attribute: dropped (and counted), whatever property holds it.
      if (!eq(local, "boundedBy")) ++attrGeometries_;
      startSkip(d);
      return;
    }
    captureStart(local, ns, nbAttrs, attrs);
    return;
  }
  if (localAppDepth_ >= 0) {
    localParser_.start(local, ns, nbAttrs, attrs, d);
    return;
  }

  if (!inObject()) {
    if (eq(local, "cityObjectMember") || eq(local, "featureMember") || eq(local, "featureMembers")) {
      memberDepth_ = d;
      return;
    }
    if (d == 2 && (ns == Ns::Gml || ns == Ns::App)) {
      if (!eq(local, "boundedBy")) startSkip(d);  // gml:name, gml:description, ...
      return;
    }
    // Other properties of the model (CityGML 3.0 ver:versionMember, engineeringCRS, ...) hold
    // no city objects of their own: objects are UpperCamelCase elements, properties are not.
    if (d == 2 && std::islower(local[0])) {
      startSkip(d);
      return;
    }
    if (d == memberDepth_ + 1 || d == 2) {
      if (wanted(local, ns)) {
        beginObject(local, nbAttrs, attrs, d);
      } else {
        skipType_ = str(local);
        stats_.skippedByType[skipType_]++;
        startSkip(d);
      }
    }
    return;
  }

  // Inside a building or building part.
  ObjCtx& cur = objects_.back();
  if (ns == Ns::Bldg && eq(local, "BuildingPart")) {
    beginObject(local, nbAttrs, attrs, d);
    return;
  }
  if (cur.obj.srs.empty()) cur.obj.srs = attrValue(nbAttrs, attrs, "srsName");
  if (d == cur.depth + 1) {
    // A property of the object: geometry, structure, appearance, or an attribute.
    if (std::strncmp(reinterpret_cast<const char*>(local), "lod", 3) == 0 && local[3] >= '0' && local[3] <= '4') {
      if (isCurveProperty(local) || ns == Ns::Uro) {  // curves; i-UR geometry-like props are not surfaces
        if (ns == Ns::Uro)
          beginCapture(local, ns, nbAttrs, attrs, d);
        else
          startSkip(d);
        return;
      }
      lodStack_.push_back({d, local[3] - '0'});
      if (eq(local, "lod0FootPrint"))
        surfaceStack_.push_back({d, SurfaceType::Ground});
      else if (eq(local, "lod0RoofEdge"))
        surfaceStack_.push_back({d, SurfaceType::Roof});
      // CityGML 3.0: a building's own LOD0 surface is its footprint (the roof edge is a
      // con:RoofSurface boundary).
      else if (cityGml3 && eq(local, "lod0MultiSurface") && isBuildingType(cur.obj.type))
        surfaceStack_.push_back({d, SurfaceType::Ground});
      return;
    }
    if ((ns == Ns::Bldg || ns == Ns::Core) &&
        (eq(local, "boundedBy") || eq(local, "consistsOfBuildingPart") || eq(local, "outerBuildingInstallation")))
      return;
    // CityGML 3.0 structure: boundary surfaces, parts, installations and constructive elements
    // add to the building; rooms, furniture and storeys/units are interior and skipped.
    if ((ns == Ns::Core && eq(local, "boundary")) ||
        (ns == Ns::Bldg &&
         (eq(local, "buildingPart") || eq(local, "buildingInstallation") || eq(local, "buildingConstructiveElement"))))
      return;
    if (ns == Ns::Bldg &&
        (eq(local, "buildingRoom") || eq(local, "buildingFurniture") || eq(local, "buildingSubdivision"))) {
      stats_.skippedByType[eq(local, "buildingRoom")        ? "BuildingRoom"
                           : eq(local, "buildingFurniture") ? "BuildingFurniture"
                                                            : "BuildingSubdivision"]++;
      startSkip(d);
      return;
    }
    // Relief: components hold the geometry (dem:reliefComponent/dem:TINRelief/dem:tin); other
    // modules' surface properties (tran:trafficArea, ...) likewise.
    if (eq(local, "reliefComponent") || eq(local, "trafficArea") || eq(local, "auxiliaryTrafficArea")) return;
    if (ns == Ns::Bldg && (eq(local, "interiorRoom") || eq(local, "interiorBuildingInstallation"))) {
      stats_.skippedByType[eq(local, "interiorRoom") ? "Room" : "IntBuildingInstallation"]++;
      startSkip(d);
      return;
    }
    if ((ns == Ns::App || ns == Ns::Core) && eq(local, "appearance")) {
      localAppDepth_ = d;
      return;
    }
    if (ns == Ns::Gml && eq(local, "boundedBy")) {
      envelopeDepth_ = d;
      return;
    }
    beginCapture(local, ns, nbAttrs, attrs, d);
    return;
  }
  if (envelopeDepth_ >= 0) return;

  // Deeper: structure and geometry.
  if (std::strncmp(reinterpret_cast<const char*>(local), "lod", 3) == 0 && local[3] >= '0' && local[3] <= '4') {
    if (isCurveProperty(local)) {
      startSkip(d);
      return;
    }
    lodStack_.push_back({d, local[3] - '0'});
    return;
  }
  if (ns == Ns::Bldg || ns == Ns::Con) {
    SurfaceType st = surfaceTypeOf(local);
    if (st != SurfaceType::Unknown) surfaceStack_.push_back({d, st});
    return;
  }
  if (ns != Ns::Gml) return;
  geometryStart(local, nbAttrs, attrs, d);
}

bool Parser::isCurveProperty(const xmlChar* local) {
  std::string_view s(reinterpret_cast<const char*>(local));
  return s.find("Curve") != std::string_view::npos || s.find("TerrainIntersection") != std::string_view::npos ||
         s.find("ImplicitRepresentation") != std::string_view::npos;
}

void Parser::geometryStart(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d) {
  if (eq(local, "Polygon") || eq(local, "Triangle") || eq(local, "Rectangle")) {
    inPolygon_ = true;
    polygonDepth_ = d;
    polygonId_ = attrValue(nbAttrs, attrs, "id");
    polyPoints_.clear();
    polyRingStart_.assign(1, 0);
    polyRingIds_.clear();
    polygonBad_ = false;
    std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
    polygonDim_ = dim.empty() ? 0 : std::atoi(dim.c_str());
    return;
  }
  if (eq(local, "OrientableSurface")) {
    if (attrValue(nbAttrs, attrs, "orientation") == "-") reversedStack_.push_back(d);
  }
  if (!inPolygon_ &&
      (eq(local, "CompositeSurface") || eq(local, "MultiSurface") || eq(local, "Shell") || eq(local, "Solid") ||
       eq(local, "OrientableSurface") || eq(local, "TriangulatedSurface") || eq(local, "Surface"))) {
    std::string id = attrValue(nbAttrs, attrs, "id");
    int lod = currentLod();
    if (!id.empty() && lod >= 0) aggregateStack_.push_back({d, id, lod, objects_.back().polygonCount(lod)});
  }
  if (inPolygon_) {
    if (eq(local, "LinearRing")) {
      inRing_ = true;
      ringId_ = attrValue(nbAttrs, attrs, "id");
      ringBegin_ = polyPoints_.size();
    } else if (eq(local, "posList") || eq(local, "pos") || eq(local, "coordinates")) {
      coord_ = eq(local, "posList") ? Coord::PosList : eq(local, "pos") ? Coord::Pos : Coord::Coordinates;
      std::string dim = attrValue(nbAttrs, attrs, "srsDimension");
      coordDim_ = !dim.empty() ? std::atoi(dim.c_str()) : polygonDim_ ? polygonDim_ : fileDim_;
      if (coordDim_ != 2 && coordDim_ != 3) coordDim_ = 3;
      text_.clear();
    }
    return;
  }
  // A surface reference: <gml:surfaceMember xlink:href="#id"/> (also baseSurface, patches...)
  std::string href = attrValue(nbAttrs, attrs, "href");
  if (!href.empty()) {
    if (!href.empty() && href[0] == '#') href.erase(0, 1);
    objects_.back().hrefs.push_back({href, currentLod(), currentSurface(), reversed()});
  }
}

void Parser::characters(const char* ch, int len) {
  if (skipDepth_ >= 0 || stopped) return;
  if (globalAppDepth_ >= 0) {
    globalParser_.characters(ch, len);
    return;
  }
  if (attrDepth_ >= 0) {
    if (!attrStack_.empty()) {
      std::string& t = attrStack_.back()->text;
      if (t.size() + len > (1u << 20)) {
        attrTextTruncated_ = true;
      } else {
        t.append(ch, len);
      }
    }
    return;
  }
  if (localAppDepth_ >= 0) {
    localParser_.characters(ch, len);
    return;
  }
  if (coord_ != Coord::None) {
    if (text_.size() + size_t(len) > kMaxCoordinateText) {
      if (!stopped)
        refuse("coordinates-too-large", "one coordinate list is larger than " +
                                            std::to_string(kMaxCoordinateText >> 20) +
                                            " MB; the file is refused from here on");
      return;
    }
    text_.append(ch, len);
  }
}

void Parser::end(const xmlChar* local, const xmlChar* nsUri) {
  const int d = depth_--;
  if (skipDepth_ >= 0) {
    if (d == skipDepth_) skipDepth_ = -1;
    return;
  }
  if (stopped) return;
  Ns ns = classify(nsUri);
  if (globalAppDepth_ >= 0) {
    if (d == globalAppDepth_) {
      globalAppDepth_ = -1;
      return;
    }
    size_t before = global_.textures.size();
    globalParser_.end(local, ns, d);
    checkTextures(global_, before);
    return;
  }
  if (attrDepth_ >= 0) {
    attrStack_.pop_back();
    if (d == attrDepth_) endCapture();
    return;
  }
  if (localAppDepth_ >= 0) {
    if (d == localAppDepth_) {
      localAppDepth_ = -1;
      return;
    }
    size_t before = local_.textures.size();
    localParser_.end(local, ns, d);
    checkTextures(local_, before);
    return;
  }
  if (d == envelopeDepth_) envelopeDepth_ = -1;
  if (d == memberDepth_) memberDepth_ = -1;
  if (!lodStack_.empty() && lodStack_.back().first == d) lodStack_.pop_back();
  if (!surfaceStack_.empty() && surfaceStack_.back().first == d) surfaceStack_.pop_back();
  if (!reversedStack_.empty() && reversedStack_.back() == d) reversedStack_.pop_back();

  if (inPolygon_) {
    if (coord_ != Coord::None && (eq(local, "posList") || eq(local, "pos") || eq(local, "coordinates"))) {
      endCoordinates();
      return;
    }
    if (inRing_ && eq(local, "LinearRing")) {
      endRing();
      return;
    }
    if (d == polygonDepth_) {
      endPolygon();
      return;
    }
    return;
  }
  if (!aggregateStack_.empty() && aggregateStack_.back().depth == d) {
    auto& a = aggregateStack_.back();
    ObjCtx& ctx = objects_.back();
    ctx.aggregates[a.id] = {a.lod, a.first, ctx.polygonCount(a.lod)};
    aggregateStack_.pop_back();
  }
  if (inObject() && d == objects_.back().depth) endObject();
}

void Parser::beginObject(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d) {
  ObjCtx ctx;
  ctx.depth = d;
  ctx.obj.type = str(local);
  ctx.obj.id = attrValue(nbAttrs, attrs, "id");
  ctx.obj.sourceFile = uri_;
  ctx.obj.sourceLine = line();
  if (ctx.obj.id.empty()) {
    ctx.obj.id = "twin-" + std::to_string(ctx.obj.sourceLine);
    diag_.warning("object-no-id", ctx.obj.type + " has no gml:id; using " + ctx.obj.id, uri_, ctx.obj.sourceLine);
  }
  objects_.push_back(std::move(ctx));
}

void Parser::endObject() {
  ObjCtx ctx = std::move(objects_.back());
  objects_.pop_back();
  stats_.objectsByType[ctx.obj.type]++;
  if (!objects_.empty()) {
    doneParts_.push_back(std::move(ctx));
    return;
  }
  // Top-level building complete: resolve references and appearances (now, or on the thread
  // that takes the object when the caller defers it), then emit.
  auto b = std::make_shared<PendingBuilding>();
  b->srs = !options_.crsOverride.empty() ? options_.crsOverride : !ctx.obj.srs.empty() ? ctx.obj.srs : fileSrs;
  b->overrideSrs = !options_.crsOverride.empty();
  b->uri = uri_;
  b->top = std::move(ctx);
  b->parts = std::move(doneParts_);
  doneParts_.clear();
  b->local = std::move(local_);
  local_.clear();
  CityObject out = build(*b, global_, diag_);
  if (sink_ && !sink_->accept(std::move(out))) {
    stopped = true;
    if (stopAll) stopAll->store(true);
  }
  if (options_.cancel && options_.cancel->load()) stopped = true;
}

void Parser::endCoordinates() {
  nums_.clear();
  bool ok;
  if (coord_ == Coord::Coordinates) {
    for (auto& c : text_)
      if (c == ',') c = ' ';
  }
  ok = parseDoubles(text_.data(), text_.data() + text_.size(), nums_);
  if (!ok) {
    polygonBad_ = true;
    diag_.warning("coordinate-invalid",
                  "coordinates contain a value that is not a finite number; polygon " +
                      (polygonId_.empty() ? std::string("(no id)") : polygonId_) + " dropped",
                  uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
  } else {
    if (nums_.size() % coordDim_ != 0) {
      polygonBad_ = true;
      diag_.warning("coordinate-count",
                    "coordinate count " + std::to_string(nums_.size()) + " is not a multiple of the dimension " +
                        std::to_string(coordDim_),
                    uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
    } else if (inRing_) {
      for (size_t i = 0; i + coordDim_ <= nums_.size(); i += coordDim_)
        polyPoints_.push_back({nums_[i], nums_[i + 1], coordDim_ == 3 ? nums_[i + 2] : 0.0});
    }
  }
  coord_ = Coord::None;
  text_.clear();
}

void Parser::endRing() {
  inRing_ = false;
  // drop the closing point (and consecutive exact duplicates)
  size_t b = ringBegin_;
  size_t w = b;
  for (size_t i = b; i < polyPoints_.size(); ++i) {
    if (w > b && polyPoints_[i] == polyPoints_[w - 1]) continue;
    polyPoints_[w++] = polyPoints_[i];
  }
  polyPoints_.resize(w);
  if (w - b >= 2 && polyPoints_[w - 1] == polyPoints_[b]) polyPoints_.pop_back();
  if (polyPoints_.size() - b < 3) {
    // ring with fewer than 3 distinct points: keep empty ring (texture coords then mismatch)
    polyPoints_.resize(b);
    if (polyRingStart_.size() == 1 && !polygonBad_) {  // exterior unusable
      polygonBad_ = true;
      diag_.warning("polygon-degenerate",
                    "polygon " + (polygonId_.empty() ? std::string("(no id)") : polygonId_) +
                        " has fewer than 3 distinct points; dropped",
                    uri_, line(), objects_.empty() ? std::string() : objects_.back().obj.id);
    }
    return;
  }
  polyRingStart_.push_back(static_cast<uint32_t>(polyPoints_.size()));
  polyRingIds_.push_back(ringId_);
}

void Parser::endPolygon() {
  inPolygon_ = false;
  int lod = currentLod();
  // Geometry outside an lodN property (a relief TIN under dem:tin) is taken as LOD 1.
  if (lod < 0 && inObject() && objects_.back().obj.type != "Building" && objects_.back().obj.type != "BuildingPart")
    lod = 1;
  if (!inObject() || lod < 0) return;
  ObjCtx& ctx = objects_.back();
  if (polygonBad_ || polyRingStart_.size() < 2) {
    if (!polygonBad_)
      diag_.warning("polygon-degenerate",
                    "polygon " + (polygonId_.empty() ? std::string("(no id)") : polygonId_) +
                        " has fewer than 3 distinct points; dropped",
                    uri_, line(), ctx.obj.id);
    return;
  }
  if (reversed()) {
    for (size_t r = 0; r + 1 < polyRingStart_.size(); ++r)
      std::reverse(polyPoints_.begin() + polyRingStart_[r], polyPoints_.begin() + polyRingStart_[r + 1]);
  }
  Geometry& g = ctx.geometryFor(lod);
  Polygon p;
  p.firstRing = static_cast<uint32_t>(g.ringCount());
  p.ringCount = static_cast<uint32_t>(polyRingStart_.size() - 1);
  p.surface = currentSurface();
  uint32_t base = static_cast<uint32_t>(g.points.size());
  g.points.insert(g.points.end(), polyPoints_.begin(), polyPoints_.end());
  for (size_t r = 1; r < polyRingStart_.size(); ++r) g.ringStart.push_back(base + polyRingStart_[r]);
  g.polygons.push_back(p);
  auto& rids = ctx.ringIds[ctx.geomIndex[lod]];
  rids.insert(rids.end(), polyRingIds_.begin(), polyRingIds_.end());
  ctx.polyIds[ctx.geomIndex[lod]].push_back(polygonId_);
}

xmlParserCtxtPtr createParser(Parser& parser, const std::string& uri) {
  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = &Parser::onStart;
  sax.endElementNs = &Parser::onEnd;
  sax.characters = &Parser::onChars;
  sax.serror = reinterpret_cast<xmlStructuredErrorFunc>(&Parser::onError);
  sax.entityDecl = &Parser::onEntityDecl;
  xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, &parser, nullptr, 0, uri.c_str());
  if (ctxt) xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
  parser.ctxt = ctxt;
  return ctxt;
}

void finishParser(Parser& parser, xmlParserCtxtPtr ctxt) {
  if (!parser.fatal && !parser.stopped) xmlParseChunk(ctxt, nullptr, 0, 1);
  parser.ctxt = nullptr;
  xmlFreeParserCtxt(ctxt);
}

bool runParser(Parser& parser, const std::string& uri, DiagnosticSink& diag, const ReadOptions& options, size_t limit,
               const std::function<std::string()>& atLimit, uint64_t& bytesOut, bool& stoppedEarly,
               const std::string& prefix, size_t begin) {
  stoppedEarly = false;
  std::string err;
  auto in = vfs::open(uri, err);
  if (!in) {
    diag.error("file-unreadable", err, uri);
    return false;
  }
  if (begin > 0 && !in->seek(begin)) {
    diag.error("file-unreadable", "cannot seek in " + uri, uri);
    return false;
  }
  xmlParserCtxtPtr ctxt = createParser(parser, uri);
  if (!ctxt) {
    diag.error("xml-parser", "cannot create XML parser", uri);
    return false;
  }
  if (!prefix.empty()) xmlParseChunk(ctxt, prefix.data(), int(prefix.size()), 0);
  std::vector<char> buf(1 << 20);
  uint64_t total = begin;  // file offset
  bool ok = true;
  for (;;) {
    size_t want = buf.size();
    if (limit > 0) {
      if (total >= limit) {
        std::string closing = atLimit();
        if (!closing.empty()) {
          xmlParseChunk(ctxt, closing.data(), int(closing.size()), 0);
          stoppedEarly = true;
          break;
        }
        limit = 0;
      } else {
        want = std::min<size_t>(want, limit - total);
      }
    }
    int64_t n = in->read(buf.data(), want);
    if (n < 0) {
      diag.error("file-unreadable", "read error", uri);
      ok = false;
      break;
    }
    if (n == 0) break;
    total += uint64_t(n);
    xmlParseChunk(ctxt, buf.data(), int(n), 0);
    if (options.bytesRead) options.bytesRead->fetch_add(uint64_t(n));
    if (parser.fatal || parser.stopped || (parser.stopAll && parser.stopAll->load())) break;
    if (options.cancel && options.cancel->load()) break;
  }
  finishParser(parser, ctxt);
  bytesOut = total - begin;
  if (total == 0) {
    diag.error("file-empty", "file is empty", uri);
    return false;
  }
  return ok;
}

}  // namespace twin::citygml
