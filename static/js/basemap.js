// A Leaflet map that needs no tile server: quartier outlines and streets come from
// Ressenti itself; tiles are drawn on top only when a tile URL is configured.

/* global L */

export function baseMap(element, { quartiers, streetsUrl, tiles, attribution }) {
  const map = L.map(element, { zoomControl: true, attributionControl: true });
  if (tiles) L.tileLayer(tiles, { attribution, maxZoom: 19 }).addTo(map);
  const outline = L.geoJSON(quartiers, {
    interactive: false,
    style: { color: "#1f4e79", weight: 3, fillColor: "#4a90c2", fillOpacity: 0.08 },
  }).addTo(map);
  if (outline.getBounds().isValid()) map.fitBounds(outline.getBounds(), { padding: [8, 8] });
  addStreets(map, streetsUrl);
  return map;
}

// Street centre-lines in their own pane under the quartiers, fetched after the page loads.
export function addStreets(map, streetsUrl) {
  map.createPane("streets").style.zIndex = 350;
  if (!streetsUrl) return;
  fetch(streetsUrl, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (data) {
        L.geoJSON(data, {
          pane: "streets", interactive: false, style: { color: "#8a8a8a", weight: 1, opacity: 0.8 },
        }).addTo(map);
      }
    })
    .catch(() => {});
}

export function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}
