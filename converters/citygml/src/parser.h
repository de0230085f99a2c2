#pragma once
// Private: the SAX2 parser of a CityGML document (libxml2 push parser callbacks). It reads city
// objects with their geometry, attributes and object-local appearances one top-level object at a
// time and hands each, finished (see building.h), to the sink; with `appearanceOnly` it reads the
// file's global appearances instead (the pre-pass). Several parsers may read parts of one file at
// once, sharing what the pre-pass found.

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "appearance.h"
#include "attributes.h"
#include "building.h"
#include "code_lists.h"
#include "pre_pass.h"
#include "twin/reader.h"
#include "xml_util.h"

namespace twin::citygml {

class Parser {
 public:
  Parser(const std::string& uri, const ReadOptions& options, ObjectSink* sink, DiagnosticSink& diag, ReadStats& stats,
         CodeLists& codeLists, std::shared_ptr<SharedAppearance> shared, bool appearanceOnly)
      : uri_(uri),
        options_(options),
        sink_(sink),
        diag_(diag),
        stats_(stats),
        codeLists_(codeLists),
        shared_(std::move(shared)),
        global_(shared_->store),
        appearanceOnly_(appearanceOnly) {
    globalParser_.store = &global_;
    globalParser_.baseUri = uri;
    localParser_.store = &local_;
    localParser_.baseUri = uri;
  }

  xmlParserCtxtPtr ctxt = nullptr;
  bool stopped = false;
  bool fatal = false;
  bool sawRoot = false;
  bool isCityGml = false;
  bool objectsAfterAppearance = false;
  bool cityGml3 = false;  // the document is CityGML 3.0
  std::string fileSrs;

  static void onStart(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri, int nbNs,
                      const xmlChar** nss, int nbAttrs, int nbDefaulted, const xmlChar** attrs);
  static void onEnd(void* ud, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri);
  static void onChars(void* ud, const xmlChar* ch, int len);
  static void onError(void* ud, const xmlError* err);

  int64_t line() const { return ctxt ? xmlSAX2GetLineNumber(ctxt) + lineOffset : 0; }

  // Hostile-input limits: element depth, one coordinate list's text.
  static constexpr int kMaxDepth = 1000;
  static constexpr size_t kMaxCoordinateText = size_t(256) << 20;

  // Stops the parse with an error (the object in progress is dropped; those before it stay).
  void refuse(const std::string& code, const std::string& message);

  // <!ENTITY ...> in the document type: refused. Entities are never expanded (no "billion
  // laughs"), external ones never loaded; a file that declares them is not a city model.
  static void onEntityDecl(void* ud, const xmlChar* name, int, const xmlChar*, const xmlChar* systemId, xmlChar*);
  int64_t lineOffset = 0;                // added to libxml2's line numbers (chunked parsing: lines not fed)
  std::atomic<bool>* stopAll = nullptr;  // set when any parser of the file must stop

 private:
  std::string uri_;
  const ReadOptions& options_;
  ObjectSink* sink_;
  DiagnosticSink& diag_;
  ReadStats& stats_;
  CodeLists& codeLists_;
  std::shared_ptr<SharedAppearance> shared_;
  AppearanceStore& global_;
  AppearanceStore local_;
  AppearanceParser globalParser_, localParser_;
  bool appearanceOnly_;
  const xmlChar* prefix_ = nullptr;  // of the element being started

  int depth_ = 0;
  int skipDepth_ = -1;  // ignoring everything until the element at this depth ends
  std::string skipType_;
  int memberDepth_ = -1;                       // depth of core:cityObjectMember
  int globalAppDepth_ = -1;                    // depth of a top-level appearanceMember being parsed
  int localAppDepth_ = -1;                     // depth of an object-local app:appearance
  std::vector<ObjCtx> objects_;                // stack: building, part, ...
  std::vector<ObjCtx> doneParts_;              // finished parts of the current top-level building (flattened)
  std::vector<std::pair<int, int>> lodStack_;  // (depth, lod)
  std::vector<std::pair<int, SurfaceType>> surfaceStack_;  // (depth, type)
  std::vector<int> reversedStack_;                         // depths of OrientableSurface "-"
  int envelopeDepth_ = -1;
  int fileDim_ = 3;

  // polygon in progress
  bool inPolygon_ = false;
  int polygonDepth_ = -1;
  std::string polygonId_;
  std::vector<Vec3> polyPoints_;
  std::vector<uint32_t> polyRingStart_;
  std::vector<std::string> polyRingIds_;
  bool polygonBad_ = false;
  int polygonDim_ = 0;
  // ring in progress
  bool inRing_ = false;
  std::string ringId_;
  size_t ringBegin_ = 0;
  // coordinate text
  enum class Coord { None, PosList, Pos, Coordinates } coord_ = Coord::None;
  int coordDim_ = 3;
  std::string text_;
  std::vector<double> nums_;

  // attribute capture
  int attrDepth_ = -1;
  std::vector<ANode*> attrStack_;
  ANode attrRoot_;
  bool attrTextTruncated_ = false;
  uint32_t attrGeometries_ = 0;  // GML geometries dropped from the property being captured
  uint32_t unknownValues_ = 0;   // PLATEAU "unknown" numbers left out of the property being captured

  struct OpenAggregate {
    int depth;
    std::string id;
    int lod;
    uint32_t first;
  };
  std::vector<OpenAggregate> aggregateStack_;

  bool inObject() const { return !objects_.empty(); }
  static bool isBuildingType(const std::string& t) { return t == "Building" || t == "BuildingPart"; }

  // Texture images that do not exist are reported here, where the file, line and object are
  // known (once per image).
  std::set<std::string> checkedTextures_;
  void checkTextures(const AppearanceStore& st, size_t from);

  // The city object types to read (ReadOptions::objectTypes): buildings unless told otherwise.
  bool wanted(const xmlChar* local, Ns ns) const;
  int currentLod() const { return lodStack_.empty() ? -1 : lodStack_.back().second; }
  SurfaceType currentSurface() const {
    return surfaceStack_.empty() ? SurfaceType::Unknown : surfaceStack_.back().second;
  }
  bool reversed() const { return reversedStack_.size() % 2 == 1; }

  void startSkip(int d) { skipDepth_ = d; }

  void start(const xmlChar* local, const xmlChar* nsUri, int nbAttrs, const xmlChar** attrs);

  static bool isCurveProperty(const xmlChar* local);

  void geometryStart(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d);

  void characters(const char* ch, int len);

  void end(const xmlChar* local, const xmlChar* nsUri);

  // --- objects ---

  void beginObject(const xmlChar* local, int nbAttrs, const xmlChar** attrs, int d);

  void endObject();

  // --- geometry ---

  void endCoordinates();

  void endRing();

  void endPolygon();

  // --- attributes ---

  // "prefix:local" with a canonical prefix for the namespaces twin knows, else the document's.
  std::string keyOf(const xmlChar* local, Ns ns) const;

  void beginCapture(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs, int d);

  void fillNode(ANode& n, const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs);

  void captureStart(const xmlChar* local, Ns ns, int nbAttrs, const xmlChar** attrs);

  void endCapture();

  // Adds a converted attribute; CityGML 3.0's construction attributes also under the CityGML 2.0
  // names rule checks and the viewer read: a measured con:Height is bldg:measuredHeight, the year
  // of con:dateOfConstruction / con:dateOfDemolition is bldg:yearOfConstruction / yearOfDemolition
  // (a date on 1 January, which is how a 2.0 year is written in 3.0, is not kept twice).
  static void addAttribute(CityObject& obj, Attribute a);

  // PLATEAU (i-UR) writes -9999 for an unknown number (bldg:measuredHeight, uro:totalFloorArea,
  // ...) and 9999 for unknown storeys: such a value is not a value. True (and counted) when `a` is
  // one; the attribute is then left out, so that it reads as missing everywhere downstream.
  bool unknownSentinel(const Attribute& a);

  // Converts a captured property tree to an Attribute. Returns false when empty.
  bool convert(const ANode& n, Attribute& out);

 public:
  uint64_t unsupportedTextures() const { return globalParser_.skippedOther + localParser_.skippedOther; }
  bool objectInProgress() const { return !objects_.empty(); }
};

// A push parser whose SAX2 callbacks go to `parser` (set as parser.ctxt).
xmlParserCtxtPtr createParser(Parser& parser, const std::string& uri);
// Ends the document (unless the parse stopped) and frees the context.
void finishParser(Parser& parser, xmlParserCtxtPtr ctxt);

// Streams `uri` through a fresh SAX2 push parser (the main pass). With `limit` > 0, on reaching
// byte `limit` it asks `atLimit()`: a non-empty answer (the root's end tag) is fed and parsing
// ends there (what follows holds only appearances, read by the pre-pass); an empty one goes on.
bool runParser(Parser& parser, const std::string& uri, DiagnosticSink& diag, const ReadOptions& options, size_t limit,
               const std::function<std::string()>& atLimit, uint64_t& bytesOut, bool& stoppedEarly,
               const std::string& prefix = {}, size_t begin = 0);

}  // namespace twin::citygml
