"""The phone's queue (static/js/pinstore.js), case by case: several tabs, requests in
flight, lost answers, captive portals, full storage and a pin the server keeps failing.
The network's misbehaviour is played by ``page.route``; the database is the judge."""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import expect

from app import create_app
from tests.app.test_outage import NOWHERE
from tests.e2e.test_phone import describe, new_phone, rows, sent, tap_map
from tests.e2e.test_pinning import open_pin_page
from tests.helpers import BLOSNE, app_config, pin_body


@pytest.fixture
def code(make_workshop):
    return make_workshop(status="open", groups=1)["codes"][0]


@pytest.fixture
def phone(browser):
    page = new_phone(browser)
    yield page
    errors = page.errors
    page.context.close()
    assert errors == []


def place(page, category: str = "lighting", dx: float = 0, comment: str = "") -> None:
    tap_map(page, dx, 0)
    expect(page.locator("#where")).to_contain_text("Endroit choisi")
    describe(page, category, "night", comment)
    page.click("#confirm")


def back_online(page) -> None:
    """What the browser does when the network returns: retry now, not after the backoff."""
    page.evaluate("window.dispatchEvent(new Event('online'))")


def methods(page) -> list[str]:
    return [request.method for request in page.writes]


def test_two_tabs_offline_each_place_a_pin_and_both_reach_the_server(
    app, live_server, browser, code
):
    first = new_phone(browser)
    second = first.context.new_page()
    second.errors = []
    second.on("pageerror", lambda error: second.errors.append(str(error)))
    open_pin_page(first, live_server, code)
    open_pin_page(second, live_server, code)
    first.context.set_offline(True)
    place(first, "lighting", dx=-30)
    place(second, "noise", dx=30)
    for page in (first, second):  # each tab sees the other's pin, from shared storage
        expect(page.locator("#pin-list li")).to_have_count(2)
        expect(page.locator("#sync")).to_have_attribute("data-waiting", "2")
    first.context.set_offline(False)
    back_online(first)
    back_online(second)
    sent(first, 2)
    sent(second, 2)
    assert sorted(r["category"] for r in rows(app)) == ["lighting", "noise"]
    assert first.errors == second.errors == []
    first.context.close()


def test_an_edit_while_the_create_is_in_flight_is_not_lost(app, live_server, phone, code):
    held = []

    def hold(route):
        if route.request.method == "POST" and not held:
            held.append(route)  # answered below, after the edit
        else:
            route.continue_()

    open_pin_page(phone, live_server, code)
    phone.route("**/pins", hold)
    place(phone, "lighting")
    expect(phone.locator("#pin-list li")).to_have_attribute("data-state", "pending")
    assert len(held) == 1
    phone.locator("#pin-list li button", has_text="Modifier").click()
    phone.select_option("#time_of_day", "evening")
    phone.click("#confirm")
    held[0].continue_()  # the 201 carries the old time of day
    sent(phone, 1)
    assert [(r["category"], r["time_of_day"]) for r in rows(app)] == [("lighting", "evening")]
    assert methods(phone) == ["POST", "PATCH"]


def lose_answers(page):
    """The first POST reaches the server but its answer is lost; later requests fail
    (no network) until ``network["up"]`` is set."""
    network = {"lost": 0, "up": False}

    def handler(route):
        if network["up"]:
            return route.continue_()
        if route.request.method == "POST" and not network["lost"]:
            route.fetch()  # the server stores the pin...
            network["lost"] += 1
        route.abort("connectionreset")  # ...and the phone never hears of it

    page.route("**/pins**", handler)
    return network


def test_after_a_lost_answer_an_edit_is_sent_not_refused(app, live_server, phone, code):
    open_pin_page(phone, live_server, code)
    network = lose_answers(phone)
    place(phone, "lighting")
    expect(phone.locator("#sync")).to_contain_text("pas de réseau")
    assert len(rows(app)) == 1
    phone.locator("#pin-list li button", has_text="Modifier").click()
    phone.select_option("#time_of_day", "morning")
    phone.click("#confirm")
    item = phone.locator("#pin-list li")
    expect(item).to_have_attribute("data-state", "pending")
    network["up"] = True
    back_online(phone)
    sent(phone, 1)  # the replayed POST meets 409 (other content): the phone PATCHes
    expect(phone.locator(".state-refused")).to_have_count(0)
    assert [(r["category"], r["time_of_day"]) for r in rows(app)] == [("lighting", "morning")]
    assert methods(phone)[-2:] == ["POST", "PATCH"]


def test_after_a_lost_answer_a_delete_sends_the_delete(app, live_server, phone, code):
    open_pin_page(phone, live_server, code)
    network = lose_answers(phone)
    place(phone, "lighting")
    expect(phone.locator("#sync")).to_contain_text("pas de réseau")
    assert len(rows(app)) == 1
    phone.locator("#pin-list li button", has_text="Supprimer").click()
    expect(phone.locator("#pin-list li")).to_have_count(0)
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "1")  # the DELETE
    network["up"] = True
    with phone.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        back_online(phone)
    assert deleted.value.status == 204
    expect(phone.locator("#sync")).to_have_attribute("data-waiting", "0")
    assert rows(app) == []
    phone.reload()
    expect(phone.locator("#pin-list li")).to_have_count(0)


def test_a_captive_portal_page_is_shown_and_retried(app, live_server, phone, code):
    portal = []

    def captive(route):
        if route.request.method == "POST" and not portal:
            portal.append(route.request.url)
            return route.fulfill(status=200, content_type="text/html", body="<h1>Wi-Fi</h1>")
        route.continue_()

    open_pin_page(phone, live_server, code)
    phone.route("**/pins", captive)
    place(phone, "lighting")
    expect(phone.locator("#sync")).to_contain_text("portail Wi-Fi")
    sent(phone, 1)  # retried after its backoff, without a reload
    place(phone, "noise", dx=40)  # and the queue goes on
    sent(phone, 2)
    assert sorted(r["category"] for r in rows(app)) == ["lighting", "noise"]


def test_full_storage_is_said_and_the_pin_still_goes(app, live_server, phone, code):
    open_pin_page(phone, live_server, code)
    phone.evaluate(
        "() => { Storage.prototype.setItem = () => {"
        " throw new DOMException('full', 'QuotaExceededError'); }; }"
    )
    phone.context.set_offline(True)
    place(phone, "lighting")
    expect(phone.locator("#pin-list li")).to_have_attribute("data-state", "pending")
    sync = phone.locator("#sync")
    expect(sync).to_contain_text("mémoire du navigateur est pleine")
    expect(sync).to_contain_text("Ne rechargez pas")
    phone.context.set_offline(False)
    back_online(phone)
    sent(phone, 1)
    expect(sync).to_contain_text("Tous vos points sont envoyés")
    assert [r["category"] for r in rows(app)] == ["lighting"]


def test_a_pin_that_keeps_failing_steps_aside(app, live_server, phone, code):
    failing = {"id": None, "on": True}

    def server_error(route):
        body = route.request.post_data_json if route.request.method == "POST" else None
        if body and failing["on"] and failing["id"] in (None, body["id"]):
            failing["id"] = body["id"]
            return route.fulfill(status=500, content_type="application/json", body="{}")
        route.continue_()

    open_pin_page(phone, live_server, code)
    phone.route("**/pins", server_error)
    place(phone, "lighting", dx=-40)
    expect(phone.locator("#sync")).to_contain_text("le serveur ne répond pas")
    place(phone, "noise", dx=0)
    place(phone, "harassment", dx=40)
    expect(phone.locator("#pin-list li[data-state=sent]")).to_have_count(2)
    assert sorted(r["category"] for r in rows(app)) == ["harassment", "noise"]
    expect(phone.locator("#pin-list li[data-state=pending]")).to_contain_text("Éclairage")
    failing["on"] = False
    back_online(phone)
    sent(phone, 3)
    assert sorted(r["category"] for r in rows(app)) == ["harassment", "lighting", "noise"]
    posts = [json.loads(r.post_data)["id"] for r in phone.writes if r.method == "POST"]
    assert posts.count(failing["id"]) >= 2 and len(set(posts)) == 3


def test_a_queue_saved_by_the_previous_version_is_taken_over(app, live_server, phone, code):
    """Phones that queued pins before the update keep them: the old single blob becomes
    per-pin records and is sent."""
    open_pin_page(phone, live_server, code)
    pin_id = str(uuid.uuid4())
    old = {
        "pins": {
            pin_id: {
                "id": pin_id,
                "feeling": "unsafe",
                "category": "noise",
                "time_of_day": "night",
                "comment": None,
                "lon": BLOSNE[0],
                "lat": BLOSNE[1],
                "state": "pending",
                "created_at": "2026-11-20T18:00:00Z",
            }
        },
        "queue": [{"op": "create", "id": pin_id}],
    }
    phone.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [f"ressenti:pins:{code}", json.dumps(old)],
    )
    phone.reload()
    sent(phone, 1)
    assert [(r["id"], r["category"]) for r in rows(app)] == [(pin_id, "noise")]
    assert phone.evaluate("(key) => localStorage.getItem(key)", f"ressenti:pins:{code}") is None


def test_an_outage_is_said_and_the_pins_wait(app, live_server, phone, code):
    """While the database is away the server answers 503 (the very answer of an app
    whose database cannot be reached); the phone says so, keeps the pin, and sends it
    once the server answers again."""
    away = create_app(app_config(NOWHERE)).test_client()
    answer = away.post(f"/api/v1/groups/{code}/pins", json=pin_body())
    assert answer.status_code == 503
    outage = {"on": True}

    def database_away(route):
        if route.request.method == "POST" and outage["on"]:
            return route.fulfill(
                status=503,
                headers={"Retry-After": answer.headers["Retry-After"]},
                content_type="application/json",
                body=answer.get_data(as_text=True),
            )
        route.continue_()

    open_pin_page(phone, live_server, code)
    phone.route("**/pins", database_away)
    place(phone, "lighting")
    expect(phone.locator("#sync")).to_contain_text("serveur indisponible, vos points attendent")
    expect(phone.locator("#pin-list li")).to_have_attribute("data-state", "pending")
    assert rows(app) == []
    outage["on"] = False
    # Sent after Retry-After (5 s), without a reload or a tap.
    expect(phone.locator("#pin-list li[data-state=sent]")).to_have_count(1, timeout=15_000)
    assert [r["category"] for r in rows(app)] == ["lighting"]
