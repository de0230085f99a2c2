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
