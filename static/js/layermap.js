// Draws every map described by app/territories/maps.py on the page (a JSON data island named by the
// element's data-layer-map): quartier outlines with name and area, streets, tiles when
// configured, and overlays (GeoJSON features with a style and a popup, or a picture),
// with a layer switcher. Names, titles, labels and comments are inserted as text only:
// they are data, never markup, script or template source (DESIGN §3).

/* global L */
import { addStreets, readJson } from "./basemap.js";

const QUARTIER_STYLE = { color: "#1f4e79", weight: 2, fillColor: "#4a90c2", fillOpacity: 0.12 };
const QUARTIER_HIGHLIGHT = { weight: 4, fillOpacity: 0.3 };

function line(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

function sameOrigin(href) {
  try {
    return new URL(href, window.location.href).origin === window.location.origin;
  } catch (error) {
    return false;
  }
}

// A popup's content as DOM nodes: an optional bold title, plain lines, an optional link.
export function popupContent({ title, lines, link }) {
  const box = document.createElement("div");
  box.className = "map-popup";
  if (title) box.append(line("strong", title));
  for (const text of lines || []) box.append(line("div", text));
  if (link && sameOrigin(link.href)) {
    const anchor = line("a", link.text);
    anchor.href = link.href;
    box.append(anchor);
  }
  return box;
}

// Leaflet's layer switcher writes names as HTML: hand it escaped text.
function asHtmlText(text) {
  return line("span", text).innerHTML;
}

function quartierLayer(quartiers) {
  const outline = L.geoJSON(quartiers, {
    style: QUARTIER_STYLE,
    onEachFeature: (feature, layer) => {
      const { name, area } = feature.properties;
      layer.bindTooltip(() => {
        const box = document.createElement("div");
        box.append(line("div", name), line("div", area));
        return box;
      }, { sticky: true });
      layer.on("mouseover", () => layer.setStyle(QUARTIER_HIGHLIGHT));
      layer.on("mouseout", () => outline.resetStyle(layer));
    },
  });
  return outline;
}

function overlay(spec) {
  if ("image" in spec) {
    if (!spec.image) return L.layerGroup();
    return L.imageOverlay(spec.image.url, spec.image.bounds, { interactive: false });
  }
  return L.geoJSON({ type: "FeatureCollection", features: spec.features }, {
    style: (feature) => feature.properties.style,
    pointToLayer: (feature, latlng) => L.circleMarker(latlng, feature.properties.style),
    onEachFeature: (feature, layer) => {
      layer.bindPopup(() => popupContent(feature.properties.popup), { maxWidth: 280 });
    },
  });
}

export function drawLayerMap(element, spec) {
  const map = L.map(element, { zoomControl: true, attributionControl: true });
  L.control.scale().addTo(map);
  const overlays = {};
  if (spec.tiles) {
    const tiles = L.tileLayer(spec.tiles.url, { attribution: spec.tiles.attribution, maxZoom: 19 });
    tiles.addTo(map);
    overlays[asHtmlText(spec.tiles.name)] = tiles;
  }
  addStreets(map, spec.streets);
  const outline = quartierLayer(spec.quartiers).addTo(map);
  map.overlaysById = []; // {id, layer, name} of the overlays with a machine name (dashboard.js)
  for (const layerSpec of spec.layers) {
    const layer = overlay(layerSpec);
    if (layerSpec.show) layer.addTo(map);
    overlays[asHtmlText(layerSpec.name)] = layer;
    if (layerSpec.id) map.overlaysById.push({ id: layerSpec.id, layer, name: layerSpec.name });
  }
  if (spec.control) map.layerControl = L.control.layers({}, overlays, { collapsed: false }).addTo(map);
  if (spec.bounds) map.fitBounds(spec.bounds);
  else if (outline.getBounds().isValid()) map.fitBounds(outline.getBounds(), { padding: [8, 8] });
  else map.setView([46.6, 2.4], 5); // no quartier yet: France
  return map;
}

// Each drawn map, by its element; other modules of the page (the zone drawing) use it.
export const drawnMaps = new Map();

for (const element of document.querySelectorAll("[data-layer-map]")) {
  const spec = readJson(element.dataset.layerMap);
  const map = drawLayerMap(element, spec);
  drawnMaps.set(element, { map, spec });
  element.leafletMap = map; // for browser tests that move the view
}
