"""In the room: a resident types a code on a 360×640 phone; the coordinator projects the
live screen at 1920×1080 and it reads from 8 m; closing asks before it acts."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.conftest import sign_in
from tests.helpers import BLOSNE_2, pin_body

PROJECTOR = {"viewport": {"width": 1920, "height": 1080}, "locale": "fr-FR"}
MIN_TARGET_PX = 44
MIN_PROJECTED_TEXT_PX = 32


@pytest.fixture
def projector(browser):
    context = browser.new_context(**PROJECTOR)
    page = context.new_page()
    yield page
    context.close()


def _box(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return box


def test_a_resident_types_a_code_on_a_phone(live_server, phone, make_workshop):
    code = make_workshop()["codes"][1]
    phone.goto(f"{live_server}/")
    phone.get_by_role("link", name="Saisir mon code").click()
    expect(phone).to_have_url(f"{live_server}/j")
    field = phone.get_by_label("Code de la table")
    assert field.get_attribute("inputmode") == "text"
    assert field.get_attribute("autocapitalize") == "characters"
    for selector in ("#code", "main button[type=submit]"):
        box = _box(phone, selector)
        assert box["height"] >= MIN_TARGET_PX and box["width"] >= MIN_TARGET_PX, selector
    # 16 px and more, or the phone zooms in on focus; nothing wider than the screen.
    size = field.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 16
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    # A misread character: refused with a hint, what was typed kept to be corrected.
    typed = f"{code[:4].lower()}-0{code[5:]}"
    field.fill(typed)
    phone.keyboard.press("Enter")
    expect(phone.locator("#code-error")).to_contain_text("Code de la table")
    expect(phone.locator("#code-error")).to_contain_text("«\u00a00\u00a0»")
    expect(field).to_have_value(typed)
    expect(field).to_have_attribute("aria-invalid", "true")
    # An unknown code: said so, nothing more.
    field.fill("ZZZZ ZZZZZ")
    phone.get_by_role("button", name="Rejoindre").tap()
    expect(phone.locator("#code-error")).to_have_text(re.compile("^Code inconnu"))
    # The right code, typed in lower case with spaces: the pin page opens.
    field.fill(f"{code[:3].lower()} {code[3:6].lower()} {code[6:]}")
    phone.get_by_role("button", name="Rejoindre").tap()
    expect(phone).to_have_url(f"{live_server}/j/{code}")
    expect(phone.locator("#pin-map")).to_be_visible()


def _place_pins(client, code: str) -> None:
    bodies = [
        pin_body(),
        pin_body(category="noise", time_of_day="evening", lon=BLOSNE_2[0], lat=BLOSNE_2[1]),
        pin_body(feeling="safe", category="good_lighting", time_of_day="day"),
    ]
    for body in bodies:
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201


def _font_px(locator) -> list[float]:
    return locator.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")


def test_projector_mode_reads_from_eight_metres(
    client, live_server, projector, make_user, make_workshop
):
    workshop = make_workshop(groups=2)
    _place_pins(client, workshop["codes"][0])
    sign_in(projector, live_server, make_user("coordinator", "rennes").email)
    projector.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}/direct")
    expect(projector.locator("#total")).to_have_text("3")
    expect(projector.locator("path.live-pin")).to_have_count(3)
    expect(projector.locator("#by-category tr")).to_have_count(3)

    # Full width: the page is not held in the 72rem column of the other pages.
    assert _box(projector, ".live-page")["width"] >= 1920 - 2 * 40

    # Every text of the screen outside the map's own controls: 32 px and more.
    texts = projector.locator(
        ".live-page h1, .live-page h2, .live-legend li, .live-table th, .live-table td,"
        " #live-updated, .live-page .breadcrumb a"
    )
    sizes = _font_px(texts)
    assert len(sizes) >= 3 + 3 + 3 * 3 + 3 * 2
    assert min(sizes) >= MIN_PROJECTED_TEXT_PX, sizes

    # Labelled columns on each count table.
    for table, first in (
        ("by-group", "Table"),
        ("by-category", "Catégorie"),
        ("by-time", "Moment"),
    ):
        headers = projector.locator(f"table:has(#{table}) thead th")
        expect(headers).to_have_text([first, "Insécurité", "Sécurité"])
        assert all(h.get_attribute("scope") == "col" for h in headers.all())
    row = projector.locator("#by-category tr", has_text="Éclairage").first
    expect(row.locator("th")).to_have_attribute("scope", "row")
    expect(row.locator("td")).to_have_text(["1", "0"])

    # Large dots coloured by feeling with the palette's colours (app/vocabulary.py).
    palette = json.loads(projector.locator("#palette").text_content())["feeling"]
    for dot in projector.locator("path.live-pin").all():
        box = dot.bounding_box()
        assert box["width"] >= MIN_PROJECTED_TEXT_PX and box["height"] >= MIN_PROJECTED_TEXT_PX
    for feeling in ("unsafe", "safe"):
        fills = projector.locator(f"path.live-{feeling}").evaluate_all(
            "els => els.map(e => e.getAttribute('fill'))"
        )
        assert fills and set(fills) == {palette[feeling]}
        # The legend shows the same colour, at the same size.
        legend = projector.locator(f".live-legend .dot-{feeling}")
        colour = legend.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == _rgb(palette[feeling])
        assert _box(projector, f".live-legend .dot-{feeling}")["width"] >= MIN_PROJECTED_TEXT_PX
    expect(projector.locator(".live-legend")).to_contain_text("Insécurité : 2")
    expect(projector.locator(".live-legend")).to_contain_text("Sécurité : 1")
    assert_no_axe_violations(projector)


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_closing_asks_first_and_can_be_undone(live_server, page, make_user, make_workshop):
    workshop = make_workshop()
    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}")
    page.get_by_role("button", name="Clôturer l’atelier").click()
    # Not confirmed: the browser's own required check keeps the form (no JS needed).
    expect(page.locator(".status")).to_have_text("Ouvert")
    page.get_by_label("Je confirme la clôture de l’atelier").check()
    page.get_by_role("button", name="Clôturer l’atelier").click()
    expect(page.locator(".status")).to_have_text("Clôturé")
    expect(page.locator("#reopen-form")).to_contain_text("24 heures après la clôture")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Rouvrir l’atelier").click()
    expect(page.locator(".status")).to_have_text("Ouvert")
