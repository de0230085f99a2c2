#!/usr/bin/env bash
# viewer-server benchmark: tile serving requests/s and latency with wrk on loopback, twin serve
# and nginx serving the same files in the same run; API latency (parcel at a point, building
# detail) against a store of 1,000,000 parcels and 100,000 buildings (made by
# twin_bench_landuse, which this runs first when the store is missing).
#   tools/bench/serve_bench.sh [BUILD_DIR] [SECONDS]
# Needs wrk and nginx (apt-get install wrk nginx-light). Prints a table; the last result is kept in
# tools/bench/serve-last.txt.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$src/build}"
secs="${2:-10}"
twin="$build/tools/twin"
work="${TWIN_BENCH_DIR:-/tmp/twin-bench-serve}"
mkdir -p "$work"
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install wrk nginx-light"; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Tiles: the city benchmark's tileset when it is there (many tiles), else the bundled sample.
tiles="${TILES:-}"
if [ -z "$tiles" ]; then
  tiles="$work/tiles"
  [ -f "$tiles/tileset.json" ] || "$twin" convert "$src/samples/plateau-yokosuka" -o "$tiles" -q --no-progress
fi
# Every file of the tileset, as request paths (wrk cycles through them).
( cd "$tiles" && find . -path ./.twin -prune -o -type f -print | sed 's|^\./||' | sort ) > "$work/paths.txt"
nfiles=$(wc -l < "$work/paths.txt")
cat > "$work/paths.lua" <<LUA
local paths = {}
for line in io.lines("$work/paths.txt") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", prefix .. paths[i])
end
LUA

run_wrk() {  # URL_PREFIX LUA CONNECTIONS -> "requests/s p50_ms p99_ms errors"
  local out
  local threads=2
  [ "$3" -lt 2 ] && threads=1  # wrk needs at least one connection per thread
  out=$(wrk -t$threads -c"$3" -d"${secs}s" --latency -s "$2" "$1" 2>&1)
  echo "$out" > "$work/wrk-last.txt"
  python3 - "$out" <<'PY'
import re, sys
t = sys.argv[1]
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
print(f"{rps:.0f} {ms('50'):.3f} {ms('99'):.3f} {errs}")
PY
}

# twin serve (no access log: nginx's is off too).
tport=$(free_port)
"$twin" serve --tiles "$tiles" --port "$tport" --no-access-log > "$work/twin.log" 2>&1 &
tpid=$!
# nginx with the same files, keep-alive, sendfile, two workers (this machine's cores).
nport=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { application/json json; model/gltf-binary glb; application/octet-stream subtree b3dm; }
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fcgi;
  uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:$nport; root $tiles; etag on; }
}
CONF
nginx -c "$work/nginx/nginx.conf"
trap 'kill $tpid 2>/dev/null || true; kill $(cat "$work/nginx/nginx.pid") 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$tport/tiles/0/tileset.json" >/dev/null && curl -sf "http://127.0.0.1:$nport/tileset.json" >/dev/null && break; sleep 0.1; done

sed "s|^local i = 0|local i = 0\nprefix = \"/tiles/0/\"|" "$work/paths.lua" > "$work/twin.lua"
sed "s|^local i = 0|local i = 0\nprefix = \"/\"|" "$work/paths.lua" > "$work/nginx.lua"
echo "tiles: $tiles ($nfiles files), wrk 2 threads, ${secs} s each, this machine: $(nproc) cores"
printf "%-34s %12s %9s %9s %7s\n" "run" "requests/s" "p50_ms" "p99_ms" "errors"
for c in 64 256; do
  read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$nport" "$work/nginx.lua" $c)
  printf "%-34s %12s %9s %9s %7s\n" "nginx, tiles, $c connections" "$rps" "$p50" "$p99" "$err"
  nrps=$rps
  read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$tport" "$work/twin.lua" $c)
  printf "%-34s %12s %9s %9s %7s\n" "twin serve, tiles, $c connections" "$rps" "$p50" "$p99" "$err"
  python3 -c "import sys; print(f'  twin / nginx: {float(sys.argv[1])/float(sys.argv[2])*100:.0f} %')" "$rps" "$nrps"
done
kill $tpid; wait $tpid 2>/dev/null || true

# API on a large embedded store.
store="${STORE:-/tmp/twin-bench-landuse/store-1000000.gpkg}"
if [ ! -f "$store" ]; then
  "$build/tools/bench/twin_bench_landuse" --lookups 100 > "$work/landuse.txt"
fi
aport=$(free_port)
"$twin" serve --tiles "$tiles" --store "$store" --port "$aport" --no-access-log > "$work/twin-api.log" 2>&1 &
tpid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$aport/api/status" >/dev/null && break; sleep 0.1; done
# The benchmark store's grid: 1,000 x 1,000 cells of 20 m from (-20000, -45000) in EPSG:6677.
read -r lon0 lat0 lon1 lat1 < <(printf -- "-45000 -20000\n-25000 0\n" | cs2cs -f %.7f EPSG:6677 EPSG:6668 | awk 'NR==1{a=$2;b=$1} NR==2{print a, b, $2, $1}')
nb=$(sqlite3 "$store" "select count(*) from buildings")
cat > "$work/at.lua" <<LUA
math.randomseed(42)
request = function()
  local lon = $lon0 + math.random() * ($lon1 - $lon0)
  local lat = $lat0 + math.random() * ($lat1 - $lat0)
  return wrk.format("GET", string.format("/api/parcels/at?lon=%.7f&lat=%.7f", lon, lat))
end
LUA
cat > "$work/building.lua" <<LUA
math.randomseed(7)
request = function()
  return wrk.format("GET", "/api/buildings/B" .. math.random(0, $nb - 1))
end
LUA
# Warm the building links once (the first check of a building computes and stores them).
curl -s "http://127.0.0.1:$aport/api/buildings/B0" > /dev/null
echo "API on $(sqlite3 "$store" "select count(*) from parcels") parcels, $nb buildings (GeoPackage)"
for c in 1 16; do
  read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$aport" "$work/at.lua" $c)
  printf "%-34s %12s %9s %9s %7s\n" "parcel at point, $c connections" "$rps" "$p50" "$p99" "$err"
  read -r rps p50 p99 err < <(run_wrk "http://127.0.0.1:$aport" "$work/building.lua" $c)
  printf "%-34s %12s %9s %9s %7s\n" "building detail, $c connections" "$rps" "$p50" "$p99" "$err"
done
