// The resident's pins and the queue of changes not yet accepted by the server.
// Both live in localStorage, so a pin survives a dropped network, a closed tab or a
// reload; the queue is replayed in order with exponential backoff. Creating a pin
// sends a UUID made here, so a replayed POST never creates a second pin.

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;
const PIN_FIELDS = ["feeling", "category", "time_of_day", "comment", "lon", "lat"];

export function uuid4() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  // randomUUID needs a secure context; a hall's LAN address over http is not one.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

function pick(object, keys) {
  return Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));
}

// The server sends comment text back only once approved (DESIGN §6): while it waits for
// moderation the phone that wrote it keeps its own copy.
function withLocalComment(stored, local) {
  if ("comment" in stored || !local) return stored;
  return { ...stored, comment: local.comment ?? null };
}

export class PinStore {
  constructor({ code, api, shared, onChange, onClosed }) {
    this.key = `ressenti:pins:${code}`;
    this.api = api;
    this.shared = shared;
    this.onChange = onChange;
    this.onClosed = onClosed;
    const saved = JSON.parse(window.localStorage.getItem(this.key) || "{}");
    this.pins = saved.pins || {};
    this.queue = saved.queue || [];
    this.delay = FIRST_DELAY;
    this.timer = null;
    this.busy = false;
    this.closed = false;
    window.addEventListener("online", () => this.flush(true));
  }

  save() {
    window.localStorage.setItem(this.key, JSON.stringify({ pins: this.pins, queue: this.queue }));
    this.onChange();
  }

  waiting() {
    return this.queue.length;
  }

  list() {
    return Object.values(this.pins).sort((a, b) => (b.created_at || "").localeCompare(a.created_at || ""));
  }

  create(fields) {
    const id = uuid4();
    this.pins[id] = { ...pick(fields, PIN_FIELDS), id, state: "pending", created_at: new Date().toISOString() };
    this.queue.push({ op: "create", id });
    this.save();
    this.flush();
    return id;
  }

  update(id, fields) {
    const pin = this.pins[id];
    if (!pin) return;
    Object.assign(pin, pick(fields, PIN_FIELDS), { state: "pending", error: null });
    const queued = this.queue.find((job) => job.id === id && job.op !== "delete");
    if (queued && queued.op === "update") {
      queued.fields = Array.from(new Set([...queued.fields, ...Object.keys(fields)]));
    } else if (!queued) {
      this.queue.push({ op: "update", id, fields: Object.keys(pick(fields, PIN_FIELDS)) });
    } // a queued create sends the latest fields anyway
    this.save();
    this.flush();
  }

  remove(id) {
    const inFlight = this.busy && this.queue.length > 0 ? this.queue[0] : null;
    const onServer = (this.pins[id] && this.pins[id].known) || (inFlight && inFlight.id === id);
    // Drop queued changes to this pin (not the one being sent: flush() removes it).
    this.queue = this.queue.filter((job) => job.id !== id || job === inFlight);
    if (onServer) this.queue.push({ op: "delete", id });
    delete this.pins[id];
    this.save();
    this.flush();
  }

  async load() {
    if (this.shared) return;
    let response;
    try {
      response = await fetch(`${this.api}/pins`, { headers: { Accept: "application/json" } });
    } catch (error) {
      return; // offline: keep what this phone has
    }
    if (response.status === 403) return this.close();
    if (!response.ok) return;
    const { pins } = await response.json();
    const busy = new Set(this.queue.map((job) => job.id));
    const seen = new Set();
    for (const pin of pins) {
      seen.add(pin.id);
      if (busy.has(pin.id)) continue;
      const server = withLocalComment(pin, this.pins[pin.id]);
      this.pins[pin.id] = { ...server, state: "sent", known: true, server };
    }
    for (const [id, pin] of Object.entries(this.pins)) {
      if (pin.state === "sent" && !seen.has(id)) delete this.pins[id]; // deleted on another phone
    }
    this.save();
  }

  close() {
    this.closed = true;
    this.onClosed();
  }

  schedule(delay) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.flush(), delay);
  }

  async flush(now = false) {
    if (now) {
      this.delay = FIRST_DELAY;
      window.clearTimeout(this.timer);
    }
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const job = this.queue[0];
        const outcome = await this.send(job);
        if (outcome.retry !== undefined) {
          this.schedule(outcome.retry);
          return;
        }
        if (this.queue[0] === job) this.queue.shift();
        this.save();
      }
      this.delay = FIRST_DELAY;
    } finally {
      this.busy = false;
    }
  }

  backoff() {
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
    return { retry: delay };
  }

  request(job) {
    const pin = this.pins[job.id];
    if (job.op === "delete") return { url: `${this.api}/pins/${job.id}`, method: "DELETE" };
    if (!pin) return null; // deleted meanwhile
    if (job.op === "create") {
      return { url: `${this.api}/pins`, method: "POST", body: { id: job.id, ...pick(pin, PIN_FIELDS) } };
    }
    return { url: `${this.api}/pins/${job.id}`, method: "PATCH", body: pick(pin, job.fields) };
  }

  async send(job) {
    const request = this.request(job);
    if (!request) return {};
    let response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.body ? { "Content-Type": "application/json", Accept: "application/json" } : {},
        body: request.body ? JSON.stringify(request.body) : undefined,
      });
    } catch (error) {
      return this.backoff(); // no network
    }
    if (response.status === 429 || response.status >= 500) {
      const after = Number(response.headers.get("Retry-After"));
      return after ? { retry: after * 1000 } : this.backoff();
    }
    if (response.status === 403) {
      this.close();
      return { retry: MAX_DELAY };
    }
    this.delay = FIRST_DELAY;
    const pin = this.pins[job.id];
    if (response.ok) {
      if (response.status !== 204 && pin) {
        const stored = withLocalComment(await response.json(), pin);
        const later = this.queue.slice(1).some((other) => other.id === job.id);
        this.pins[job.id] = { ...stored, state: later ? "pending" : "sent", known: true, server: stored };
        if (later) Object.assign(this.pins[job.id], pick(pin, PIN_FIELDS));
      }
      return {};
    }
    // Any other 4xx: the server refused this change. Keep the pin in sight with why.
    const error = await response.json().catch(() => ({}));
    if (pin && response.status === 404 && job.op !== "create") {
      delete this.pins[job.id]; // gone from the server (deleted on another phone)
    } else if (pin) {
      // A refused move or edit puts the pin back where the server has it.
      const shown = job.op === "update" && pin.server ? { ...pin.server, known: true, server: pin.server } : pin;
      shown.state = "error";
      shown.error = Object.values(error.fields || {})[0] || error.message || String(response.status);
      this.pins[job.id] = shown;
    }
    return {};
  }
}
