#pragma once
// Linking: buildings onto parcels (a building may stand on several: its site is their union) and
// parcels into zoning districts (with the share of each where a parcel straddles districts), by
// exact polygon overlay in the store's projected CRS. Links are kept in the store and computed
// again after parcels or districts change.

#include <string>
#include <vector>

#include "twin/landuse/rules.h"
#include "twin/landuse/store.h"

namespace twin::landuse {

struct LinkOptions {
  // A building counts as standing on a parcel when it covers at least this much of it (m²) and
  // this share of the building's footprint: slivers from imprecise outlines are ignored.
  double minOverlap = 0.5;
  double minShare = 0.01;
  double roadTouch = 1.0;  // a road within this distance (m) of the site boundary is a front road
};

// The parcels under a building (computed and stored when not linked yet).
std::vector<BuildingParcel> linkBuilding(Store& store, const Building& b, const LinkOptions& o = {});
// The districts over a parcel (computed and stored when not linked yet).
std::vector<ParcelDistrict> linkParcel(Store& store, const Parcel& p);
// A site made of parcels, with its districts (area-weighted over the parcels) and front roads.
Site siteOf(Store& store, const std::vector<Parcel>& parcels, const LinkOptions& o = {});
// The parcels a user names: an id, 地番, "大字名 地番" or 不動産番号, several joined with '+' (one
// site). On failure `error` says which part matched nothing or several (then `candidates`).
struct ParcelQuery {
  std::vector<Parcel> parcels;
  std::string error;
  std::vector<Parcel> candidates;  // when a part is ambiguous
};
ParcelQuery findSiteParcels(Store& store, const std::string& arg);
// The ground height of a site (the source's vertical datum; orthometric in PLATEAU): the lowest
// base of the buildings standing on it, or NaN when none gives one.
double siteGroundHeight(Store& store, const Site& site);

// The districts the building's footprint itself overlaps (share of the footprint).
std::vector<DistrictShare> districtsUnder(Store& store, const Building& b);

struct BuildingCheck {
  Building building;
  Site site;
  std::vector<BuildingParcel> links;
  std::vector<RuleResult> results;
};
BuildingCheck checkBuilding(Store& store, const RuleSet& rules, const Building& b, const LinkOptions& o = {});

}  // namespace twin::landuse
