// 用途制限 (建築基準法第48条, 別表第2): a plan's use, or an existing building's bldg:usage, against the
// cell of the rules file's uses section for the site's use district — the one covering more than
// half of the site (法91条). Limits are checked on ranges: a value the data gives only a bound for
// (the 作業場 within the use part, the use part within the 延べ面積) decides only where the whole
// range does.
#include <algorithm>
#include <cmath>
#include <map>

#include "eval.h"

namespace twin::landuse {

using namespace eval;

namespace {

// A measure's possible values [lo, hi] (lo == hi: exact), where they came from; unknown: hi NaN and
// `how` says what would give it.
struct Range {
  double lo = NAN, hi = NAN;
  std::string how;
  bool known() const { return std::isfinite(hi); }
  bool exact() const { return known() && lo >= hi - 1e-9; }
  static Range of(double v, std::string how) { return {v, v, std::move(how)}; }
  static Range upTo(double v, std::string how) { return {0, v, std::move(how)}; }
  static Range missing(std::string how) { return {NAN, NAN, std::move(how)}; }
};

struct Measures {
  Range useArea, floorArea, workshopArea, seatingArea, floor, share;
  const Range& of(UseLimit::Measure m) const {
    switch (m) {
      case UseLimit::Measure::UseArea:
        return useArea;
      case UseLimit::Measure::FloorArea:
        return floorArea;
      case UseLimit::Measure::WorkshopArea:
        return workshopArea;
      case UseLimit::Measure::SeatingArea:
        return seatingArea;
      case UseLimit::Measure::Floor:
        return floor;
      default:
        return share;
    }
  }
};

const char* measureName(UseLimit::Measure m) {
  switch (m) {
    case UseLimit::Measure::UseArea:
      return "floor area of the use part";
    case UseLimit::Measure::FloorArea:
      return "延べ面積";
    case UseLimit::Measure::WorkshopArea:
      return "作業場 (workshop) floor area";
    case UseLimit::Measure::SeatingArea:
      return "客席 (seating) floor area";
    case UseLimit::Measure::Floor:
      return "highest floor of the use part";
    default:
      return "share of the use part in the 延べ面積";
  }
}

std::string shown(UseLimit::Measure m, double v) {
  if (m == UseLimit::Measure::Share) return pct(v);
  if (m == UseLimit::Measure::Floor) return "floor " + num(v, 0);
  return num(v) + " m²";
}
std::string shown(UseLimit::Measure m, const Range& r) {
  if (r.exact()) return shown(m, r.hi);
  return r.lo > 0 ? shown(m, r.lo) + " to " + shown(m, r.hi) : "up to " + shown(m, r.hi);
}

Tri test(const UseLimit& l, const Range& v) {
  if (!v.known()) return Tri::Unknown;
  const double eps = 1e-9;
  if (l.strict) return v.hi < l.value - eps ? Tri::True : v.lo >= l.value - eps ? Tri::False : Tri::Unknown;
  return v.hi <= l.value + eps ? Tri::True : v.lo > l.value + eps ? Tri::False : Tri::Unknown;
}

// The site's use district under 法91条: the code covering more than half of the site.
struct Choice {
  std::string code, name;  // empty code: none (then `why`)
  std::string note;        // the split, when the site straddles districts
  std::string why;
  std::vector<std::pair<std::string, std::string>> inputs;
};

Choice useDistrictOf(const RulesFile& f, const std::vector<DistrictShare>& ds, const char* what) {
  Choice c;
  std::map<std::string, double> byCode;
  std::map<std::string, std::string> names;
  double covered = 0;
  for (auto& d : ds) {
    if (d.district.kind != "UseDistrict") continue;
    byCode[d.district.code] += d.share;
    covered += d.share;
    std::string n = d.district.name;
    if (n.empty())
      if (auto* e = f.district(d.district.kind, d.district.code)) n = e->name;
    names[d.district.code] = n.empty() ? "UseDistrict " + d.district.code : n;
  }
  if (byCode.empty()) {
    c.why = std::string("no use district (用途地域) in the store covers the ") + what +
            " (outside every use district 法48条第14項 applies: not modelled)";
    return c;
  }
  std::string split;
  for (auto& [code, s] : byCode) {
    split += (split.empty() ? "" : ", ") + pct(std::min(1.0, s)) + " in " + names[code];
    c.inputs.push_back({"use district (用途地域)",
                        names[code] + " (code " + code + "), " + pct(std::min(1.0, s)) + " of the " + what});
  }
  if (covered < 0.999) split += ", " + pct(1 - covered) + " in none in the store";
  auto best = std::max_element(byCode.begin(), byCode.end(), [](auto& a, auto& b) { return a.second < b.second; });
  const double half = 0.5, eps = 1e-6;
  if (std::fabs(best->second - half) <= eps) {
    c.why = std::string("the ") + what + " lies exactly half in " + names[best->first] + " (" + split +
            "): 法91条 applies the district covering more than half of the " + what + ", and none does";
    return c;
  }
  if (best->second < half) {
    c.why = std::string("no use district covers more than half of the ") + what + " (" + split +
            "): 法91条 cannot choose one";
    return c;
  }
  c.code = best->first;
  c.name = names[best->first];
  if (byCode.size() > 1 || covered < 0.999)
    c.note = std::string("the ") + what + " lies " + split + ": 法91条 applies the restrictions of " + c.name +
             ", which covers more than half of it, to the whole " + what;
  return c;
}

struct Outcome {
  Verdict verdict = Verdict::Unknown;
  std::string reason, formula;
  std::string brief;  // the use and what decided, for a list of several: "事務所 (別表第2(い)項: not listed)"
  double value = NAN, limit = NAN;
};

// One cell for one use.
Outcome evaluate(const RulesFile& f, const UseRule& u, const UseCell& cell, const Choice& where, const Measures& m) {
  Outcome o;
  const UseClause* clause = nullptr;
  if (auto it = f.uses.clauses.find(where.code); it != f.uses.clauses.end()) clause = &it->second;
  // A cell whose use the 項 does not name cites the paragraph of 法48条 only (the reason names the 項).
  const bool unnamed = cell.article.find("(not listed)") != std::string::npos ||
                       cell.article.find("(not prohibited)") != std::string::npos;
  std::string cites = clause ? (unnamed ? clause->article : cell.article + ", " + clause->article) : cell.article;
  std::string in = " in " + where.name;
  std::vector<std::string> holds, breaks, open;
  Tri all = Tri::True;
  for (auto& l : cell.limits) {
    const Range& v = m.of(l.measure);
    std::string bound = shown(l.measure, l.value);
    const char* op = l.strict ? " < " : " ≤ ";
    Tri t = test(l, v);
    if (!std::isfinite(o.limit) && l.measure != UseLimit::Measure::Floor && l.measure != UseLimit::Measure::Share) {
      o.limit = l.value;
      if (v.exact()) o.value = v.hi;
    }
    o.formula += (o.formula.empty() ? "" : "; ") + std::string(measureName(l.measure)) + " " +
                 (v.known() ? shown(l.measure, v) : std::string("?")) + op + bound;
    if (t == Tri::True) {
      holds.push_back(std::string(measureName(l.measure)) + " " + shown(l.measure, v) + op + bound);
    } else if (t == Tri::False) {
      breaks.push_back(std::string(measureName(l.measure)) + " " + shown(l.measure, v) +
                       (l.strict ? " is not below " : " exceeds ") + bound);
      all = Tri::False;
    } else {
      open.push_back(v.known() ? std::string(measureName(l.measure)) + " " + shown(l.measure, v) + " (" + v.how +
                                     ") against the limit" + op + bound
                               : std::string(measureName(l.measure)) + " unknown (" + v.how + ")");
      if (all == Tri::True) all = Tri::Unknown;
    }
  }
  if (!o.formula.empty()) o.formula = cites + in + ": " + o.formula;
  auto list = [](const std::vector<std::string>& xs) {
    std::string s;
    for (auto& x : xs) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  const std::string permitNote = "; unless the 特定行政庁 permits it (" +
                                 (clause ? clause->article : std::string("建築基準法第48条")) +
                                 " ただし書き, after a public hearing: not modelled)";
  auto no = [&](const std::string& why) {
    o.verdict = Verdict::Fail;
    o.reason = u.name + " may not be built" + in + ": " + why + " (" + cites + ")" + permitNote;
  };
  auto yes = [&](const std::string& why) {
    o.verdict = Verdict::Pass;
    std::string by = why;
    if (by.empty() && clause) by = unnamed ? clause->table + " does not prohibit it" : cell.article + " lists it";
    o.reason = u.name + " may be built" + in + (by.empty() ? "" : ": " + by) + " (" + cites + ")";
  };
  auto unknown = [&](const std::string& why) {
    o.verdict = Verdict::Unknown;
    o.reason = "cannot decide: " + why + " (" + cites + ")";
  };
  auto as = [&](UseCell::Allowed a, const std::string& why) {
    if (a == UseCell::Allowed::Yes) return yes(why);
    if (a == UseCell::Allowed::No) return no(why.empty() ? "別表第2 does not allow it there" : why);
    unknown((why.empty() ? std::string() : why + "; ") + (cell.reason.empty() ? "the table cannot tell" : cell.reason));
  };
  if (cell.limits.empty()) {
    if (cell.allowed == UseCell::Allowed::No)
      no(clause && clause->permitted && unnamed ? clause->table + " lists what may be built there, and not this"
                                                : std::string("prohibited there"));
    else
      as(cell.allowed, "");
  } else if (all == Tri::True) {
    as(cell.allowed, "within its limits, " + list(holds));
  } else if (all == Tri::False) {
    as(cell.otherwise, list(breaks));
  } else {
    unknown(list(open) + (holds.empty() ? "" : " (" + list(holds) + ")"));
  }
  if (!cell.reason.empty() && o.verdict != Verdict::Unknown) o.reason += "; note: " + cell.reason;
  std::string decided = !clause || !unnamed ? cell.article
                        : clause->permitted
                            ? clause->table + ": " + (cell.allowed == UseCell::Allowed::No ? "not listed" : "listed")
                            : clause->table + ": not prohibited";
  const auto& which = all == Tri::False ? breaks : all == Tri::Unknown ? open : holds;
  o.brief = u.name + " (" + decided + (which.empty() ? "" : "; " + list(which)) + ")";
  return o;
}

Measures planMeasures(const UseRule& u, const Plan& p) {
  Measures m;
  const bool whole = !u.part && !given(p.useFloorArea);
  m.floorArea = given(p.floorArea) ? Range::of(p.floorArea, "plan floor_area") : Range::missing("give floor_area");
  if (given(p.useFloorArea))
    m.useArea = Range::of(p.useFloorArea, "plan use_floor_area");
  else if (whole && given(p.floorArea))
    m.useArea = Range::of(p.floorArea, "the whole 延べ面積; give use_floor_area for a building with other uses");
  else if (given(p.floorArea))
    m.useArea = Range::upTo(p.floorArea, "at most the 延べ面積; give use_floor_area");
  else
    m.useArea = Range::missing(u.part ? "give use_floor_area" : "give use_floor_area or floor_area");
  auto within = [&](double v, const char* key) {
    if (given(v)) return Range::of(v, std::string("plan ") + key);
    if (m.useArea.known())
      return Range::upTo(m.useArea.hi, std::string("at most the use part's floor area; give ") + key);
    return Range::missing(std::string("give ") + key);
  };
  m.workshopArea = within(p.workshopArea, "workshop_area");
  m.seatingArea = within(p.seatingArea, "seating_area");
  if (p.useFloor >= 0)
    m.floor = Range::of(p.useFloor, "plan use_floor");
  else if (whole && p.storeys >= 0)
    m.floor = Range::of(p.storeys, "the top storey (storeys); give use_floor for a building with other uses");
  else if (p.storeys >= 0)
    m.floor = Range::upTo(p.storeys, "at most the storeys; give use_floor");
  else
    m.floor = Range::missing("give use_floor or storeys");
  if (whole)
    m.share = Range::of(1, "the whole building");
  else if (m.useArea.known() && m.floorArea.known() && p.floorArea > 0)
    m.share = {m.useArea.lo / p.floorArea, std::min(1.0, m.useArea.hi / p.floorArea),
               m.useArea.exact() ? "use_floor_area / floor_area" : "give use_floor_area and floor_area"};
  else
    m.share = Range::missing("give use_floor_area and floor_area");
  return m;
}

// An existing building: its floor area (a range where estimated) and storeys; a use that is a part
// of it (`whole` false) has a floor area of up to the building's.
Measures buildingMeasures(const RulesFile& f, const Building& b, bool whole) {
  Measures m;
  if (!given(b.floorArea)) {
    m.floorArea = Range::missing("no uro:totalFloorArea, storeys or height");
  } else if (b.floorAreaEstimated) {
    auto r = floorAreaRange(f, b);
    m.floorArea = {r.low, r.high, r.how};
  } else {
    m.floorArea = Range::of(b.floorArea, b.floorAreaSource);
  }
  if (whole)
    m.useArea = m.floorArea;
  else if (m.floorArea.known())
    m.useArea = Range::upTo(m.floorArea.hi, "a part of the building: its floor area is not in the data");
  else
    m.useArea = Range::missing("a part of the building: its floor area is not in the data");
  auto within = [&](const char* what) {
    return m.useArea.known()
               ? Range::upTo(m.useArea.hi, std::string("at most the use part's; the ") + what + " is not in the data")
               : Range::missing(std::string("the ") + what + " is not in the data");
  };
  m.workshopArea = within("作業場 area");
  m.seatingArea = within("客席 area");
  if (b.storeysAbove > 0)
    m.floor = whole ? Range::of(b.storeysAbove, "bldg:storeysAboveGround")
                    : Range::upTo(b.storeysAbove, "at most bldg:storeysAboveGround");
  else
    m.floor = Range::missing("no bldg:storeysAboveGround");
  m.share = whole ? Range::of(1, "the whole building") : Range{0, 1, "a part of the building"};
  return m;
}

std::string knownIds(const UseRules& u) {
  std::string s;
  for (auto& x : u.list) s += (s.empty() ? "" : ", ") + x.id;
  return s;
}

RuleResult start(const RulesFile& f) {
  RuleResult r;
  r.rule = "use";
  r.title = f.uses.title;
  r.article = f.uses.article;
  r.verdict = Verdict::Unknown;
  return r;
}

}  // namespace

RuleResult RuleSet::checkUse(const Site& site, const Plan& plan) const {
  const RulesFile& f = file();
  RuleResult r = start(f);
  r.inputs.push_back({"use (用途)", plan.use.empty() ? std::string("not given") : plan.use});
  if (f.uses.list.empty()) {
    r.reason = "cannot decide: the rules file has no uses section (用途制限)";
    return r;
  }
  if (plan.use.empty()) {
    r.reason =
        "cannot decide: the plan gives no use (use=ID or its Japanese name; the rules file knows: " + knownIds(f.uses) +
        ")";
    return r;
  }
  const UseRule* u = f.uses.find(plan.use);
  if (!u) {
    r.reason = "cannot decide: unknown use '" + plan.use + "' (the rules file knows: " + knownIds(f.uses) + ")";
    return r;
  }
  r.inputs.back().second = u->name + " (" + u->id + ")";
  Choice where = useDistrictOf(f, site.districts, "site");
  r.inputs.insert(r.inputs.end(), where.inputs.begin(), where.inputs.end());
  if (where.code.empty()) {
    r.reason = "cannot decide: " + where.why;
    return r;
  }
  auto cell = u->districts.find(where.code);
  if (cell == u->districts.end()) {
    r.reason =
        "cannot decide: the rules file gives " + u->id + " no cell for " + where.name + " (code " + where.code + ")";
    return r;
  }
  Measures m = planMeasures(*u, plan);
  for (auto& l : cell->second.limits) {
    const Range& v = m.of(l.measure);
    if (v.known()) r.inputs.push_back({measureName(l.measure), shown(l.measure, v) + " (" + v.how + ")"});
  }
  Outcome o = evaluate(f, *u, cell->second, where, m);
  r.verdict = o.verdict;
  r.reason = o.reason;
  r.formula = o.formula.empty() ? cell->second.article + " in " + where.name : o.formula;
  r.value = o.value;
  r.limit = o.limit;
  if (std::isfinite(r.limit)) r.unit = "m²";
  if (!where.note.empty()) r.reason += "; " + where.note;
  return r;
}

std::optional<RuleResult> RuleSet::checkBuildingUse(const Building& b,
                                                    const std::vector<DistrictShare>& districts) const {
  const RulesFile& f = file();
  if (b.usage.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  RuleResult r = start(f);
  r.inputs = {{"building", b.id}, {"bldg:usage", b.usage}};
  if (f.uses.list.empty()) {
    r.reason = "cannot decide: the rules file has no uses section (用途制限)";
    return r;
  }
  const UsageMapping* map = f.uses.usage(b.usage);
  if (!map) {
    r.reason = "cannot decide: bldg:usage '" + b.usage + "' is not in the rules file's uses.buildingUsage";
    return r;
  }
  std::string usage = "bldg:usage '" + b.usage + "'" + (map->name == b.usage ? "" : " (" + map->name + ")");
  if (map->uses.empty()) {
    r.reason = "cannot decide: " + usage + " names no use of 別表第2" + (map->why.empty() ? "" : ": " + map->why);
    return r;
  }
  Choice where = useDistrictOf(f, districts, "site");
  r.inputs.insert(r.inputs.end(), where.inputs.begin(), where.inputs.end());
  if (where.code.empty()) {
    r.reason = "cannot decide: " + where.why;
    return r;
  }
  std::vector<std::pair<const UseRule*, Outcome>> each;
  for (auto& id : map->uses) {
    const UseRule* u = f.uses.find(id);
    if (!u) continue;  // checked when the file was read
    auto cell = u->districts.find(where.code);
    Outcome o;
    if (cell == u->districts.end())
      o.reason = "cannot decide: no cell for " + where.name;
    else
      o = evaluate(f, *u, cell->second, where, buildingMeasures(f, b, !map->all && !u->part));
    each.push_back({u, std::move(o)});
  }
  auto count = [&](Verdict v) {
    return size_t(std::count_if(each.begin(), each.end(), [&](auto& e) { return e.second.verdict == v; }));
  };
  // Several uses: each with what decided it, grouped by verdict.
  auto briefs = [&](Verdict v) {
    std::string s;
    for (auto& [u, o] : each)
      if (o.verdict == v) s += (s.empty() ? "" : ", ") + o.brief;
    return s;
  };
  const std::string several =
      std::string(map->all ? " holds every one of " : " may be any of ") + std::to_string(each.size()) + " uses";
  const bool one = each.size() == 1;
  const bool nonConforming = map->all ? count(Verdict::Fail) > 0 : count(Verdict::Fail) == each.size();
  const bool conforming = count(Verdict::Pass) == each.size();
  if (one) {
    r.formula = each[0].second.formula;
    r.value = each[0].second.value;
    r.limit = each[0].second.limit;
    if (std::isfinite(r.limit)) r.unit = "m²";
  }
  if (conforming) {
    r.verdict = Verdict::Pass;
    r.reason = "conforming: " + usage +
               (one ? ": " + each[0].second.reason
                    : several + ", and each may be built in " + where.name + ": " + briefs(Verdict::Pass));
  } else if (nonConforming) {
    r.verdict = Verdict::Unknown;  // never a fail: it may predate the designation
    r.reason = "non-conforming (may be 既存不適格): " + usage +
               (one ? ": " + each[0].second.reason
                    : several + (map->all ? ", and not all" : ", and none") + " may be built in " + where.name + ": " +
                          briefs(Verdict::Fail)) +
               "; a building standing before the designation or its change may remain as 既存不適格 (法3条第2項)";
  } else {
    r.verdict = Verdict::Unknown;
    std::string parts;
    for (auto [v, what] : {std::pair{Verdict::Pass, "allowed: "}, std::pair{Verdict::Fail, "not allowed: "},
                           std::pair{Verdict::Unknown, "undecided: "}})
      if (std::string b = briefs(v); !b.empty()) parts += (parts.empty() ? "" : "; ") + std::string(what) + b;
    r.reason = "cannot decide: " + usage +
               (one ? ": " + each[0].second.reason : several + ", and in " + where.name + " they differ — " + parts);
  }
  if (!where.note.empty()) r.reason += "; " + where.note;
  return r;
}

}  // namespace twin::landuse
