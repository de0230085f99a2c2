#pragma once
// The slant planes of 法56条 over a site (not installed): 道路斜線 (1項1号 with 2項-4項 and 令132条),
// 隣地斜線 (1項2号 with its setback relaxation) and 北側斜線 (1項3号), as height planes over the site
// for the envelope (envelope.cpp) and the check of buildings against them.
#include <string>
#include <vector>

#include "envelope_mesh.h"
#include "eval.h"

namespace twin::landuse {

// Setbacks the envelope is drawn for (m): the building keeps this distance from the road
// boundary (法56条2項: the far side of the road is then deemed that much farther away) and its
// parts above the 隣地斜線's rise keep this distance from the adjacent boundaries (1項2号).
struct SlantOptions {
  double roadSetback = 0;
  double adjacentSetback = 0;
  double groundHeight = NAN;  // the site's (the building's) ground, the data's vertical datum
};

// 道路斜線 heights are from the road's surface (令2条1項6号イ: 前面道路の路面の中心); a site H ≥ 1 m
// above it deems the road (H - 1) / 2 higher (令135条の2第1項). The deemed road's height above the
// ground (negative: below), from the road's lowest surface height (the stricter: the data gives the
// road's range, not its height in front of the site); false when either height is unknown.
bool roadHeightOffset(double levelMin, double ground, double& offset);

// 令135条の3第1項2号 (隣地斜線), 135条の4第1項2号 (北側斜線), 令135条の10・11 (天空率's points): where
// the site's ground is H ≥ 1 m below every neighbour along the edge (probed every metre just
// outside it, each with a known ground), the lift (H − 1) / 2 for the lowest; 0 otherwise. What is
// lifted is said in `said`.
double neighbourLift(const Site& site, const eval::Edge& e, double ground, std::vector<std::string>& said);

// The open space along `e` (beside the site, or opposite its road when `across`) and the depth it
// adds to the distances of the rule whose flag `which` is (DistrictRule::OpenSpace: 令134条,
// 令135条の3第1項1号, 135条の4第1項1号), 0 when none applies; applied ones are said in `applied`, an
// open space found that earns nothing in `notApplied`.
double openRelief(const RulesFile& f, const eval::Edge& e, bool across, bool DistrictRule::OpenSpace::*which,
                  const std::string& article, std::vector<std::string>& applied, std::vector<std::string>& notApplied);

struct SlantPlanes {
  std::vector<HeightPlane> planes;
  std::vector<std::string> notes;  // how each kind was applied, with its articles
  // Relaxations that may apply and are not applied: the planes are stricter than the law.
  std::vector<std::string> relaxationsNotApplied;
  // Limits that apply and could not be drawn (missing data): the planes may be too permissive.
  std::vector<std::string> missing;
};

// The planes of the site's use districts: on a site over several, each district's over its own
// part (法56条5項) where the store holds their outlines, else the main district's (covering most of
// the site) over all of it, said in `missing`.
SlantPlanes slantPlanes(const RulesFile& f, const Site& site, const SlantOptions& o);

}  // namespace twin::landuse
