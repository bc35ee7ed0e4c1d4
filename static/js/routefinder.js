// The public route finder: a resident picks two places (the lists work without the
// map) or taps them on the map, chooses the time of day, and gets the recommended and
// the shortest routes drawn, the difference in metres and minutes, and the stretches
// avoided. Every name (places, streets) is inserted as text; the API's refusals
// (422 naming the field, 404) are shown as the reader's language's text.

/* global L */
import { baseMap, readJson } from "./basemap.js";

const form = document.getElementById("route-finder");
const spec = readJson("rf-data");
const texts = readJson("rf-texts");
const palette = readJson("palette").route;
const hint = document.getElementById("rf-hint");
const errorBox = document.getElementById("rf-error");
const resultBox = document.getElementById("rf-result");
const selects = { from: form.querySelector("#rf-from"), to: form.querySelector("#rf-to") };
const numbers = new Intl.NumberFormat(document.documentElement.lang || "fr", {
  maximumFractionDigits: 0,
});
const weights = new Intl.NumberFormat(document.documentElement.lang || "fr", {
  maximumFractionDigits: 2,
});

const map = baseMap(document.getElementById("rf-map"), {
  quartiers: spec.quartiers,
  streetsUrl: spec.streets,
  tiles: spec.tiles && spec.tiles.url,
  attribution: spec.tiles && spec.tiles.attribution,
});
document.getElementById("rf-map").leafletMap = map; // for browser tests that move the view
const drawn = L.layerGroup().addTo(map);
const ends = L.layerGroup().addTo(map);

// "{m} m" with values: plain text in, plain text out.
function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function pointOf(select) {
  const [lon, lat] = select.value.split(",").map(Number);
  return Number.isFinite(lon) && Number.isFinite(lat) ? [lon, lat] : null;
}

function drawEnds() {
  ends.clearLayers();
  for (const [name, letter] of [["from", "A"], ["to", "B"]]) {
    const point = pointOf(selects[name]);
    if (!point) continue;
    L.circleMarker([point[1], point[0]], {
      radius: 10, color: "#fff", weight: 2, fillColor: palette.ends, fillOpacity: 1,
    }).bindTooltip(letter, { permanent: true, direction: "top" }).addTo(ends);
  }
}

// A tapped point becomes the select's own option, so that the form stays the truth.
function setFromMap(name, latlng) {
  const select = selects[name];
  let option = select.querySelector("option[data-map]");
  if (!option) {
    option = element("option", texts.map_point);
    option.dataset.map = "1";
    select.append(option);
  }
  option.value = `${latlng.lng.toFixed(6)},${latlng.lat.toFixed(6)}`;
  select.value = option.value;
}

function tapTarget() {
  return form.querySelector("input[name=tap]:checked").value;
}

function setTapTarget(name) {
  form.querySelector(`input[name=tap][value=${name}]`).checked = true;
  hint.textContent = name === "from" ? texts.next_from : texts.next_to;
}

function showError(text) {
  resultBox.replaceChildren();
  errorBox.textContent = text;
}

function refusal(status, body) {
  if (status === 422 && body && body.fields && Object.keys(body.fields).length) {
    return Object.entries(body.fields)
      .map(([field, message]) => `${texts.fields[field.replace(/\[\d+\]$/, "")] || field} : ${message}`)
      .join(" ");
  }
  if (status === 404) return (body && body.message) || texts.not_found;
  if (status === 422 && body && body.message) return body.message;
  return texts.failed;
}

function streetName(name) {
  return name || texts.unnamed;
}

function summary(recommended, shortest, meta) {
  const box = element("div", undefined, "rf-summary");
  const line = (kind, template, props) => {
    const p = element("p", undefined, `rf-${kind}`);
    p.append(element("span", undefined, `route-swatch ${kind}`));
    p.append(document.createTextNode(
      ` ${format(template, { m: numbers.format(props.length_m), min: numbers.format(props.minutes) })}`,
    ));
    return p;
  };
  box.append(line("recommended", texts.recommended, recommended.properties));
  box.append(line("shortest", texts.shortest, shortest.properties));
  const props = recommended.properties;
  const extraM = Math.round(props.length_m - shortest.properties.length_m);
  const extraMin = Math.round(props.minutes - shortest.properties.minutes);
  const difference = extraM > 0
    ? format(texts.longer, { m: numbers.format(extraM), min: numbers.format(extraMin) })
    : texts.same;
  box.append(element("p", difference, "rf-difference"));
  if (props.exposure_reduction_pct > 0) {
    box.append(element("p", format(texts.exposure, { pct: numbers.format(props.exposure_reduction_pct) })));
  }
  if (props.avoided && props.avoided.length) {
    box.append(element("h3", texts.why));
    const list = element("ul", undefined, "rf-avoided");
    for (const stretch of props.avoided) {
      list.append(element("li", format(texts.avoided, {
        name: streetName(stretch.name), m: numbers.format(stretch.length_m),
      })));
    }
    box.append(list);
  }
  const details = element("details");
  details.append(element("summary", texts.streets));
  const order = element("ol", undefined, "rf-streets");
  for (const street of props.streets || []) {
    order.append(element("li", `${streetName(street.name)} (${numbers.format(street.length_m)} m)`));
  }
  details.append(order);
  box.append(details);
  if (meta && meta.alpha !== undefined) {
    box.append(element("p", format(texts.weights, {
      alpha: weights.format(meta.alpha), beta: weights.format(meta.beta),
      alpha_pct: numbers.format(meta.alpha * 100), beta_pct: numbers.format(meta.beta * 100),
    }), "hint"));
  }
  return box;
}

function draw(collection) {
  drawn.clearLayers();
  const byId = Object.fromEntries(collection.features.map((f) => [f.id, f]));
  const { recommended, shortest } = byId;
  if (!recommended || !shortest) return showError(texts.failed);
  // The shortest under the recommended one, dashed: both stay visible where they part.
  const lines = L.featureGroup([
    L.geoJSON(shortest, { interactive: false,
      style: { color: palette.shortest, weight: 5, opacity: 0.85, dashArray: "6 8",
        className: "route-shortest" } }),
    L.geoJSON(recommended, { interactive: false,
      style: { color: palette.recommended, weight: 7, opacity: 0.85,
        className: "route-recommended" } }),
  ]).addTo(drawn);
  // The tapped places too: a place snaps to the nearest street, which may be off the line.
  const bounds = lines.getBounds();
  ends.eachLayer((marker) => bounds.extend(marker.getLatLng()));
  map.fitBounds(bounds, { padding: [32, 32] });
  errorBox.textContent = "";
  resultBox.replaceChildren(summary(recommended, shortest, collection.meta));
  return undefined;
}

let asked = 0; // only the last request's answer is drawn

async function search() {
  const from = pointOf(selects.from);
  const to = pointOf(selects.to);
  if (!from || !to) return showError(texts.pick_both);
  const query = new URLSearchParams({ from: from.join(","), to: to.join(",") });
  const time = form.querySelector("#rf-time").value;
  if (time) query.set("time_of_day", time);
  const mine = ++asked;
  errorBox.textContent = "";
  resultBox.replaceChildren(element("p", texts.searching, "muted"));
  let response;
  let body = null;
  try {
    response = await fetch(`${spec.api}?${query}`, {
      credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" },
    });
    body = await response.json().catch(() => null);
  } catch (error) {
    if (mine === asked) showError(texts.offline);
    return undefined;
  }
  if (mine !== asked) return undefined;
  if (!response.ok || !body) {
    drawn.clearLayers();
    return showError(refusal(response.status, body));
  }
  return draw(body);
}

map.on("click", (event) => {
  const name = tapTarget();
  setFromMap(name, event.latlng);
  drawEnds();
  if (name === "from") setTapTarget("to");
  else setTapTarget("from");
  if (pointOf(selects.from) && pointOf(selects.to)) search();
});

for (const select of Object.values(selects)) select.addEventListener("change", drawEnds);
form.querySelector("#rf-time").addEventListener("change", () => {
  if (pointOf(selects.from) && pointOf(selects.to)) search();
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  search();
});
