#!/usr/bin/env bash
# Copy the front-end libraries installed by `npm ci` into static/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf static/vendor
mkdir -p static/vendor/leaflet
cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
      node_modules/leaflet/dist/images node_modules/leaflet/LICENSE static/vendor/leaflet/
mkdir -p static/vendor/leaflet-draw
cp -r node_modules/leaflet-draw/dist/leaflet.draw.js node_modules/leaflet-draw/dist/leaflet.draw.css \
      node_modules/leaflet-draw/dist/images node_modules/leaflet-draw/package.json \
      static/vendor/leaflet-draw/
# axe-core: for the accessibility tests and manual inspection only; no page loads it.
mkdir -p static/vendor/axe-core
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE static/vendor/axe-core/
# Leaflet.VectorGrid: the dashboard's vector tiles on large territories (no eval; its
# bundled build carries pbf and vector-tile, so no bundler is needed). Licence: Beerware,
# stated in its package.json.
mkdir -p static/vendor/leaflet.vectorgrid
cp node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js \
   node_modules/leaflet.vectorgrid/package.json static/vendor/leaflet.vectorgrid/
