"""A resident's phone in a hall without Wi-Fi: after one visit the page, its map and its
queue work offline, reload included; a new deploy replaces the worker and its caches;
staff pages and writes are never stored."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import Category, Pin
from tests.e2e.conftest import PHONE, sign_in
from tests.helpers import app_config

# Every URL held in Cache Storage (evaluate runs through DevTools, outside the page's CSP).
CACHED_URLS = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => r.method + " " + new URL(r.url).pathname);
  }
  return out;
}"""
WORKER_WAIT = 30_000  # ms: install fetches a dozen files on a shared 2-core machine


def pins_in_db(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Pin.id, Category.code).join(Category).order_by(Pin.created_at)
        ).all()
    return [{"id": r[0], "category": r[1]} for r in rows]


def place_pin(page, category: str, time_of_day: str) -> None:
    """Place a pin at the map's centre (the keyboard way), as tests/e2e/test_pinning.py."""
    page.click("#place-centre")
    expect(page.locator("#where")).to_contain_text("Endroit choisi")
    page.select_option("#category", category)
    page.select_option("#time_of_day", time_of_day)
    page.click("#confirm")


@pytest.fixture
def phone_context(browser):
    context = browser.new_context(**PHONE)
    yield context
    context.close()


def visit_until_stored(page, base: str, code: str) -> None:
    page.goto(f"{base}/j/{code}")
    expect(page.locator("html")).to_have_attribute("data-sw", "ready", timeout=WORKER_WAIT)


def expect_map(page) -> None:
    """The quartier outline (data island) and the streets (API, stored) are drawn."""
    expect(page.locator("#pin-map .leaflet-overlay-pane path")).to_have_count(1)
    expect(page.locator("#pin-map .leaflet-streets-pane path").first).to_be_attached()


def test_offline_reload_keeps_page_map_and_queue_and_sends_once(
    app, live_server, phone_context, make_workshop
):
    code = make_workshop(status="open")["codes"][0]
    page = phone_context.new_page()
    posts = []
    page.on(
        "response",
        lambda r: posts.append(r.url) if r.request.method == "POST" and "/pins" in r.url else None,
    )
    visit_until_stored(page, live_server, code)
    expect_map(page)
    place_pin(page, "lighting", "night")
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0")

    # Offline, and (belt and braces: Chromium's offline emulation has let a write out
    # through the worker-controlled page once in a full run) every pin write refused.
    def refuse_writes(route):
        route.abort("internetdisconnected") if route.request.method != "GET" else route.fallback()

    phone_context.route("**/api/v1/groups/**", refuse_writes)
    phone_context.set_offline(True)
    place_pin(page, "noise", "evening")
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "1")
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect_map(page)
    # The pin sent before and the one waiting in the queue, both listed after the reload.
    expect(page.locator("#pin-list li")).to_have_count(2)
    expect(page.locator("#pin-list .state-pending")).to_have_count(1)
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "1")
    expect(page.locator("#confirm")).to_be_enabled()
    place_pin(page, "harassment", "night")
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "2")
    assert [p["category"] for p in pins_in_db(app)] == ["lighting"]

    phone_context.unroute("**/api/v1/groups/**", refuse_writes)
    phone_context.set_offline(False)
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0", timeout=40_000)
    stored = pins_in_db(app)
    assert sorted(p["category"] for p in stored) == ["harassment", "lighting", "noise"]
    assert len({p["id"] for p in stored}) == 3
    assert len(posts) == 3  # one answered POST per pin: the queue sent each exactly once
    page.reload()
    expect(page.locator("#pin-list li")).to_have_count(3)
    expect(page.locator("#pin-list .state-sent")).to_have_count(3)
    assert len(pins_in_db(app)) == 3


class Server:
    """The app on 127.0.0.1 on a port that can be reused: a restart keeps the origin,
    so the browser sees the same site (and its service worker) come back."""

    def __init__(self, app, port: int = 0):
        self.httpd = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def test_new_build_replaces_the_worker_and_deletes_old_caches(
    app, database_url_for_tests, phone_context, make_workshop
):
    code = make_workshop(status="open")["codes"][0]
    first = app.config["BUILD_VERSION"]
    server = Server(app)
    base = f"http://127.0.0.1:{server.port}"
    page = phone_context.new_page()
    deployed = None
    try:
        visit_until_stored(page, base, code)
        expect(page.locator("html")).to_have_attribute("data-sw-build", first)
        caches = page.evaluate(CACHED_URLS)
        assert sorted(caches) == [f"ressenti-{first}-pages", f"ressenti-{first}-static"]
        assert f"GET /j/{code}" in caches[f"ressenti-{first}-pages"]
        assert "GET /static/js/pinning.js" in caches[f"ressenti-{first}-static"]

        # A deploy: the app restarts on the same address with another build.
        server.stop()
        deployed = create_app(app_config(database_url_for_tests, BUILD_VERSION="next-build-1"))
        server = Server(deployed, server.port)
        page.reload()
        expect(page.locator("html")).to_have_attribute(
            "data-sw-build", "next-build-1", timeout=WORKER_WAIT
        )
        expect(page.locator("html")).to_have_attribute("data-sw", "ready")
        caches = page.evaluate(CACHED_URLS)
        assert sorted(caches) == ["ressenti-next-build-1-pages", "ressenti-next-build-1-static"]
        assert f"GET /j/{code}" in caches["ressenti-next-build-1-pages"]
        workers = page.evaluate(
            "navigator.serviceWorker.getRegistrations().then((rs) => rs.map((r) => "
            "[r.scope, !!r.active, !!r.waiting, !!r.installing]))"
        )
        assert workers == [[f"{base}/j", True, False, False]]

        # Still usable offline under the new build.
        phone_context.set_offline(True)
        response = page.reload()
        assert response is not None and response.from_service_worker
        expect_map(page)
    finally:
        server.stop()
        if deployed is not None:
            with deployed.app_context():
                db.session.remove()
                db.engine.dispose()


def stored_urls(page) -> list[str]:
    return [url for urls in page.evaluate(CACHED_URLS).values() for url in urls]


def test_writes_are_not_stored(app, live_server, phone_context, make_workshop):
    code = make_workshop(status="open")["codes"][0]
    page = phone_context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    writes = []
    page.on("response", lambda r: writes.append(r) if r.request.method != "GET" else None)
    visit_until_stored(page, live_server, code)
    place_pin(page, "lighting", "night")
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0")
    page.locator("#pin-list li button", has_text="Supprimer").click()
    expect(page.locator("#pin-list li")).to_have_count(0)
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0")

    assert sorted(r.request.method for r in writes) == ["DELETE", "POST"]
    assert not [r for r in writes if r.from_service_worker]  # straight to the network
    stored = stored_urls(page)
    assert all(url.startswith("GET ") for url in stored)  # no POST, PATCH or DELETE
    allowed = (f"GET /j/{code}", f"GET /api/v1/groups/{code}/streets.geojson")
    assert [u for u in stored if not u.startswith("GET /static/") and u not in allowed] == []
    assert f"GET /api/v1/groups/{code}/pins" not in stored


def test_staff_pages_and_signed_in_pages_are_not_stored(
    app, live_server, phone_context, make_workshop, make_user
):
    """A coordinator opens a table's page on their phone: the worker installs, but keeps
    nothing that was served to a signed-in user, nor any staff page."""
    workshop = make_workshop(status="open")
    code = workshop["codes"][0]
    coordinator = make_user("coordinator", "rennes", name="Claire Coordinatrice")
    staff = phone_context.new_page()
    sign_in(staff, live_server, coordinator.email)
    direct = f"{live_server}/t/rennes/ateliers/{workshop['id']}/direct"
    staff.goto(direct)
    visit_until_stored(staff, live_server, code)
    expect(staff.locator(".who")).to_have_text("Claire Coordinatrice")
    staff.goto(direct)
    staff.goto(f"{live_server}/j/{code}")
    expect(staff.locator("html")).to_have_attribute("data-sw", "ready", timeout=WORKER_WAIT)

    stored = stored_urls(staff)
    assert stored and all(url.startswith("GET /static/") for url in stored), stored
    phone_context.set_offline(True)
    for url in (f"{live_server}/j/{code}", direct):
        with pytest.raises(PlaywrightError):
            staff.goto(url)
