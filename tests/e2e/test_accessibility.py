"""axe-core (WCAG 2.1 A and AA rules) on the pages residents, the public and staff use:
/j, the live screen, the public quartier page and the dashboard. The resident pin page
is checked by the same helper (tests/e2e/axe.py) where it is tested."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.axe import assert_no_axe_violations, axe_violations
from tests.e2e.conftest import sign_in
from tests.helpers import BLOSNE_2, pin_body


def _place_pins(client, code: str, count: int) -> None:
    for n in range(count):
        where = {"lon": BLOSNE_2[0], "lat": BLOSNE_2[1]} if n % 2 else {}
        body = pin_body(feeling="safe" if n % 3 == 0 else "unsafe", **where)
        if body["feeling"] == "safe":
            body["category"] = "good_lighting"
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201


def test_the_helper_finds_a_violation(live_server, page):
    """The check can fail: an image without text and an unlabelled field are found."""
    page.goto(f"{live_server}/j")
    page.evaluate(
        """() => {
          const input = document.createElement('input');
          input.type = 'text';
          document.querySelector('main').append(input);
          const img = document.createElement('img');
          img.src = '/static/img/favicon.svg';
          document.querySelector('main').append(img);
        }"""
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"label", "image-alt"} <= found


def test_code_page_on_a_phone(live_server, phone, make_workshop):
    make_workshop()
    phone.goto(f"{live_server}/j")
    assert_no_axe_violations(phone)
    phone.fill("#code", "K7MQ2X9T0")  # an ambiguous character: the hint is shown
    phone.click("main button[type=submit]")
    expect(phone.locator("#code-error")).to_be_visible()
    assert_no_axe_violations(phone)


def test_home_page(live_server, phone, rennes):
    phone.goto(f"{live_server}/")
    assert_no_axe_violations(phone)


def test_live_screen(app, client, live_server, page, make_user, make_workshop):
    workshop = make_workshop(groups=2)
    _place_pins(client, workshop["codes"][0], 5)
    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}/direct")
    expect(page.locator("#total")).to_have_text("5")
    assert_no_axe_violations(page)


def test_workshop_page_with_its_closing_form(live_server, page, make_user, make_workshop):
    workshop = make_workshop()
    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}")
    expect(page.locator("#close-form")).to_be_visible()
    assert_no_axe_violations(page)


def test_public_quartier_page(client, live_server, page, make_workshop, close_workshop):
    workshop = make_workshop()
    _place_pins(client, workshop["codes"][0], 12)
    close_workshop(workshop["id"])
    page.goto(f"{live_server}/t/rennes/q/Q.11")
    expect(page.locator(".leaflet-overlay-pane path").first).to_be_attached()
    assert_no_axe_violations(page)


def test_dashboard(client, live_server, page, make_user, make_workshop, close_workshop):
    workshop = make_workshop()
    _place_pins(client, workshop["codes"][0], 12)
    close_workshop(workshop["id"])
    sign_in(page, live_server, make_user("police", "rennes").email)
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/")
    expect(page.locator(".leaflet-overlay-pane path").first).to_be_attached()
    assert_no_axe_violations(page)
