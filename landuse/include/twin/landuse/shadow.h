#pragma once
// 日影規制 (建築基準法第56条の2, 別表第4): the hours of shadow a building casts on the measuring
// plane (測定面, 1.5 / 4 / 6.5 m above the 平均地盤面) between two times of true solar time
// (真太陽時, 8:00–16:00; 9:00–15:00 in Hokkaido) on the winter solstice, and the limits at the
// 5 m and 10 m lines from the site boundary. The sun comes from twin/sun.h.
//
// Geometry: x east, y north in the store's plane CRS (grid north may differ from true north by the
// meridian convergence: ShadowSettings::gridNorth). Heights above the site's ground.

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "twin/geom2d.h"

namespace twin::landuse {

// A vertical prism: a polygon (outer ring, either orientation) from `bottom` to `top` metres.
struct Solid {
  Ring ring;
  double bottom = 0, top = 0;
};

// What an ordinance designates for a site (別表第4 (は)欄 and (に)欄): the measuring height and the
// hours allowed beyond 5 m (up to 10 m) and beyond 10 m of the site boundary.
struct ShadowDesignation {
  double measuringHeight = 4;
  double limit5 = 4, limit10 = 2.5;  // hours
  std::string source;                // where it came from ("ShadeRegulation 'x'", "--shadow", ...)
};

struct ShadowSettings {
  double latitude = 35.68;  // degrees, of the site
  // The sun on the winter solstice: −23°27′ as 日影図 practice takes it (the true value is −23.44°
  // in the 2020s: sun::at(sun::decemberSolstice(year), ...).declination).
  double declination = -23.45;
  double start = 8, end = 16;  // true solar time, hours
  double gridNorth = 0;        // true azimuth (degrees, clockwise) of the grid's +y axis
  double cell = 1;             // m, the map's grid
  double stepMinutes = 1;      // time step; each step counts at its midpoint
};

// Hours of shadow per cell centre of a grid: cell (i, j) has its centre at
// (x0 + (i + 0.5) cell, y0 + (j + 0.5) cell).
struct ShadowMap {
  double x0 = 0, y0 = 0, cell = 1;
  int nx = 0, ny = 0;
  double measuringHeight = 0;
  std::vector<float> hours;  // nx * ny, row by row from the south
  double at(int i, int j) const { return hours[size_t(j) * size_t(nx) + size_t(i)]; }
};

// The sun's horizontal direction (unit, grid coordinates, pointing toward the sun) and the
// tangent of its altitude at each time step's midpoint.
struct SunStep {
  double ux, uy, tanAltitude, hours;
};
std::vector<SunStep> sunSteps(const ShadowSettings& s);

// The grid box the solids' shadows can reach on the measuring plane over the day.
Box2 shadowReach(const std::vector<Solid>& solids, double measuringHeight, const ShadowSettings& s);

// Hours of shadow on the measuring plane over `region` (empty: shadowReach).
ShadowMap shadowTimes(const std::vector<Solid>& solids, double measuringHeight, const ShadowSettings& s,
                      Box2 region = {});

// The map against a designation: the longest shadow beyond the 5 m and 10 m lines of `site`.
struct ShadowCheck {
  double max5 = 0, max10 = 0;  // hours, at cell centres more than 5 m (up to 10 m) / 10 m away
  P2 worst5{0, 0}, worst10{0, 0};
  // The grid's own uncertainty (hours): one time step plus the time the shadow takes to cross
  // half a cell; a value within it of a limit decides nothing.
  double tolerance = 0;
};
// `counts`, when given, says which receiving points this check reads (a district's part: 令135条の13).
ShadowCheck checkShadowMap(const ShadowMap& map, const MultiPoly& site, double stepMinutes,
                           const std::function<bool(const P2&)>& counts = {});

// A part of the measuring plane under one designation (令135条の13: each district the shadow falls
// on under its own). `holds` empty: everywhere. Given strictest first, a point is read under the
// first zone holding it; points in no zone are not regulated.
struct ShadowZone {
  ShadowDesignation d;
  std::function<bool(const P2&)> holds;
};

// 逆日影: the tallest columns (one per `cell` square of the site, at most `initial` high) whose
// shadow keeps within the designation's limits. Where a point beyond the 5 m line would be shaded
// too long, the sun positions whose clearing costs the least volume are cleared, and every column
// on those rays is lowered under the ray. The result is verified with shadowTimes.
struct ShadowEnvelope {
  double x0 = 0, y0 = 0, cell = 1;
  int nx = 0, ny = 0;
  std::vector<double> height;  // per cell; NaN outside the site
  std::vector<double> initial;
  ShadowCheck verified;  // the shadow of the result, at the settings' step (the zone nearest its limits)
  size_t verifiedZone = 0;
  std::vector<ShadowCheck> perZone;  // the same per zone
  double lowered = 0;                // m³ taken off `initial`
  int rounds = 0;                    // lowering passes made (each verified)
};
// `linesFrom`, when given, is the boundary the 5 m and 10 m lines are drawn from (令135条の12第1項1号
// moves it out along roads); by default the site's.
template <class HeightAt>
ShadowEnvelope shadowEnvelope(const MultiPoly& site, HeightAt initial, const ShadowDesignation& d,
                              const ShadowSettings& s, double cell, const MultiPoly* linesFrom = nullptr);
// The same with the initial heights given per cell (NaN outside the site).
ShadowEnvelope shadowEnvelopeOf(const MultiPoly& site, double x0, double y0, double cell, int nx, int ny,
                                std::vector<double> initial, const ShadowDesignation& d, const ShadowSettings& s,
                                const MultiPoly* linesFrom = nullptr);
// Per zone (strictest first), every measuring plane raised by `lift` (令135条の12第1項2号: the site's
// ground deemed that much higher).
ShadowEnvelope shadowEnvelopeOf(const MultiPoly& site, double x0, double y0, double cell, int nx, int ny,
                                std::vector<double> initial, const std::vector<ShadowZone>& zones,
                                const ShadowSettings& s, const MultiPoly* linesFrom = nullptr, double lift = 0);
// The cells of the site's grid, NaN outside it, `initial(centre)` inside.
template <class HeightAt>
std::vector<double> siteColumns(const MultiPoly& site, HeightAt initial, double cell, Box2& box, int& nx, int& ny) {
  box = bounds(site);
  nx = std::max(1, int(std::ceil((box.maxx - box.minx) / cell)));
  ny = std::max(1, int(std::ceil((box.maxy - box.miny) / cell)));
  std::vector<double> h(size_t(nx) * size_t(ny), std::nan(""));
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      P2 c{box.minx + (i + 0.5) * cell, box.miny + (j + 0.5) * cell};
      if (contains(site, c)) h[size_t(j) * size_t(nx) + size_t(i)] = initial(c);
    }
  return h;
}

template <class HeightAt>
ShadowEnvelope shadowEnvelope(const MultiPoly& site, HeightAt initial, const ShadowDesignation& d,
                              const ShadowSettings& s, double cell, const MultiPoly* linesFrom) {
  Box2 b;
  int nx = 0, ny = 0;
  std::vector<double> h = siteColumns(site, initial, cell, b, nx, ny);
  return shadowEnvelopeOf(site, b.minx, b.miny, cell, nx, ny, std::move(h), d, s, linesFrom);
}

}  // namespace twin::landuse
