#!/usr/bin/env bash
# The README's demo command: install, build, convert the bundled PLATEAU sample to 3D Tiles,
# then serve the web viewer on http://localhost:${PORT:-8080}/ (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
SAMPLE="${SAMPLE:-samples/plateau-yokosuka}"
OUT="${OUT:-demo-out/yokosuka}"
./build/tools/twin convert "$SAMPLE" -o "$OUT"
./build/tools/twin info "$OUT"
if [ -x ./build/tools/twin ] && ./build/tools/twin serve --help >/dev/null 2>&1; then
  exec ./build/tools/twin serve --tiles "$OUT" --port "${PORT:-8080}"
fi
