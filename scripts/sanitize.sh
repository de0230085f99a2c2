#!/usr/bin/env bash
# The server under AddressSanitizer and UndefinedBehaviorSanitizer: the build makes `twin-asan`
# (the server's and the command's code instrumented; CMake option TWIN_ASAN_SERVER, on by
# default), and this runs the server's tests against it ([server] and the [hardening] server
# scenario: protocol cases, half-closes, smuggling attempts, parallel uploads, 20 kill -9
# rounds). Any sanitizer report fails the run; reports are kept in build/sanitizer-reports/.
# Called by scripts/test.sh after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=$PWD/build/tools/twin-asan
[ -x "$exe" ] || { echo "sanitize: $exe not built (configure with -DTWIN_ASAN_SERVER=ON)" >&2; exit 1; }
reports=$PWD/build/sanitizer-reports
rm -rf "$reports" && mkdir -p "$reports"
# Leaks at exit are not what this looks for (libraries keep global caches); memory errors and
# undefined behaviour are, in every server and command the tests start.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export TWIN_EXE_UNDER_TEST=$exe
status=0
./build/tests/twin_tests "[server]" >"$reports/../sanitize-server.log" 2>&1 || status=1
./build/tests/twin_tests "viewer-server hardening on the embedded store*" >>"$reports/../sanitize-server.log" 2>&1 || status=1
tail -3 "$reports/../sanitize-server.log"
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize: sanitizer reports:" >&2
  for f in "$reports"/*; do echo "== $f" >&2; head -60 "$f" >&2; done
  status=1
fi
if [ $status -ne 0 ]; then
  echo "sanitize: the server's tests under ASan + UBSan failed (log: build/sanitize-server.log)" >&2
else
  echo "sanitize: the server's tests under ASan + UBSan passed, no sanitizer reports"
fi
exit $status
