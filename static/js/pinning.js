// The resident's page: the map first (the workshop's quartiers fill it, the outside is
// dimmed), then a sheet to describe the place: feeling, category, time of day, comment.
// A place is chosen by a tap, or with the centre cross-hair button from the keyboard;
// pins are moved, edited or deleted while the workshop is open. User text is always
// inserted as text.

/* global L */
import { baseMap, readJson } from "./basemap.js";
import { insideArea, outsideMask } from "./pinarea.js";
import { PIN_FIELDS, PinStore } from "./pinstore.js";

const ctx = readJson("pin-context");
const text = readJson("pin-text");
const $ = (id) => document.getElementById(id);
const form = $("pin-form");
const categories = Object.fromEntries(ctx.categories.map((c) => [c.code, c]));
const times = Object.fromEntries(ctx.times.map((t) => [t.code, t.label]));
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));

const stage = $("pin-stage");
const map = baseMap("pin-map", {
  quartiers: ctx.quartiers, streetsUrl: `${ctx.api}/streets.geojson`,
  tiles: ctx.tiles, attribution: ctx.attribution,
});
map.options.zoomSnap = 0.25; // whole zoom steps left the quartiers a quarter of the map
const area = L.geoJSON(ctx.quartiers).getBounds();
outsideMask(map, ctx.quartiers);
const markers = L.layerGroup().addTo(map);
let draft = null; // {lon, lat} of the place being chosen
let draftMarker = null;
let editing = null; // id of the pin being edited
let keyboard = false; // the resident moves with Tab rather than a finger or a mouse

// The stage (map + sheet) fills the screen below the header; the map takes what the
// sheet leaves.
function fitStage() {
  const top = stage.getBoundingClientRect().top + window.scrollY;
  stage.style.height = `${Math.max(window.innerHeight - top, 420)}px`;
  map.invalidateSize();
}

function fitArea() {
  if (area.isValid()) map.fitBounds(area, { padding: [12, 12] });
}

const store = new PinStore({
  code: ctx.code, api: ctx.api, shared: ctx.shared, text, onChange: render,
  onClosed: () => {
    $("confirm").disabled = true;
    $("place-centre").disabled = true;
  },
});

function icon(kind) {
  return L.divIcon({ className: `pin-marker pin-${kind}`, iconSize: [44, 44], iconAnchor: [22, 22] });
}

function feeling() {
  return form.querySelector("input[name=feeling]:checked").value;
}

function fillCategories(selected) {
  const select = $("category");
  select.replaceChildren();
  for (const category of ctx.categories.filter((c) => c.feelings.includes(feeling()))) {
    select.append(new Option(category.label, category.code, false, category.code === selected));
  }
}

function hint() {
  if (editing) return text.editing;
  if (draft) return text.chosen;
  return keyboard ? text.hint_keyboard : text.hint_touch;
}

// Open the sheet's fields (a place is chosen or a pin edited) or fold them, keeping the
// place in sight on the smaller map.
function describing(on, place) {
  stage.classList.toggle("describing", on);
  map.invalidateSize();
  if (place && !map.getBounds().pad(-0.15).contains(place)) map.panTo(place, { animate: false });
}

function say(message) {
  $("where").textContent = message || hint();
}

function inside(latlng) {
  return insideArea(ctx.quartiers, latlng.lng, latlng.lat);
}

function setDraft(latlng) {
  if (store.closed) return;
  if (!inside(latlng)) {
    $("form-error").textContent = text.outside;
    return;
  }
  $("form-error").textContent = "";
  draft = { lon: Number(latlng.lng.toFixed(7)), lat: Number(latlng.lat.toFixed(7)) };
  if (!draftMarker) draftMarker = L.marker(latlng, { icon: icon("draft"), keyboard: false }).addTo(map);
  draftMarker.setLatLng(latlng);
  describing(true, latlng);
  say();
}

function clearDraft() {
  draft = null;
  if (draftMarker) draftMarker.remove();
  draftMarker = null;
  editing = null;
  $("cancel-edit").hidden = true;
  $("form-error").textContent = "";
  form.reset();
  fillCategories();
  describing(false);
  say();
}

function startEdit(id) {
  const record = store.get(id);
  if (!record) return;
  clearDraft();
  editing = id;
  const pin = record.fields;
  form.querySelector(`input[name=feeling][value="${CSS.escape(pin.feeling)}"]`).checked = true;
  fillCategories(pin.category);
  $("time_of_day").value = pin.time_of_day;
  $("comment").value = pin.comment || "";
  $("cancel-edit").hidden = false;
  say();
  window.scrollTo({ top: 0 });
  describing(true, [pin.lat, pin.lon]);
  $("category").focus({ preventScroll: true });
}

function formFields() {
  return {
    feeling: feeling(), category: $("category").value, time_of_day: $("time_of_day").value,
    comment: $("comment").value.trim() || null,
  };
}

// The fields of an edited pin that the form changes: nothing else is sent.
function changes(record, fields) {
  const current = record.fields;
  const changed = Object.fromEntries(
    PIN_FIELDS.filter((k) => k in fields && fields[k] !== (current[k] ?? null)).map((k) => [k, fields[k]]),
  );
  // Someone else's comment awaiting moderation is unknown here: leave it alone.
  if (!("comment" in current) && !fields.comment) delete changed.comment;
  return changed;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (store.closed) return;
  const fields = formFields();
  if (draft) Object.assign(fields, draft);
  if (editing) {
    const record = store.get(editing);
    if (record) {
      const changed = changes(record, fields);
      if (Object.keys(changed).length || record.status === "refused") store.update(editing, changed);
    }
  } else if (!draft) {
    $("form-error").textContent = text.choose_place;
    return;
  } else {
    store.create(fields);
  }
  clearDraft();
});

$("cancel-edit").addEventListener("click", clearDraft);
$("place-centre").addEventListener("click", () => setDraft(map.getCenter()));
map.on("click", (event) => setDraft(event.latlng));
for (const radio of form.querySelectorAll("input[name=feeling]")) {
  radio.addEventListener("change", () => fillCategories($("category").value));
}
document.addEventListener("keydown", (event) => {
  if (event.key === "Tab" && !keyboard) {
    keyboard = true;
    say();
  }
});
document.addEventListener("pointerdown", () => {
  if (keyboard) {
    keyboard = false;
    say();
  }
});

function describe(pin) {
  const category = categories[pin.category];
  return `${text[pin.feeling]} · ${category ? category.label : pin.category} · ${times[pin.time_of_day] || ""}`;
}

const STATE_TEXT = { pending: "pending", sent: "sent", refused: "refused", closed: "closed_state" };

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

function listItem(pin) {
  const item = document.createElement("li");
  item.className = `pin-item pin-${pin.feeling}`;
  item.dataset.id = pin.id;
  item.dataset.state = pin.state;
  const title = document.createElement("p");
  title.className = "pin-title";
  title.textContent = describe(pin);
  const state = document.createElement("span");
  state.className = `state state-${pin.state}`;
  state.textContent = ` (${text[STATE_TEXT[pin.state]]}${pin.error ? ` : ${pin.error}` : ""})`;
  title.append(state);
  item.append(title);
  if (pin.comment) {
    const comment = document.createElement("p");
    comment.className = "pin-comment";
    comment.textContent = pin.comment;
    item.append(comment);
  }
  if (pin.comment_status === "pending" || pin.comment_status === "rejected") {
    const moderation = document.createElement("p");
    moderation.className = "pin-moderation muted";
    moderation.textContent = text[`comment_${pin.comment_status}`];
    item.append(moderation);
  }
  if (!store.closed) {
    const actions = document.createElement("div");
    actions.className = "row";
    actions.append(
      button(text.edit, "secondary", () => startEdit(pin.id)),
      button(text.delete, "secondary", () => {
        if (window.confirm(text.confirm_delete)) store.remove(pin.id);
      }),
    );
    item.append(actions);
  }
  return item;
}

// One marker per pin, kept across renders: a render (another tab, an answer from the
// server) must not cut a drag in progress.
const shown = new Map(); // id -> marker

function newMarker(pin) {
  const result = L.marker([pin.lat, pin.lon], { keyboard: false });
  result.on("dragstart", () => {
    result.moving = true;
  });
  result.on("dragend", () => {
    result.moving = false;
    const moved = result.getLatLng();
    const { id, lat, lon } = result.pin;
    if (!inside(moved)) {
      result.setLatLng([lat, lon]);
      $("form-error").textContent = text.outside;
      return;
    }
    $("form-error").textContent = "";
    store.update(id, { lon: Number(moved.lng.toFixed(7)), lat: Number(moved.lat.toFixed(7)) });
  });
  result.on("click", () => store.closed || startEdit(result.pin.id));
  return result.addTo(markers);
}

function showMarkers(pins) {
  const ids = new Set(pins.map((pin) => pin.id));
  for (const [id, old] of shown) {
    if (!ids.has(id)) {
      old.remove();
      shown.delete(id);
    }
  }
  for (const pin of pins) {
    const found = shown.get(pin.id) || newMarker(pin);
    shown.set(pin.id, found);
    const kind = `${pin.feeling} pin-${pin.state}`;
    found.options.title = describe(pin);
    if (found.kind !== kind) found.setIcon(icon(kind));
    found.kind = kind;
    found.pin = pin;
    if (!found.moving) found.setLatLng([pin.lat, pin.lon]);
    const element = found.getElement();
    if (element) element.title = describe(pin);
    if (found.dragging) found.dragging[store.closed ? "disable" : "enable"]();
  }
}

// The status box says what is sent, waiting, refused (and why), or kept after closing.
function status(counts, total) {
  const parts = [];
  if (counts.closed) parts.push(fill(counts.closed === 1 ? text.closed_one : text.closed_many, { n: counts.closed }));
  else if (store.closed) parts.push(text.closed);
  if (counts.refused) {
    const why = counts.reasons.join(" ; ");
    parts.push(fill(counts.refused === 1 ? text.refused_one : text.refused_many, { n: counts.refused, why }));
  }
  if (counts.pending) {
    const waiting = fill(counts.pending === 1 ? text.waiting_one : text.waiting_many, { n: counts.pending });
    parts.push(counts.problems.length ? `${waiting} (${counts.problems.join(" ; ")})` : waiting);
  }
  if (counts.unsaved) parts.push(fill(text.storage_full, { n: counts.unsaved }));
  if (!parts.length && total) parts.push(text.all_sent);
  const state = counts.closed || store.closed ? "closed" : counts.refused ? "refused"
    : counts.pending || counts.unsaved ? "waiting" : "sent";
  return { message: parts.join(" "), state };
}

function render() {
  const pins = store.list();
  showMarkers(pins);
  $("pin-list").replaceChildren(...pins.map(listItem));
  $("pin-empty").hidden = pins.length > 0;
  const counts = store.counts();
  const { message, state } = status(counts, pins.length);
  const sync = $("sync");
  sync.textContent = message;
  sync.hidden = !message;
  sync.dataset.state = state;
  sync.dataset.waiting = String(counts.pending);
  sync.dataset.refused = String(counts.refused);
  sync.dataset.closed = String(counts.closed);
}

fillCategories();
fitStage();
fitArea();
window.addEventListener("resize", fitStage);
say();
render();
store.load().then(() => store.flush());
