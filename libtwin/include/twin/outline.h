#pragma once
// A city object seen from above: its polygons at one LOD projected to a plane CRS, as they are
// (flat features: parcels, districts) or as the union of their ground projections (solids), and
// polygon validity checks that repair only where the repair keeps the area.

#include <functional>
#include <string>

#include "twin/city_model.h"
#include "twin/crs.h"
#include "twin/diagnostics.h"
#include "twin/geom2d.h"

namespace twin {

// Calls `f` with the geometry at `lod` of the object and of each of its parts (depth first).
void forEachLodGeometry(const CityObject& obj, int lod, const std::function<void(const Geometry&)>& f);
// True when the object or one of its parts has non-empty geometry at `lod`.
bool hasLodGeometry(const CityObject& obj, int lod);

// The plane outline of `obj` from its polygons at `lod` (parts included) in the projected CRS of
// `toPlane`: the polygons as given, or with `project` the union of their ground projections
// (walls, which project to slivers, are left out). zmin/zmax receive the source heights seen.
// Points that cannot be transformed are reported (coordinates-untransformable) and their polygons
// left out. False when nothing is left.
bool planOutline(const CityObject& obj, int lod, PlaneTransform& toPlane, bool project, MultiPoly& out, double& zmin,
                 double& zmax, DiagnosticSink& diag);

// Checks `m` (OGC validity) and, where GEOS MakeValid moves at most 1 m² or 0.01 % of its area,
// repairs it with a warning "<what>-invalid-geometry" saying how much; otherwise reports an error
// of that code with the amount and returns false (1 % of a district of 1 km² would be 10,000 m²).
// `label` names the feature in the message ("'p1' (地番 12-3)").
bool validatedPolygon(MultiPoly& m, const std::string& what, const CityObject& obj, const std::string& label,
                      DiagnosticSink& diag);

}  // namespace twin
