#!/usr/bin/env bash
# Configures and builds twin into build/ (Release with debug info, warnings as errors, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Paths relative to the checkout in ccache's keys: a fresh clone elsewhere (CI) hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
# Warnings are errors here (CI builds through this script); TWIN_WARNINGS_AS_ERRORS=OFF to relax.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWIN_WARNINGS_AS_ERRORS="${TWIN_WARNINGS_AS_ERRORS:-ON}" >/dev/null
cmake --build build -j"$(nproc)"
