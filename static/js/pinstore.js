// The resident's pins and what is still to send to the server, one localStorage record
// per pin ("ressenti:pin:<code>:<id>"), shared by every tab of this browser: a tab writes
// only the record it changes, re-reads a record before acting on it, and hears the other
// tabs' writes through the `storage` event. A pin survives a dropped network, a closed
// tab or a reload; creating a pin sends a UUID made here, so a replayed POST never
// creates a second pin (DESIGN §5).
//
// Each pin's state machine (record fields in brackets):
//
//   new ──POST {id, all fields}──▶ sent                   [onServer=false until a 2xx]
//    │ network error, lost answer, 5xx, 429, a 200 that is not our JSON (captive portal):
//    │   stays new, retried with its own backoff [tries, retryAt, problem]; the pins
//    │   behind it go meanwhile; [tried] remembers that the server may have it
//    ├─ 422 ──▶ refused [error]: kept here with the reason; a move or an edit makes it new
//    │          again and it is resent as POST with the same id
//    ├─ 409 ──▶ the id is stored with other content (a lost 201, then an edit): onServer,
//    │          every field dirty ──PATCH──▶ sent
//    └─ 403 ──▶ closed [error]: the workshop closed before it was sent; kept, never resent
//
//   sent ──edit / move──▶ [dirty = changed fields] ──PATCH (dirty fields only)──▶ sent
//          422: the refused fields go back to the server's values; refused [error]
//          404: deleted by another phone of the table: dropped here too
//          403: closed, the change kept here
//   any ──delete──▶ [deleted] ──DELETE──▶ record removed (204 even when already gone);
//          a pin that was never tried (placed offline, never sent) is removed at once.
//
// "sending" is [lease]: the tab sending a pin writes its id and a deadline into the
// record, so other tabs leave that pin alone until the answer (or the deadline). An edit
// made while a request is in flight bumps [rev] and lands in [dirty]: the answer never
// overwrites it, it is sent next.

import { fetchJson } from "./pinnet.js";
import { pick, PIN_FIELDS, PinRecords, uuid4 } from "./pinrecords.js";

export { PIN_FIELDS };

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;
const LEASE_MS = 20000;

function backoff(tries) {
  return Math.min(FIRST_DELAY * 2 ** Math.max(tries - 1, 0), MAX_DELAY);
}

// Values the server holds for a pin. It sends comment text back only once approved
// (DESIGN §6): while it waits for moderation the phone that wrote it keeps its own copy.
function serverFields(stored, local) {
  const fields = pick(stored, PIN_FIELDS);
  if (!("comment" in stored) && local && "comment" in local) fields.comment = local.comment;
  return fields;
}

function differing(local, server) {
  return PIN_FIELDS.filter((k) => k in local && local[k] !== server[k]);
}

export class PinStore {
  constructor({ code, api, shared, text, onChange, onClosed }) {
    this.api = api;
    this.shared = shared;
    this.text = text;
    this.onChange = onChange;
    this.onClosed = onClosed;
    this.tab = uuid4();
    this.records = new PinRecords(code);
    this.pins = this.records.pins; // id -> record, this tab's copy of localStorage
    this.unsaved = this.records.unsaved; // ids whose last write localStorage refused
    this.busy = false;
    this.again = false;
    this.timer = null;
    this.netDelay = FIRST_DELAY;
    this.closed = false;
    this.records.readAll();
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("storage", (event) => {
      if (this.records.heard(event)) this.touched(); // another tab changed a pin
    });
  }

  // ---- what the page shows -----------------------------------------------------------

  static state(record) {
    if (record.status === "closed") return "closed";
    if (record.status === "refused") return "refused";
    if (!record.onServer || record.dirty.length || record.lease) return "pending"; // or in flight
    return "sent";
  }

  list() {
    return Array.from(this.pins.values())
      .filter((record) => !record.deleted)
      .map((record) => ({
        ...record.fields, id: record.id, created_at: record.created_at, state: PinStore.state(record),
        error: record.error || record.problem || null, comment_status: record.comment_status,
      }))
      .sort((a, b) => (b.created_at || "").localeCompare(a.created_at || ""));
  }

  get(id) {
    const record = this.pins.get(id);
    return record && !record.deleted ? record : null;
  }

  counts() {
    // reasons: why pins were refused; problems: what the waiting ones met last.
    const counts = { sent: 0, pending: 0, refused: 0, closed: 0, unsaved: 0, reasons: [], problems: [] };
    const note = (list, text) => text && !list.includes(text) && list.push(text);
    for (const record of this.pins.values()) {
      const state = PinStore.state(record);
      if (record.deleted && state === "closed") continue;
      counts[record.deleted ? "pending" : state] += 1;
      if (state === "refused") note(counts.reasons, record.error);
      if (state === "pending") note(counts.problems, record.problem);
    }
    // A sent pin missing from storage is no loss: the server has it.
    counts.unsaved = Array.from(this.unsaved)
      .filter((id) => this.pins.has(id) && PinStore.state(this.pins.get(id)) !== "sent").length;
    return counts;
  }

  // ---- what the resident does --------------------------------------------------------

  create(fields) {
    const id = uuid4();
    this.records.write({
      id, fields: pick(fields, PIN_FIELDS), created_at: new Date().toISOString(), rev: 0,
      onServer: false, tried: false, dirty: [], deleted: false, server: null, tries: 0,
    });
    this.touched();
    return id;
  }

  // Change some fields; only those that differ from what the phone has are sent.
  update(id, fields) {
    const changed = this.records.change(id, (record) => {
      const changes = pick(fields, PIN_FIELDS);
      const keys = Object.keys(changes).filter((k) => record.fields[k] !== changes[k]);
      if (!keys.length && record.status !== "refused") return false;
      Object.assign(record.fields, changes);
      record.dirty = Array.from(new Set([...record.dirty, ...keys]));
      record.rev = (record.rev || 0) + 1;
      Object.assign(record, { status: null, error: null, tries: 0, retryAt: 0, problem: null });
      return true;
    });
    if (changed) this.touched();
  }

  remove(id) {
    const record = this.records.readOne(id);
    if (!record) return;
    if (!record.onServer && !record.tried && !this.leasedElsewhere(record)) {
      this.records.drop(id); // never left this phone
    } else {
      this.records.change(id, (r) => Object.assign(r, { deleted: true, status: null, tries: 0, retryAt: 0 }));
    }
    this.touched();
  }

  touched() {
    this.onChange();
    this.schedule(0);
  }

  retryNow() {
    this.netDelay = FIRST_DELAY;
    for (const id of Array.from(this.pins.keys())) this.records.change(id, (r) => (r.retryAt ? (r.retryAt = 0, true) : false));
    this.schedule(0);
  }

  // ---- the server --------------------------------------------------------------------

  async load() {
    if (this.shared) return;
    const asked = Date.now();
    let answer;
    try {
      answer = await fetchJson(`${this.api}/pins`, { headers: { Accept: "application/json" } });
    } catch (error) {
      return; // offline: keep what this phone has
    }
    if (answer.status === 403) return this.close(answer.json);
    if (answer.status !== 200 || !answer.json || !Array.isArray(answer.json.pins)) return;
    const seen = new Set();
    for (const pin of answer.json.pins) {
      seen.add(pin.id);
      const local = this.records.readOne(pin.id);
      if (local && (local.deleted || local.dirty.length || local.status)) {
        this.records.change(pin.id, (r) => Object.assign(r, { onServer: true, server: serverFields(pin, r.server) }));
        continue;
      }
      const fields = serverFields(pin, local && local.fields);
      this.records.write({
        ...(local || { rev: 0, tries: 0 }), id: pin.id, fields, server: fields, created_at: pin.created_at,
        onServer: true, tried: false, dirty: [], deleted: false, comment_status: pin.comment_status,
        settledAt: asked,
      });
    }
    for (const record of Array.from(this.pins.values())) {
      // Sent before we asked and missing from the answer: deleted on another phone.
      const settled = record.onServer && !record.dirty.length && !record.deleted && !record.status;
      if (settled && (record.settledAt || 0) < asked && !seen.has(record.id)) this.records.drop(record.id);
    }
    this.onChange();
  }

  close(json) {
    this.closed = true;
    const message = (json && json.message) || this.text.closed;
    for (const record of Array.from(this.pins.values())) {
      if (PinStore.state(record) === "pending") {
        this.records.change(record.id, (r) => Object.assign(r, { status: "closed", error: message, lease: null }));
      }
    }
    this.onClosed(message);
    this.onChange();
  }

  leasedElsewhere(record) {
    return Boolean(record.lease && record.lease.tab !== this.tab && record.lease.until > Date.now());
  }

  due(record, now) {
    if (record.status === "closed" || this.leasedElsewhere(record)) return false;
    if ((record.retryAt || 0) > now) return false;
    if (record.deleted) return true;
    return record.status !== "refused" && (!record.onServer || record.dirty.length > 0);
  }

  schedule(delay) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.flush(), delay);
  }

  // Send every due pin, oldest first, one request at a time; then wait for the next one.
  async flush() {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.closed) return;
    this.busy = true;
    let wait = null;
    try {
      for (;;) {
        const now = Date.now();
        const next = Array.from(this.pins.values())
          .filter((record) => this.due(record, now))
          .sort((a, b) => (a.created_at || "").localeCompare(b.created_at || ""))[0];
        if (!next) break;
        const outcome = await this.send(next.id);
        if (outcome === "offline") {
          wait = this.netDelay;
          this.netDelay = Math.min(this.netDelay * 2, MAX_DELAY);
          break;
        }
        if (outcome === "closed") return;
        this.netDelay = FIRST_DELAY;
      }
    } finally {
      this.busy = false;
      this.onChange();
    }
    if (this.again) {
      this.again = false;
      wait = 0;
    }
    const later = Array.from(this.pins.values()).filter((r) => r.retryAt && !r.status).map((r) => r.retryAt);
    const leased = Array.from(this.pins.values()).filter((r) => this.leasedElsewhere(r)).map((r) => r.lease.until);
    const times = [...later, ...leased].map((t) => Math.max(t - Date.now(), 0));
    if (wait !== null) times.push(wait);
    if (times.length) this.schedule(Math.min(...times) + 50);
  }

  // Claim a pin, send what it needs, and record the answer. Returns "offline" when the
  // network failed (the pass stops), "closed" on a 403, otherwise "done".
  async send(id) {
    let request = null;
    let sentDirty = [];
    let rev = 0;
    const claimed = this.records.change(id, (record) => {
      if (!this.due(record, Date.now())) return false;
      rev = record.rev || 0;
      record.lease = { tab: this.tab, until: Date.now() + LEASE_MS };
      const url = `${this.api}/pins`;
      if (record.deleted) {
        request = { url: `${url}/${id}`, method: "DELETE" };
      } else if (!record.onServer) {
        record.tried = true;
        request = { url, method: "POST", body: { id, ...pick(record.fields, PIN_FIELDS) } };
      } else {
        sentDirty = record.dirty;
        record.dirty = [];
        request = { url: `${url}/${id}`, method: "PATCH", body: pick(record.fields, sentDirty) };
      }
      return true;
    });
    if (!claimed) return "done";
    this.onChange();
    let answer;
    try {
      answer = await fetchJson(request.url, {
        method: request.method,
        headers: request.body ? { "Content-Type": "application/json", Accept: "application/json" } : {},
        body: request.body ? JSON.stringify(request.body) : undefined,
      });
    } catch (error) {
      this.failed(id, sentDirty, this.text.offline, FIRST_DELAY);
      return "offline";
    }
    return this.answered(id, request, answer, sentDirty, rev);
  }

  // A request that may or may not have reached the server: keep everything, try later.
  failed(id, sentDirty, problem, delay) {
    this.records.change(id, (record) => {
      record.dirty = Array.from(new Set([...record.dirty, ...sentDirty]));
      record.tries = (record.tries || 0) + 1;
      record.retryAt = Date.now() + (delay || backoff(record.tries));
      Object.assign(record, { lease: null, problem });
    });
  }

  answered(id, request, answer, sentDirty, rev) {
    const { status, json } = answer;
    if (status === 429 || status >= 500) {
      // 503: the server is up but its database is away (DESIGN §7); it says when to retry.
      const problem = status === 503 ? this.text.unavailable : this.text.server_error;
      this.failed(id, sentDirty, problem, answer.retryAfter * 1000);
      return "done";
    }
    if (status === 403) {
      this.failed(id, sentDirty, null, MAX_DELAY);
      this.close(json);
      return "closed";
    }
    if (status === 204 || (request.method === "DELETE" && status === 404)) {
      this.records.drop(id);
      return "done";
    }
    if (status === 200 || status === 201) {
      if (!json || json.id !== id) {
        this.failed(id, sentDirty, this.text.not_json);
        return "done";
      }
      this.stored(id, json, rev);
      return "done";
    }
    const reason = (json && (Object.values(json.fields || {})[0] || json.message)) || String(status);
    if (request.method === "POST" && status === 409) {
      // Stored already with other content (our lost 201, then an edit): send it all.
      this.records.change(id, (r) => Object.assign(r, { onServer: true, dirty: [...PIN_FIELDS], lease: null }));
    } else if (request.method === "PATCH" && status === 404) {
      this.records.drop(id); // deleted by another phone of the table
    } else {
      this.refused(id, request, sentDirty, reason);
    }
    return "done";
  }

  stored(id, json, rev) {
    this.records.change(id, (record) => {
      const server = serverFields(json, record.fields);
      Object.assign(record, {
        onServer: true, server, lease: null, tries: 0, retryAt: 0, problem: null, settledAt: Date.now(),
        comment_status: json.comment_status, created_at: record.created_at || json.created_at,
      });
      if (record.deleted) return true; // the DELETE goes next
      if ((record.rev || 0) === rev) {
        record.fields = server;
        record.dirty = [];
        record.tried = false;
      } else {
        // Changed while the request was in flight: send what still differs.
        record.dirty = Array.from(new Set([...record.dirty, ...differing(record.fields, server)]));
      }
      return true;
    });
  }

  refused(id, request, sentDirty, reason) {
    this.records.change(id, (record) => {
      if (request.method === "PATCH" && record.server) {
        // A refused move or edit puts the pin back where the server has it, unless it
        // was changed again meanwhile (that change is sent next).
        for (const key of sentDirty) if (!record.dirty.includes(key)) record.fields[key] = record.server[key];
        if (record.dirty.length) return Object.assign(record, { lease: null, error: reason });
      }
      Object.assign(record, { status: "refused", error: reason, lease: null, tries: 0, retryAt: 0 });
      return true;
    });
  }
}
