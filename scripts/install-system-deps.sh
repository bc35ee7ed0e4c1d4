#!/usr/bin/env bash
# Install the system packages Ressenti needs, only those missing, on Debian or Ubuntu.
#   scripts/install-system-deps.sh          # server: PostgreSQL + PostGIS, nginx, Node.js/npm
#   scripts/install-system-deps.sh --test   # and Chromium, GDAL's tools, PyQGIS for the tests
# Uses sudo when not run as root. Does nothing (fast) when everything is present.
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

pg_major() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$bin" ] && basename "$(dirname "$(dirname "$bin")")"
}

has_postgis() {
  [ -f "/usr/share/postgresql/$1/extension/postgis.control" ] &&
    ls /usr/lib/postgresql/"$1"/lib/postgis-3*.so >/dev/null 2>&1
}

# pgRouting computes the walking routes (app/routes); versioned by the server's major too.
has_pgrouting() {
  [ -f "/usr/share/postgresql/$1/extension/pgrouting.control" ]
}

missing=()
major=$(pg_major || true)
if [ -z "$major" ]; then
  missing+=(postgresql)
else
  has_postgis "$major" || missing+=("postgresql-$major-postgis-3")
  has_pgrouting "$major" || missing+=("postgresql-$major-pgrouting")
fi
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
# The buffering front of `make run` (deploy/nginx-front.conf), started by the project.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx)
# WeasyPrint (the workshop synthesis PDF) draws text with Pango and needs a font.
ldconfig -p | grep -q 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
[ -n "$(fc-list 2>/dev/null | head -n 1)" ] || missing+=(fonts-dejavu-core fontconfig)
if [ "$want_test" = 1 ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # GDAL's own clients read the exports and the OGC API in the tests and the benchmark.
  command -v ogrinfo >/dev/null && command -v ogr2ogr >/dev/null || missing+=(gdal-bin)
  # QGIS 3.22 itself (PyQGIS, run by the system's python3) loads the OGC API in the tests.
  /usr/bin/python3 -c 'import qgis.core' 2>/dev/null || missing+=(python3-qgis)
  # pdftoppm renders the synthesis PDF in the tests.
  command -v pdftoppm >/dev/null || missing+=(poppler-utils)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Missing system packages: ${missing[*]}. Install them with your package manager." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -q
# Ressenti runs its own cluster under var/: don't let the packages create and start another.
$sudo mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/ressenti.conf >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# PostGIS is versioned by the server's major, known only once the server is installed.
major=$(pg_major)
extras=()
has_postgis "$major" || extras+=("postgresql-$major-postgis-3")
has_pgrouting "$major" || extras+=("postgresql-$major-pgrouting")
if [ ${#extras[@]} -gt 0 ]; then
  $sudo apt-get install -y -q --no-install-recommends "${extras[@]}"
fi
# Likewise the nginx package's own site on port 80: the project starts its own front.
if [[ " ${missing[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
fi
