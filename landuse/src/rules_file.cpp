// Reading a rules file into RulesFile: every entry checked, every error reported.
#include "twin/landuse/rules_file.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "rules_parse.h"
#include "use_rules.h"

namespace twin::landuse {

using nlohmann::json;

bool Value::operator==(const Value& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::Null:
      return true;
    case Kind::Bool:
      return boolean == o.boolean;
    case Kind::Number:
      return number == o.number;
    case Kind::Text:
      return text == o.text;
  }
  return false;
}

const DistrictRule* RulesFile::district(const std::string& kind, const std::string& code) const {
  auto k = districts.find(kind);
  if (k == districts.end()) return nullptr;
  auto c = k->second.find(code);
  if (c == k->second.end()) c = k->second.find("*");
  return c == k->second.end() ? nullptr : &c->second;
}

const std::vector<std::string>& conditionVariables() {
  static const std::vector<std::string> vars = {"site.area",
                                                "site.cornerLot",
                                                "site.frontRoadWidth",
                                                "site.fireDistrict",
                                                "site.inCityPlanningArea",
                                                "site.areaClassification",
                                                "site.planningArea",
                                                "site.inScenicDistrict",
                                                "site.inPlannedRoad",
                                                "district.code",
                                                "district.group",
                                                "district.coverageRate",
                                                "building.fireResistance",
                                                "plan.use",
                                                "plan.floorArea",
                                                "plan.buildingArea",
                                                "plan.height",
                                                "plan.storeys",
                                                "plan.developmentArea",
                                                "plan.earthworkArea",
                                                "plan.signage",
                                                "plan.newBuilding"};
  return vars;
}

namespace {

const char* typeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "true/false";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "text";
  if (v.is_array()) return "a list";
  return "an object";
}

// Walks the JSON document, filling the structs and collecting every problem.
class FileReader {
 public:
  FileReader(std::string file, std::vector<Diagnostic>& out) : file_(std::move(file)), out_(out) {}

  void error(const std::string& where, const std::string& what) {
    out_.push_back({Severity::Error, "rules-invalid", where + ": " + what, file_, 0, {}});
  }

  // An object whose keys must be among `known` (a typo is reported with the keys it could be).
  bool object(const json& o, const std::string& where, std::initializer_list<const char*> known) {
    if (!o.is_object()) {
      error(where, std::string("must be an object, not ") + typeName(o));
      return false;
    }
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
  void number(const json& o, const std::string& where, const char* key, double& out, bool required, double min = -1e300,
              double max = 1e300, const char* range = nullptr) {
    const json* v = field(o, where, key, required);
    if (!v) return;
    if (!v->is_number()) return error(where + "." + key, std::string("must be a number, not ") + typeName(*v));
    double d = v->get<double>();
    if (d < min || d > max)
      return error(where + "." + key, range ? std::string("must be ") + range : std::string("out of range"));
    out = d;
  }
  void flag(const json& o, const std::string& where, const char* key, bool& out) {
    const json* v = field(o, where, key, false);
    if (!v) return;
    if (!v->is_boolean()) return error(where + "." + key, std::string("must be true or false, not ") + typeName(*v));
    out = v->get<bool>();
  }
  // The entries of the list o[key] (when there is one), each with its name for messages:
  // "coverage.bonuses.corner-lot" when it has an id, else "coverage.bonuses[2]".
  template <class F>
  void list(const json& o, const std::string& where, const char* key, F each) {
    const json* xs = field(o, where, key, false);
    if (!xs) return;
    std::string at = where == "rules" ? std::string(key) : where + "." + key;
    if (!xs->is_array()) return error(at, "must be a list");
    for (size_t i = 0; i < xs->size(); ++i) {
      const json& x = (*xs)[i];
      bool named = x.is_object() && x.contains("id") && x["id"].is_string();
      each(x, named ? at + "." + x["id"].get<std::string>() : at + "[" + std::to_string(i) + "]");
    }
  }

  void titled(const json& o, const std::string& where, Titled& t) {
    text(o, where, "title", t.title, true);
    text(o, where, "article", t.article, true);
  }

  bool value(const json& v, const std::string& where, Value& out) {
    if (v.is_boolean()) return out = Value::of(v.get<bool>()), true;
    if (v.is_number()) return out = Value::of(v.get<double>()), true;
    if (v.is_string()) return out = Value::of(v.get<std::string>()), true;
    if (v.is_null()) return out = Value(), true;
    error(where, std::string("must be true/false, a number or text, not ") + typeName(v));
    return false;
  }

  void condition(const json& c, const std::string& where, Condition& out) {
    if (c.is_boolean()) {
      out.kind = Condition::Kind::Constant;
      out.constant = c.get<bool>();
      return;
    }
    if (!c.is_object()) return error(where, std::string("a condition is an object or true/false, not ") + typeName(c));
    for (auto [key, kind] : {std::pair{"all", Condition::Kind::All}, std::pair{"any", Condition::Kind::Any}}) {
      if (!c.contains(key)) continue;
      object(c, where, {key});
      out.kind = kind;
      const json& xs = c[key];
      if (!xs.is_array()) return error(where + "." + key, "must be a list of conditions");
      for (size_t i = 0; i < xs.size(); ++i) {
        out.children.emplace_back();
        condition(xs[i], where + "." + key + "[" + std::to_string(i) + "]", out.children.back());
      }
      return;
    }
    if (c.contains("not")) {
      object(c, where, {"not"});
      out.kind = Condition::Kind::Not;
      out.children.emplace_back();
      condition(c["not"], where + ".not", out.children.back());
      return;
    }
    out.kind = Condition::Kind::Test;
    object(c, where, {"var", "eq", "ne", "gt", "ge", "lt", "le", "in", "exists"});
    text(c, where, "var", out.var, true);
    if (!out.var.empty()) {
      auto& known = conditionVariables();
      if (std::find(known.begin(), known.end(), out.var) == known.end())
        error(where + ".var", "unknown variable '" + out.var + "' (docs/rules.md lists the variables)");
    }
    int ops = 0;
    static const std::pair<const char*, Condition::Op> kOps[] = {
        {"eq", Condition::Op::Eq}, {"ne", Condition::Op::Ne},        {"gt", Condition::Op::Gt},
        {"ge", Condition::Op::Ge}, {"lt", Condition::Op::Lt},        {"le", Condition::Op::Le},
        {"in", Condition::Op::In}, {"exists", Condition::Op::Exists}};
    for (auto& [key, op] : kOps) {
      if (!c.contains(key)) continue;
      ++ops;
      out.op = op;
      const json& w = c[key];
      std::string at = where + "." + key;
      if (op == Condition::Op::In) {
        if (!w.is_array()) {
          error(at, "must be a list of values");
          continue;
        }
        for (size_t i = 0; i < w.size(); ++i) {
          Value v;
          if (value(w[i], at + "[" + std::to_string(i) + "]", v)) out.list.push_back(std::move(v));
        }
      } else if (op == Condition::Op::Exists) {
        if (!w.is_boolean() || !w.get<bool>()) error(at, "must be true");
      } else if (op == Condition::Op::Eq || op == Condition::Op::Ne) {
        value(w, at, out.operand);
      } else if (!w.is_number()) {
        error(at, std::string("compares numbers: must be a number, not ") + typeName(w));
      } else {
        out.operand = Value::of(w.get<double>());
      }
    }
    if (ops != 1) error(where, "a test needs exactly one of eq, ne, gt, ge, lt, le, in, exists");
  }

  void district(const json& e, const std::string& where, DistrictRule& d) {
    if (!object(e, where,
                {"name", "english", "group", "roadFactor", "absoluteHeight", "roadSlant", "northSlant", "adjacentSlant",
                 "fire", "scenic", "planningArea", "areaClass", "heightDistrictSlants", "openSpace"}))
      return;
    text(e, where, "name", d.name, true);
    text(e, where, "english", d.english, false);
    text(e, where, "group", d.group, false);
    if (!d.group.empty() && d.group != "residential" && d.group != "commercial" && d.group != "industrial")
      error(where + ".group", "must be residential, commercial or industrial");
    if (e.contains("roadFactor")) {
      double f = 0;
      number(e, where, "roadFactor", f, true, 1e-9, 10, "a positive number (0.4 or 0.6 under 法52条2項)");
      if (f > 0) d.roadFactor = f;
    }
    flag(e, where, "absoluteHeight", d.absoluteHeight);
    text(e, where, "fire", d.fire, false);
    flag(e, where, "scenic", d.scenic);
    text(e, where, "planningArea", d.planningArea, false);
    if (!d.planningArea.empty() && d.planningArea != "都市計画区域" && d.planningArea != "準都市計画区域")
      error(where + ".planningArea", "must be 都市計画区域 or 準都市計画区域");
    text(e, where, "areaClass", d.areaClass, false);
    if (!d.areaClass.empty() && d.areaClass != "市街化区域" && d.areaClass != "市街化調整区域" &&
        d.areaClass != "非線引き")
      error(where + ".areaClass", "must be 市街化区域, 市街化調整区域 or 非線引き");
    if (const json* rs = field(e, where, "roadSlant", false)) {
      std::string w = where + ".roadSlant";
      if (object(*rs, w, {"slope", "distances", "wideRoad"})) {
        DistrictRule::RoadSlant r;
        number(*rs, w, "slope", r.slope, true, 1e-9, 100, "a positive number");
        if (const json* ds = field(*rs, w, "distances", false)) {
          if (!ds->is_array()) {
            error(w + ".distances", "must be a list of [floor-area rate up to (or null), metres]");
          } else {
            for (size_t i = 0; i < ds->size(); ++i) {
              const json& row = (*ds)[i];
              std::string at = w + ".distances[" + std::to_string(i) + "]";
              if (!row.is_array() || row.size() != 2 || !(row[0].is_null() || row[0].is_number()) ||
                  !row[1].is_number()) {
                error(at, "must be [floor-area rate up to (or null for above), metres]");
                continue;
              }
              std::optional<double> upTo;
              if (row[0].is_number()) upTo = row[0].get<double>();
              r.distances.push_back({upTo, row[1].get<double>()});
            }
          }
        }
        if (const json* wr = field(*rs, w, "wideRoad", false)) {
          std::string at = w + ".wideRoad";
          if (object(*wr, at, {"minWidth", "slope", "beyondWidthTimes"})) {
            DistrictRule::RoadSlant::WideRoad x;
            number(*wr, at, "minWidth", x.minWidth, true, 0, 100, "metres");
            number(*wr, at, "slope", x.slope, true, 1e-9, 100, "a positive number");
            number(*wr, at, "beyondWidthTimes", x.beyondWidthTimes, true, 0, 100, "a factor of the road width");
            r.wideRoad = x;
          }
        }
        d.roadSlant = r;
      }
    }
    if (const json* ns = field(e, where, "northSlant", false)) {
      std::string w = where + ".northSlant";
      if (object(*ns, w, {"rise", "slope"})) {
        DistrictRule::NorthSlant n;
        number(*ns, w, "rise", n.rise, true, 0, 1000, "metres, 0 or more");
        number(*ns, w, "slope", n.slope, true, 1e-9, 100, "a positive number");
        d.northSlant = n;
      }
    }
    if (const json* hs = field(e, where, "heightDistrictSlants", false)) {
      std::string w = where + ".heightDistrictSlants";
      if (!hs->is_array() || hs->empty())
        error(w, "must be a list of [rise m, slope]");
      else
        for (auto& p : *hs) {
          if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() || p[0].get<double>() < 0 ||
              p[1].get<double>() <= 0) {
            error(w, "each entry must be [rise m (0 or more), slope (positive)]");
            continue;
          }
          d.heightDistrictSlants.push_back({p[0].get<double>(), p[1].get<double>()});
        }
    }
    if (const json* os = field(e, where, "openSpace", false)) {
      std::string w = where + ".openSpace";
      if (object(*os, w, {"roadOpposite", "adjacent", "north", "shadow"})) {
        DistrictRule::OpenSpace o;
        flag(*os, w, "roadOpposite", o.roadOpposite);
        flag(*os, w, "adjacent", o.adjacent);
        flag(*os, w, "north", o.north);
        flag(*os, w, "shadow", o.shadow);
        d.openSpace = o;
      }
    }
    if (const json* as = field(e, where, "adjacentSlant", false)) {
      std::string w = where + ".adjacentSlant";
      if (object(*as, w, {"rise", "slope"})) {
        DistrictRule::AdjacentSlant a;
        number(*as, w, "rise", a.rise, true, 0, 1000, "metres, 0 or more");
        number(*as, w, "slope", a.slope, true, 1e-9, 100, "a positive number");
        d.adjacentSlant = a;
      }
    }
  }

  // 日影規制: shadow.solarTime, shadow.districts.CODE, shadow.designations.CODE.
  void shadow(const json& sh, ShadowRules& r) {
    if (!object(sh, "shadow", {"title", "article", "solarTime", "districts", "designations"})) return;
    titled(sh, "shadow", r);
    if (const json* t = field(sh, "shadow", "solarTime", true)) {
      if (!t->is_array() || t->size() != 2 || !(*t)[0].is_number() || !(*t)[1].is_number() ||
          !((*t)[0].get<double>() >= 0 && (*t)[0].get<double>() < (*t)[1].get<double>() && (*t)[1].get<double>() <= 24))
        error("shadow.solarTime", "must be [start, end], hours of true solar time with start < end");
      else
        r.start = (*t)[0].get<double>(), r.end = (*t)[1].get<double>();
    }
    auto pairs = [&](const json& o, const std::string& w, std::vector<std::pair<double, double>>& out) {
      if (!o.is_array() || o.empty()) return error(w, "must be a list of [hours beyond 5 m, hours beyond 10 m]");
      for (auto& p : o) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() || p[0].get<double>() <= 0 ||
            p[1].get<double>() <= 0 || p[1].get<double>() > p[0].get<double>())
          return error(w, "each entry must be [hours beyond 5 m, hours beyond 10 m], positive, the second not larger");
        out.emplace_back(p[0].get<double>(), p[1].get<double>());
      }
    };
    if (const json* ds = field(sh, "shadow", "districts", true)) {
      if (!ds->is_object()) return error("shadow.districts", "must map UseDistrict codes to entries");
      auto subject = [&](const json& e, const std::string& w, ShadowRules::Subject& s) {
        if (!object(e, w, {"eavesOver", "heightOver", "storeysFrom", "measuringHeights", "limits"})) return false;
        number(e, w, "eavesOver", s.eavesOver, false, 0, 1000, "metres");
        number(e, w, "heightOver", s.heightOver, false, 0, 1000, "metres");
        double storeys = 0;
        number(e, w, "storeysFrom", storeys, false, 0, 1000, "storeys");
        s.storeysFrom = int(storeys);
        if (s.eavesOver < 0 && s.heightOver < 0) error(w, "needs eavesOver or heightOver (別表第4 (ろ)欄)");
        if (const json* mh = field(e, w, "measuringHeights", true)) {
          if (!mh->is_array() || mh->empty())
            error(w + ".measuringHeights", "must be a list of metres");
          else
            for (auto& v : *mh)
              if (!v.is_number() || v.get<double>() < 0)
                error(w + ".measuringHeights", "must be a list of metres");
              else
                s.measuringHeights.push_back(v.get<double>());
        }
        if (const json* l = field(e, w, "limits", true)) pairs(*l, w + ".limits", s.limits);
        return true;
      };
      for (auto& [code, e] : ds->items()) {
        std::string w = "shadow.districts." + code;
        if (e.is_array()) {  // the ordinance's choices (別表第4 4項 イ, ロ)
          if (e.empty()) error(w, "must list at least one choice");
          std::vector<ShadowRules::Subject> all;
          for (size_t k = 0; k < e.size(); ++k) {
            ShadowRules::Subject s;
            if (subject(e[k], w + "[" + std::to_string(k) + "]", s)) all.push_back(std::move(s));
          }
          if (all.empty()) continue;
          r.districts[code] = all.front();
          r.choices[code] = std::move(all);
          continue;
        }
        ShadowRules::Subject s;
        if (subject(e, w, s)) r.districts[code] = s;
      }
    }
    if (const json* ds = field(sh, "shadow", "designations", false)) {
      if (!ds->is_object()) return error("shadow.designations", "must map ShadeRegulation codes to entries");
      for (auto& [code, e] : ds->items()) {
        std::string w = "shadow.designations." + code;
        if (!object(e, w, {"measuringHeight", "limit5", "limit10"})) continue;
        ShadowRules::Designation x;
        number(e, w, "measuringHeight", x.measuringHeight, true, 0, 100, "metres");
        number(e, w, "limit5", x.limit5, true, 0.01, 24, "hours");
        number(e, w, "limit10", x.limit10, true, 0.01, 24, "hours");
        r.designations[code] = x;
      }
    }
  }

  void read(const json& doc, RulesFile& f) {
    if (!object(doc, "rules",
                {"name", "version", "floorHeight", "minStoreyHeight", "districts", "coverage", "floorArea", "height",
                 "minimumSiteArea", "procedures", "uses", "shadow", "access"}))
      return;
    text(doc, "rules", "name", f.name, false);
    text(doc, "rules", "version", f.version, false);
    number(doc, "rules", "floorHeight", f.floorHeight, false, 1, 20, "metres per storey, 1 to 20");
    number(doc, "rules", "minStoreyHeight", f.minStoreyHeight, false, 1, 20, "metres per storey, 1 to 20");
    if (const json* ds = field(doc, "rules", "districts", true)) {
      if (!ds->is_object()) {
        error("districts", "must map district kinds to codes");
      } else {
        for (auto& [kind, codes] : ds->items()) {
          if (!codes.is_object()) {
            error("districts." + kind, "must map codes to entries");
            continue;
          }
          for (auto& [code, e] : codes.items()) district(e, "districts." + kind + "." + code, f.districts[kind][code]);
        }
      }
    }
    if (const json* c = field(doc, "rules", "coverage", true);
        c && object(*c, "coverage", {"title", "article", "bonuses", "exemptions"})) {
      titled(*c, "coverage", f.coverage);
      list(*c, "coverage", "bonuses", [&](const json& b, const std::string& w) {
        if (!object(b, w, {"id", "group", "add", "article", "when"})) return;
        CoverageBonus x;
        text(b, w, "id", x.id, true);
        text(b, w, "group", x.group, false);
        if (x.group.empty()) x.group = x.id;
        number(b, w, "add", x.add, true, 0, 1, "a ratio from 0 to 1 (0.1 = 10 %)");
        text(b, w, "article", x.article, true);
        if (const json* when = field(b, w, "when", true)) condition(*when, w + ".when", x.when);
        f.coverage.bonuses.push_back(std::move(x));
      });
      list(*c, "coverage", "exemptions", [&](const json& b, const std::string& w) {
        if (!object(b, w, {"id", "limit", "article", "when"})) return;
        CoverageExemption x;
        text(b, w, "id", x.id, true);
        number(b, w, "limit", x.limit, true, 0, 1, "a ratio from 0 to 1 (1 = 100 %)");
        text(b, w, "article", x.article, true);
        if (const json* when = field(b, w, "when", true)) condition(*when, w + ".when", x.when);
        f.coverage.exemptions.push_back(std::move(x));
      });
    }
    if (const json* fa = field(doc, "rules", "floorArea", true);
        fa && object(*fa, "floorArea", {"title", "article", "roadRuleBelow", "defaultRoadFactor"})) {
      titled(*fa, "floorArea", f.floorArea);
      number(*fa, "floorArea", "roadRuleBelow", f.floorArea.roadRuleBelow, false, 0, 100, "metres");
      number(*fa, "floorArea", "defaultRoadFactor", f.floorArea.defaultRoadFactor, false, 1e-9, 10,
             "a positive number");
    }
    if (const json* h = field(doc, "rules", "height", true);
        h && object(*h, "height", {"absolute", "district", "absoluteArticle"})) {
      if (const json* a = field(*h, "height", "absolute", true);
          a && object(*a, "height.absolute", {"title", "article", "range"})) {
        titled(*a, "height.absolute", f.height.absolute);
        if (const json* r = field(*a, "height.absolute", "range", true)) {
          if (!r->is_array() || r->size() != 2 || !(*r)[0].is_number() || !(*r)[1].is_number() ||
              (*r)[0].get<double>() > (*r)[1].get<double>())
            error("height.absolute.range", "must be [lowest, highest] metres the city plan chooses from ([10, 12])");
          else
            f.height.absoluteLow = (*r)[0].get<double>(), f.height.absoluteHigh = (*r)[1].get<double>();
        }
      }
      if (const json* d = field(*h, "height", "district", true);
          d && object(*d, "height.district", {"title", "minimumTitle", "article"})) {
        titled(*d, "height.district", f.height.district);
        text(*d, "height.district", "minimumTitle", f.height.districtMinimumTitle, true);
      }
      text(*h, "height", "absoluteArticle", f.height.absoluteArticle, true);
    }
    if (const json* m = field(doc, "rules", "minimumSiteArea", true);
        m && object(*m, "minimumSiteArea", {"title", "article"}))
      titled(*m, "minimumSiteArea", f.minimumSiteArea);
    if (const json* sh = field(doc, "rules", "shadow", false)) shadow(*sh, f.shadow);
    if (const json* ac = field(doc, "rules", "access", false);
        ac && object(*ac, "access", {"title", "article", "minFrontage", "minWidth"})) {
      titled(*ac, "access", f.access);
      number(*ac, "access", "minFrontage", f.access.minFrontage, true, 0, 100, "metres");
      number(*ac, "access", "minWidth", f.access.minWidth, true, 0, 100, "metres");
    }
    list(doc, "rules", "procedures", [&](const json& p, const std::string& w) {
      if (!object(p, w, {"id", "name", "english", "article", "why", "whyNot", "municipal", "appliesTo", "when"}))
        return;
      ProcedureRule x;
      text(p, w, "id", x.id, true);
      text(p, w, "name", x.name, true);
      text(p, w, "english", x.english, false);
      text(p, w, "article", x.article, true);
      text(p, w, "why", x.why, false);
      text(p, w, "whyNot", x.whyNot, false);
      flag(p, w, "municipal", x.municipal);
      text(p, w, "appliesTo", x.appliesTo, false);
      if (x.appliesTo != "site" && x.appliesTo != "contractor") error(w + ".appliesTo", "must be site or contractor");
      if (const json* when = field(p, w, "when", true)) condition(*when, w + ".when", x.when);
      f.procedures.push_back(std::move(x));
    });
    // 用途制限 (use_rules.cpp): optional; without it the use check is unknown.
    if (const json* u = field(doc, "rules", "uses", false)) parseUses(*u, file_, f, out_);
  }

 private:
  std::string file_;
  std::vector<Diagnostic>& out_;
};

}  // namespace

std::vector<Diagnostic> parseRulesFile(const std::string& text, const std::string& name, RulesFile& out) {
  std::vector<Diagnostic> errors;
  json doc = json::parse(text, nullptr, false, true);
  if (doc.is_discarded() || !doc.is_object()) {
    errors.push_back(
        {Severity::Error, "rules-malformed", name + ": not a JSON object (check commas and quotes)", name, 0, {}});
    return errors;
  }
  FileReader(name, errors).read(doc, out);
  if (out.name.empty()) out.name = name;
  return errors;
}

const ShadowRules::Subject* ShadowRules::subjectFor(const std::string& code, double measuringHeight) const {
  auto c = choices.find(code);
  if (c != choices.end() && !c->second.empty()) {
    if (!std::isnan(measuringHeight))
      for (auto& s : c->second)
        for (double h : s.measuringHeights)
          if (std::abs(h - measuringHeight) < 1e-9) return &s;
    return &c->second.front();
  }
  auto it = districts.find(code);
  return it == districts.end() ? nullptr : &it->second;
}

}  // namespace twin::landuse
