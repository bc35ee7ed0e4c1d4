// The resident's page: choose a feeling, place a pin (tap, or the centre cross-hair
// for keyboard users), describe it, and see the table's pins; move, edit or delete
// them while the workshop is open. Text from users is always inserted as text.

/* global L */
import { baseMap, readJson } from "./basemap.js";
import { PinStore } from "./pinstore.js";

const ctx = readJson("pin-context");
const text = readJson("pin-text");
const $ = (id) => document.getElementById(id);
const form = $("pin-form");
const categories = Object.fromEntries(ctx.categories.map((c) => [c.code, c]));
const times = Object.fromEntries(ctx.times.map((t) => [t.code, t.label]));

const map = baseMap("pin-map", {
  quartiers: ctx.quartiers, streetsUrl: `${ctx.api}/streets.geojson`,
  tiles: ctx.tiles, attribution: ctx.attribution,
});
const markers = L.layerGroup().addTo(map);
let draft = null; // {lon, lat} of the place being chosen
let draftMarker = null;
let editing = null; // id of the pin being edited

const store = new PinStore({
  code: ctx.code, api: ctx.api, shared: ctx.shared, onChange: render,
  onClosed: () => { $("sync").textContent = text.closed; $("confirm").disabled = true; },
});

function icon(kind) {
  return L.divIcon({ className: `pin-marker pin-${kind}`, iconSize: [22, 22], iconAnchor: [11, 11] });
}

function feeling() {
  return form.ownerDocument.querySelector("input[name=feeling]:checked").value;
}

function fillCategories(selected) {
  const select = $("category");
  select.replaceChildren();
  for (const category of ctx.categories.filter((c) => c.feelings.includes(feeling()))) {
    const option = new Option(category.label, category.code, false, category.code === selected);
    select.append(option);
  }
}

function setDraft(latlng) {
  draft = { lon: Number(latlng.lng.toFixed(7)), lat: Number(latlng.lat.toFixed(7)) };
  if (!draftMarker) draftMarker = L.marker(latlng, { icon: icon("draft"), keyboard: false }).addTo(map);
  draftMarker.setLatLng(latlng);
  $("where").textContent = editing ? text.editing : text.chosen;
}

function clearDraft() {
  draft = null;
  if (draftMarker) draftMarker.remove();
  draftMarker = null;
  editing = null;
  $("where").textContent = text.none_chosen;
  $("cancel-edit").hidden = true;
  $("form-error").textContent = "";
  form.reset();
  fillCategories();
}

function startEdit(pin) {
  clearDraft();
  editing = pin.id;
  form.querySelector(`input[name=feeling][value=${pin.feeling}]`).checked = true;
  fillCategories(pin.category);
  $("time_of_day").value = pin.time_of_day;
  $("comment").value = pin.comment || "";
  $("where").textContent = text.editing;
  $("cancel-edit").hidden = false;
  form.scrollIntoView({ behavior: "smooth" });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const fields = {
    feeling: feeling(), category: $("category").value, time_of_day: $("time_of_day").value,
    comment: $("comment").value.trim() || null,
  };
  if (draft) Object.assign(fields, draft);
  const edited = editing && store.pins[editing];
  if (edited && !("comment" in edited) && !fields.comment) {
    delete fields.comment; // someone else's comment awaiting moderation: leave it alone
  }
  if (editing) {
    store.update(editing, fields);
  } else if (!draft) {
    $("form-error").textContent = text.choose_place;
    return;
  } else {
    store.create(fields);
  }
  clearDraft();
  $("sync").textContent = store.waiting() ? $("sync").textContent : text.saved;
});

$("cancel-edit").addEventListener("click", clearDraft);
$("place-centre").addEventListener("click", () => setDraft(map.getCenter()));
map.on("click", (event) => setDraft(event.latlng));
for (const radio of form.ownerDocument.querySelectorAll("input[name=feeling]")) {
  radio.addEventListener("change", () => fillCategories($("category").value));
}

function describe(pin) {
  const category = categories[pin.category];
  return `${text[pin.feeling]} · ${category ? category.label : pin.category} · ${times[pin.time_of_day] || ""}`;
}

function listItem(pin) {
  const item = document.createElement("li");
  item.className = `pin-item pin-${pin.feeling}`;
  item.dataset.id = pin.id;
  const title = document.createElement("p");
  title.className = "pin-title";
  title.textContent = describe(pin);
  const state = document.createElement("span");
  state.className = `state state-${pin.state || "sent"}`;
  state.textContent = ` (${text[pin.state || "sent"]}${pin.error ? ` : ${pin.error}` : ""})`;
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
  const edit = document.createElement("button");
  edit.type = "button";
  edit.className = "secondary";
  edit.textContent = text.edit;
  edit.addEventListener("click", () => startEdit(pin));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "secondary";
  remove.textContent = text.delete;
  remove.addEventListener("click", () => {
    if (window.confirm(text.confirm_delete)) store.remove(pin.id);
  });
  item.append(edit, " ", remove);
  return item;
}

function render() {
  const pins = store.list();
  markers.clearLayers();
  for (const pin of pins) {
    const marker = L.marker([pin.lat, pin.lon], {
      icon: icon(pin.feeling), draggable: !store.closed, title: describe(pin), keyboard: false,
    });
    marker.on("dragend", () => {
      const { lat, lng } = marker.getLatLng();
      store.update(pin.id, { lon: Number(lng.toFixed(7)), lat: Number(lat.toFixed(7)) });
    });
    markers.addLayer(marker);
  }
  $("pin-list").replaceChildren(...pins.map(listItem));
  $("pin-empty").hidden = pins.length > 0;
  const waiting = store.waiting();
  if (!store.closed) {
    $("sync").textContent = waiting === 0 ? (pins.length ? text.all_sent : "")
      : waiting === 1 ? text.waiting_one : text.waiting_many.replace("{n}", waiting);
  }
  $("sync").dataset.waiting = String(waiting);
}

fillCategories();
render();
store.load().then(() => store.flush(true));
