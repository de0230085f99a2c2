// The procedures a plan needs: each procedure of the rules file whose condition holds for the
// site and the plan (unknown conditions: "possibly required", naming what is missing).
#include <algorithm>

#include "eval.h"

namespace twin::landuse {

using namespace eval;

std::vector<ProcedureNeed> RuleSet::procedures(const Site& site, const Plan& plan) const {
  const RulesFile& f = file();
  Vars v = siteVars(f, site);
  if (!plan.use.empty()) v["plan.use"] = Value::of(plan.use);
  if (given(plan.floorArea)) v["plan.floorArea"] = Value::of(plan.floorArea);
  if (given(plan.buildingArea)) v["plan.buildingArea"] = Value::of(plan.buildingArea);
  if (given(plan.height)) v["plan.height"] = Value::of(plan.height);
  if (plan.storeys >= 0) v["plan.storeys"] = Value::of(double(plan.storeys));
  if (given(plan.developmentArea)) v["plan.developmentArea"] = Value::of(plan.developmentArea);
  double earth = given(plan.earthworkArea) ? plan.earthworkArea : plan.developmentArea;
  if (given(earth)) v["plan.earthworkArea"] = Value::of(earth);
  v["plan.signage"] = Value::of(plan.signage);
  v["plan.newBuilding"] = Value::of(plan.newBuilding);
  std::vector<ProcedureNeed> all;
  for (auto& p : f.procedures) {
    ProcedureNeed n;
    n.id = p.id;
    n.name = p.name;
    n.english = p.english;
    n.article = p.article;
    std::set<std::string> miss;
    Tri t = evaluate(p.when, v, miss);
    n.missing.assign(miss.begin(), miss.end());
    if (p.appliesTo == "contractor") {
      n.status = "contractor's licence";
      n.why = p.why;
      n.missing.clear();
    } else if (t == Tri::True) {
      n.status = "required";
      n.why = p.why;
    } else if (t == Tri::Unknown) {
      n.status = "possibly required";
      n.why = p.why + " — cannot decide without: " + joined(miss);
    } else {
      n.status = "not required";
      n.why = p.whyNot.empty() ? "its conditions do not hold for this plan and site" : p.whyNot;
    }
    all.push_back(std::move(n));
  }
  // Entries of one procedure (開発許可 by planning area) give one answer: where one is required the
  // others that only might be are left out; where none is, those that might be become one
  // "possibly required" naming every case. Entries that do not apply stay, with their reasons.
  std::vector<ProcedureNeed> out;
  std::vector<std::string> done;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& name = all[i].name;
    if (std::find(done.begin(), done.end(), name) != done.end()) continue;
    done.push_back(name);
    std::vector<const ProcedureNeed*> same;
    for (auto& n : all)
      if (n.name == name) same.push_back(&n);
    auto with = [&](const char* status) {
      std::vector<const ProcedureNeed*> r;
      for (auto* n : same)
        if (n->status == status) r.push_back(n);
      return r;
    };
    auto maybe = with("possibly required");
    if (same.size() == 1 || maybe.size() < 2 || !with("required").empty()) {
      for (auto* n : same)
        if (n->status != "possibly required" || with("required").empty()) out.push_back(*n);
    } else {
      ProcedureNeed m = *maybe[0];
      std::set<std::string> missing;
      std::string why, articles;
      for (auto* n : maybe) {
        missing.insert(n->missing.begin(), n->missing.end());
        why += (why.empty() ? "" : "; or ") + n->why.substr(0, n->why.find(" — cannot decide without"));
        if (articles.find(n->article) == std::string::npos) articles += (articles.empty() ? "" : "; ") + n->article;
      }
      m.article = articles;
      m.missing.assign(missing.begin(), missing.end());
      m.why = why + " — cannot decide without: " + joined(missing);
      out.push_back(std::move(m));
      for (auto* n : same)
        if (n->status != "possibly required") out.push_back(*n);
    }
  }
  return out;
}

}  // namespace twin::landuse
