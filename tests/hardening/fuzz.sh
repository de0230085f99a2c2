#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 60) from seeds taken from the samples. Findings (crash-*, leak-*, timeout-*,
# oom-*) are copied to tests/hardening/regressions/<target>/, where the [hardening] test replays
# them in every test run. Prints a table and writes it to tests/hardening/fuzz-last.txt.
#
#   bash tests/hardening/fuzz.sh [SECONDS]        TARGETS="citygml http" to choose targets
#
# FUZZ_CHECK=1 is the mode the README's test command uses (scripts/test.sh: the HTTP and API
# targets): the findings so far (tests/hardening/regressions/<target>/) are run first, new
# findings stay in build-fuzz/artifacts/ and fail the run (exit 1), the table goes to
# build-fuzz/fuzz-check.txt instead of tests/hardening/fuzz-last.txt.
#
# Needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev) and the normal
# build (build/, for the land-use store fuzz_api works on).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
targets=${TARGETS:-"citygml cityjson mojxml http api"}
samples=../shared/samples
build=build-fuzz
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Paths relative to the checkout in ccache's keys: a fresh clone elsewhere (CI) hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
CC=clang CXX=clang++ cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIN_FUZZ=ON \
  -DTWIN_BUILD_TESTS=ON -DTWIN_ASAN_SERVER=OFF >/dev/null
cmake --build $build --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) | tail -1

seed() {  # seed TARGET FILE [PREFIX-BYTE]
  local dir=$build/corpus/$1
  mkdir -p "$dir"
  if [ -n "${3:-}" ]; then { printf "$3"; cat "$2"; } > "$dir/$(basename "$2").seed"; else cp "$2" "$dir/"; fi
}
rm -rf $build/corpus && mkdir -p $build/corpus
for f in samples/plateau-yokosuka/udx/bldg/*.gml $samples/kit-fzk-haus/fzk_haus_lod[012]_v2.gml \
         $samples/citygml3-ogc-examples/from-citygml2-sample-building/CityGMLv3/Building_LOD2-EPSG25832.gml \
         $samples/citygml3-ogc-examples/Building_CityGML3.0_LOD2_with_several_attributes.gml \
         $samples/plateau-urf/numazu-shi/*.gml; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 2000000 ] && seed citygml "$f"
done
for f in $samples/cityjson-cjio/{cube,DH_01_subs.city,multi_lod,rotterdam_subset}.json; do seed cityjson "$f" '\x02'; done
seed mojxml $samples/moj-cadastral/mojxml-py/12103-0400-76/12103-0400-76.xml
mkdir -p $build/corpus/http $build/corpus/api
printf 'GET /tiles/0/tileset.json?x=%%41 HTTP/1.1\r\nHost: a\r\nRange: bytes=0-99\r\n\r\n' > $build/corpus/http/get
printf 'POST /api/permits HTTP/1.0\r\nContent-Length: 5\r\nAuthorization: Bearer x\r\n\r\nhello' > $build/corpus/http/post
printf 'GET /../etc/passwd HTTP/1.1\r\nRange: bytes=-5\r\n\r\n' > $build/corpus/http/traversal

# A land-use store for fuzz_api: the sample's buildings, synthetic parcels and zoning, permits.
store=$build/fuzz-store.gpkg
if [[ " $targets " == *" api "* ]]; then
  twin=build/tools/twin
  [ -x $twin ] || { echo "fuzz.sh: build the project first (bash scripts/build.sh) for the api store" >&2; exit 1; }
  rm -rf $build/landuse $store* && mkdir -p $build/landuse
  $twin buildings import samples/plateau-yokosuka --store $store --store-crs EPSG:6677 -q
  python3 samples/landuse-demo/make_landuse.py $store $build/landuse >/dev/null
  $twin parcels import $build/landuse/parcels.geojson --store $store -q
  $twin zoning import $build/landuse/use-districts.geojson --store $store -q
  $twin permits import $build/landuse/permits.csv --store $store -q >/dev/null
  chiban=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['features'][0]['properties']['地番'])" $build/landuse/parcels.geojson)
  bldg=bldg_787d830e-2534-410a-8a2a-a531efeb2533
  c=$build/corpus/api
  printf 'GET /api/parcels/at?lon=139.7387&lat=35.2598\npublic\n' > $c/at
  printf 'GET /api/parcels?bbox=139.73,35.25,139.75,35.27\npublic\n' > $c/bbox
  printf 'GET /api/search?q=%s\npublic\n' "$chiban" > $c/search
  printf "GET /api/search?q=%%27%%3B%%20DROP%%20TABLE%%20parcels%%3B--\npublic\n" > $c/inject
  printf 'GET /api/buildings/%s\npublic\n' $bldg > $c/building
  printf 'GET /api/parcels/%s/envelope\npublic\n' "$chiban" > $c/envelope
  printf 'POST /api/parcels/%s/procedures\npublic\n{"use":"住宅","floorArea":120,"height":9}' "$chiban" > $c/procedures
  printf 'POST /api/permits\nstaff\n{"kind":"建築確認","building":"%s","applicant":"山田","status":"受付"}' $bldg > $c/permit
  printf 'PUT /api/permits/1\nstaff\n{"status":"審査中","version":1}' > $c/update
  printf 'POST /api/buildings/verdicts\npublic\n{"ids":["%s"]}' $bldg > $c/verdicts
  printf 'GET /api/permits\npublic\n' > $c/permits
fi

check=${FUZZ_CHECK:-0}
out=tests/hardening/fuzz-last.txt
[ "$check" = 1 ] && out=$build/fuzz-check.txt
{
  echo "fuzz.sh: $(date -u +%Y-%m-%dT%H:%MZ), ${secs} s per target, $(nproc) cores, clang $(clang --version | head -1 | grep -o '[0-9]*\.[0-9.]*' | head -1)"
  echo
  echo "| target | seconds | runs | coverage | corpus | findings |"
  echo "|---|---|---|---|---|---|"
} > $out
total=0
for t in $targets; do
  art=$build/artifacts/$t
  rm -rf "$art" && mkdir -p "$art"
  log=$build/fuzz-$t.log
  maxlen=262144
  [ "$t" = http ] && maxlen=20000
  [ "$t" = api ] && maxlen=8192
  [ "$t" = mojxml ] && maxlen=400000
  # Earlier findings are read as a second corpus: each runs before new inputs are tried.
  extra=()
  [ -d tests/hardening/regressions/$t ] && extra=(tests/hardening/regressions/$t)
  TWIN_FUZZ_STORE=$PWD/$store ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    $build/tests/fuzz/fuzz_$t $build/corpus/$t "${extra[@]}" -max_total_time=$secs -max_len=$maxlen -timeout=20 -rss_limit_mb=3000 \
    -artifact_prefix=$art/ -print_final_stats=1 > $log 2>&1 || true
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' $log | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' $log | tail -1 | grep -o '[0-9]*' || echo 0)
  corp=$(ls $build/corpus/$t | wc -l)
  found=$(ls $art | wc -l)
  total=$((total + found))
  if [ "$found" -gt 0 ] && [ "$check" = 1 ]; then
    grep -m3 -E "ERROR: (AddressSanitizer|libFuzzer)|runtime error" $log | sed "s/^/  $t: /" >&2 || true
  elif [ "$found" -gt 0 ]; then
    mkdir -p tests/hardening/regressions/$t
    cp $art/* tests/hardening/regressions/$t/
    grep -m3 -E "ERROR: (AddressSanitizer|libFuzzer)|runtime error" $log | sed "s/^/  $t: /" >&2 || true
  fi
  echo "| $t | $secs | $runs | $cov | $corp | $found |" >> $out
done
cat $out
if [ "$check" = 1 ]; then
  if [ $total -gt 0 ]; then
    echo "fuzz.sh: $total findings: inputs in $build/artifacts/, logs in $build/fuzz-*.log; reproduce with" \
         "$build/tests/fuzz/fuzz_<target> <input>, then copy the input to tests/hardening/regressions/<target>/" >&2
    exit 1
  fi
  echo "fuzz.sh: no findings"
else
  echo "fuzz.sh: $total findings (copied to tests/hardening/regressions/)"
fi
