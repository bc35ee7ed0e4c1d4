// The respondent's answers and their sending, kept in localStorage under
// "ressenti:survey:<code>" with the response's UUID, made here once: the same browser
// comes back to the same response and changes it until the questionnaire closes. Every
// send is a PUT of the whole response to that UUID, so a replay (a lost answer, a
// second tab, the queue after a night offline) replaces and never doubles.
//
// States: draft (never submitted) → pending (to send; network errors, 5xx, 429 wait with
// a backoff, the `online` event retries at once) → sent (the server has revision
// [sentRev]); a change after sending makes it pending again. Two tabs share the record:
// the last change wins, and each tab shows it (the `storage` event). 422: refused, with the
// server's message per question, until the next change; 403: closed, kept here.
//
// The page token (signed by the server with the time it served the page) is refused
// when used sooner than `minSeconds` after: the first send waits for it. It never
// expires, so answers written offline and sent days later pass.

import { fetchJson } from "./pinnet.js";
import { uuid4 } from "./pinrecords.js";

const FIRST_DELAY = 1000;
const MAX_DELAY = 30000;
const DEBOUNCE = 600;

export class SurveyStore {
  constructor({ code, api, token, minSeconds, text, onChange, onOtherTab }) {
    this.key = `ressenti:survey:${code}`;
    this.api = api;
    this.token = token;
    this.text = text;
    this.onChange = onChange;
    this.earliest = Date.now() + minSeconds * 1000 + 300;
    this.minSeconds = minSeconds;
    this.busy = false;
    this.again = false;
    this.timer = null;
    this.delay = FIRST_DELAY;
    this.record = this.read() || {
      id: uuid4(), answers: {}, other: {}, submitted: false, rev: 0, sentRev: 0,
      status: null, error: null, fields: {}, problem: null,
    };
    this.write();
    window.addEventListener("online", () => this.retryNow());
    // Another tab of this browser changed the answers: take its record (same UUID).
    window.addEventListener("storage", (event) => {
      const record = event.key === this.key ? this.read() : null;
      if (!record) return;
      this.record = record;
      if (onOtherTab) onOtherTab(record);
      this.onChange();
      if (this.state() === "pending") this.schedule(DEBOUNCE);
    });
  }

  read() {
    try {
      const record = JSON.parse(window.localStorage.getItem(this.key));
      return record && record.id ? record : null;
    } catch (error) {
      return null;
    }
  }

  write() {
    try {
      window.localStorage.setItem(this.key, JSON.stringify(this.record));
      this.unsaved = false;
    } catch (error) {
      this.unsaved = true; // full or private mode: kept in this tab only
    }
  }

  state() {
    const r = this.record;
    if (r.status === "closed") return "closed";
    if (!r.submitted) return "draft";
    if (r.status === "refused") return "refused";
    return r.sentRev === r.rev ? "sent" : "pending";
  }

  // New answers from the form; sent (after a short pause) once submitted.
  set(answers, other, website) {
    const same = JSON.stringify([answers, other]) === JSON.stringify([this.record.answers, this.record.other]);
    this.website = website;
    if (same) return;
    Object.assign(this.record, { answers, other, rev: this.record.rev + 1 });
    if (this.record.status === "refused") Object.assign(this.record, { status: null });
    this.write();
    this.onChange();
    if (this.record.submitted) this.schedule(DEBOUNCE);
  }

  submit(answers, other, website) {
    this.website = website;
    Object.assign(this.record, { answers, other, submitted: true, rev: this.record.rev + 1, status: null });
    this.write();
    this.onChange();
    this.schedule(0);
  }

  retryNow() {
    this.delay = FIRST_DELAY;
    if (this.state() === "pending") this.schedule(0);
  }

  schedule(delay) {
    window.clearTimeout(this.timer);
    const wait = Math.max(delay, this.earliest - Date.now(), 0);
    this.timer = window.setTimeout(() => this.flush(), wait);
  }

  async flush() {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.state() !== "pending") return;
    this.busy = true;
    const rev = this.record.rev;
    const body = { answers: this.record.answers, other: this.record.other, token: this.token };
    if (this.website) body.website = this.website;
    let answer = null;
    try {
      answer = await fetchJson(`${this.api}/responses/${this.record.id}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      this.problem(this.text.offline, this.delay);
      this.delay = Math.min(this.delay * 2, MAX_DELAY);
    }
    this.busy = false;
    if (answer) this.answered(answer, rev);
    this.onChange();
    if (this.again) {
      this.again = false;
      this.schedule(0);
    }
  }

  problem(text, wait) {
    this.record.problem = text;
    this.write();
    this.schedule(wait);
  }

  answered({ status, json, retryAfter }, rev) {
    const r = this.record;
    if (status === 200 || status === 201) {
      if (!json || json.id !== r.id) return this.problem(this.text.not_json, this.delay);
      Object.assign(r, { sentRev: Math.max(r.sentRev, rev), problem: null, error: null, fields: {} });
      this.delay = FIRST_DELAY;
      this.write();
      if (r.rev !== rev) this.schedule(DEBOUNCE); // changed while in flight
      return undefined;
    }
    if (status === 429 || status >= 500) {
      const text = status === 503 ? this.text.unavailable : this.text.server_error;
      return this.problem(text, Math.max((retryAfter || 0) * 1000, this.delay));
    }
    const fields = (json && json.fields) || {};
    if (status === 422 && fields.sent_after) {
      this.earliest = Date.now() + this.minSeconds * 1000; // sent too early: wait, then again
      return this.problem(this.text.too_fast, 0);
    }
    const message = (json && json.message) || String(status);
    if (status === 403) {
      Object.assign(r, { status: "closed", error: message });
    } else {
      Object.assign(r, { status: "refused", error: message, fields });
    }
    this.write();
    return undefined;
  }
}
