// A Leaflet map that needs no tile server: quartier outlines and streets come from
// Ressenti itself; tiles are drawn on top only when a tile URL is configured.

/* global L */

export function baseMap(element, { quartiers, streetsUrl, tiles, attribution }) {
  const map = L.map(element, { zoomControl: true, attributionControl: true });
  if (tiles) L.tileLayer(tiles, { attribution, maxZoom: 19 }).addTo(map);
  map.createPane("streets").style.zIndex = 350;
  const outline = L.geoJSON(quartiers, {
    interactive: false,
    style: { color: "#1f4e79", weight: 3, fillColor: "#4a90c2", fillOpacity: 0.08 },
  }).addTo(map);
  if (outline.getBounds().isValid()) map.fitBounds(outline.getBounds(), { padding: [8, 8] });
  if (streetsUrl) {
    fetch(streetsUrl)
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (data) {
          L.geoJSON(data, { pane: "streets", interactive: false, style: { color: "#8a8a8a", weight: 1 } }).addTo(map);
        }
      })
      .catch(() => {});
  }
  return map;
}

export function readJson(id) {
  return JSON.parse(document.getElementById(id).textContent);
}
