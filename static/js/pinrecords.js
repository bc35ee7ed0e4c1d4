// Where the resident's pins live: one localStorage record per pin, under
// "ressenti:pin:<code>:<id>", so that every tab of the browser shares them and a tab
// writes only the pin it changes (the queue used to be one blob per code, overwritten
// whole by each tab: a pin placed in one tab was lost when the other saved). Records
// that localStorage refuses (full, private mode) stay in this tab's memory, listed in
// `unsaved` for the page to say so. What a record holds is described in pinstore.js.

export const PIN_FIELDS = ["feeling", "category", "time_of_day", "comment", "lon", "lat"];

export function pick(object, keys) {
  return Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));
}

export function uuid4() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  // randomUUID needs a secure context; a hall's LAN address over http is not one.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

export class PinRecords {
  constructor(code) {
    this.prefix = `ressenti:pin:${code}:`;
    this.legacyKey = `ressenti:pins:${code}`;
    this.pins = new Map(); // id -> record: this tab's copy
    this.unsaved = new Set(); // ids whose last write localStorage refused
  }

  // ---- storage ---------------------------------------------------------------------

  key(id) {
    return this.prefix + id;
  }

  readAll() {
    try {
      this.migrate();
      for (let i = 0; i < window.localStorage.length; i += 1) {
        const key = window.localStorage.key(i);
        if (key && key.startsWith(this.prefix)) this.readOne(key.slice(this.prefix.length));
      }
    } catch (error) {
      /* no storage at all (private mode): this tab's memory only, said by counts() */
    }
  }

  // Re-read one record from localStorage (another tab may have changed it).
  readOne(id) {
    if (this.unsaved.has(id)) return this.pins.get(id) || null; // only this tab has it
    let raw;
    try {
      raw = window.localStorage.getItem(this.key(id));
    } catch (error) {
      return this.pins.get(id) || null;
    }
    if (raw === null) {
      this.pins.delete(id);
      return null;
    }
    try {
      const record = JSON.parse(raw);
      this.pins.set(id, record);
      return record;
    } catch (error) {
      return this.pins.get(id) || null;
    }
  }

  write(record) {
    this.pins.set(record.id, record);
    try {
      window.localStorage.setItem(this.key(record.id), JSON.stringify(record));
      this.unsaved.delete(record.id);
    } catch (error) {
      // Full or forbidden storage: the pin stays in this tab (and is sent) but would not
      // survive a reload; the status box says so.
      this.unsaved.add(record.id);
    }
  }

  drop(id) {
    this.pins.delete(id);
    this.unsaved.delete(id);
    try {
      window.localStorage.removeItem(this.key(id));
    } catch (error) {
      /* nothing stored to remove */
    }
  }

  // Apply fn to the freshest copy of a record and store it; fn returns false to skip.
  change(id, fn) {
    const record = this.readOne(id);
    if (!record || fn(record) === false) return null;
    this.write(record);
    return record;
  }

  // A `storage` event from another tab: re-read what it changed; true if it was ours.
  heard(event) {
    if (event.storageArea !== window.localStorage) return false;
    if (event.key !== null && !event.key.startsWith(this.prefix)) return false;
    if (event.key === null) {
      this.pins.clear();
      this.readAll();
    } else {
      this.readOne(event.key.slice(this.prefix.length));
    }
    return true;
  }

  // The queue used to be one blob per code ({pins, queue}); turn it into records once.
  migrate() {
    let saved;
    try {
      saved = JSON.parse(window.localStorage.getItem(this.legacyKey) || "null");
    } catch (error) {
      return;
    }
    if (!saved) return;
    const jobs = saved.queue || [];
    for (const pin of Object.values(saved.pins || {})) {
      const mine = jobs.filter((job) => job.id === pin.id);
      this.write({
        id: pin.id, fields: pick(pin, PIN_FIELDS), created_at: pin.created_at, rev: 0,
        onServer: Boolean(pin.known) && !mine.some((job) => job.op === "create"),
        tried: true, dirty: mine.flatMap((job) => job.fields || []), deleted: false,
        server: pin.server ? pick(pin.server, PIN_FIELDS) : null, comment_status: pin.comment_status,
      });
    }
    for (const job of jobs.filter((j) => j.op === "delete")) {
      this.write({ id: job.id, fields: {}, rev: 0, onServer: true, tried: true, dirty: [], deleted: true });
    }
    if (!this.unsaved.size) window.localStorage.removeItem(this.legacyKey);
  }
}
