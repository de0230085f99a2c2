#pragma once
// The parts of the mesh/point-cloud readers that go through Open3D (kept in one translation
// unit: its headers are heavy).
#include <string>

#include "placement.h"
#include "twin/reader.h"

namespace twin::mesh {

// PLY/STL/OFF mesh as one feature.
bool readOpen3dMesh(const std::string& uri, const Placement& p, const ReadOptions& options, ObjectSink& sink,
                    DiagnosticSink& diag, ReadStats& stats);
// PLY/PCD/XYZ/XYZN/XYZRGB/PTS points, in batches.
bool readOpen3dPoints(const std::string& uri, const Placement& p, const ReadOptions& options, PointSink& sink,
                      DiagnosticSink& diag, ReadStats& stats);

}  // namespace twin::mesh
