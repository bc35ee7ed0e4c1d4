// Registers the resident pages' service worker (see static/js/sw.js), loaded by
// <script type="module" data-sw="/sw.js" data-scope="/j" src=".../register-sw.js">.
// Once the worker controls this page and has stored it (with the map's data and the
// files it loaded), <html data-sw="ready" data-sw-build="…"> says so: tests and the
// benchmark wait on it. A page loaded before the worker existed is kept the same way,
// so the first visit is enough to reload offline.

const root = document.documentElement;
const tag = document.querySelector("script[data-sw]");

function ask(worker, message) {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => reject(new Error("no answer")), 30000);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data);
    };
    worker.postMessage(message, [channel.port2]);
  });
}

// Whether the worker already handled this page's requests (so stored what it could).
const controlledAtLoad = Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);

async function keepThisPage(event) {
  const worker = navigator.serviceWorker.controller;
  if (!worker) return;
  root.dataset.sw = "storing";
  const urls = controlledAtLoad && !event ? []
    : [window.location.href, ...performance.getEntriesByType("resource").map((e) => e.name)];
  try {
    const reply = await ask(worker, { type: "keep", urls });
    if (navigator.serviceWorker.controller !== worker) return; // replaced: its change event keeps again
    root.dataset.swBuild = reply.build;
    root.dataset.sw = "ready";
  } catch {
    root.dataset.sw = "error";
  }
}

async function start() {
  if (!tag || !("serviceWorker" in navigator)) {
    root.dataset.sw = "unsupported"; // e.g. plain http on a LAN address: not a secure context
    return;
  }
  navigator.serviceWorker.addEventListener("controllerchange", keepThisPage);
  root.dataset.sw = "registering";
  try {
    await navigator.serviceWorker.register(tag.dataset.sw, { scope: tag.dataset.scope });
  } catch {
    root.dataset.sw = "error";
    return;
  }
  if (document.readyState !== "complete") {
    await new Promise((resolve) => window.addEventListener("load", resolve, { once: true }));
  }
  await keepThisPage(); // no controller yet: the worker's clients.claim() fires controllerchange
}

start();
