// The rules engine's front: a rules file read once into RulesFile (rules_file.cpp), with names and
// districts looked up from it. Evaluation lives in check.cpp, envelope.cpp and procedures.cpp.
#include "twin/landuse/rules.h"

#include "rules_parse.h"
#include "twin/fsutil.h"
#include "twin/vfs.h"

#ifndef TWIN_RULES_DIR
#define TWIN_RULES_DIR ""
#endif

namespace twin::landuse {

const char* verdictName(Verdict v) {
  switch (v) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    default:
      return "unknown";
  }
}

Verdict overall(const std::vector<RuleResult>& results) {
  Verdict v = Verdict::Pass;
  for (auto& r : results) {
    if (r.verdict == Verdict::Fail) return Verdict::Fail;
    if (r.verdict == Verdict::Unknown) v = Verdict::Unknown;
  }
  return v;
}

struct RuleSet::Impl {
  RulesFile file;
};

RuleSet::RuleSet() : impl_(std::make_shared<Impl>()) {}
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(const RuleSet&) = default;
RuleSet& RuleSet::operator=(const RuleSet&) = default;

std::string RuleSet::defaultPath(const std::string& dataDir) {
  // Installed: PREFIX/share/twin/rules beside the program (or in dataDir); else the source tree's.
  if (std::string installed = fs::dataFile("rules/japan.json", dataDir); !installed.empty()) return installed;
  return std::string(TWIN_RULES_DIR) + "/japan.json";
}

Result<RuleSet> RuleSet::load(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!vfs::readAll(path, bytes, error, 64ull << 20))
    return Result<RuleSet>::failure("rules-unreadable", "cannot read rules file '" + path + "': " + error, path);
  return parse(std::string(bytes.begin(), bytes.end()), path);
}

Result<RuleSet> RuleSet::parse(const std::string& text, const std::string& name) {
  auto im = std::make_shared<Impl>();
  Result<RuleSet> r;
  r.diagnostics = parseRulesFile(text, name, im->file);
  if (!r.diagnostics.empty()) return r;
  RuleSet rs;
  rs.impl_ = std::move(im);
  r.value = std::move(rs);
  return r;
}

const RulesFile& RuleSet::file() const { return impl_->file; }
const std::string& RuleSet::name() const { return impl_->file.name; }
double RuleSet::floorHeight() const { return impl_->file.floorHeight; }
std::string RuleSet::districtName(const std::string& kind, const std::string& code) const {
  auto* e = impl_->file.district(kind, code);
  return e ? e->name : std::string();
}
bool RuleSet::knowsDistrict(const std::string& kind, const std::string& code) const {
  return impl_->file.district(kind, code) != nullptr;
}

}  // namespace twin::landuse
