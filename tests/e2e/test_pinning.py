"""A resident on a 360×640 phone: place, move, delete; the projector sees it; no pin is
lost or doubled when the network drops."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Category, Pin
from tests.e2e.conftest import PHONE, sign_in


def pins_in_db(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Pin.id, Pin.feeling, Category.code, sa.func.ST_AsText(Pin.geom))
            .join(Category)
            .order_by(Pin.created_at)
        ).all()
    return [{"id": r[0], "feeling": r[1], "category": r[2], "point": r[3]} for r in rows]


@pytest.fixture
def workshop(make_workshop):
    return make_workshop(status="open", groups=2)


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.writes = []  # pin API writes the phone made: (method, url)
    page.on(
        "request",
        lambda r: r.method != "GET" and "/pins" in r.url and page.writes.append((r.method, r.url)),
    )
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    assert page.errors == []
    context.close()


def open_pin_page(page, base: str, code: str) -> None:
    page.goto(f"{base}/j/{code}")
    expect(page.locator("#pin-map .leaflet-overlay-pane path")).to_have_count(1)
    expect(page.locator("#pin-empty")).to_be_visible()


def next_frame(page) -> None:
    """Let the page draw once (Leaflet moves a dragged marker on animation frames)."""
    page.evaluate("new Promise((resolve) => requestAnimationFrame(() => resolve()))")


def touch_drag(page, selector: str, dx: float, dy: float, steps: int = 8) -> dict:
    """Drag an element with real touch events (a finger), returning its box before."""
    expect(page.locator(selector)).to_be_visible()
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, steps + 1):
        point = {"x": x + dx * i / steps, "y": y + dy * i / steps}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        next_frame(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    return box


def place_pin(page, category: str, time_of_day: str, tap: tuple[int, int] | None = None) -> None:
    if tap is None:
        page.click("#place-centre")
    else:
        box = page.locator("#pin-map").bounding_box()
        page.mouse.click(
            box["x"] + box["width"] / 2 + tap[0], box["y"] + box["height"] / 2 + tap[1]
        )
    expect(page.locator("#where")).to_contain_text("Endroit choisi")
    page.select_option("#category", category)
    page.select_option("#time_of_day", time_of_day)
    page.click("#confirm")


def test_resident_places_moves_deletes_and_projector_follows(
    app, live_server, browser, phone, workshop, make_user
):
    coordinator = make_user("coordinator", "rennes")
    projector = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    screen = projector.new_page()
    sign_in(screen, live_server, coordinator.email)
    screen.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}/direct")
    expect(screen.locator("#total")).to_have_text("0")

    code = workshop["codes"][0]
    open_pin_page(phone, live_server, code)
    place_pin(phone, "lighting", "night")
    phone.check("input[value=safe]")
    place_pin(phone, "good_lighting", "evening", tap=(30, -20))
    items = phone.locator("#pin-list li")
    expect(items).to_have_count(2)
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "0")
    assert sorted(p["feeling"] for p in pins_in_db(app)) == ["safe", "unsafe"]

    # Move the unsafe pin by dragging it with a finger.
    before = next(p for p in pins_in_db(app) if p["feeling"] == "unsafe")
    with phone.expect_response(lambda r: r.request.method == "PATCH") as patched:
        touch_drag(phone, ".pin-marker.pin-unsafe", -30, 6)  # west, deeper into Le Blosne
    assert patched.value.status == 200
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "0")
    after = next(p for p in pins_in_db(app) if p["feeling"] == "unsafe")
    assert after["id"] == before["id"] and after["point"] != before["point"]

    # A move out of the quartiers is refused on the phone at once (nothing is sent), and
    # the pin goes back where it was.
    sent = len(phone.writes)
    box = touch_drag(phone, ".pin-marker.pin-unsafe", 0, 400)  # far south, out of them
    expect(phone.locator("#form-error")).to_contain_text("hors des quartiers")
    assert next(p for p in pins_in_db(app) if p["feeling"] == "unsafe")["point"] == after["point"]
    back = phone.locator(".pin-marker.pin-unsafe").bounding_box()
    assert abs(back["y"] - box["y"]) < 2
    assert len(phone.writes) == sent

    # Delete the safe pin.
    phone.locator("#pin-list li.pin-safe button", has_text="Supprimer").click()
    expect(items).to_have_count(1)
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "0")
    assert [p["feeling"] for p in pins_in_db(app)] == ["unsafe"]

    # The projector shows the one remaining pin within 5 s, without a reload.
    expect(screen.locator("#total")).to_have_text("1", timeout=5000)
    expect(screen.locator("path.live-pin")).to_have_count(1, timeout=5000)
    expect(screen.locator("#total-unsafe")).to_have_text("1")
    projector.close()


def test_pins_placed_offline_are_sent_once_online(app, live_server, browser, workshop):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    open_pin_page(page, live_server, workshop["codes"][1])
    context.set_offline(True)
    for category in ("lighting", "noise", "harassment"):
        place_pin(page, category, "night")
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "3")
    expect(page.locator("#sync")).to_contain_text(re.compile("3 points en attente"))
    expect(page.locator("#pin-list li")).to_have_count(3)
    assert pins_in_db(app) == []

    context.set_offline(False)
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0", timeout=40_000)
    stored = pins_in_db(app)
    assert len(stored) == 3
    assert sorted(p["category"] for p in stored) == ["harassment", "lighting", "noise"]
    # A reload lists the same three pins, from the server, each once.
    page.reload()
    expect(page.locator("#pin-list li")).to_have_count(3)
    expect(page.locator("#pin-list .state-sent")).to_have_count(3)
    context.close()


def test_closed_workshop_page_says_so(app, live_server, phone, make_workshop):
    code = make_workshop(status="closed")["codes"][0]
    response = phone.goto(f"{live_server}/j/{code}")  # still opens: the phone's kept pins
    assert response.status == 200
    expect(phone.locator(".closed-note")).to_contain_text("clôturé")
    expect(phone.locator("#confirm")).to_be_disabled()


def test_phone_keeps_its_own_pending_comment_and_others_see_none(
    app, live_server, browser, phone, workshop
):
    """The server sends pending text to nobody: after a reload the author's phone still
    shows its comment (from its own storage); another phone at the table only sees that
    a comment awaits moderation, and editing that pin leaves the comment alone."""
    code = workshop["codes"][0]
    open_pin_page(phone, live_server, code)
    phone.click("#place-centre")
    phone.select_option("#category", "lighting")
    phone.select_option("#time_of_day", "night")
    phone.fill("#comment", "Lampadaire cassé devant le 12")
    phone.click("#confirm")
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "0")
    phone.reload()
    expect(phone.locator("#pin-list .state-sent")).to_have_count(1)
    item = phone.locator("#pin-list li")
    expect(item.locator(".pin-comment")).to_have_text("Lampadaire cassé devant le 12")
    expect(item.locator(".pin-moderation")).to_contain_text("en attente de modération")

    context = browser.new_context(**PHONE)
    other = context.new_page()
    other.goto(f"{live_server}/j/{code}")
    expect(other.locator("#pin-list li")).to_have_count(1)
    expect(other.locator("#pin-list li .pin-moderation")).to_be_visible()
    expect(other.locator("#pin-list li .pin-comment")).to_have_count(0)
    assert "Lampadaire" not in other.content()
    other.locator("#pin-list li button", has_text="Modifier").click()
    other.select_option("#time_of_day", "evening")
    other.click("#confirm")
    expect(other.locator("#sync")).to_have_attribute("data-waiting", "0")
    with app.app_context():
        pin = db.session.scalar(sa.select(Pin))
        assert (pin.time_of_day, pin.comment) == ("evening", "Lampadaire cassé devant le 12")
    context.close()
