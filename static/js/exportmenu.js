// The "Exporter" menu (templates/_export_menu.html): a disclosure button and a list of
// download links that carry the page's current filters. Each link keeps the fields of
// the page's form it names (data-keep) and adds its fixed parameters (data-extra); the
// OGC address for QGIS is absolute, its dates as one OGC ``datetime`` interval, with a
// "copy" button. Links are rewritten when the form changes and when the menu opens;
// links marked data-kind="map-png"/"map-pdf" copy the page's own map links (whose
// addresses dashboard.js keeps in step with the visible layers and view).
//
// Keyboard: the button toggles (Enter/Space), Escape closes and gives focus back to
// the button, Tab moves through the links; a click elsewhere closes.

const MIRRORS = { "map-png": "map-png", "map-pdf": "map-pdf" };

function formValues(form) {
  const values = new Map();
  if (!form) return values;
  for (const [name, value] of new FormData(form)) if (value) values.set(name, String(value));
  return values;
}

function linkQuery(element, values) {
  const params = new URLSearchParams();
  const keep = (element.dataset.keep || "").split(",").filter(Boolean);
  for (const name of keep) if (values.has(name)) params.set(name, values.get(name));
  for (const [name, value] of new URLSearchParams(element.dataset.extra || "")) params.set(name, value);
  const interval = element.dataset.interval;
  if (interval && (values.has("from") || values.has("to"))) {
    params.set(interval, `${values.get("from") || ".."}/${values.get("to") || ".."}`);
  }
  return params.toString();
}

function withQuery(href, query) {
  const url = new URL(href, window.location.href);
  url.search = query;
  return url;
}

function update(menu, form) {
  const values = formValues(form);
  for (const link of menu.querySelectorAll("a[data-keep]")) {
    const mirror = document.getElementById(MIRRORS[link.dataset.kind] || "");
    if (mirror) {
      link.href = mirror.getAttribute("href");
    } else {
      const url = withQuery(link.href, linkQuery(link, values));
      link.href = url.pathname + url.search;
    }
  }
  for (const input of menu.querySelectorAll("input[data-keep]")) {
    input.value = withQuery(input.value, linkQuery(input, values)).href;
  }
}

function setOpen(menu, open) {
  const button = menu.querySelector("button[aria-expanded]");
  button.setAttribute("aria-expanded", String(open));
  menu.querySelector(".export-list").hidden = !open;
}

async function copy(item) {
  const input = item.querySelector("input");
  const status = item.querySelector("[data-copied]");
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = status.closest("[data-export-menu]").dataset.copiedText;
  } catch (error) {
    input.select(); // no clipboard (plain http): the address is selected for Ctrl+C
    status.textContent = status.closest("[data-export-menu]").dataset.selectText;
  }
}

function setUp(menu) {
  const form = document.getElementById(menu.dataset.form);
  const button = menu.querySelector("button[aria-expanded]");
  setOpen(menu, false); // open without script (the list is plain links), closed with it
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    if (open) update(menu, form);
    setOpen(menu, open);
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
    setOpen(menu, false);
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (!menu.contains(event.target)) setOpen(menu, false);
  });
  for (const item of menu.querySelectorAll(".export-copy")) {
    item.querySelector("[data-copy]").addEventListener("click", () => copy(item));
  }
  if (form) {
    form.addEventListener("change", () => update(menu, form));
    form.addEventListener("submit", () => update(menu, form));
  }
  for (const id of Object.values(MIRRORS)) {
    const mirror = document.getElementById(id);
    if (mirror) new MutationObserver(() => update(menu, form)).observe(mirror, { attributes: true, attributeFilter: ["href"] });
  }
  update(menu, form);
}

for (const menu of document.querySelectorAll("[data-export-menu]")) setUp(menu);
