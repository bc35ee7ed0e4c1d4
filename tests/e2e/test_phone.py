"""The resident's page on a 360×640 touch phone (issue 13): edit really edits, refusals
are shown truthfully, the map and the sheet fit the screen with thumb-sized targets, a
keyboard alone can place a pin, and a closed workshop is said, not left "en attente"."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Category, Pin
from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.conftest import PHONE
from tests.e2e.test_pinning import open_pin_page, touch_drag

TOUCH_TARGET = 44


def rows(app) -> list[dict]:
    with app.app_context():
        found = db.session.execute(
            sa.select(
                Pin.id,
                Pin.feeling,
                Category.code,
                Pin.time_of_day,
                Pin.comment,
                sa.func.ST_X(Pin.geom),
                sa.func.ST_Y(Pin.geom),
            )
            .join(Category)
            .order_by(Pin.created_at)
        ).all()
    keys = ("id", "feeling", "category", "time_of_day", "comment", "lon", "lat")
    return [dict(zip(keys, (str(r[0]), *r[1:]), strict=True)) for r in found]


@pytest.fixture
def workshop(make_workshop):
    return make_workshop(status="open", groups=1)


def new_phone(browser, **options):
    context = browser.new_context(**{**PHONE, **options})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.writes = []
    page.on("request", lambda r: r.method != "GET" and "/pins" in r.url and page.writes.append(r))
    return page


@pytest.fixture
def phone(browser):
    page = new_phone(browser)
    yield page
    errors = page.errors
    page.context.close()
    assert errors == []  # e.g. "Cannot set properties of null (setting 'checked')"


def map_point(page, dx: float = 0, dy: float = 0) -> tuple[float, float]:
    box = page.locator("#pin-map").bounding_box()
    return box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy


def tap_map(page, dx: float = 0, dy: float = 0) -> None:
    page.touchscreen.tap(*map_point(page, dx, dy))


def describe(page, category: str, time_of_day: str, comment: str = "") -> None:
    page.select_option("#category", category)
    page.select_option("#time_of_day", time_of_day)
    page.fill("#comment", comment)


def sent(page, count: int) -> None:
    expect(page.locator("#pin-list li[data-state=sent]")).to_have_count(count)
    expect(page.locator("#sync")).to_have_attribute("data-waiting", "0")


def test_edit_opens_filled_and_changes_only_the_time(app, live_server, phone, workshop):
    open_pin_page(phone, live_server, workshop["codes"][0])
    tap_map(phone)
    expect(phone.locator("#where")).to_contain_text("Endroit choisi")
    describe(phone, "harassment", "night", "Remarques insistantes à l’arrêt")
    phone.click("#confirm")
    sent(phone, 1)
    [before] = rows(app)

    phone.locator("#pin-list li button", has_text="Modifier").click()
    expect(phone.locator("#category")).to_have_value("harassment")
    expect(phone.locator("#time_of_day")).to_have_value("night")
    expect(phone.locator("#comment")).to_have_value("Remarques insistantes à l’arrêt")
    expect(phone.locator("input[name=feeling][value=unsafe]")).to_be_checked()
    phone.select_option("#time_of_day", "morning")
    phone.writes.clear()
    with phone.expect_response(lambda r: r.request.method == "PATCH") as patched:
        phone.click("#confirm")
    assert patched.value.status == 200
    assert json.loads(phone.writes[0].post_data) == {"time_of_day": "morning"}
    sent(phone, 1)
    [after] = rows(app)
    assert after == {**before, "time_of_day": "morning"}


def test_drag_with_a_finger_moves_the_pin_in_the_database(app, live_server, phone, workshop):
    open_pin_page(phone, live_server, workshop["codes"][0])
    tap_map(phone)
    describe(phone, "lighting", "evening")
    phone.click("#confirm")
    sent(phone, 1)
    [before] = rows(app)
    with phone.expect_response(lambda r: r.request.method == "PATCH") as patched:
        touch_drag(phone, ".pin-marker.pin-unsafe", -40, 10)
    assert patched.value.status == 200
    assert json.loads(patched.value.request.post_data).keys() == {"lon", "lat"}
    sent(phone, 1)
    [after] = rows(app)
    assert after["lon"] < before["lon"] and after["lat"] < before["lat"]  # west and south
    assert {**after, "lon": 0, "lat": 0} == {**before, "lon": 0, "lat": 0}


def test_layout_map_first_sheet_without_scrolling_and_44px_targets(
    app, live_server, phone, workshop
):
    open_pin_page(phone, live_server, workshop["codes"][0])
    viewport = phone.viewport_size
    card = phone.locator("#pin-map").bounding_box()
    assert card["y"] < 120 and card["height"] >= 300  # map first, above the fold
    # The quartiers fill the map (fitted with a little padding), the outside is dimmed.
    outline = phone.locator("#pin-map .leaflet-overlay-pane path").bounding_box()
    assert outline["width"] >= 0.8 * card["width"] or outline["height"] >= 0.8 * card["height"]
    expect(phone.locator("#pin-map path.outside-mask")).to_have_count(1)
    expect(phone.locator("#where")).to_contain_text("zone grisée")

    tap_map(phone)
    describe(phone, "lighting", "night", "Trottoir sombre")
    for selector in ("input[value=safe]", "#category", "#time_of_day", "#comment", "#confirm"):
        box = phone.locator(selector).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], selector
    assert phone.evaluate("window.scrollY") == 0
    map_now = phone.locator("#pin-map").bounding_box()
    assert map_now["height"] >= 150  # still a usable map next to the sheet
    phone.click("#confirm")
    sent(phone, 1)

    targets = [
        ".leaflet-control-zoom-in",
        ".leaflet-control-zoom-out",
        "#place-centre",
        "label.feel.unsafe",
        "label.feel.safe",
        "#confirm",
        ".pin-marker",
        "#pin-list li button >> nth=0",
        "#pin-list li button >> nth=1",
    ]
    tap_map(phone, 60, 0)
    targets += ["#category", "#time_of_day", "#comment"]
    for selector in targets:
        box = phone.locator(selector).first.bounding_box()
        assert box["width"] >= TOUCH_TARGET and box["height"] >= TOUCH_TARGET, (selector, box)
    # And nothing else on the page is smaller (a radio's target is its label; Leaflet's
    # attribution is a credit, not a control).
    small = phone.evaluate(SMALL_TARGETS, TOUCH_TARGET)
    assert small == []


SMALL_TARGETS = """(size) => Array.from(document.querySelectorAll(
    "a[href], button, select, textarea, input:not([type=radio]), label.feel, .leaflet-marker-icon"))
  .filter((e) => e.getClientRects().length && !e.closest(".leaflet-control-attribution"))
  .map((e) => [e.id || e.className || e.textContent.trim(), e.getBoundingClientRect()])
  .filter(([, r]) => r.width < size || r.height < size)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def tap_outside(page) -> None:
    for _ in range(2):  # zoom out: the corners of the map are then far outside
        page.click(".leaflet-control-zoom-out")
    card = page.locator("#pin-map").bounding_box()
    page.touchscreen.tap(card["x"] + 60, card["y"] + card["height"] - 60)


def test_tap_outside_the_quartiers_is_refused_at_once(app, live_server, phone, workshop):
    open_pin_page(phone, live_server, workshop["codes"][0])
    tap_outside(phone)
    expect(phone.locator("#form-error")).to_contain_text("hors des quartiers de l’atelier")
    expect(phone.locator("#where")).not_to_contain_text("Endroit choisi")
    expect(phone.locator("#confirm")).to_be_hidden()  # the sheet stays folded
    expect(phone.locator(".pin-marker")).to_have_count(0)
    assert phone.writes == [] and rows(app) == []


@pytest.mark.parametrize("correction", ["edit", "drag"])
def test_a_pin_the_server_refuses_stays_and_is_resent_as_post(
    app, live_server, phone, workshop, correction
):
    """The server and the phone may disagree at an edge: a 422 keeps the pin here, says
    why, and a correction resends the same id as a POST (it used to PATCH, get 404 and
    drop the pin)."""
    reason = "Ce point est hors des quartiers de l'atelier."
    body = {
        "error": "validation",
        "message": "Le point n'a pas été enregistré.",
        "fields": {"lon": reason, "lat": reason},
    }

    def refuse(route):
        if route.request.method != "POST":
            return route.continue_()
        route.fulfill(status=422, content_type="application/json", body=json.dumps(body))

    open_pin_page(phone, live_server, workshop["codes"][0])
    phone.route("**/pins", refuse)
    tap_map(phone)
    describe(phone, "noise", "night")
    phone.click("#confirm")
    item = phone.locator("#pin-list li")
    expect(item).to_have_attribute("data-state", "refused")
    expect(item.locator(".state-refused")).to_contain_text(reason)
    sync = phone.locator("#sync")
    expect(sync).to_have_attribute("data-state", "refused")
    expect(sync).to_contain_text("1 point refusé")
    expect(sync).not_to_contain_text("Tous vos points sont envoyés")
    phone.reload()  # kept on the phone, still refused
    expect(phone.locator("#pin-list li")).to_have_attribute("data-state", "refused")
    [first] = phone.writes
    pin_id = json.loads(first.post_data)["id"]

    phone.unroute("**/pins", refuse)
    phone.writes.clear()
    if correction == "edit":
        phone.locator("#pin-list li button", has_text="Modifier").click()
        phone.select_option("#time_of_day", "evening")
        phone.click("#confirm")
    else:
        touch_drag(phone, ".pin-marker.pin-refused", -30, 0)
    sent(phone, 1)
    expect(sync).to_contain_text("Tous vos points sont envoyés")
    assert [(r.method, json.loads(r.post_data)["id"]) for r in phone.writes] == [("POST", pin_id)]
    time_of_day = "evening" if correction == "edit" else "night"
    assert [(r["id"], r["category"], r["time_of_day"]) for r in rows(app)] == [
        (pin_id, "noise", time_of_day)
    ]


def test_pins_after_closing_are_kept_and_marked_closed(
    app, live_server, phone, workshop, close_workshop
):
    open_pin_page(phone, live_server, workshop["codes"][0])
    tap_map(phone)
    describe(phone, "lighting", "night")
    phone.click("#confirm")
    sent(phone, 1)
    close_workshop(workshop["id"])
    tap_map(phone, 40, 20)
    describe(phone, "noise", "evening")
    with phone.expect_response(lambda r: r.request.method == "POST") as refused:
        phone.click("#confirm")
    assert refused.value.status == 403
    assert refused.value.json()["error"] == "workshop_closed"
    closed = phone.locator("#pin-list li[data-state=closed]")
    expect(closed).to_have_count(1)
    expect(closed).to_contain_text("non envoyé, atelier clôturé")
    sync = phone.locator("#sync")
    expect(sync).to_have_attribute("data-state", "closed")
    expect(sync).to_contain_text("1 point n’a pas été envoyé")
    expect(sync).to_contain_text("coordinateur")
    expect(sync).to_have_attribute("data-waiting", "0")
    expect(phone.locator("#pin-list li[data-state=sent]")).to_have_count(1)
    assert [r["category"] for r in rows(app)] == ["lighting"]
    phone.reload()  # the closed workshop's page still opens, with what the phone kept
    expect(phone.locator(".closed-note")).to_contain_text("clôturé")
    expect(phone.locator("#pin-list li[data-state=closed]")).to_have_count(1)
    expect(phone.locator("#pin-list li[data-state=sent]")).to_have_count(1)
    expect(phone.locator("#confirm")).to_be_disabled()


def focus(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_keyboard_alone_places_a_pin(app, live_server, browser, workshop):
    page = new_phone(
        browser, has_touch=False, is_mobile=False, viewport={"width": 1024, "height": 768}
    )
    open_pin_page(page, live_server, workshop["codes"][0])
    page.keyboard.press("Tab")
    expect(page.locator("#where")).to_contain_text("flèches")
    for text in (page.locator("#where").inner_text(), page.locator(".pin-app").inner_text()):
        assert "touchez" not in text.lower()
    focus(page, "place-centre")
    page.keyboard.press("Enter")
    expect(page.locator("#where")).to_contain_text("Endroit choisi")
    focus(page, "category")
    page.keyboard.press("ArrowDown")
    focus(page, "time_of_day")
    page.keyboard.press("ArrowDown")
    focus(page, "comment")
    page.keyboard.type("Placé au clavier")
    focus(page, "confirm")
    page.keyboard.press("Enter")
    sent(page, 1)
    [row] = rows(app)
    assert row["comment"] == "Placé au clavier" and row["time_of_day"] == "day"
    assert page.errors == []
    page.context.close()


def test_the_pin_page_has_no_wcag_violation(app, live_server, phone, workshop):
    """axe-core, WCAG 2.1 A/AA, on the page as a resident meets it: folded, with the sheet
    open, with a pin listed and a refusal shown."""
    open_pin_page(phone, live_server, workshop["codes"][0])
    assert_no_axe_violations(phone)
    tap_map(phone)
    describe(phone, "lighting", "night", "Trottoir sombre")
    assert_no_axe_violations(phone)
    phone.click("#confirm")
    sent(phone, 1)
    tap_outside(phone)
    expect(phone.locator("#form-error")).to_contain_text("hors des quartiers")
    assert_no_axe_violations(phone)
