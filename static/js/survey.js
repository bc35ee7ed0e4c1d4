// The questionnaire page: reads the form into answers, keeps them on this phone
// (surveystore.js) and sends them; the map question places pins through the resident
// pin queue (pinstore.js, the questionnaire's public code), its answer being the ids of
// this browser's pins. What the respondent typed is always inserted as text.

/* global L */
import { baseMap, readJson } from "./basemap.js";
import { insideArea, outsideMask } from "./pinarea.js";
import { PinStore } from "./pinstore.js";
import { SurveyStore } from "./surveystore.js";

const ctx = readJson("survey-context");
const text = readJson("survey-text");
const $ = (id) => document.getElementById(id);
const form = $("survey-form");
const mapQuestion = ctx.questions.find((q) => q.kind === "map");

// ---- the form ⇄ answers -----------------------------------------------------------------

function inputs(key) {
  return Array.from(form.querySelectorAll(`[name="q-${CSS.escape(key)}"]`));
}

function readForm() {
  const answers = {};
  const other = {};
  for (const q of ctx.questions) {
    if (q.kind === "map") {
      answers[q.key] = pins ? pins.list().filter((p) => p.state !== "refused").map((p) => p.id) : [];
      continue;
    }
    const fields = inputs(q.key);
    if (q.kind === "text") {
      const value = fields[0].value.trim();
      if (value) answers[q.key] = value;
      continue;
    }
    const checked = fields.filter((f) => f.checked).map((f) => f.value);
    if (q.kind === "multiple") {
      if (checked.length) answers[q.key] = checked;
    } else if (checked.length) {
      answers[q.key] = checked[0];
    }
    const otherInput = form.querySelector(`[data-other-text="${CSS.escape(q.key)}"]`);
    if (otherInput && checked.includes("other") && otherInput.value.trim()) other[q.key] = otherInput.value.trim();
  }
  return { answers, other, website: $("website").value };
}

function fillForm(answers, other) {
  for (const q of ctx.questions) {
    const value = answers[q.key];
    if (q.kind === "map") continue;
    const fields = inputs(q.key);
    if (q.kind === "text") {
      fields[0].value = typeof value === "string" ? value : "";
      continue;
    }
    const chosen = Array.isArray(value) ? value : [value];
    for (const field of fields) field.checked = chosen.includes(field.value);
    const otherInput = form.querySelector(`[data-other-text="${CSS.escape(q.key)}"]`);
    if (otherInput) otherInput.value = other[q.key] || "";
  }
}

// ---- the map question ----------------------------------------------------------------

let pins = null;
let draft = null;
let draftMarker = null;
const shown = new Map();

function setupMap() {
  const p = ctx.pins;
  const map = baseMap("pin-map", {
    quartiers: p.quartiers, streetsUrl: `${p.api}/streets.geojson`, tiles: p.tiles, attribution: p.attribution,
  });
  outsideMask(map, p.quartiers);
  const markers = L.layerGroup().addTo(map);
  const icon = (kind) => L.divIcon({ className: `pin-marker pin-${kind}`, iconSize: [44, 44], iconAnchor: [22, 22] });
  const feeling = () => form.querySelector("input[name=pin-feeling]:checked").value;
  const fillCategories = () => {
    const select = $("pin-category");
    select.replaceChildren(...p.categories.filter((c) => c.feelings.includes(feeling()))
      .map((c) => new Option(c.label, c.code)));
  };
  const close = () => {
    draft = null;
    if (draftMarker) draftMarker.remove();
    draftMarker = null;
    $("pin-sheet").hidden = true;
    $("where").textContent = text.choose;
  };
  const choose = (latlng) => {
    if (pins.closed) return;
    if (!insideArea(p.quartiers, latlng.lng, latlng.lat)) {
      $("where").textContent = text.outside;
      return;
    }
    draft = { lon: Number(latlng.lng.toFixed(7)), lat: Number(latlng.lat.toFixed(7)) };
    if (!draftMarker) draftMarker = L.marker(latlng, { icon: icon("draft"), keyboard: false }).addTo(map);
    draftMarker.setLatLng(latlng);
    $("pin-sheet").hidden = false;
    $("where").textContent = text.chosen;
  };
  map.on("click", (event) => choose(event.latlng));
  $("place-centre").addEventListener("click", () => choose(map.getCenter()));
  for (const radio of form.querySelectorAll("input[name=pin-feeling]")) radio.addEventListener("change", fillCategories);
  $("pin-cancel").addEventListener("click", close);
  $("pin-add").addEventListener("click", () => {
    if (!draft) return;
    pins.create({
      ...draft, feeling: feeling(), category: $("pin-category").value, time_of_day: $("pin-time").value, comment: null,
    });
    close();
  });
  fillCategories();

  const renderPins = () => {
    const list = pins.list();
    const ids = new Set(list.map((pin) => pin.id));
    for (const [id, marker] of shown) {
      if (!ids.has(id)) {
        marker.remove();
        shown.delete(id);
      }
    }
    for (const pin of list) {
      const marker = shown.get(pin.id) || L.marker([pin.lat, pin.lon], { keyboard: false }).addTo(markers);
      marker.setIcon(icon(`${pin.feeling} pin-${pin.state}`));
      shown.set(pin.id, marker);
    }
    $("pin-list").replaceChildren(...list.map((pin) => {
      const item = document.createElement("li");
      item.className = `pin-item pin-${pin.feeling}`;
      item.dataset.id = pin.id;
      item.dataset.state = pin.state;
      const category = p.categories.find((c) => c.code === pin.category);
      const time = p.times.find((t) => t.code === pin.time_of_day);
      const line = document.createElement("span");
      line.textContent = `${text[pin.feeling]} · ${category ? category.label : pin.category} · ${time ? time.label : ""}`
        + ` (${text[`pin_${pin.state}`]}${pin.error ? ` : ${pin.error}` : ""})`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary";
      remove.textContent = text.delete;
      remove.addEventListener("click", () => pins.remove(pin.id));
      item.append(line, " ", remove);
      return item;
    }));
  };
  return renderPins;
}

// ---- status ---------------------------------------------------------------------------

function showErrors(fields) {
  for (const q of ctx.questions) {
    const message = fields[q.key] || "";
    $(`error-${q.key}`).textContent = message;
    $(`question-${q.key}`).classList.toggle("has-error", Boolean(message));
  }
}

let store = null;

function render() {
  if (!store) return;
  const state = store.state();
  const r = store.record;
  const line = $("survey-sync");
  let message = text[state];
  if (state === "pending" && r.problem) message = `${message} (${r.problem})`;
  if ((state === "closed" || state === "refused") && r.error) message = `${message} ${r.error}`;
  line.textContent = message;
  line.dataset.state = state;
  showErrors(state === "refused" ? r.fields || {} : {});
}

let renderPins = () => {};
if (mapQuestion) {
  pins = new PinStore({
    code: ctx.code, api: ctx.pins.api, shared: true, text,
    onChange: () => {
      renderPins();
      if (store) {
        const { answers, other, website } = readForm();
        store.set(answers, other, website);
      }
    },
    onClosed: () => {},
  });
  renderPins = setupMap();
}

store = new SurveyStore({
  code: ctx.code, api: ctx.api, token: ctx.token, minSeconds: ctx.min_seconds, text, onChange: render,
  onOtherTab: (record) => fillForm(record.answers, record.other),
});
fillForm(store.record.answers, store.record.other);
form.addEventListener("change", () => {
  const { answers, other, website } = readForm();
  store.set(answers, other, website);
});
form.addEventListener("input", (event) => {
  if (event.target.tagName === "TEXTAREA" || event.target.type === "text") {
    const { answers, other, website } = readForm();
    store.set(answers, other, website);
  }
});
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const { answers, other, website } = readForm();
  store.submit(answers, other, website);
});
renderPins();
render();
if (store.state() === "pending") store.schedule(0);
if (pins) pins.flush();
