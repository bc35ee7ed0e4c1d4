#!/usr/bin/env bash
# Copy the front-end libraries installed by `npm ci` into static/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf static/vendor
mkdir -p static/vendor/leaflet
cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
      node_modules/leaflet/dist/images node_modules/leaflet/LICENSE static/vendor/leaflet/
mkdir -p static/vendor/html-to-image
cp node_modules/html-to-image/dist/html-to-image.js node_modules/html-to-image/LICENSE \
   static/vendor/html-to-image/
mkdir -p static/vendor/leaflet-draw
cp -r node_modules/leaflet-draw/dist/leaflet.draw.js node_modules/leaflet-draw/dist/leaflet.draw.css \
      node_modules/leaflet-draw/dist/images node_modules/leaflet-draw/package.json \
      static/vendor/leaflet-draw/
# axe-core: for the accessibility tests and manual inspection only; no page loads it.
mkdir -p static/vendor/axe-core
cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE static/vendor/axe-core/
