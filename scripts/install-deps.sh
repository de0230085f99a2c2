#!/usr/bin/env bash
# Installs everything twin needs on Debian 12 (run as root): compilers, libraries from Debian,
# and the npm packages of the tests and the web viewer. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libxml2-dev libproj-dev proj-data proj-bin libdraco-dev catch2 nlohmann-json3-dev libcgal-dev libeigen3-dev
  libstb-dev libtiff-dev libjpeg-dev libwebp-dev libmeshoptimizer-dev libzip-dev libopen3d-dev libcli11-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libboost-dev
  clang libclang-rt-14-dev
  libgdal-dev gdal-bin libgeos-dev libsqlite3-dev sqlite3 libpq-dev postgresql-15 postgresql-15-postgis-3
  chromium fonts-ipafont-gothic curl python3
)
# Node.js and npm from Debian unless some Node.js is already installed.
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (versions pinned in package.json / package-lock.json); installed again when the
# lock file changed since the last install.
for dir in tests/node viewer-server/web; do
  if [ -f "$dir/package.json" ] && { [ ! -d "$dir/node_modules" ] ||
       { [ -f "$dir/package-lock.json" ] && [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; }; }; then
    echo "install-deps: npm packages in $dir"
    (cd "$dir" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi)
  fi
done

# The CesiumGS 3D Tiles validator (reference validator for every tileset the tests write): not on
# the npm registry, built once from its source in ../shared/tools into ~/.cache/3d-tiles-validator.
validator_src=../shared/tools/3d-tiles-validator/build.sh
if [ -f "$validator_src" ]; then
  if [ ! -f "${TWIN_3DTILES_VALIDATOR:-$HOME/.cache/3d-tiles-validator/build/main.js}" ]; then
    echo "install-deps: building the 3D Tiles validator (a few minutes, once)"
    bash "$validator_src" >/dev/null
  fi
else
  echo "install-deps: ../shared/tools/3d-tiles-validator not found: the tests that validate tilesets will fail" >&2
fi
