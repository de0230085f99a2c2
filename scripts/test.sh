#!/usr/bin/env bash
# The README's test command: install, build, run every test (Catch2 through ctest), and the
# server's tests once more under AddressSanitizer + UBSan (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/sanitize.sh
cd build
ctest --output-on-failure -j1
