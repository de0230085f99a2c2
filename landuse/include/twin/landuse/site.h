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
  // A site (敷地) is made of the parcels its buildings stand on; a footprint that reaches onto a
  // neighbouring parcel by less than this many m² or this share of its own area (a sliver from an
  // imprecise outline) does not pull that parcel into its site.
  double siteMinOverlap = 1.0;
  double siteMinShare = 0.02;
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

// Fills site.neighbours: the parcels touching the site (within 0.5 m) that are not part of it, each
// with the lowest base of the buildings standing on it.
void neighbourGrounds(Store& store, Site& site);

// The districts the building's footprint itself overlaps (share of the footprint).
std::vector<DistrictShare> districtsUnder(Store& store, const Building& b);

// A building's part in its site's totals.
struct SiteShare {
  std::string id;
  double buildingArea = 0;
  double floorArea = kNone;
  bool floorAreaEstimated = false;
};

// A site and every building on it, checked: the law counts 建ぺい率 and 容積率 per site (法52条1項,
// 53条1項: the areas of all buildings on the 敷地 together), heights per building. The site holds
// the parcels its buildings stand on (slivers left out, see LinkOptions), merged where a building
// straddles parcels, and every building standing on those parcels. What the data cannot tell —
// two separate sites on one parcel, a garden parcel without a building — is taken as the parcels
// say; a building on no parcel is a site of its own with no parcels.
struct SiteCheck {
  Site site;
  std::vector<Building> buildings;                       // in id order
  std::vector<std::vector<BuildingParcel>> links;        // per building: its parcels in the site
  std::vector<RuleResult> results;                       // the site's: coverage, floor area, minimum site area
  std::vector<std::vector<RuleResult>> buildingResults;  // per building: its heights
  std::vector<SiteShare> shares() const;
  // The verdict of the site: of its own results and every building's.
  Verdict verdict() const;
  // Index of a building, or buildings.size().
  size_t indexOf(const std::string& id) const;
};
// The site `b` stands on, with everything on it, checked. Computes and keeps links on the way.
SiteCheck checkSite(Store& store, const RuleSet& rules, const Building& b, const LinkOptions& o = {});

// One building's view of its site's check: the site's results, then the building's own.
struct BuildingCheck {
  Building building;
  Site site;
  std::vector<BuildingParcel> links;
  std::vector<RuleResult> results;
  std::vector<SiteShare> siteBuildings;  // every building of the site with its areas
};
BuildingCheck buildingView(const SiteCheck& c, size_t index);
BuildingCheck checkBuilding(Store& store, const RuleSet& rules, const Building& b, const LinkOptions& o = {});

}  // namespace twin::landuse
