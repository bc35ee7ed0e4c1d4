// Dashboard: the page carries the map without data; this module fetches the layers from
// the layers API with the form's filters (full counts for staff) and redraws them when a
// filter changes, without reloading: the URL keeps the filters (history.replaceState),
// so a reload gives the same view, and the form still works as a plain GET without
// script. The raw points come from the dashboard's own points.json (audited, comments
// for who may read them), fetched only while that layer is shown.
//
// The legend shows the sections of the visible layers only. The "image" and "PDF" links
// ask the server for the map as it is shown (the visible layers, the current bounds, the
// filters); the server draws it from the same data and never copies the page's DOM.
//
// The map element gets data-layers-ready once the layers of the current filters are drawn
// (tests and bench/dashboard.py wait for it).

import { readJson } from "./basemap.js";
import { drawnMaps } from "./layermap.js";
import { STYLES, fill, redraw, redrawImage } from "./dashlayers.js";
import { tileOverlay, tileQuery } from "./dashtiles.js";
import { trendsLayer } from "./trendslayer.js";

const DRAWABLE = ["density", "hexagons", "hotspots", "net"]; // app/analysis/map_image.py
const NOT_LAYER_FILTERS = ["a", "b", "lang"];

const data = readJson("dashboard-data");
const form = document.getElementById("filters");
const summary = document.getElementById("summary");
const hotspotWindow = document.getElementById("hotspot-window");
const links = ["map-png", "map-pdf"].map((id) => document.getElementById(id));
const [[element, { map }]] = drawnMaps.entries();
const overlays = Object.fromEntries(map.overlaysById.map((o) => [o.id, o]));

// Large territories: hexagons and points from vector tiles (static/js/dashtiles.js).
const tiled = data.tiles
  ? Object.fromEntries(
    ["hexagons", "points"].map((id) => [
      id,
      tileOverlay(map, { id, group: overlays[id].layer, template: data.tiles[id], texts: data.texts }),
    ]),
  )
  : null;

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

let generation = 0;
let densityUrl = null;
let pointsQuery = null; // the query the drawn points belong to
let comparing = false; // whether the difference layer is in the switcher (not before data)

// The form's non-empty fields, and the interface language of the page.
function pageParams() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
  const lang = new URLSearchParams(window.location.search).get("lang");
  if (lang) params.set("lang", lang);
  return params;
}

function apiParams(page, { withWorkshop = true } = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of page) {
    if (NOT_LAYER_FILTERS.includes(name) || (!withWorkshop && name === "workshop")) continue;
    params.set(name, value);
  }
  if (page.get("lang")) params.set("lang", page.get("lang"));
  if (data.full) params.set("full", "1");
  return params;
}

class Invalid extends Error {}

async function get(url, as) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (response.status === 422) throw new Invalid(url);
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return as === "blob" ? { blob: await response.blob(), bounds: response.headers.get("X-Bounds") } : response.json();
}

function updateLinks() {
  const shown = map.overlaysById
    .filter(({ id, layer }) => DRAWABLE.includes(id) && map.hasLayer(layer))
    .map(({ id }) => id);
  const bounds = map.getBounds();
  const box = [
    clamp(bounds.getWest(), -180, 180), clamp(bounds.getSouth(), -90, 90),
    clamp(bounds.getEast(), -180, 180), clamp(bounds.getNorth(), -90, 90),
  ];
  const files = new URLSearchParams(pageParams());
  files.delete("a");
  files.delete("b");
  for (const link of links) {
    const url = new URL(link.href, window.location.href);
    url.search = files.toString();
    url.searchParams.set("layers", shown.join(","));
    url.searchParams.set("bbox", box.map((v) => v.toFixed(5)).join(","));
    link.href = url.pathname + url.search;
  }
}

function updateLegend() {
  for (const section of document.querySelectorAll(".legend [data-layer]")) {
    const overlay = overlays[section.dataset.layer];
    section.hidden = !(overlay && map.hasLayer(overlay.layer));
  }
}

// The difference layer is offered only while two sets are compared.
function setComparing(on) {
  if (on === comparing) return;
  comparing = on;
  const { layer, name } = overlays.difference;
  if (on) {
    map.layerControl.addOverlay(layer, name);
    layer.addTo(map);
  } else {
    map.layerControl.removeLayer(layer);
    map.removeLayer(layer);
  }
}

function showSummary(hexagons) {
  let unsafe = 0;
  let safe = 0;
  for (const { properties } of hexagons.features) {
    unsafe += properties.unsafe;
    safe += properties.safe;
  }
  const cells = hexagons.features.length;
  summary.textContent = fill(data.texts.summary, { n: unsafe + safe, u: unsafe, s: safe, c: cells });
}

function showWindow(hotspots) {
  if (!hotspots.window) return;
  hotspotWindow.textContent = fill(data.texts.window, {
    quartiers: hotspots.window.quartiers.join(", "),
    cells: hotspots.window.cells,
    distance: hotspots.distance_m,
  });
}

async function loadPoints(page, mine) {
  if (tiled) return; // the tiles of the points overlay follow the filters by themselves
  const query = apiParams(page).toString();
  if (query === pointsQuery) return;
  const body = await get(`${data.api.points}?${query}`);
  if (mine !== generation) return;
  redraw(overlays.points.layer, STYLES.points(body, data.texts));
  pointsQuery = query;
}

// Fetch every layer of the form's filters and draw them.
async function load() {
  generation += 1;
  const mine = generation;
  element.removeAttribute("data-layers-ready");
  const page = pageParams();
  const query = apiParams(page).toString();
  const compare = page.get("a") && page.get("b");
  const requests = {
    density: get(`${data.api.density}?${query}`, "blob"),
    hexagons: get(`${data.api.hexagons}?${query}`),
    hotspots: get(`${data.api.hotspots}?${query}`),
    net: page.get("feeling") ? null : get(`${data.api.net}?${query}`),
  };
  if (compare) {
    const sets = apiParams(page, { withWorkshop: false });
    sets.set("a", page.get("a"));
    sets.set("b", page.get("b"));
    requests.difference = get(`${data.api.difference}?${sets}`);
  }
  const tilesDrawn = tiled
    ? Promise.all(Object.values(tiled).map((overlay) => overlay.setQuery(tileQuery(page))))
    : null;
  if (!tiled && pointsQuery !== query) {
    pointsQuery = null;
    redraw(overlays.points.layer, []);
  }
  try {
    const names = Object.keys(requests);
    const bodies = Object.fromEntries(
      (await Promise.all(names.map((n) => requests[n]))).map((body, i) => [names[i], body]),
    );
    if (map.hasLayer(overlays.points.layer)) await loadPoints(page, mine);
    await tilesDrawn;
    if (mine !== generation) return;
    densityUrl = redrawImage(overlays.density.layer, bodies.density.blob, bodies.density.bounds, densityUrl);
    for (const name of ["hexagons", "hotspots", "net", "difference"]) {
      const body = bodies[name];
      if (tiled && tiled[name]) continue; // drawn from its tiles
      if (body !== undefined) redraw(overlays[name].layer, body ? STYLES[name](body, data.texts) : []);
    }
    setComparing(Boolean(compare));
    showSummary(bodies.hexagons);
    showWindow(bodies.hotspots);
    updateLegend();
    updateLinks();
    element.setAttribute("data-layers-ready", String(mine));
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof Invalid) form.submit(); // the page names the bad filter in French
    else summary.textContent = data.texts.failed;
  }
}

const trends = trendsLayer(element, map, overlays.trends, data, () => apiParams(pageParams()).toString());

function filtersChanged(event) {
  if (event.type === "submit") event.preventDefault();
  const params = pageParams();
  const search = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
  load();
  trends.update();
}

form.addEventListener("change", filtersChanged);
form.addEventListener("submit", filtersChanged);
map.layerControl.removeLayer(overlays.difference.layer);
map.on("overlayadd", ({ layer }) => {
  if (layer === overlays.points.layer) {
    loadPoints(pageParams(), generation).catch(() => {
      summary.textContent = data.texts.failed;
    });
  }
});
map.on("overlayadd overlayremove", updateLegend);
map.on("moveend overlayadd overlayremove", updateLinks);
updateLegend();
updateLinks();
load();
