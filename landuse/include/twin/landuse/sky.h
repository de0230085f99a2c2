#pragma once
// 天空率 (sky factor, 建築基準法第56条第7項, 令135条の5〜135条の11): the share of the sky hemisphere,
// orthographically projected on the horizontal plane (正射影), that a solid leaves open, seen from
// a point. For a solid that stands on the ground (every part above its footprint down to z0 is
// solid, as buildings and envelopes are), the blocked projection in an azimuth reaches from the
// horizon to the solid's highest elevation angle a(φ) there, so
//     sky factor = 1 − (1 / 2π) ∫ sin² a(φ) dφ,
// integrated numerically over azimuths, a(φ) found by walking the ray over the solid's extent.
#include <functional>
#include <vector>

#include "twin/geom2d.h"

namespace twin::landuse {

struct SkySettings {
  int azimuthSteps = 3600;  // 0.1°
  double rayStep = 0.05;    // m along each ray
};

// The sky factor at (p, z0) of the solid whose height above the ground at each point is
// heightAt(q) (0 or less: open), within `extent`.
double skyFactor(const P2& p, double z0, const std::function<double(const P2&)>& heightAt, const Box2& extent,
                 const SkySettings& s = {});

// The measurement points of 令135条の9 for one front road: on its far boundary (moved out by the
// building's setback, 法56条2項), between the points nearest the ends of the site's frontage, at
// equal spacing of at most half the road's width.
// `beyond`: an open space opposite the road (令134条) moves the line out by its depth; the points
// stay at most W / 2 apart.
std::vector<P2> roadSkyPoints(const P2& a, const P2& b, double width, double setback = 0, double beyond = 0);

}  // namespace twin::landuse
