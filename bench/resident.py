"""The resident's page on a throttled phone: bytes and time until a pin can be placed.

Run: ``.venv/bin/python bench/resident.py [--runs 3]``.

A fresh ``ressenti_bench_resident`` database gets the shipped Rennes quartiers and
streets (``flask demo load``) and an open workshop on one quartier (Le Blosne, Q.11)
whose table already holds 30 pins. The app runs in this process (werkzeug, threaded)
on 127.0.0.1, no tile server (``TILE_URL`` empty: the map is the quartier and its
streets, as in a hall without internet), behind a counter of the bytes it sends.

Chromium (Debian's, through Playwright) as a phone: 360×640, touch, fr-FR; through the
page's DevTools session, Chrome DevTools' "Slow 4G" preset
(``Network.emulateNetworkConditions``: latency 562.5 ms, down 180,000 B/s =
1.44 Mbit/s, up 84,375 B/s — DevTools' 150 ms × 3.75, 1.6 Mbit/s × 0.9 and
750 kbit/s × 0.9) and a 4× CPU slowdown (``Emulation.setCPUThrottlingRate``).

Side by side, in each run:

* anchor: the same URL with JavaScript disabled (what a plain HTML form page costs:
  the HTML and its CSS), until the ``load`` event;
* cold: a fresh profile (no HTTP cache, no service worker), until a pin can be placed:
  the map's quartier is drawn (Leaflet's overlay path) and the "Valider" button is
  enabled — recorded in the page by a MutationObserver (a DevTools init script);
* warm: the same profile visits again once the service worker holds the page
  (``<html data-sw="ready">``), same signal.

Bytes: what the page's DevTools session saw arrive (``encodedDataLength``, headers
included), and, for the cold run, everything the server sent until the worker was
ready (its install and the page it stores included). Times are medians of the runs.
``--gzip``: the app behind a gzip layer, as nginx with ``gzip on`` would serve it
(deploy/nginx.conf.example). Also measured: warm with no network (the stored page
straight away), the floor of a stored-first page.

Targets: ≤ 300 kB on first load, ≤ 3 s to interactive cold, ≤ 1 s warm.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_database  # noqa: E402

DATABASE = "ressenti_bench_resident"
CHROMIUM = "/usr/bin/chromium"
SLOW_4G = {  # Chrome DevTools' "Slow 4G" preset (formerly "Fast 3G")
    "offline": False,
    "latency": 150 * 3.75,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}
CPU_SLOWDOWN = 4
THROTTLE = {"cpu": CPU_SLOWDOWN}  # --cpu
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
}
# Runs in the page before its own scripts (DevTools injects it, whatever the CSP):
# the first moment a pin can be placed, in ms since the navigation started.
READY_PROBE = """
(() => {
  const check = () => {
    const button = document.getElementById("confirm");
    const drawn = document.querySelector("#pin-map .leaflet-overlay-pane path");
    if (button && !button.disabled && drawn && window.__pinReady === undefined) {
      window.__pinReady = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true,
    attributes: true });
})();
"""
TARGETS = {"bytes": 300_000, "cold": 3000, "warm": 1000}


class ByteCounter:
    """WSGI middleware: the body bytes the app sent, per path."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.sent: list[tuple[str, int]] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for chunk in self.app(environ, start_response):
            with self.lock:
                self.sent.append((path, len(chunk)))
            yield chunk

    def take(self) -> list[tuple[str, int]]:
        with self.lock:
            sent, self.sent = self.sent, []
        return sent


# deploy/nginx.conf.example's gzip_types (not text/html: see there).
COMPRESSIBLE = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "application/manifest+json",
    "image/svg+xml",
)


class ProxyGzip:
    """What ``gzip on; gzip_comp_level 6; gzip_types …`` in nginx would do (``--gzip``)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        body = b"".join(self.app(environ, capture))
        headers = captured["headers"]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if body and kind.split(";")[0].strip() in COMPRESSIBLE:
            body = gzip.compress(body, 6)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
            headers += [("Vary", "Accept-Encoding")]
        start_response(captured["status"], headers)
        return [body]


def prepare(url: str):
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TILE_URL": ""})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    out = app.test_cli_runner().invoke(args=["demo", "load"])
    assert out.exit_code == 0, out.output
    return app, open_workshop(app)


def open_workshop(app) -> str:
    """An open workshop on Le Blosne with one table and 30 pins; its join code."""
    from datetime import date

    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Quartier, Territory, Workshop, WorkshopGroup
    from app.workshops.groups import new_join_code

    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        quartier = db.session.scalar(sa.select(Quartier).where(Quartier.code == "Q.11"))
        workshop = Workshop(
            territory=territory,
            kind="atelier",
            title="Marche exploratoire du Blosne",
            status="open",
            held_on=date(2026, 12, 2),
            quartiers=[quartier],
        )
        group = WorkshopGroup(territory_id=territory.id, name="Table 1", join_code=new_join_code())
        workshop.groups = [group]
        db.session.add(workshop)
        db.session.commit()
        code = group.join_code
        centre = db.session.execute(
            sa.select(sa.func.ST_X(sa.func.ST_Centroid(Quartier.geom)),
                      sa.func.ST_Y(sa.func.ST_Centroid(Quartier.geom)))
            .where(Quartier.id == quartier.id)
        ).one()  # fmt: skip
    client = app.test_client()
    import uuid

    for i in range(30):
        body = {
            "id": str(uuid.uuid4()),
            "feeling": "unsafe",
            "category": ("lighting", "noise", "harassment")[i % 3],
            "time_of_day": ("night", "evening", "day")[i % 3],
            "comment": None,
            "lon": centre[0] + (i % 6 - 3) * 0.0008,
            "lat": centre[1] + (i // 6 - 2) * 0.0006,
        }
        response = client.post(f"/api/v1/groups/{code}/pins", json=body)
        assert response.status_code == 201, response.get_json()
    return code


def serve(app, compress: bool):
    from werkzeug.serving import make_server

    counter = ByteCounter(ProxyGzip(app.wsgi_app) if compress else app.wsgi_app)
    app.wsgi_app = counter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counter


class Probe:
    """A page with DevTools throttling and a log of what arrived."""

    def __init__(self, context, throttle: bool = True):
        self.page = context.new_page()
        self.cdp = context.new_cdp_session(self.page)
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.from_worker: set[str] = set()
        self.cdp.send("Network.enable")
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        if throttle:
            self.cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE["cpu"]})

    def _response(self, event):
        self.urls[event["requestId"]] = event["response"]["url"]
        if event["response"].get("fromServiceWorker"):
            self.from_worker.add(event["requestId"])

    def _finished(self, event):
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def reset(self):
        self.urls.clear()
        self.bytes.clear()
        self.from_worker.clear()

    def total(self) -> int:
        return sum(self.bytes.values())

    def largest(self, n: int = 5) -> list[tuple[str, int]]:
        rows = [(self.urls.get(r, r).split("/", 3)[-1], b) for r, b in self.bytes.items()]
        return sorted(rows, key=lambda row: -row[1])[:n]


TIMELINE = """(() => {
  const n = performance.getEntriesByType("navigation")[0];
  const rows = [["html", n.responseStart, n.responseEnd], ["DOMContentLoaded", 0,
    n.domContentLoadedEventEnd]];
  for (const r of performance.getEntriesByType("resource")) {
    rows.push([r.name.split("/").slice(3).join("/"), r.startTime, r.responseEnd]);
  }
  rows.push(["pin can be placed", 0, window.__pinReady]);
  return rows.map(([name, start, end]) => [name, Math.round(start), Math.round(end)]);
})()"""


class WorkerThrottle:
    """The same Slow 4G and CPU slowdown for the service worker: a page's DevTools session
    does not reach the requests its worker makes (the network-first page), so the
    worker's own target is attached (through the browser's session) and throttled too."""

    def __init__(self, browser):
        self.session = browser.new_browser_cdp_session()
        targets = self.session.send("Target.getTargets")["targetInfos"]
        workers = [t for t in targets if t["type"] == "service_worker"]
        assert workers, "no service worker to throttle"
        self.ids = [
            self.session.send("Target.attachToTarget", {"targetId": t["targetId"]})["sessionId"]
            for t in workers
        ]
        self.sent = 0
        self.command("Network.enable", {})
        self.command("Network.emulateNetworkConditions", SLOW_4G)
        self.command("Emulation.setCPUThrottlingRate", {"rate": THROTTLE["cpu"]})

    def command(self, method: str, params: dict) -> None:
        for session_id in self.ids:
            self.sent += 1
            message = {"id": self.sent, "method": method, "params": params}
            self.session.send(
                "Target.sendMessageToTarget",
                {"sessionId": session_id, "message": json.dumps(message)},
            )

    def offline(self) -> None:
        self.command("Network.emulateNetworkConditions", {**SLOW_4G, "offline": True})


def wait_ready(page) -> float:
    page.locator("#pin-map .leaflet-overlay-pane path").first.wait_for(
        state="attached", timeout=60_000
    )
    page.locator("#confirm:enabled").wait_for(state="attached", timeout=60_000)
    return page.evaluate("window.__pinReady")


def anchor_run(browser, url: str) -> dict:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    probe = Probe(context)
    probe.page.goto(url, wait_until="load", timeout=60_000)
    timing = probe.cdp.send(
        "Runtime.evaluate",
        {"expression": "performance.getEntriesByType('navigation')[0].loadEventStart",
         "returnByValue": True},
    )  # fmt: skip
    result = {"ms": timing["result"]["value"], "bytes": probe.total()}
    context.close()
    return result


def js_runs(browser, url: str, counter: ByteCounter) -> tuple[dict, dict, list]:
    context = browser.new_context(**PHONE)
    context.add_init_script(READY_PROBE)
    probe = Probe(context)
    counter.take()
    probe.page.goto(url, wait_until="commit", timeout=60_000)
    cold = {"ms": wait_ready(probe.page), "bytes": probe.total()}
    largest = probe.largest()
    cold["timeline"] = probe.page.evaluate(TIMELINE)
    probe.page.locator("html[data-sw=ready]").wait_for(state="attached", timeout=120_000)
    cold["server_bytes"] = sum(b for _, b in counter.take())
    cold["page_bytes_until_sw"] = probe.total()

    workers = WorkerThrottle(browser)
    probe.reset()
    probe.page.goto(url, wait_until="commit", timeout=60_000)
    warm = {"ms": wait_ready(probe.page), "bytes": probe.total()}
    warm["timeline"] = probe.page.evaluate(TIMELINE)
    warm["from_worker"] = len(probe.from_worker)
    warm["server_bytes"] = sum(b for _, b in counter.take())

    # Warm with no network: the stored page at once (what a stored-first page would give).
    context.set_offline(True)
    workers.offline()
    counter.take()
    probe.page.goto(url, wait_until="commit", timeout=60_000)
    warm["offline_ms"] = wait_ready(probe.page)
    # (the warm page's own pin list may still arrive: it left before the switch)
    reached = [path for path, _ in counter.take() if path.startswith("/j/")]
    assert not reached, f"the page came from the server while offline: {reached}"
    workers.session.detach()
    context.close()
    return cold, warm, largest


def gzip_sizes(app, code: str) -> dict[str, tuple[int, int]]:
    """Raw and gzip -6 sizes of the first load's files (what a proxy could save)."""
    client = app.test_client()
    paths = [f"/j/{code}", f"/api/v1/groups/{code}/streets.geojson"] + [
        f"/static/{p}" for p in app.config["OFFLINE_PRECACHE"]
    ]
    sizes = {}
    for path in paths:
        body = client.get(path).get_data()
        sizes[path] = (len(body), len(gzip.compress(body, 6)))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gzip", action="store_true", help="compress as nginx would")
    parser.add_argument("--cpu", type=float, default=CPU_SLOWDOWN, help="CPU slowdown")
    args = parser.parse_args()
    THROTTLE["cpu"] = args.cpu

    url, _params = fresh_database(DATABASE)
    app, code = prepare(url)
    server, counter = serve(app, args.gzip)
    page_url = f"http://127.0.0.1:{server.server_port}/j/{code}"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"page: {page_url}; Slow 4G {SLOW_4G}, CPU ×{THROTTLE['cpu']}, gzip: {args.gzip}")

    from playwright.sync_api import sync_playwright

    anchors, colds, warms = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        print(f"chromium {browser.version}")
        for run in range(1, args.runs + 1):
            anchor = anchor_run(browser, page_url)
            cold, warm, largest = js_runs(browser, page_url, counter)
            anchors.append(anchor)
            colds.append(cold)
            warms.append(warm)
            timelines = {"cold": cold.pop("timeline"), "warm": warm.pop("timeline")}
            print(f"run {run}: anchor {anchor}\n  cold {cold}\n  warm {warm}")
        for side, rows in timelines.items():  # the last run's: start → end, ms
            print(f"timeline, {side}: " + "; ".join(f"{n} {a}→{b}" for n, a, b in rows))
        browser.close()
    server.shutdown()
    print("load average at the end (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))

    def median(rows, key):
        return statistics.median(r[key] for r in rows)

    a_ms, c_ms, w_ms = median(anchors, "ms"), median(colds, "ms"), median(warms, "ms")
    a_b, c_b, w_b = median(anchors, "bytes"), median(colds, "bytes"), median(warms, "bytes")
    print()
    print("| side | bytes (page) | time until a pin can be placed | ratio to anchor |")
    print("|---|---|---|---|")
    print(f"| anchor, no JS (load event) | {a_b / 1000:.1f} kB | {a_ms:.0f} ms | 1 |")
    ratio = f"{c_ms / a_ms:.2f} (bytes {c_b / a_b:.1f})"
    print(f"| cold | {c_b / 1000:.1f} kB | {c_ms:.0f} ms | {ratio} |")
    print(f"| warm (service worker) | {w_b / 1000:.1f} kB | {w_ms:.0f} ms | {w_ms / a_ms:.2f} |")
    o_ms = median(warms, "offline_ms")
    print(f"| warm, offline (stored page) | 0 kB | {o_ms:.0f} ms | {o_ms / a_ms:.2f} |")
    print(
        f"cold, everything the server sent until the worker was ready: "
        f"{median(colds, 'server_bytes') / 1000:.1f} kB; warm: "
        f"{median(warms, 'server_bytes') / 1000:.1f} kB"
    )
    for name, value, target in (
        ("first load bytes", c_b, TARGETS["bytes"]),
        ("cold ms", c_ms, TARGETS["cold"]),
        ("warm ms", w_ms, TARGETS["warm"]),
    ):
        verdict = "met" if value <= target else f"MISSED by {value - target:.0f}"
        print(f"target {name} ≤ {target}: {value:.0f} — {verdict}")
    print("largest transfers, last cold run:")
    for path, size in largest:
        print(f"  {size / 1000:7.1f} kB  {path}")
    print("raw → gzip -6 (what compression at the proxy would send):")
    for path, (raw, packed) in gzip_sizes(app, code).items():
        print(f"  {raw / 1000:7.1f} → {packed / 1000:6.1f} kB  {path}")


if __name__ == "__main__":
    main()
