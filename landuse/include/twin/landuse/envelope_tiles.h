#pragma once
// An envelope on the globe: its mesh (store CRS, z above the site's ground) placed in ECEF, as a
// glb and as a one-tile 3D Tiles tileset around it, for the viewer and `twin envelope -o`.
#include <cstdint>
#include <string>
#include <vector>

#include "twin/crs.h"
#include "twin/diagnostics.h"
#include "twin/landuse/rules.h"

namespace twin::landuse {

// The envelope mesh as a glb: store CRS -> longitude/latitude -> ECEF, its base at `groundHeight`
// (orthometric, turned ellipsoidal with the geoid). Empty (with an error) when it cannot be placed
// or has no triangles.
std::vector<uint8_t> envelopeGlb(const EnvelopeResult& e, const std::string& storeCrs, double groundHeight,
                                 const GeoidOptions& geoid, DiagnosticSink& diag);

// A tileset.json (3D Tiles 1.1, written by libtwin's tileset writer) with one tile whose content
// is `contentUri` (the glb above) and whose box holds the placed mesh. Empty when it cannot be placed.
std::string envelopeTileset(const EnvelopeResult& e, const std::string& storeCrs, double groundHeight,
                            const GeoidOptions& geoid, DiagnosticSink& diag,
                            const std::string& contentUri = "envelope.glb");

}  // namespace twin::landuse
