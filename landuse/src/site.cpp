// Building <-> parcel and parcel <-> district links by exact overlay; sites from parcels.
#include "twin/landuse/site.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>

#include "eval.h"
#include "twin/crs.h"

namespace twin::landuse {

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

namespace {
// Latitude and grid convergence of a point in the store CRS (one PROJ transform per thread and CRS).
void placeOnEarth(const std::string& crs, Site& s) {
  thread_local std::string cachedCrs;
  thread_local std::unique_ptr<PlaneTransform> t;
  if (cachedCrs != crs || !t) {
    cachedCrs = crs;
    auto r = PlaneTransform::create(crs, crs);
    t = r ? std::move(*r) : nullptr;
  }
  if (!t || s.geom.empty()) return;
  Box2 b = bounds(s.geom);
  double cx = (b.minx + b.maxx) / 2, cy = (b.miny + b.maxy) / 2;
  Vec3 p[2] = {{cx, cy, 0}, {cx, cy + 100, 0}};
  if (t->toLonLat(p, 2) != 0 || !std::isfinite(p[0][1])) return;
  constexpr double kDeg = 3.14159265358979323846 / 180;
  s.latitude = p[0][1];
  double north = p[1][1] - p[0][1], east = (p[1][0] - p[0][0]) * std::cos(p[0][1] * kDeg);
  s.gridNorth = std::atan2(east, north) / kDeg;
}
}  // namespace

namespace {

// Site::openSides: along each boundary edge, from the boundary (or the far side of the road along
// it), the open spaces met within 1 m, probed every metre (at most 200 probes an edge).
void openSpacesAlong(Store& store, Site& s) {
  std::vector<District> spaces;
  for (auto& d : store.districtsIn(bounds(s.geom).grown(120)))
    if (d.kind == "OpenSpace" && !d.geom.empty()) spaces.push_back(std::move(d));
  if (spaces.empty()) return;
  for (auto& poly : s.geom) {
    Ring ring = poly.outer;
    if (signedArea(ring) < 0) std::reverse(ring.begin(), ring.end());
    for (size_t i = 0; i < ring.size(); ++i) {
      P2 a = ring[i], b = ring[(i + 1) % ring.size()];
      double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy);
      if (len < 0.5) continue;
      const P2 out{dy / len, -dx / len};  // outward (counter-clockwise ring)
      double from = 0;
      bool across = false;
      for (auto& fr : s.frontage)
        if (std::hypot(fr.a[0] - a[0], fr.a[1] - a[1]) < 1e-6 && std::hypot(fr.b[0] - b[0], fr.b[1] - b[1]) < 1e-6) {
          across = true;
          from = given(fr.width) ? fr.width : kNone;
        }
      if (!given(from)) continue;  // a road of unknown width: its far side is unknown
      // The open spaces near this edge's strip.
      Box2 strip = bounds(MultiPoly{Poly{{a,
                                          b,
                                          {b[0] + out[0] * (from + 1), b[1] + out[1] * (from + 1)},
                                          {a[0] + out[0] * (from + 1), a[1] + out[1] * (from + 1)}},
                                         {}}});
      std::vector<const District*> near;
      for (auto& d : spaces)
        if (bounds(d.geom).intersects(strip.grown(1))) near.push_back(&d);
      if (near.empty()) continue;
      const int n = std::clamp(int(std::ceil(len)), 1, 200);
      Site::OpenSide side{a, b, across};
      int hits = 0;
      for (int k = 0; k < n; ++k) {
        double t = (k + 0.5) / n;
        P2 q{a[0] + t * dx + out[0] * from, a[1] + t * dy + out[1] * from};
        const District* hit = nullptr;
        double depth = 0;
        for (auto* d : near) {
          double w = rayInside(d->geom, q, out, 500.0, 1.0);
          if (w > 0.05) {
            hit = d, depth = w;
            break;
          }
        }
        if (!hit || (!side.code.empty() && hit->code != side.code)) continue;
        if (side.code.empty()) side.code = hit->code, side.districtId = hit->id;
        if (!given(side.depth) || depth < side.depth) side.depth = depth;
        ++hits;
      }
      if (!hits) continue;
      side.partial = hits < n;
      s.openSides.push_back(std::move(side));
    }
  }
}

}  // namespace

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
  placeOnEarth(store.crs(), s);
  // Front roads: road areas along the site boundary, their width per frontage edge.
  if (!s.geom.empty()) {
    auto roads = store.roadsIn(bounds(s.geom).grown(std::max(70.0, o.roadTouch)));
    s.roadsInData = !roads.empty();
    for (auto& r : roads)
      if (given(r.width) && r.width >= 15) {
        double d = distance(s.geom, r.geom);
        if (d <= 70 && (!given(s.specialRoadDistance) || d < s.specialRoadDistance)) s.specialRoadDistance = d;
      }
    std::vector<MultiPoly> near;
    {
      std::vector<Road> touching;
      for (auto& r : roads)
        if (distance(s.geom, r.geom) <= o.roadTouch) near.push_back(r.geom), touching.push_back(std::move(r));
      roads = std::move(touching);
    }
    MultiPoly all = near.empty() ? MultiPoly{} : unite(near);
    for (auto& poly : s.geom) {
      Ring ring = poly.outer;
      if (signedArea(ring) < 0) std::reverse(ring.begin(), ring.end());
      for (size_t i = 0; i < ring.size() && !all.empty(); ++i) {
        P2 a = ring[i], b = ring[(i + 1) % ring.size()];
        double dx = b[0] - a[0], dy = b[1] - a[1], len = std::hypot(dx, dy);
        if (len < 0.5) continue;
        P2 mid{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2};
        MultiPoly probe{Poly{{mid, {mid[0] + 1e-3, mid[1]}, {mid[0], mid[1] + 1e-3}}, {}}};
        const Road* road = nullptr;
        for (auto& r : roads)
          if (distance(probe, r.geom) <= o.roadTouch &&
              (!road || (given(r.width) && (!given(road->width) || r.width > road->width))))
            road = &r;
        if (!road) continue;
        Site::Frontage f{a, b};
        f.roadId = road->id;
        f.levelMin = road->levelMin, f.levelMax = road->levelMax;
        if (given(road->width)) {
          f.width = road->width;
        } else {
          // Across the road: from the boundary along the outward normal through the road polygons.
          double w = rayInside(all, mid, {dy / len, -dx / len}, 60.0, o.roadTouch);
          if (w > 0.5) f.width = w, f.measured = true;
        }
        if (given(f.width) && (!given(s.frontRoadWidth) || f.width > s.frontRoadWidth)) {
          s.frontRoadWidth = f.width;
          std::ostringstream t;
          t << "road '" << f.roadId << "' (" << (f.measured ? "measured across its polygon: " : "") << std::fixed
            << std::setprecision(2) << f.width << " m)";
          s.frontRoadSource = t.str();
        }
        s.frontage.push_back(f);
      }
    }
    if (std::find(s.kindsNearby.begin(), s.kindsNearby.end(), "OpenSpace") != s.kindsNearby.end())
      openSpacesAlong(store, s);
    // 法42条2項: the strip a 2項道路 would take, 2 m from its centre line.
    MultiPoly strip = eval::narrowRoadStrips(s);
    if (!strip.empty()) s.narrowRoadStrip = area(strip);
  }
  if (!given(s.frontRoadWidth))
    for (auto& p : parcels)
      if (given(p.frontRoadWidth) && (!given(s.frontRoadWidth) || p.frontRoadWidth > s.frontRoadWidth)) {
        s.frontRoadWidth = p.frontRoadWidth;
        s.frontRoadSource = "parcel '" + p.id + "' attribute 前面道路幅員";
      }
  return s;
}

ParcelQuery findSiteParcels(Store& store, const std::string& arg) {
  ParcelQuery q;
  size_t pos = 0;
  while (pos <= arg.size()) {
    size_t e = arg.find('+', pos);
    if (e == std::string::npos) e = arg.size();
    std::string part = arg.substr(pos, e - pos);
    pos = e + 1;
    auto found = store.findParcels(part);
    if (found.size() != 1) {
      q.error =
          found.empty()
              ? "no parcel '" + part + "' in the store (try its id, 地番, \"大字名 地番\" or 不動産番号)"
              : "'" + part + "' names " + std::to_string(found.size()) + " parcels; name one by id or \"大字名 地番\"";
      q.candidates = std::move(found);
      q.parcels.clear();
      return q;
    }
    q.parcels.push_back(std::move(found[0]));
  }
  return q;
}

double siteGroundHeight(Store& store, const Site& site) {
  double g = NAN;
  if (site.geom.empty()) return g;
  for (auto& b : store.buildingsIn(bounds(site.geom)))
    if (std::isfinite(b.groundHeight) && intersectionArea(b.footprint, site.geom) > 0.5 &&
        (!std::isfinite(g) || b.groundHeight < g))
      g = b.groundHeight;
  return g;
}

void neighbourGrounds(Store& store, Site& site) {
  site.neighbours.clear();
  if (site.geom.empty()) return;
  for (auto& p : store.parcelsIn(bounds(site.geom).grown(1))) {
    bool own = false;
    for (auto& q : site.parcels) own = own || q.id == p.id;
    if (own || distance(p.geom, site.geom) > 0.5) continue;
    Site::Neighbour n{p.id, p.geom, kNone};
    for (auto& b : store.buildingsIn(bounds(p.geom)))
      if (std::isfinite(b.groundHeight) && intersectionArea(b.footprint, p.geom) > 0.5 &&
          (!given(n.ground) || b.groundHeight < n.ground))
        n.ground = b.groundHeight;
    site.neighbours.push_back(std::move(n));
  }
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

std::vector<SiteShare> SiteCheck::shares() const {
  std::vector<SiteShare> out;
  for (auto& b : buildings) out.push_back({b.id, b.buildingArea, b.floorArea, b.floorAreaEstimated});
  return out;
}

Verdict SiteCheck::verdict() const {
  std::vector<RuleResult> all = results;
  for (auto& r : buildingResults) all.insert(all.end(), r.begin(), r.end());
  return overall(all);
}

size_t SiteCheck::indexOf(const std::string& id) const {
  for (size_t i = 0; i < buildings.size(); ++i)
    if (buildings[i].id == id) return i;
  return buildings.size();
}

SiteCheck checkSite(Store& store, const RuleSet& rules, const Building& seed, const LinkOptions& o) {
  // The connected parcels and buildings: a building brings the parcels it stands on (not slivers),
  // a parcel every building standing on it.
  auto kept = [&](const Building& b) {
    std::vector<BuildingParcel> out;
    for (auto& l : linkBuilding(store, b, o))
      if (l.overlap >= o.siteMinOverlap && l.overlap >= o.siteMinShare * b.buildingArea) out.push_back(l);
    return out;
  };
  std::map<std::string, Building> buildings;
  std::map<std::string, std::vector<BuildingParcel>> links;
  std::map<std::string, Parcel> parcels;
  std::deque<Building> todo{seed};
  while (!todo.empty()) {
    Building b = std::move(todo.front());
    todo.pop_front();
    if (buildings.count(b.id)) continue;
    auto ls = kept(b);
    // A neighbour found through a parcel's box joins only if it stands on one of the site's parcels.
    if (!buildings.empty() &&
        std::none_of(ls.begin(), ls.end(), [&](const BuildingParcel& l) { return parcels.count(l.parcelId) > 0; }))
      continue;
    for (auto& l : ls) {
      if (parcels.count(l.parcelId)) continue;
      auto p = store.parcel(l.parcelId);
      if (!p) continue;
      for (auto& c : store.buildingsIn(bounds(p->geom)))
        if (!buildings.count(c.id) && c.id != b.id) todo.push_back(std::move(c));
      parcels.emplace(p->id, std::move(*p));
    }
    links[b.id] = std::move(ls);
    buildings.emplace(b.id, std::move(b));
  }
  SiteCheck c;
  std::vector<Parcel> ps;
  for (auto& [id, p] : parcels) ps.push_back(std::move(p));
  c.site = siteOf(store, ps, o);
  for (auto& [id, b] : buildings) {
    c.links.push_back(std::move(links[id]));
    c.buildings.push_back(std::move(b));
  }
  c.results = rules.checkSite(c.buildings, c.site);
  for (auto& b : c.buildings) {
    auto under = districtsUnder(store, b);
    c.buildingResults.push_back(rules.checkHeights(b, under));
    if (!c.site.parcels.empty()) c.buildingResults.back().push_back(rules.checkSlantPlanes(b, c.site));
    if (auto ws = rules.checkWallSetback(b, c.site)) c.buildingResults.back().push_back(std::move(*ws));
    // 用途制限 (法48条, 法91条): the site's use district; a building on no parcel, its footprint's.
    if (auto use = rules.checkBuildingUse(b, c.site.parcels.empty() ? under : c.site.districts))
      c.buildingResults.back().push_back(std::move(*use));
  }
  return c;
}

BuildingCheck buildingView(const SiteCheck& c, size_t i) {
  BuildingCheck v;
  if (i >= c.buildings.size()) return v;
  v.building = c.buildings[i];
  v.site = c.site;
  v.links = c.links[i];
  v.results = c.results;
  v.results.insert(v.results.end(), c.buildingResults[i].begin(), c.buildingResults[i].end());
  v.siteBuildings = c.shares();
  return v;
}

BuildingCheck checkBuilding(Store& store, const RuleSet& rules, const Building& b, const LinkOptions& o) {
  SiteCheck c = checkSite(store, rules, b, o);
  return buildingView(c, c.indexOf(b.id));
}

}  // namespace twin::landuse
