#!/usr/bin/env bash
# twin under AddressSanitizer and UndefinedBehaviorSanitizer: every library, the `twin` command
# and the Catch2 tests built with clang in build-fuzz/ (the same instrumented build as the fuzz
# targets, CMake option TWIN_FUZZ), then the tests that read hostile or varied input and that
# drive the server run against it: the readers ([citygml] [citygml3] [cityjson] [mojxml] [ogr]
# [mesh] [bad-input] [hardening]), the land-use engine ([landuse]), CRS and triangulation, export,
# and the server ([server]: protocol cases, half-closes, smuggling attempts, parallel uploads,
# 20 kill -9 rounds). Any sanitizer report fails the run; reports are kept in
# build-fuzz/sanitizer-reports/. [tileset] (whole conversions, validated) runs in the normal
# build only: under ASan it would take as long as the rest of the test command. Called by
# scripts/test.sh after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-fuzz
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
CC=clang CXX=clang++ cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIN_FUZZ=ON \
  -DTWIN_BUILD_TESTS=ON -DTWIN_ASAN_SERVER=OFF >/dev/null
cmake --build $build --target twin_cli twin_tests twin_web | tail -1
reports=$PWD/$build/sanitizer-reports
rm -rf "$reports" && mkdir -p "$reports"
# Leaks at exit are not what this looks for (libraries keep global caches); memory errors and
# undefined behaviour are, in the tests and in every server and command they start.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
unset TWIN_EXE_UNDER_TEST  # the instrumented build's own twin (compiled into its tests)
log=$PWD/$build/sanitize.log
status=0
./$build/tests/twin_tests "[landuse],[citygml],[citygml3],[cityjson],[mojxml],[ogr],[mesh],[bad-input],[hardening],[crs],[triangulate],[export],[server]" \
  >"$log" 2>&1 || status=1
tail -3 "$log"
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize: sanitizer reports:" >&2
  for f in "$reports"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
if [ $status -ne 0 ]; then
  echo "sanitize: the tests under ASan + UBSan failed (log: $build/sanitize.log)" >&2
else
  echo "sanitize: the tests under ASan + UBSan passed, no sanitizer reports"
fi
exit $status
