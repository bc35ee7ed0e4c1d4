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
"""

from __future__ import annotations

import argparse
import os
import platform
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


def serve(root: Path, url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
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
    args = parser.parse_args()
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
