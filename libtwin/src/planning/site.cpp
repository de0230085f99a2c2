// Building <-> parcel and parcel <-> district links by exact overlay; sites from parcels.
#include "twin/planning/site.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace twin::planning {

std::vector<BuildingParcel> linkBuilding(Store& store, const Building& b, const LinkOptions& o) {
  if (auto done = store.buildingParcels(b.id)) return *done;
  std::vector<BuildingParcel> links;
  for (auto& p : store.parcelsIn(bounds(b.footprint))) {
    double a = intersectionArea(b.footprint, p.geom);
    if (a >= o.minOverlap && a >= o.minShare * b.buildingArea) links.push_back({b.id, p.id, a});
  }
  store.setBuildingParcels(b.id, links);
  return links;
}

std::vector<ParcelDistrict> linkParcel(Store& store, const Parcel& p) {
  if (auto done = store.parcelDistricts(p.id)) return *done;
  std::vector<ParcelDistrict> links;
  for (auto& d : store.districtsIn(bounds(p.geom))) {
    double a = intersectionArea(p.geom, d.geom);
    if (a <= 1e-6 * p.area) continue;
    links.push_back({p.id, d.id, d.kind, a, p.area > 0 ? a / p.area : 0});
  }
  store.setParcelDistricts(p.id, links);
  return links;
}

Site siteOf(Store& store, const std::vector<Parcel>& parcels, const LinkOptions& o) {
  Site s;
  s.parcels = parcels;
  std::vector<MultiPoly> parts;
  for (auto& p : parcels) {
    parts.push_back(p.geom);
    s.cornerLot = s.cornerLot || p.cornerLot;
  }
  s.geom = parts.size() == 1 ? parts[0] : unite(parts);
  s.area = 0;
  for (auto& p : parcels) s.area += p.area;  // parcels do not overlap: the sum is the union's area
  // Districts: overlap summed over the parcels.
  std::map<std::string, double> overlap;
  for (auto& p : parcels)
    for (auto& l : linkParcel(store, p)) overlap[l.districtId] += l.overlap;
  for (auto& [id, a] : overlap) {
    auto d = store.district(id);
    if (!d) continue;
    s.districts.push_back({std::move(*d), a, s.area > 0 ? std::min(1.0, a / s.area) : 0});
  }
  std::sort(s.districts.begin(), s.districts.end(), [](const DistrictShare& a, const DistrictShare& b) {
    return a.district.kind != b.district.kind ? a.district.kind < b.district.kind : a.share > b.share;
  });
  if (!s.geom.empty()) s.kindsNearby = store.districtKindsIn(bounds(s.geom).grown(1000));
  // Front roads: road areas along the site boundary.
  if (!s.geom.empty()) {
    for (auto& r : store.roadsIn(bounds(s.geom).grown(o.roadTouch))) {
      if (distance(s.geom, r.geom) > o.roadTouch) continue;
      if (given(r.width) && (!given(s.frontRoadWidth) || r.width > s.frontRoadWidth)) {
        s.frontRoadWidth = r.width;
        std::ostringstream t;
        t << "road '" << r.id << "' (" << r.width << " m)";
        s.frontRoadSource = t.str();
      }
      s.frontRoads.push_back(std::move(r));
    }
  }
  if (!given(s.frontRoadWidth))
    for (auto& p : parcels)
      if (given(p.frontRoadWidth) && (!given(s.frontRoadWidth) || p.frontRoadWidth > s.frontRoadWidth)) {
        s.frontRoadWidth = p.frontRoadWidth;
        s.frontRoadSource = "parcel '" + p.id + "' attribute 前面道路幅員";
      }
  return s;
}

std::vector<DistrictShare> districtsUnder(Store& store, const Building& b) {
  std::vector<DistrictShare> out;
  for (auto& d : store.districtsIn(bounds(b.footprint))) {
    double a = intersectionArea(b.footprint, d.geom);
    if (a <= 1e-6 * std::max(1.0, b.buildingArea)) continue;
    double share = b.buildingArea > 0 ? a / b.buildingArea : 0;
    out.push_back({std::move(d), a, std::min(1.0, share)});
  }
  return out;
}

BuildingCheck checkBuilding(Store& store, const RuleSet& rules, const Building& b, const LinkOptions& o) {
  BuildingCheck c;
  c.building = b;
  c.links = linkBuilding(store, b, o);
  std::vector<Parcel> parcels;
  for (auto& l : c.links)
    if (auto p = store.parcel(l.parcelId)) parcels.push_back(std::move(*p));
  c.site = siteOf(store, parcels, o);
  c.results = rules.check(b, c.site, districtsUnder(store, b));
  return c;
}

}  // namespace twin::planning
