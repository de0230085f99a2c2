#!/usr/bin/env bash
# Load and slow clients against twin serve on loopback: wrk for SECONDS (default 60) at 256
# connections on the tiles (every file of the sample tileset in turn), then on the API (parcel at
# a point, building detail), the API run with 200 slowloris connections open at the same time
# (each sending one header byte per second); the server's RSS sampled every second. Goals: zero
# errors (socket errors, non-2xx), memory flat (the peak of the last half within 10 % of the first
# half's), slow clients not starving the others. Prints a table; keeps it in load-last.txt.
#   bash tests/hardening/load.sh [BUILD_DIR] [SECONDS]
#   TWIN_SERVE=build/tools/twin-asan ASAN_OPTIONS=log_path=/tmp/asan bash tests/hardening/load.sh
# Needs wrk (apt-get install wrk).
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$src/build}"
secs="${2:-60}"
twin="$build/tools/twin"
work="${TWIN_LOAD_DIR:-/tmp/twin-load}"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 2; }
rm -rf "$work" && mkdir -p "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The demo's land-use store and tiles (as the viewer test makes them).
store="$work/store.gpkg"
"$twin" buildings import "$src/samples/plateau-yokosuka" --store "$store" --store-crs EPSG:6677 -q
python3 "$src/samples/landuse-demo/make_landuse.py" "$store" "$work/lu" >/dev/null
"$twin" parcels import "$work/lu/parcels.geojson" --store "$store" -q
"$twin" zoning import "$work/lu/use-districts.geojson" --store "$store" -q
"$twin" permits import "$work/lu/permits.csv" --store "$store" -q >/dev/null
"$twin" convert "$src/samples/plateau-yokosuka" -o "$work/tiles" -q --no-progress
# The access log (appended, truncated before each run) tells what any non-2xx answer was.
# TWIN_SERVE: another server binary (build/tools/twin-asan: the same run under AddressSanitizer).
"${TWIN_SERVE:-$twin}" serve --tiles "$work/tiles" --store "$store" --port "$port" 2>> "$work/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/status" >/dev/null && break; sleep 0.1; done

( cd "$work/tiles" && find . -path ./.twin -prune -o -type f -print | sed 's|^\./||' | sort ) > "$work/paths.txt"
cat > "$work/tiles.lua" <<LUA
local paths = {}
for line in io.lines("$work/paths.txt") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", "/tiles/0/" .. paths[i])
end
LUA
bldg=bldg_787d830e-2534-410a-8a2a-a531efeb2533
cat > "$work/api.lua" <<LUA
local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 then
    return wrk.format("GET", string.format("/api/parcels/at?lon=%.6f&lat=%.6f", 139.7380 + (i % 100) * 0.00002, 35.2595))
  end
  return wrk.format("GET", "/api/buildings/$bldg")
end
LUA

rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
sample_rss() {  # FILE: one RSS value (KB) per second while wrk runs
  while kill -0 "$1" 2>/dev/null; do rss >> "$2"; sleep 1; done
}
run() {  # NAME LUA -> table row
  local name=$1 lua=$2
  : > "$work/rss-$name.txt"
  : > "$work/server.log"
  wrk -t2 -c256 -d"${secs}s" --latency -s "$lua" "http://127.0.0.1:$port" > "$work/wrk-$name.txt" 2>&1 &
  local w=$!
  sample_rss $w "$work/rss-$name.txt"
  wait $w || true
  grep -v '^{' "$work/server.log" | grep -v 'Ctrl-C' > "$work/errors-$name.txt" || true
  python3 - "$name" "$work/wrk-$name.txt" "$work/rss-$name.txt" "$work/server.log" <<'PY'
import collections, re, sys
name, t, r = sys.argv[1], open(sys.argv[2]).read(), [int(x) for x in open(sys.argv[3]).read().split()]
statuses = collections.Counter(re.findall(r'"status":(\d+)', open(sys.argv[4], errors="replace").read()))
other = ", ".join(f"{c}×{n}" for c, n in sorted(statuses.items()) if c != "200") or "none"
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def ms(label):
    m = re.search(r"\s" + label + r"%\s+([\d.]+)(us|ms|s)", t)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
errs = 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if m: errs += int(m.group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
if m: errs += sum(int(x) for x in m.groups())
half = max(1, len(r) // 2)
first, last = max(r[:half]), max(r[half:] or r[:half])
flat = "flat" if last <= first * 1.10 else "GREW"
print(f"| {name} | {rps:.0f} | {ms('50'):.2f} | {ms('99'):.2f} | {errs} | {other} | {r[0]/1024:.0f} | {first/1024:.0f} | {last/1024:.0f} | {flat} |")
PY
}

{
  echo "load.sh: $(date -u +%Y-%m-%dT%H:%MZ), ${secs} s per run, 256 connections, $(nproc) cores"
  echo
  echo "| run | requests/s | p50 ms | p99 ms | wrk errors | non-200 in the server log | RSS start MB | RSS peak 1st half | RSS peak 2nd half | memory |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  run tiles "$work/tiles.lua"
  run api "$work/api.lua"
  # The API again with 200 slow clients holding connections open, one byte per second.
  python3 - "$port" "$secs" > "$work/slowloris.txt" 2>&1 <<'PY' &
import socket, sys, time
port, secs = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port)); s.send(b"GET /api/status HTTP/1.1\r\n"); socks.append(s)
end, closed = time.time() + secs, 0
while time.time() < end and socks:
    for s in list(socks):
        try: s.send(b"X")
        except OSError: socks.remove(s); closed += 1
    time.sleep(1)
print(f"slow clients: 200 opened, {closed} closed by the server (408 after 10 s)")
PY
  slow=$!
  sleep 1
  run api-with-slowloris "$work/api.lua"
  wait $slow || true
  echo
  cat "$work/slowloris.txt"
  for f in "$work"/errors-*.txt; do [ -s "$f" ] && { echo "server errors during $(basename "$f" .txt | cut -d- -f2-):"; head -5 "$f"; }; done
  true
} | tee "$src/tests/hardening/load-last.txt"
