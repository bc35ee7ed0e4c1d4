// The dashboard's "Tendances" overlay: emerging hot spot patterns across editions, from
// the layers API's /trends (staff, full counts; app/analysis/trends.py). Fetched only
// while the overlay is shown, again when the filters change. Cells are coloured by
// pattern (palette "trend", app/vocabulary.py); the legend section counts the drawn cells
// of each pattern and names the periods. Fewer than three periods, or a refusal, is the
// API's message shown as text in the legend, never an error.
//
// The map element gets data-trends-ready once the overlay of the current filters is
// drawn (browser tests wait for it).

import { readJson } from "./basemap.js";
import { fill, redraw } from "./dashlayers.js";

const PALETTE = readJson("palette").trend;

function drawnCell(feature, text) {
  const colour = PALETTE[feature.properties.pattern];
  const style = { color: "#333", weight: 0.5, fillColor: colour, fillOpacity: 0.75 };
  return { type: "Feature", geometry: feature.geometry, properties: { style, popup: { lines: [text] } } };
}

function cells(body, texts) {
  return (body.features || []).map((feature) => {
    const p = feature.properties;
    return drawnCell(feature, fill(texts.trend, { label: p.pattern_label, counts: p.counts.join(", ") }));
  });
}

function showLegend(body) {
  const tally = {};
  for (const { properties } of body.features || []) tally[properties.pattern] = (tally[properties.pattern] || 0) + 1;
  for (const item of document.querySelectorAll("#trends-legend [data-pattern]")) {
    const count = tally[item.dataset.pattern];
    item.querySelector(".trend-count").textContent = count ? `(${count})` : "";
  }
  const titles = (body.periods || []).map((p) => p.title); // workshop titles: user text
  document.getElementById("trends-periods").textContent = titles.join(" → ");
  document.getElementById("trends-message").textContent = body.message || "";
}

// ``query()``: the current filters as the layers API reads them (full=1 for staff).
export function trendsLayer(element, map, overlay, data, query) {
  let drawnQuery = null;
  let generation = 0;
  if (!data.full) map.layerControl.removeLayer(overlay.layer); // trends follow exact counts

  async function update() {
    if (!map.hasLayer(overlay.layer)) return;
    const wanted = query();
    if (wanted === drawnQuery) return;
    generation += 1;
    const mine = generation;
    element.removeAttribute("data-trends-ready");
    let body;
    try {
      const response = await fetch(`${data.api.trends}?${wanted}`, { credentials: "same-origin" });
      body = await response.json(); // a refusal (422) carries its French message too
    } catch (error) {
      body = { features: [], message: data.texts.failed };
    }
    if (mine !== generation) return;
    redraw(overlay.layer, cells(body, data.texts));
    showLegend(body);
    drawnQuery = wanted;
    element.setAttribute("data-trends-ready", String(mine));
  }

  map.on("overlayadd", ({ layer }) => {
    if (layer === overlay.layer) update();
  });
  return { update };
}
