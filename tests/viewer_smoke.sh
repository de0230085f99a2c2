#!/usr/bin/env bash
# The demo as a person sees it: convert the bundled sample, serve it with `twin serve`, open the
# viewer in headless Chromium, wait for all tiles, check that every building was loaded and that
# nothing failed, and keep a screenshot (build/test-output/viewer.png).
set -euo pipefail
twin="$1"; out="$2"; src="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
rm -rf "$out/viewer-tiles"
"$twin" convert "$src/samples/plateau-yokosuka" -o "$out/viewer-tiles" -q --no-progress
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server=
trap 'kill $server 2>/dev/null || true' EXIT
# serve LOG TILESET...: (re)starts `twin serve` on $port with these tilesets and waits until it answers.
serve() {
  local log="$1"; shift
  if [ -n "$server" ]; then kill $server; wait $server 2>/dev/null || true; fi
  "$twin" serve --tiles "$@" --port "$port" > "$out/$log" 2>&1 &
  server=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/api/tilesets" >/dev/null 2>&1 && break
    sleep 0.1
  done
}
serve viewer-server.log "$out/viewer-tiles"
# The tileset's state (.twin/: converted features, tile hashes) is never served.
test -f "$out/viewer-tiles/.twin/state.json"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/tiles/0/.twin/state.json")
[ "$code" = 404 ] || { echo "viewer: .twin/state.json served with HTTP $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/tiles/0/%2etwin/state.json")
[ "$code" = 404 ] || { echo "viewer: %2etwin/state.json served with HTTP $code"; exit 1; }
node "$src/tests/node/viewer-smoke.mjs" "http://127.0.0.1:$port/" "$out/viewer.png" 13

# Buildings on the ground: the same buildings with a relief under them (made from their own
# ground heights by make_ground.py: the samples have no relief overlapping buildings), two
# tilesets in one viewer. Screenshot: build/test-output/viewer-ground.png.
python3 "$src/tests/make_ground.py" "$src/samples/plateau-yokosuka/udx/bldg/52397519_bldg_6697_op.gml" "$out/ground.gml"
rm -rf "$out/viewer-relief"
"$twin" convert "$out/ground.gml" --types relief -o "$out/viewer-relief" -q --no-progress
serve viewer-server-2.log "$out/viewer-tiles" "$out/viewer-relief"
# The relief is told apart as terrain (asset.extras.twin.objectTypes): api/config says so and
# the viewer drapes parcels on it instead of treating it as buildings.
curl -sf "http://127.0.0.1:$port/api/config" | python3 -c 'import json,sys; k=[t["kind"] for t in json.load(sys.stdin)["tilesets"]]; sys.exit(0 if k==["buildings","terrain"] else f"viewer: tileset kinds {k}")'
node "$src/tests/node/viewer-smoke.mjs" "http://127.0.0.1:$port/" "$out/viewer-ground.png" 14 1

# A point cloud with the buildings: points sampled on the buildings' surfaces from their OBJ export,
# placed back with the export's frame (twin convert of a PLY); api/config calls it "points" and the
# viewer draws it (points loaded) without counting it as buildings. Screenshot: viewer-points.png.
rm -rf "$out/viewer-points" "$out/cloud-src.obj"
"$twin" export "$src/samples/plateau-yokosuka" -o "$out/cloud-src.obj" -q --no-progress
python3 - "$out/cloud-src.obj" "$out/cloud.ply" <<'PY'
import random, sys
random.seed(3)
v, pts = [], []
for line in open(sys.argv[1]):
    if line.startswith("v "): v.append([float(x) for x in line.split()[1:4]])
    elif line.startswith("f "):
        a, b, c = (v[int(t.split("/")[0]) - 1] for t in line.split()[1:4])
        for _ in range(20):
            r, s = random.random(), random.random()
            if r + s > 1: r, s = 1 - r, 1 - s
            pts.append([a[i] + r * (b[i] - a[i]) + s * (c[i] - a[i]) for i in range(3)])
with open(sys.argv[2], "w") as o:
    o.write("ply\nformat ascii 1.0\nelement vertex %d\nproperty float x\nproperty float y\nproperty float z\n"
            "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n" % len(pts))
    for p in pts: o.write("%.3f %.3f %.3f 200 90 40\n" % tuple(p))
PY
origin=$(sed -n 's/.*about longitude \([0-9.]*\), latitude \([0-9.]*\), ellipsoidal height \([0-9.-]*\) m.*/\1,\2,\3/p' "$out/cloud-src.obj")
"$twin" convert "$out/cloud.ply" --crs EPSG:4979 --origin "$origin" -o "$out/viewer-points" -q --no-progress
serve viewer-server-p.log "$out/viewer-tiles" "$out/viewer-points"
curl -sf "http://127.0.0.1:$port/api/config" | python3 -c 'import json,sys; k=[t["kind"] for t in json.load(sys.stdin)["tilesets"]]; sys.exit(0 if k==["buildings","points"] else f"viewer: tileset kinds {k}")'
node "$src/tests/node/viewer-smoke.mjs" "http://127.0.0.1:$port/" "$out/viewer-points.png" 13 0 1

# The other output forms in one scene: 3D Tiles 1.0 (b3dm + batch tables) for clients without
# 1.1, and implicit tiling (subtrees with tile metadata): CesiumJS loads every building of both.
rm -rf "$out/viewer-b3dm" "$out/viewer-implicit"
"$twin" convert "$src/samples/plateau-yokosuka" --tiles-version 1.0 -o "$out/viewer-b3dm" -q --no-progress
"$twin" convert "$src/samples/plateau-yokosuka" --implicit -o "$out/viewer-implicit" -q --no-progress
serve viewer-server-3.log "$out/viewer-b3dm" "$out/viewer-implicit"
node "$src/tests/node/viewer-smoke.mjs" "http://127.0.0.1:$port/" "$out/viewer-b3dm-implicit.png" 26
# The land-use viewer: the sample with its (synthetic) parcels, zoning and permits in a store;
# click a building (panel: gml:id, 地番, rule results, permits), search a 地番 (the camera flies
# there), show a parcel's envelope, colour by rule result. Screenshots: build/test-output/viewer-*.png.
rm -rf "$out/landuse" && mkdir -p "$out/landuse"
store="$out/landuse/store.gpkg"
"$twin" buildings import "$src/samples/plateau-yokosuka" --store "$store" --store-crs EPSG:6677 -q
python3 "$src/samples/landuse-demo/make_landuse.py" "$store" "$out/landuse" >/dev/null
"$twin" parcels import "$out/landuse/parcels.geojson" --store "$store" -q
"$twin" zoning import "$out/landuse/use-districts.geojson" --store "$store" -q
"$twin" zoning import "$out/landuse/fire-districts.geojson" --kind FirePreventionDistrict --store "$store" -q
"$twin" permits import "$out/landuse/permits.csv" --store "$store" -q >/dev/null
building=$(sed -n 2p "$out/landuse/permits.csv" | cut -d, -f7)
far_parcel=$(python3 -c "import json,sys; f=json.load(open(sys.argv[1]))['features']; print(f[-1]['properties']['地番'])" "$out/landuse/parcels.geojson")
if [ -n "$server" ]; then kill $server; wait $server 2>/dev/null || true; fi
"$twin" serve --tiles "$out/viewer-tiles" --store "$store" --port "$port" > "$out/viewer-server-4.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/api/config" >/dev/null 2>&1 && break
  sleep 0.1
done
node "$src/tests/node/viewer-e2e.mjs" "http://127.0.0.1:$port/" "$building" "試験町 $far_parcel" "$out"
echo "viewer: 4 passed, 0 failed"
