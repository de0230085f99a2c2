#!/usr/bin/env bash
# The README's demo command: install, build, convert the bundled PLATEAU sample to 3D Tiles, put
# its buildings with (synthetic, plainly labelled) parcels, zoning and permits into a land-use
# store, then serve the web viewer with the API on http://localhost:${PORT:-8080}/ (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
SAMPLE="${SAMPLE:-samples/plateau-yokosuka}"
OUT="${OUT:-demo-out/yokosuka}"
STORE="${STORE:-demo-out/yokosuka-landuse.gpkg}"
twin=./build/tools/twin
$twin convert "$SAMPLE" -o "$OUT"
$twin info "$OUT"
# The land-use store: the sample's buildings; parcels, zoning and permits made from them by
# samples/landuse-demo/make_landuse.py (the sample area has no open cadastre or zoning data).
rm -f "$STORE" "$STORE-wal" "$STORE-shm"
$twin buildings import "$SAMPLE" --store "$STORE" --store-crs EPSG:6677 -q
python3 samples/landuse-demo/make_landuse.py "$STORE" demo-out/landuse
$twin parcels import demo-out/landuse/parcels.geojson --store "$STORE" -q
$twin zoning import demo-out/landuse/use-districts.geojson --store "$STORE" -q
$twin zoning import demo-out/landuse/fire-districts.geojson --kind FirePreventionDistrict --store "$STORE" -q
$twin permits import demo-out/landuse/permits.csv --store "$STORE" -q
echo "staff token (sign in with it in the viewer): $($twin token create --store "$STORE" --user demo-staff --role staff 2>/dev/null)"
exec $twin serve --tiles "$OUT" --store "$STORE" --port "${PORT:-8080}"
