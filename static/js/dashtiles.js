// The dashboard's hexagons and points drawn from vector tiles (OGC API – Tiles,
// app/gis/tiles.py) on large territories, where the page's data island names the tile
// URLs (app/analysis/dashboard_map.tile_urls); Leaflet.VectorGrid (static/vendor, a
// classic script: the global L.vectorGrid) fetches and draws the tiles in view only.
// Each tile layer sits inside its overlay's group, so the layer switcher shows and hides
// it as before. Popups are plain text lines (popupContent inserts them as text).

/* global L */
import { popupContent } from "./layermap.js";
import { fill, hexColour, PALETTE } from "./dashlayers.js";

// The dashboard's filters as the OGC API's (from/to are one datetime interval).
export function tileQuery(params) {
  const query = new URLSearchParams();
  for (const name of ["feeling", "category", "time_of_day", "workshop"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  if (params.get("from") || params.get("to")) {
    query.set("datetime", `${params.get("from") || ".."}/${params.get("to") || ".."}`);
  }
  return query.toString();
}

function hexagonStyle(properties) {
  const colour = hexColour(properties.total);
  return { color: "#555", weight: 0.5, fill: true, fillColor: colour, fillOpacity: 0.7 };
}

function pointStyle(properties) {
  const colour = PALETTE.feeling[properties.feeling];
  return { radius: 4, weight: 1, color: "#fff", fill: true, fillColor: colour, fillOpacity: 0.9 };
}

const STYLES = {
  hexagons: hexagonStyle,
  "hexagons-full": hexagonStyle,
  cells: hexagonStyle,
  points: pointStyle,
};

function popupLines(properties, texts) {
  if (properties.feeling === undefined) {
    return [fill(texts.hexagon, { n: properties.total, u: properties.unsafe ?? 0, s: properties.safe ?? 0 })];
  }
  return [properties.category_label, properties.workshop, properties.comment].filter(Boolean);
}

// 512-px tiles of one zoom less: a quarter of the requests (each one waits ~100 ms on a
// busy server, bench/RESULTS.md); cells are one size coarser than 256-px clients see.
// VectorGrid ignores zoomOffset when it fills the URL, so the zoom is lowered here.
// Made on first use: the page loads Leaflet.VectorGrid only in tile mode.
function halfZoomGrid(url, options) {
  const Grid = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise(coords, tileBounds) {
      const lower = coords.clone();
      lower.z = coords.z - 1;
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, lower, tileBounds);
    },
  });
  return new Grid(url, options);
}

// One tile layer in ``group`` (overlay ``id``'s layer group); returns {setQuery}. The map
// element has data-tiles-<id>-ready while the tiles in view are drawn (tests, benches).
export function tileOverlay(map, { id, group, template, texts }) {
  let url = template;
  const grid = halfZoomGrid(url, {
    vectorTileLayerStyles: STYLES,
    interactive: true,
    maxNativeZoom: 22,
    tileSize: 512, // see halfZoomGrid
    fetchOptions: { credentials: "same-origin" },
  });
  grid.on("click", (event) => {
    const content = popupContent({ lines: popupLines(event.layer.properties, texts) });
    L.popup({ maxWidth: 280 }).setLatLng(event.latlng).setContent(content).openOn(map);
  });
  const element = map.getContainer();
  grid.on("loading", () => element.removeAttribute(`data-tiles-${id}-ready`));
  grid.on("load", () => element.setAttribute(`data-tiles-${id}-ready`, ""));
  group.addLayer(grid);
  // A promise settled once the tiles in view of the current URL are drawn (at once when
  // the overlay is hidden: nothing to wait for).
  function drawn() {
    if (!map.hasLayer(group)) return Promise.resolve();
    return new Promise((resolve) => grid.once("load", resolve));
  }
  function setQuery(query) {
    const next = query ? `${template}?${query}` : template;
    if (next === url) return drawn.now();
    url = next;
    const done = drawn();
    grid.setUrl(url);
    return done;
  }
  drawn.now = () => (grid.isLoading() ? drawn() : Promise.resolve());
  return { setQuery };
}
