// The dashboard's layers as drawn: API features (app/analysis/layers.py, the dashboard's
// points.json) turned into the features static/js/layermap.js draws, each with a style
// and a popup of plain text lines. Colours come from the palette data island
// (app/vocabulary.py), texts from the page's data island: nothing is copied here.

/* global L */
import { readJson } from "./basemap.js";

export const PALETTE = readJson("palette");
const HEX_STEPS = Object.entries(PALETTE.hexagon)
  .map(([threshold, colour]) => [Number(threshold), colour])
  .sort((a, b) => a[0] - b[0]);
const CONFIDENCE = { 3: "99 %", 2: "95 %", 1: "90 %" };

// A translated pattern's %(name)d / %(name)s placeholders filled with values.
export function fill(pattern, values) {
  return pattern.replace(/%\((\w+)\)([ds])/g, (match, name, kind) => {
    const value = values[name];
    return kind === "d" ? String(Math.round(Number(value))) : String(value);
  });
}

function cellStyle(colour, opacity) {
  return { color: colour, weight: 0.5, fillColor: colour, fillOpacity: Math.round(opacity * 1000) / 1000 };
}

export function hexColour(total) {
  let colour = HEX_STEPS[0][1];
  for (const [threshold, stepColour] of HEX_STEPS) if (total >= threshold) colour = stepColour;
  return colour;
}

function drawn(feature, style, lines) {
  return { type: "Feature", geometry: feature.geometry, properties: { style, popup: { lines } } };
}

// Each layer: API feature collection -> drawn features.
export const STYLES = {
  hexagons(body, texts) {
    return body.features.map((feature) => {
      const p = feature.properties;
      const lines = [fill(texts.hexagon, { n: p.total, u: p.unsafe, s: p.safe })];
      for (const [label, count] of p.top_categories || []) lines.push(`${label} (${count})`);
      return drawn(feature, { ...cellStyle(hexColour(p.total), 0.7), color: "#555" }, lines);
    });
  },
  hotspots(body, texts) {
    return body.features.map((feature) => {
      const p = feature.properties;
      const text = fill(texts.hotspot, { z: p.z, level: CONFIDENCE[Math.abs(p.bin)] });
      return drawn(feature, cellStyle(PALETTE.hotspot[String(p.bin)], 0.75), [text]);
    });
  },
  net(body, texts) {
    return body.features.map((feature) => {
      const { net } = feature.properties;
      const colour = PALETTE.feeling[net > 0 ? "unsafe" : "safe"];
      return drawn(feature, cellStyle(colour, 0.15 + 0.6 * Math.abs(net)), [fill(texts.net, { net })]);
    });
  },
  difference(body, texts) {
    const top = Math.max(0, ...body.features.map((f) => Math.abs(f.properties.difference))) || 1;
    return body.features.map((feature) => {
      const p = feature.properties;
      const colour = PALETTE.difference[p.difference > 0 ? "b" : "a"];
      const style = cellStyle(colour, 0.1 + (0.7 * Math.abs(p.difference)) / top);
      return drawn(feature, style, [fill(texts.difference, { a: p.a, b: p.b })]);
    });
  },
  points(body) {
    return body.features.map((feature) => {
      const style = {
        radius: 4, weight: 1, color: "#fff", fillColor: PALETTE.feeling[feature.properties.feeling], fillOpacity: 0.9,
      };
      return drawn(feature, style, [feature.properties.text]); // user text: a text line
    });
  },
};

// Replace a GeoJSON layer's features (the layer keeps its place in the switcher).
export function redraw(layer, features) {
  layer.clearLayers();
  layer.addData({ type: "FeatureCollection", features });
}

// Replace the density picture inside its layer group; returns the new object URL.
export function redrawImage(group, blob, xBounds, oldUrl) {
  group.clearLayers();
  if (oldUrl) URL.revokeObjectURL(oldUrl);
  const [west, south, east, north] = (xBounds || "").split(",").map(Number);
  if (!blob || ![west, south, east, north].every(Number.isFinite)) return null;
  const url = URL.createObjectURL(blob);
  L.imageOverlay(url, [[south, west], [north, east]], { interactive: false }).addTo(group);
  return url;
}
