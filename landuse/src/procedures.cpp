// The procedures a plan needs: each procedure of the rules file whose condition holds for the
// site and the plan (unknown conditions: "possibly required", naming what is missing).
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
  std::vector<ProcedureNeed> out;
  for (auto& p : f.procedures) {
    ProcedureNeed n;
    n.id = p.id;
    n.name = p.name;
    n.english = p.english;
    n.article = p.article;
    std::set<std::string> miss;
    Tri t = evaluate(p.when, v, miss);
    n.missing.assign(miss.begin(), miss.end());
    if (t == Tri::True) {
      n.status = "required";
      n.why = p.why;
    } else if (t == Tri::Unknown) {
      n.status = "possibly required";
      n.why = p.why + " — cannot decide without: " + joined(miss);
    } else {
      n.status = "not required";
      n.why = p.whyNot.empty() ? "its conditions do not hold for this plan and site" : p.whyNot;
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace twin::landuse
