#!/usr/bin/env bash
# The README's test command: install, build, run every test (Catch2 through ctest), the
# server's tests once more under AddressSanitizer + UBSan (scripts/sanitize.sh), and the HTTP and
# API fuzz targets (libFuzzer, clang, ASan + UBSan) for a while each: any finding fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/sanitize.sh
FUZZ_CHECK=1 TARGETS="http api" bash tests/hardening/fuzz.sh "${TWIN_FUZZ_SECONDS:-30}"
cd build
ctest --output-on-failure -j1
