// Dashboard: the "image" and "PDF" links ask the server for the map as it is shown (the
// visible layers, the current bounds, the filters of the page); the server draws it from
// the same data, so it works with or without tiles and never copies the page's DOM.

import { drawnMaps } from "./layermap.js";

const links = ["map-png", "map-pdf"].map((id) => document.getElementById(id));
const [{ map }] = drawnMaps.values();

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

function update() {
  const shown = map.overlaysById.filter(({ layer }) => map.hasLayer(layer)).map(({ id }) => id);
  const bounds = map.getBounds();
  const box = [
    clamp(bounds.getWest(), -180, 180), clamp(bounds.getSouth(), -90, 90),
    clamp(bounds.getEast(), -180, 180), clamp(bounds.getNorth(), -90, 90),
  ];
  for (const link of links) {
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("layers", shown.join(","));
    url.searchParams.set("bbox", box.map((v) => v.toFixed(5)).join(","));
    link.href = url.pathname + url.search;
  }
}

map.on("moveend overlayadd overlayremove", update);
update();
