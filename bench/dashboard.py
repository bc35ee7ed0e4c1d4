"""The police dashboard in Chromium at demo scale: bytes, time to drawn layers, filter change.

Run: ``.venv/bin/python bench/dashboard.py [--runs 5]``.

A fresh ``ressenti_bench_dashboard`` database gets the Rennes demo (``flask demo load``,
320 pins) and a police user. The app is served by gunicorn (3 sync workers) on
127.0.0.1; Chromium (Debian's, through Playwright) signs in and, per run, in a fresh
context (nothing cached in the browser):

* page: the dashboard's HTML size, and its server time (median of ``--runs`` GETs);
* drawn: from ``goto`` until the layers are drawn (``.layer-map[data-layers-ready]``),
  and every byte the browser received for it (bodies, ``Request.sizes()``);
* filter: from choosing a category until the layers of that filter are drawn again
  (first time for the filter: layer cache cold; then warm).

Anchor: the server-rendered page of commit ``ANCHOR`` (main before this change: every
layer built into the page by ``build_map``), taken out with ``git archive`` and served
the same way on the same database; drawn = the density picture in the page after
``load``, filter = submit, new page, density picture.

Budgets (issue 14, demo scale): page ≤ 400 kB served in ≤ 300 ms; a filter change
≤ 500 ms end to end.

With ``--pins N`` (issue 14, 10^6 pins): :mod:`bench.tiles`'s Paris of N pins (its
database is reused with ``--reuse``) and a police user of Paris; the same page served
twice, in tile mode (the default ``DASHBOARD_TILES_FROM_PINS``: hexagons and points are
vector tiles) and with tiles off (the limit above N: the demo-scale path, the layers
API and points.json). Per run, in a fresh context: ``goto`` until the default layers are
drawn, then the hexagons and the points overlays switched on until drawn; "drawn" is the
sum. Budget: ≤ 2 s to drawn layers in tile mode.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import fresh_database, wait_healthy  # noqa: E402

DATABASE = "ressenti_bench_dashboard"
ANCHOR = "8e49507"  # main before the dashboard fetched its layers
EMAIL, PASSWORD = "bench-police@example.org", "bench bench bench bench"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/e2e/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FILTERS = ("lighting", "noise", "gatherings")


def prepare(url: str) -> None:
    from app import create_app
    from app.accounts.auth import hash_password
    from app.extensions import db
    from app.models import Territory, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TILE_URL": ""})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    out = app.test_cli_runner().invoke(args=["demo", "load"])
    assert "demo workshop created" in out.output, out.output
    with app.app_context():
        rennes = db.session.scalar(db.select(Territory).where(Territory.slug == "rennes"))
        user = User(
            email=EMAIL,
            name="Bench",
            role="police",
            password_hash=hash_password(PASSWORD),
            territories=[rennes],
        )
        db.session.add(user)
        db.session.commit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, url: str, port: int, **settings) -> subprocess.Popen:
    env = {
        **os.environ,
        **{f"RESSENTI_{name}": str(value) for name, value in settings.items()},
        "DATABASE_URL": url,
        "RESSENTI_SECRET_KEY": "bench",
        "RESSENTI_TILE_URL": "",
        "PYTHONPATH": str(root),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "3", "app:create_app()"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_healthy(server, port)


def prepare_large(url: str, params: dict, pins: int, reuse: bool) -> None:
    """Paris with ``pins`` pins and its public release (bench/tiles.py), a police user."""
    from app import create_app
    from app.accounts.auth import hash_password
    from app.extensions import db
    from app.models import Territory, User
    from bench.layers import load_pins
    from bench.layers import prepare as prepare_paris
    from bench.tiles import release

    if reuse:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TILE_URL": ""})
    else:
        app = prepare_paris(url)
        load_pins(params, pins)
        release(app)
    with app.app_context():
        if db.session.scalar(db.select(User).where(User.email == EMAIL)) is None:
            paris = db.session.scalar(db.select(Territory).where(Territory.slug == "paris"))
            password = hash_password(PASSWORD)
            db.session.add(
                User(
                    email=EMAIL,
                    name="Bench",
                    role="police",
                    password_hash=password,
                    territories=[paris],
                )
            )
            db.session.commit()


def measure_large(browser, base: str, runs: int, tiled: bool) -> dict:
    """Default layers, then hexagons, then points drawn (medians over ``runs``)."""
    from playwright.sync_api import expect

    steps = {"default_ms": [], "hexagons_ms": [], "points_ms": [], "drawn_ms": []}
    waits, sizes = [], []  # per tile (or layer) request: time to first byte, body bytes
    for _run in range(runs):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
        page = context.new_page()
        sign_in(page, base)
        page.on("requestfinished", lambda r: _log_wait(r, waits, sizes))
        start = time.perf_counter()
        page.goto(f"{base}/t/paris/tableau-de-bord/", wait_until="commit")
        expect(page.locator(".layer-map[data-layers-ready]")).to_have_count(1, timeout=120_000)
        marks = [time.perf_counter()]
        control = page.locator(".leaflet-control-layers-overlays")
        for name, label in (("hexagons", "Hexagones"), ("points", r"^\s*Points\s*$")):
            drawn = page.locator("path.leaflet-interactive")
            before = drawn.count()
            control.locator("label", has_text=re.compile(label)).locator("input").check()
            if tiled:
                ready = page.locator(f".layer-map[data-tiles-{name}-ready]")
                expect(ready).to_have_count(1, timeout=120_000)
            else:
                expect(drawn).not_to_have_count(before, timeout=120_000)
            marks.append(time.perf_counter())
            if tiled:  # drawn, not only asked (untimed)
                expect(page.locator(".leaflet-tile path")).not_to_have_count(0)
        for key, begin, end in zip(steps, [start, *marks], [*marks, marks[-1]], strict=False):
            steps[key].append(end - begin)
        steps["drawn_ms"][-1] = marks[-1] - start
        context.close()
    found = {key: statistics.median(values) * 1000 for key, values in steps.items()}
    found["data_requests"] = len(waits) / runs
    found["data_wait_p50_ms"] = statistics.median(waits) if waits else float("nan")
    found["data_kB"] = sum(sizes) / runs / 1000
    return found


def _log_wait(request, waits: list, sizes: list) -> None:
    """Tiles, layers and points.json: the server's share (request sent → first byte)."""
    if (
        "/tiles/WebMercatorQuad/" in request.url
        or "/layers/" in request.url
        or "points.json" in request.url
    ):
        timing = request.timing
        waits.append(timing["responseStart"] - timing["requestStart"])
        sizes.append(request.sizes()["responseBodySize"])


def large(args) -> None:
    url, params = fresh_database(DATABASE + "_large")
    prepare_large(url, params, args.pins, args.reuse)
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for side, limit in (("tiles off", args.pins * 10), ("tiles", None)):
            port = free_port()
            settings = {} if limit is None else {"DASHBOARD_TILES_FROM_PINS": limit}
            server = serve(ROOT, url, port, **settings)
            try:
                results[side] = measure_large(
                    browser, f"http://127.0.0.1:{port}", args.runs, limit is None
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
        browser.close()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{args.pins:,} pins; medians of {args.runs} runs")
    print(f"{'':14}{'tiles off':>12}{'tiles':>12}")
    for key in results["tiles"]:
        print(f"{key:14}{results['tiles off'][key]:>12.0f}{results['tiles'][key]:>12.0f}")
    met = results["tiles"]["drawn_ms"] <= 2000
    print("budget met (drawn ≤ 2 s)" if met else "budget MISSED (drawn ≤ 2 s)")


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/connexion")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def served(context, url: str, runs: int) -> tuple[int, float]:
    """The page's size and its median server time (the browser's session cookie)."""
    times, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        response = context.request.get(url)
        times.append(time.perf_counter() - start)
        size = len(response.body())
        assert response.status == 200, response.status
    return size, statistics.median(times)


def measure(browser, base: str, runs: int, anchor: bool) -> dict:
    from playwright.sync_api import expect

    url = f"{base}/t/rennes/tableau-de-bord/"
    ready = ".leaflet-image-layer" if anchor else ".layer-map[data-layers-ready]"
    drawn, received, cold, warm = [], [], [], []
    for run in range(runs):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1200, "height": 900})
        page = context.new_page()
        sign_in(page, base)
        responses = []
        page.on("requestfinished", lambda request, log=responses: log.append(request))
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        if anchor:
            page.wait_for_load_state("load")
        expect(page.locator(ready)).to_have_count(1, timeout=60_000)
        drawn.append(time.perf_counter() - start)
        page.wait_for_load_state("networkidle")
        received.append(sum(r.sizes()["responseBodySize"] for r in responses))
        for category in FILTERS if run == 0 else FILTERS[:1]:
            start = time.perf_counter()
            page.select_option("select[name=category]", category)
            if anchor:
                with page.expect_navigation(wait_until="load"):
                    page.click("form.filters button[type=submit]")
            expect(page.locator(ready)).to_have_count(1, timeout=60_000)
            (cold if run == 0 else warm).append(time.perf_counter() - start)
            page.select_option("select[name=category]", "")  # back to every category
            if anchor:
                with page.expect_navigation(wait_until="load"):
                    page.click("form.filters button[type=submit]")
            expect(page.locator(ready)).to_have_count(1, timeout=60_000)
        if run == 0:
            size, server = served(context, url, runs)
        context.close()
    return {
        "page_bytes": size,
        "served_ms": server * 1000,
        "drawn_ms": statistics.median(drawn) * 1000,
        "received_bytes": statistics.median(received),
        "filter_cold_ms": statistics.median(cold) * 1000,
        "filter_warm_ms": statistics.median(warm) * 1000 if warm else float("nan"),
    }


def anchor_tree(tmp: Path) -> Path:
    """The anchor's source (git archive of ANCHOR), with this tree's front-end libs."""
    tree = tmp / "anchor"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", ANCHOR], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    shutil.copytree(ROOT / "static" / "vendor", tree / "static" / "vendor")
    return tree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pins", type=int, help="the 10^6 scenario, tile mode (see above)")
    parser.add_argument("--reuse", action="store_true", help="keep its loaded database")
    args = parser.parse_args()
    if args.pins:
        large(args)
        return
    url, _params = fresh_database(DATABASE)
    prepare(url)
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for side, root in (("anchor", anchor_tree(Path(tmp))), ("ours", ROOT)):
            port = free_port()
            server = serve(root, url, port)
            try:
                results[side] = measure(
                    browser, f"http://127.0.0.1:{port}", args.runs, side == "anchor"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
        browser.close()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{'':16}{'anchor':>12}{'ours':>12}{'budget':>12}")
    budgets = {
        "page_bytes": 400_000,
        "served_ms": 300,
        "filter_cold_ms": 500,
        "filter_warm_ms": 500,
    }
    for key in results["ours"]:
        a, o = results["anchor"][key], results["ours"][key]
        budget = budgets.get(key, "")
        print(f"{key:16}{a:>12.0f}{o:>12.0f}{budget:>12}")
    ok = all(results["ours"][k] <= v for k, v in budgets.items())
    print("budgets met" if ok else "budget MISSED")


if __name__ == "__main__":
    main()
