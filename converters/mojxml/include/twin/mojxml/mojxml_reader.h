#pragma once
// Ministry of Justice cadastral map XML (地図XML, 登記所備付地図データ): parcels (筆) as city objects
// of type "Parcel" with their polygon (LOD0) and attributes: 地番 (parcel number), 大字・丁目・小字
// codes and 大字名, 精度区分, 座標値種別, and the map's 市区町村コード / 市区町村名 / 地図名.
//
// Coordinates: 公共座標N系 is the Japan Plane Rectangular CS N on JGD2011 (EPSG:6668+N, X north,
// Y east as in the file). Maps in 任意座標系 (arbitrary local coordinates) cannot be placed: each
// such file is reported (error mojxml-arbitrary-crs) and its parcels are not delivered.
// Geometry: the file's topology (points -> curves -> surfaces) is resolved; a broken reference
// is reported with the parcel's id and line, and that parcel skipped.

#include <memory>

#include "twin/reader.h"

namespace twin::mojxml {

std::unique_ptr<Reader> createReader();
bool sniff(std::string_view head);  // true for 地図XML documents

}  // namespace twin::mojxml
