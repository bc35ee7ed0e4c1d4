// The resident pages' service worker. Served at /sw.js by app/workshops/offline.py,
// which puts `const CONFIG = {build, scope, precache, paths, companions};` in front of this file
// (this file alone, under /static, is not a working worker).
//
// What it does, with no network after one visit:
// - static files (CSS, JS modules, Leaflet, icons): cache first. Their URLs carry no
//   version, so the cache does: it is named after the build (a hash of every static
//   file), and a deploy gets a new worker with new caches.
// - the resident pages and their API GETs (CONFIG.paths): network first, the stored copy
//   when the network fails or is too slow (NETWORK_BUDGET). Only responses the server marked
//   `Ressenti-Offline: store` are kept (GET, 200, nobody signed in): never a staff page.
//   The server sends these with `Cache-Control: no-store`; that binds HTTP caches, not
//   Cache Storage, which keeps what this worker puts there.
// - anything else, and every POST/PATCH/DELETE, goes to the network untouched: the
//   pin queue (static/js/pinstore.js) owns retries, not this worker.
//
// Updates: a new build installs, calls skipWaiting() and, on activate, clients.claim().
// Chosen over an "update available" prompt because nothing is lost by switching: the
// resident page loads all its modules at start (no lazy import could mix versions), the
// queue lives in the page's storage, not here, and a prompt in a hall would be one more
// thing to explain. An open page keeps running the code it loaded; its next load gets
// the new build. On activate the stored pages move to the new build's cache (so a
// phone stays usable offline across an update), then every older cache is deleted.

/* global CONFIG */

const PREFIX = "ressenti-";
const STATIC = `${PREFIX}${CONFIG.build}-static`;
const PAGES = `${PREFIX}${CONFIG.build}-pages`;
// How long a page or its data may take from the network when a stored copy exists:
// then the stored copy answers, and the network's answer, when it comes, is stored for
// the next load (Workbox calls this networkTimeoutSeconds). Hall Wi-Fi answers well
// within it; a slow phone network (Slow 4G: 560 ms before the first byte) or a hall's
// "lie-fi" does not, and the resident gets the stored page after 250 ms instead of
// after the round trip (bench/resident.py: about 0.5 s less on Slow 4G, bench/RESULTS.md).
const NETWORK_BUDGET = 250;
const residentPath = new RegExp(Object.values(CONFIG.paths).map((p) => `(?:${p})`).join("|"));
const pagePath = new RegExp(CONFIG.paths.page);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC);
    // "no-cache": revalidate with the server (a 304 is cheap), never a stale HTTP copy.
    await cache.addAll(CONFIG.precache.map((url) => new Request(url, { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    const old = names.filter((name) => name.startsWith(PREFIX) && name !== STATIC && name !== PAGES);
    for (const name of old.filter((n) => n.endsWith("-pages"))) {
      try {
        await movePages(name);
      } catch {
        // a page not moved is fetched again on the next visit with network
      }
    }
    await Promise.all(old.map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// A page this worker controls hears of it as soon as activation starts, and may ask it
// to keep things at once: answered only once the old caches are moved and deleted.
function activated() {
  const me = self.serviceWorker || self.registration.active;
  if (!me || me.state === "activated") return Promise.resolve();
  return new Promise((resolve) => {
    me.addEventListener("statechange", () => {
      if (me.state === "activated" || me.state === "redundant") resolve();
    });
  });
}

// The stored pages of the previous build, fetched again for this one (their HTML names
// this build's files); the old copy only when the network cannot answer.
async function movePages(name) {
  const from = await caches.open(name);
  const to = await caches.open(PAGES);
  await Promise.all((await from.keys()).map(async (request) => {
    if (await to.match(request)) return;
    try {
      const response = await fetch(request.url, { credentials: "same-origin", cache: "no-store" });
      if (storable(response)) return await to.put(request, response);
    } catch {
      // offline: keep the old copy below
    }
    const old = await from.match(request);
    if (old) await to.put(request, old);
  }));
}

// A worker whose static cache is gone was replaced by a newer build (whose activate
// deleted it): it stores nothing more, or it would bring back the caches just deleted.
async function put(name, request, response) {
  if (!(await caches.has(STATIC))) return;
  await (await caches.open(name)).put(request, response);
}

function storable(response) {
  return response.ok && response.type === "basic" && response.headers.get("Ressenti-Offline") === "store";
}

async function fromStore(request) {
  const options = { cacheName: PAGES, ignoreVary: true };
  return (await caches.match(request, options))
    || (request.mode === "navigate" ? caches.match(request, { ...options, ignoreSearch: true }) : undefined);
}

async function networkFirst(event) {
  const { request } = event;
  const network = fetch(request).then(async (response) => {
    if (storable(response)) await put(PAGES, request, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null)); // keep storing after a timeout answered
  const stored = await fromStore(request);
  if (!stored) return network;
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(stored), NETWORK_BUDGET); });
  const fresh = network.then(
    (response) => (response.status >= 502 && response.status <= 504 ? stored : response),
    () => stored,
  );
  return Promise.race([fresh, late]).finally(() => clearTimeout(timer));
}

async function cacheFirst(request) {
  const hit = await caches.match(request, { cacheName: STATIC, ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await put(STATIC, request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (residentPath.test(url.pathname)) {
    event.respondWith(networkFirst(event));
  }
});

// A page that was loaded before this worker controlled it asks to be kept, with what it
// loaded (performance entries): store what is allowed, then answer with the build.
async function keep(urls) {
  const wanted = new Set();
  for (const href of urls) {
    const url = new URL(href, self.location.origin);
    if (url.origin !== self.location.origin) continue;
    url.hash = "";
    if (url.pathname.startsWith("/static/")) wanted.add(url.href);
    const page = url.pathname.match(/^\/j\/([^/]+)$/);
    if (page && pagePath.test(url.pathname)) {
      wanted.add(url.href);
      for (const companion of CONFIG.companions) {
        wanted.add(new URL(companion.replace("%7Bcode%7D", page[1]).replace("{code}", page[1]), url).href);
      }
    } else if (residentPath.test(url.pathname)) {
      wanted.add(url.href);
    }
  }
  await Promise.all([...wanted].map(async (href) => {
    const isStatic = new URL(href).pathname.startsWith("/static/");
    if (isStatic && (await caches.match(href, { cacheName: STATIC }))) return;
    try {
      const response = await fetch(href, { credentials: "same-origin", cache: "no-cache" });
      if (isStatic ? response.ok && response.type === "basic" : storable(response)) {
        await put(isStatic ? STATIC : PAGES, href, response);
      }
    } catch {
      // offline or refused: the next visit with network stores it
    }
  }));
}

self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep" || !event.ports[0]) return;
  event.waitUntil(activated().then(() => keep(event.data.urls || [])).then(() => {
    event.ports[0].postMessage({ build: CONFIG.build });
  }));
});
