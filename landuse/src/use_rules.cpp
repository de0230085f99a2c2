// Reading the "uses" section of a rules file (用途制限: docs/rules.md): every entry checked, every
// error reported with its entry and key, as rules_file.cpp does for the rest of the file.
#include "use_rules.h"

#include <algorithm>
#include <set>

namespace twin::landuse {

using nlohmann::json;

namespace {

std::string trimmed(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

const char* typeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "true/false";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "text";
  if (v.is_array()) return "a list";
  return "an object";
}

class UsesReader {
 public:
  UsesReader(const std::string& file, RulesFile& f, std::vector<Diagnostic>& out) : file_(file), f_(f), out_(out) {}

  void read(const json& u) {
    if (!object(u, "uses", {"title", "article", "clauses", "list", "buildingUsage"})) return;
    auto kinds = f_.districts.find("UseDistrict");
    if (kinds == f_.districts.end() || kinds->second.empty())
      return error("uses", "needs districts.UseDistrict: its cells are keyed by those codes");
    for (auto& [code, d] : kinds->second)
      if (code != "*") codes_.push_back(code);
    UseRules& r = f_.uses;
    text(u, "uses", "title", r.title, false);
    text(u, "uses", "article", r.article, false);
    if (const json* cs = field(u, "uses", "clauses", true); cs && object(*cs, "uses.clauses", {})) {
      for (auto& [code, c] : cs->items()) {
        std::string w = "uses.clauses." + code;
        if (!isCode(code, w) || !object(c, w, {"article", "table", "lists"})) continue;
        UseClause x;
        text(c, w, "article", x.article, true);
        text(c, w, "table", x.table, true);
        std::string lists;
        text(c, w, "lists", lists, true);
        if (lists != "permitted" && lists != "prohibited" && c.contains("lists") && c["lists"].is_string())
          error(w + ".lists", "must be permitted (the 項 lists what may be built) or prohibited (what may not)");
        x.permitted = lists == "permitted";
        r.clauses[code] = std::move(x);
      }
      for (auto& code : codes_)
        if (!r.clauses.count(code))
          error("uses.clauses." + code, "missing (every code of districts.UseDistrict needs one)");
    }
    if (const json* xs = field(u, "uses", "list", true)) {
      if (!xs->is_array()) {
        error("uses.list", std::string("must be a list of uses, not ") + typeName(*xs));
      } else {
        for (size_t i = 0; i < xs->size(); ++i) {
          const json& x = (*xs)[i];
          bool named = x.is_object() && x.contains("id") && x["id"].is_string();
          useEntry(x, named ? "uses.list." + x["id"].get<std::string>() : "uses.list[" + std::to_string(i) + "]");
        }
      }
    }
    if (const json* bu = field(u, "uses", "buildingUsage", false); bu && object(*bu, "uses.buildingUsage", {})) {
      for (auto& [code, m] : bu->items()) {
        std::string w = "uses.buildingUsage." + code;
        if (!object(m, w, {"name", "anyOf", "allOf", "why"})) continue;
        UsageMapping x;
        text(m, w, "name", x.name, true);
        text(m, w, "why", x.why, false);
        int given = int(m.contains("anyOf")) + int(m.contains("allOf")) + int(m.contains("why"));
        if (given != 1) error(w, "needs exactly one of anyOf, allOf (use ids) or why (no use can be told)");
        for (const char* key : {"anyOf", "allOf"}) {
          const json* ids = field(m, w, key, false);
          if (!ids) continue;
          x.all = std::string(key) == "allOf";
          if (!ids->is_array() || ids->empty()) {
            error(w + "." + key, "must be a list of use ids");
            continue;
          }
          for (size_t i = 0; i < ids->size(); ++i) {
            std::string at = w + "." + key + "[" + std::to_string(i) + "]";
            const json& id = (*ids)[i];
            if (!id.is_string()) {
              error(at, std::string("must be a use id, not ") + typeName(id));
            } else if (!ids_.count(id.get<std::string>())) {
              error(at, "unknown use '" + id.get<std::string>() + "' (not an id of uses.list)");
            } else {
              x.uses.push_back(id.get<std::string>());
            }
          }
        }
        r.buildingUsage[code] = std::move(x);
      }
    }
  }

 private:
  void error(const std::string& where, const std::string& what) {
    out_.push_back({Severity::Error, "rules-invalid", where + ": " + what, file_, 0, {}});
  }
  // An object whose keys must be among `known` (none given: any key).
  bool object(const json& o, const std::string& where, std::initializer_list<const char*> known) {
    if (!o.is_object()) {
      error(where, std::string("must be an object, not ") + typeName(o));
      return false;
    }
    if (known.size() == 0) return true;
    for (auto& item : o.items()) {
      const std::string& k = item.key();
      if (std::find_if(known.begin(), known.end(), [&](const char* x) { return k == x; }) != known.end()) continue;
      std::string list;
      for (auto* x : known) list += (list.empty() ? "" : ", ") + std::string(x);
      error(where + "." + k, "unknown key (known here: " + list + ")");
    }
    return true;
  }
  const json* field(const json& o, const std::string& where, const char* key, bool required) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) error(where + "." + key, "missing");
      return nullptr;
    }
    return &*it;
  }
  void text(const json& o, const std::string& where, const char* key, std::string& out, bool required) {
    const json* v = field(o, where, key, required);
    if (!v) return;
    if (!v->is_string()) return error(where + "." + key, std::string("must be text, not ") + typeName(*v));
    out = v->get<std::string>();
  }
  bool isCode(const std::string& code, const std::string& where) {
    if (std::find(codes_.begin(), codes_.end(), code) != codes_.end()) return true;
    error(where, "not a code of districts.UseDistrict");
    return false;
  }
  // true, false or "unknown"
  bool allowed(const json& v, const std::string& where, UseCell::Allowed& out, bool yes) {
    if (v.is_boolean() && (yes || !v.get<bool>()))
      return out = v.get<bool>() ? UseCell::Allowed::Yes : UseCell::Allowed::No, true;
    if (v.is_string() && v.get<std::string>() == "unknown") return out = UseCell::Allowed::Unknown, true;
    error(where, yes ? "must be true, false or \"unknown\"" : "must be false or \"unknown\"");
    return false;
  }

  void cell(const json& c, const std::string& w, UseCell& x) {
    if (!object(c, w, {"allowed", "limits", "otherwise", "article", "reason"})) return;
    bool read = false;  // an allowed that is not one of its values is reported once, not again as "no reason"
    if (const json* a = field(c, w, "allowed", true)) read = allowed(*a, w + ".allowed", x.allowed, true);
    text(c, w, "article", x.article, true);
    text(c, w, "reason", x.reason, false);
    if (const json* ls = field(c, w, "limits", false); ls && object(*ls, w + ".limits", {})) {
      static const std::pair<const char*, UseLimit::Measure> kMeasures[] = {
          {"useArea", UseLimit::Measure::UseArea},
          {"floorArea", UseLimit::Measure::FloorArea},
          {"workshopArea", UseLimit::Measure::WorkshopArea},
          {"seatingArea", UseLimit::Measure::SeatingArea},
          {"floor", UseLimit::Measure::Floor},
          {"share", UseLimit::Measure::Share}};
      if (x.allowed == UseCell::Allowed::No) error(w + ".limits", "apply only to a cell allowed true or \"unknown\"");
      if (ls->empty()) error(w + ".limits", "must name at least one limit (or leave limits out)");
      for (auto& [key, op] : ls->items()) {
        std::string at = w + ".limits." + key;
        const std::string name = key;  // clang 14: no structured binding in a lambda
        auto m = std::find_if(std::begin(kMeasures), std::end(kMeasures), [&](auto& p) { return name == p.first; });
        if (m == std::end(kMeasures)) {
          error(at, "unknown limit (known here: useArea, floorArea, workshopArea, seatingArea, floor, share)");
          continue;
        }
        if (!op.is_object() || op.size() != 1 || !(op.contains("le") || op.contains("lt"))) {
          error(at, "must be {\"le\": N} (at most N) or {\"lt\": N} (below N)");
          continue;
        }
        UseLimit l;
        l.measure = m->second;
        l.strict = op.contains("lt");
        const json& n = op.begin().value();
        if (!n.is_number() || n.get<double>() < 0) {
          error(at + "." + op.begin().key(), std::string("must be a number of 0 or more, not ") + typeName(n));
          continue;
        }
        l.value = n.get<double>();
        if (l.measure == UseLimit::Measure::Share && l.value > 1) error(at, "a share is a ratio from 0 to 1");
        x.limits.push_back(l);
      }
    }
    if (const json* o = field(c, w, "otherwise", false)) {
      allowed(*o, w + ".otherwise", x.otherwise, false);
      if (!c.contains("limits")) error(w + ".otherwise", "applies only with limits");
    }
    bool unknown =
        x.allowed == UseCell::Allowed::Unknown || (!x.limits.empty() && x.otherwise == UseCell::Allowed::Unknown);
    if (read && unknown && !c.contains("reason")) error(w + ".reason", "missing (an unknown cell says why)");
  }

  void useEntry(const json& e, const std::string& w) {
    if (!object(e, w, {"id", "name", "english", "aliases", "part", "note", "districts"})) return;
    UseRule x;
    text(e, w, "id", x.id, true);
    text(e, w, "name", x.name, true);
    text(e, w, "english", x.english, false);
    text(e, w, "note", x.note, false);
    if (const json* p = field(e, w, "part", false)) {
      if (!p->is_boolean())
        error(w + ".part", std::string("must be true or false, not ") + typeName(*p));
      else
        x.part = p->get<bool>();
    }
    if (const json* as = field(e, w, "aliases", false)) {
      if (!as->is_array()) {
        error(w + ".aliases", "must be a list of names");
      } else {
        for (size_t i = 0; i < as->size(); ++i) {
          if ((*as)[i].is_string())
            x.aliases.push_back((*as)[i].get<std::string>());
          else
            error(w + ".aliases[" + std::to_string(i) + "]", std::string("must be text, not ") + typeName((*as)[i]));
        }
      }
    }
    // A name names one use: an id, name or alias given twice would make a plan's use ambiguous.
    if (!x.id.empty() && !ids_.insert(x.id).second) error(w + ".id", "'" + x.id + "' is used by another use");
    std::vector<std::string> names = x.aliases;
    names.push_back(x.name);
    for (auto& n : names) {
      std::string t = trimmed(n);
      if (t.empty()) continue;
      auto [it, fresh] = names_.emplace(t, x.id);
      if (!fresh && it->second != x.id) error(w, "the name '" + t + "' also names use '" + it->second + "'");
    }
    if (const json* ds = field(e, w, "districts", true); ds && object(*ds, w + ".districts", {})) {
      for (auto& [code, c] : ds->items()) {
        std::string at = w + ".districts." + code;
        if (isCode(code, at)) cell(c, at, x.districts[code]);
      }
      for (auto& code : codes_)
        if (!ds->contains(code))
          error(w + ".districts." + code, "missing (every code of districts.UseDistrict needs a cell)");
    }
    f_.uses.list.push_back(std::move(x));
  }

  const std::string& file_;
  RulesFile& f_;
  std::vector<Diagnostic>& out_;
  std::vector<std::string> codes_;
  std::set<std::string> ids_;
  std::map<std::string, std::string> names_;  // name -> use id
};

}  // namespace

const UseRule* UseRules::find(const std::string& idOrName) const {
  std::string t = trimmed(idOrName);
  if (t.empty()) return nullptr;
  for (auto& u : list)
    if (u.id == t || trimmed(u.name) == t) return &u;
  for (auto& u : list)
    for (auto& a : u.aliases)
      if (trimmed(a) == t) return &u;
  return nullptr;
}

const UsageMapping* UseRules::usage(const std::string& codeOrName) const {
  std::string t = trimmed(codeOrName);
  if (t.empty()) return nullptr;
  if (auto it = buildingUsage.find(t); it != buildingUsage.end()) return &it->second;
  for (auto& [code, m] : buildingUsage)
    if (m.name == t) return &m;
  return nullptr;
}

void parseUses(const json& section, const std::string& file, RulesFile& f, std::vector<Diagnostic>& errors) {
  UsesReader(file, f, errors).read(section);
}

}  // namespace twin::landuse
