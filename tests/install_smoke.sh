#!/usr/bin/env bash
# The installed package: `cmake --install` into a fresh prefix, then the installed `twin` runs
# from there and finds what it ships relative to its prefix — the land-use rules
# (PREFIX/share/twin/rules), the geoid grid (PREFIX/share/twin/geoid) and the web viewer
# (PREFIX/share/twin/web). The installed rules file and index.html are marked first, so each
# check proves the installed copy was read, not the source or build tree's. Then a program outside
# the source tree (tests/install-consumer) is built against the installed headers, libraries and
# CMake package (find_package(twin)) and converts the sample.
#   tests/install_smoke.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"; src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >/dev/null
p="$work/prefix"
for f in bin/twin share/twin/rules/japan.json share/twin/geoid/jp_gsi_gsigeo2011.tif share/twin/web/index.html \
         share/twin/web/app.js share/twin/web/cesium/Cesium.js; do
  [ -e "$p/$f" ] || fail "$f not installed"
done
sed -i 's/"建ぺい率 building coverage"/"建ぺい率 building coverage [installed copy]"/' "$p/share/twin/rules/japan.json"
grep -q 'installed copy' "$p/share/twin/rules/japan.json" || fail "could not mark the installed rules"
printf '\n<!-- installed copy -->\n' >> "$p/share/twin/web/index.html"

twin="$p/bin/twin"
sample="$src/samples/plateau-yokosuka"
# Conversion with the geoid from the prefix.
"$twin" convert "$sample" -o "$work/tiles" -q --no-progress
grep -q 'gsigeo2011' "$work/tiles/tileset.json" || fail "the tileset does not name the GSIGEO2011 geoid"
# A rule check with the rules from the prefix.
store="$work/store.gpkg"
"$twin" buildings import "$sample" --store "$store" --store-crs EPSG:6677 -q
python3 "$src/samples/landuse-demo/make_landuse.py" "$store" "$work/lu" >/dev/null
"$twin" parcels import "$work/lu/parcels.geojson" --store "$store" -q
"$twin" zoning import "$work/lu/use-districts.geojson" --store "$store" -q
"$twin" check --store "$store" --format json -o "$work/check.json"
n=$(grep -o 'building coverage \[installed copy\]' "$work/check.json" | wc -l)
[ "$n" -ge 1 ] || fail "twin check did not use the installed rules"
# The server: the viewer from the prefix.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$twin" serve --tiles "$work/tiles" --store "$store" --port "$port" --no-access-log > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/status" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/" | grep -q 'installed copy' || fail "twin serve did not serve the installed viewer"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/cesium/Cesium.js")
[ "$code" = 200 ] || fail "cesium/Cesium.js: HTTP $code"
# A program of someone else's, built against the installed package with find_package(twin).
[ -f "$p/lib/cmake/twin/twinConfig.cmake" ] || fail "no twinConfig.cmake installed"
[ -f "$p/include/twin/tiler/convert.h" ] || fail "headers not installed"
cmake -S "$src/tests/install-consumer" -B "$work/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$p" \
  -DCMAKE_BUILD_TYPE=Release > "$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log"; fail "find_package(twin) failed"; }
cmake --build "$work/consumer" > "$work/consumer-build.log" 2>&1 || { tail -30 "$work/consumer-build.log"; fail "the program did not build against the installed twin"; }
out=$("$work/consumer/convert_sample" "$sample" "$work/consumer-tiles") || fail "convert_sample failed: $out"
echo "$out" | grep -q '^features 13 rules Japan' || fail "convert_sample: unexpected result: $out"
[ -f "$work/consumer-tiles/tileset.json" ] || fail "convert_sample wrote no tileset"
grep -q 'gsigeo2011' "$work/consumer-tiles/tileset.json" || fail "convert_sample did not use the installed geoid"
echo "install: the installed twin found its rules ($n results), geoid and viewer under $p; a program built with find_package(twin) converted the sample ($out)"
