// The circuit form's map: a click places the departure, the arrival or a waypoint
// (whichever the radio buttons choose) into the form's "longitude, latitude" fields,
// and markers follow what the fields hold, typed or clicked. The fields stay the truth:
// the form works with the keyboard alone, without the map.

/* global L */
import { drawnMaps } from "./layermap.js";

const form = document.querySelector("form.circuit-form");
const element = form && form.querySelector("[data-layer-map]");
const drawn = element && drawnMaps.get(element);

function parsePoint(text) {
  const raw = text.replace(";", ",").split(",").map((part) => part.trim());
  if (raw.length !== 2 || raw.includes("")) return null;
  const [lon, lat] = raw.map(Number);
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  return Math.abs(lon) <= 180 && Math.abs(lat) <= 90 ? [lon, lat] : null;
}

function pointText(latlng) {
  return `${latlng.lng.toFixed(6)}, ${latlng.lat.toFixed(6)}`;
}

if (drawn) {
  const { map } = drawn;
  const palette = JSON.parse(document.getElementById("palette").textContent).route;
  const fields = {
    origin: form.querySelector("#origin"),
    destination: form.querySelector("#destination"),
    waypoints: form.querySelector("#waypoints"),
  };
  const markers = L.layerGroup().addTo(map);

  const mark = (point, text, colour) => {
    if (!point) return;
    L.circleMarker([point[1], point[0]], {
      radius: 9, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 1,
    }).bindTooltip(text, { permanent: true, direction: "top" }).addTo(markers);
  };

  const redraw = () => {
    markers.clearLayers();
    mark(parsePoint(fields.origin.value), "A", palette.ends);
    mark(parsePoint(fields.destination.value), "B", palette.ends);
    fields.waypoints.value.split("\n").filter((line) => line.trim()).forEach((line, index) => {
      mark(parsePoint(line), String(index + 1), palette.recommended);
    });
  };

  const choose = (value) => {
    form.querySelector(`input[name=place_next][value=${value}]`).checked = true;
  };

  map.on("click", (event) => {
    const which = form.querySelector("input[name=place_next]:checked").value;
    const text = pointText(event.latlng);
    if (which === "waypoints") {
      const lines = fields.waypoints.value.split("\n").filter((line) => line.trim());
      fields.waypoints.value = [...lines, text].join("\n");
    } else {
      fields[which].value = text;
      if (which === "origin" && !fields.destination.value.trim()) choose("destination");
    }
    redraw();
  });

  form.querySelector("#drop-waypoint").addEventListener("click", () => {
    const lines = fields.waypoints.value.split("\n").filter((line) => line.trim());
    fields.waypoints.value = lines.slice(0, -1).join("\n");
    redraw();
  });
  for (const field of Object.values(fields)) field.addEventListener("input", redraw);
  redraw();
}
