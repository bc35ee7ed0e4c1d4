// The projector screen: polls the workshop's pins every few seconds (a 304 when
// nothing changed) and redraws the map and the counts, without reloading the page.

/* global L */
import { baseMap, readJson } from "./basemap.js";

const POLL_MS = 3000;
const COLOURS = readJson("palette").feeling; // app/vocabulary.py, via templates/base.html
const ctx = readJson("live-context");
const text = readJson("live-text");
const map = baseMap("live-map", { quartiers: ctx.quartiers, streetsUrl: ctx.streets });
const layer = L.layerGroup().addTo(map);
let etag = null;
// Dots as large as the legend's (1em of the projected text): about 34 px at 1920×1080.
const em = parseFloat(getComputedStyle(document.querySelector(".live-page")).fontSize);
const RADIUS = Math.max(8, Math.round(em / 2));

function countBy(pins, key) {
  const counts = new Map();
  for (const pin of pins) {
    const row = counts.get(pin[key]) || { unsafe: 0, safe: 0 };
    row[pin.feeling] += 1;
    counts.set(pin[key], row);
  }
  return counts;
}

// Fills the table's <tbody id=…>; its column headers are in the template.
function fillTable(id, counts, label) {
  const rows = [...counts.entries()].sort((a, b) => (b[1].unsafe + b[1].safe) - (a[1].unsafe + a[1].safe));
  const body = rows.map(([key, row]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(label(key));
    tr.append(th);
    for (const value of [row.unsafe, row.safe]) {
      const td = document.createElement("td");
      td.className = "num";
      td.textContent = String(value);
      tr.append(td);
    }
    tr.dataset.key = String(key);
    return tr;
  });
  document.getElementById(id).replaceChildren(...body);
}

function draw({ pins }) {
  layer.clearLayers();
  for (const pin of pins) {
    L.circleMarker([pin.lat, pin.lon], {
      radius: RADIUS, color: "#fff", weight: 3, fillColor: COLOURS[pin.feeling], fillOpacity: 0.9,
      className: `live-pin live-${pin.feeling}`,
    }).addTo(layer);
  }
  const total = (feeling) => pins.filter((p) => p.feeling === feeling).length;
  document.getElementById("total").textContent = String(pins.length);
  document.getElementById("total-unsafe").textContent = String(total("unsafe"));
  document.getElementById("total-safe").textContent = String(total("safe"));
  fillTable("by-group", countBy(pins, "group"), (id) => ctx.groups[id] || id);
  fillTable("by-category", countBy(pins, "category"), (code) => ctx.categories[code] || code);
  fillTable("by-time", countBy(pins, "time_of_day"), (code) => ctx.times[code] || code);
}

async function poll() {
  try {
    const response = await fetch(ctx.feed, { headers: etag ? { "If-None-Match": etag } : {} });
    if (response.status === 200) {
      etag = response.headers.get("ETag");
      draw(await response.json());
    }
    const time = new Date().toLocaleTimeString();
    document.getElementById("live-updated").textContent = text.updated.replace("{time}", time);
  } catch (error) {
    document.getElementById("live-updated").textContent = text.offline;
  }
  window.setTimeout(poll, POLL_MS);
}

poll();
