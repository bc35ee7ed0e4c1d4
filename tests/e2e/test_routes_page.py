"""The public routes page in Chromium (issue 17, point 5): on a 360×640 touch phone in
French a resident taps two points and gets both routes drawn with the difference and the
stretches avoided; a keyboard alone finds a route from the place list; the API's refusals
are French text; published circuits are on the map; no request leaves 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Circuit, Territory
from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.conftest import PHONE
from tests.e2e.test_phone import focus
from tests.helpers import BLOSNE, BLOSNE_2

PAGE = "/t/rennes/itineraires/"
# A port nothing listens on: tiles are asked for and fail, as with no internet.
UNREACHABLE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


@pytest.fixture
def circuit(app, rennes):
    """A published circuit of Le Blosne, routed by the planner, with markup in its name."""
    from app.routes.circuits import route_points

    with app.app_context():
        territory = db.session.scalar(sa.select(Territory).where(Territory.slug == "rennes"))
        result = route_points(territory, [BLOSNE, BLOSNE_2], "night")
        row = Circuit(
            territory_id=territory.id,
            name="Soirée <b>au</b> Blosne",
            origin=f"SRID=4326;POINT({BLOSNE[0]} {BLOSNE[1]})",
            origin_label="Métro <Triangle>",
            destination=f"SRID=4326;POINT({BLOSNE_2[0]} {BLOSNE_2[1]})",
            destination_label="Gymnase Colette Besson",
            time_of_day="night",
            published=True,
            result=result,
            computed_at=datetime.now(UTC),
        )
        db.session.add(row)
        db.session.commit()


def new_page(browser, **options):
    context = browser.new_context(**{**PHONE, **options})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def hosts(page) -> set[str]:
    from urllib.parse import urlsplit

    return {urlsplit(url).hostname for url in page.requests}


def open_finder(page, live_server) -> None:
    page.goto(f"{live_server}{PAGE}")
    expect(page.locator("#rf-map .leaflet-overlay-pane path").first).to_be_attached()
    page.locator("#rf-map").scroll_into_view_if_needed()
    lon, lat = (BLOSNE[0] + BLOSNE_2[0]) / 2, (BLOSNE[1] + BLOSNE_2[1]) / 2
    page.evaluate(f"document.getElementById('rf-map').leafletMap.setView([{lat}, {lon}], 15)")


def screen_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) is on the screen, from the map's own projection."""
    x, y = page.evaluate(
        "([lat, lon]) => { const map = document.getElementById('rf-map').leafletMap;"
        " const p = map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator("#rf-map").bounding_box()
    return box["x"] + x, box["y"] + y


def test_phone_taps_two_points_and_sees_both_routes(app, live_server, browser, circuit):
    app.config["TILE_URL"] = UNREACHABLE_TILES
    page = new_page(browser)
    open_finder(page, live_server)
    page.touchscreen.tap(*screen_point(page, *BLOSNE))
    expect(page.locator("#rf-hint")).to_contain_text("l’arrivée")
    page.touchscreen.tap(*screen_point(page, *BLOSNE_2))

    expect(page.locator("path.route-recommended")).to_have_count(1)
    expect(page.locator("path.route-shortest")).to_have_count(1)
    result = page.locator("#rf-result")
    expect(result).to_contain_text("Itinéraire conseillé :")
    expect(result).to_contain_text("Le plus court :")
    text = result.inner_text()
    assert "de plus que le plus court" in text or "aussi le plus sûr" in text, text
    assert " min" in text and " m" in text
    assert page.locator("#rf-from").input_value() != ""
    assert_no_axe_violations(page)  # with both routes and their figures shown
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    for selector in ("#rf-from", "#rf-to", "#rf-time", "#rf-go"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44 and box["width"] <= 360, (selector, box)
    assert page.errors == []
    assert hosts(page) == {"127.0.0.1"}, sorted(set(page.requests))
    page.context.close()


def test_keyboard_alone_finds_a_route_from_the_place_list(app, live_server, browser, circuit):
    page = new_page(
        browser, has_touch=False, is_mobile=False, viewport={"width": 1024, "height": 768}
    )
    page.goto(f"{live_server}{PAGE}")
    focus(page, "rf-from")
    page.keyboard.press("M")  # a select's type-ahead picks the labelled place
    assert page.locator("#rf-from option:checked").inner_text() == "Métro <Triangle>"
    focus(page, "rf-to")
    page.keyboard.press("G")
    assert page.locator("#rf-to option:checked").inner_text() == "Gymnase Colette Besson"
    focus(page, "rf-go")
    page.keyboard.press("Enter")
    expect(page.locator("path.route-recommended")).to_have_count(1)
    expect(page.locator("#rf-result")).to_contain_text("Itinéraire conseillé :")
    # The published circuit is on the other map, its name as text.
    expect(page.locator(".circuit-card h3")).to_have_text("Soirée <b>au</b> Blosne")
    assert page.locator(".circuit-card b").count() == 0
    assert_no_axe_violations(page)
    assert page.errors == []
    assert hosts(page) == {"127.0.0.1"}
    page.context.close()


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (
            422,
            {"error": "validation", "message": "x", "fields": {"to": "<b>hors</b> du territoire"}},
            "Arrivée : <b>hors</b> du territoire",
        ),
        (404, {"error": "not_found", "message": "Aucun chemin", "fields": {}}, "Aucun chemin"),
        (503, None, "Le calcul a échoué"),
    ],
)
def test_refusals_are_shown_as_french_text(app, live_server, browser, rennes, status, body, shown):
    """The page's side of the API contract: each refusal as text (the API is replaced
    here by its documented answers; the API's own tests are the lead's)."""
    page = new_page(browser)
    page.route(
        "**/api/v1/territories/rennes/routes?*",
        lambda route: route.fulfill(
            status=status, content_type="application/json", body=json.dumps(body)
        ),
    )
    open_finder(page, live_server)
    page.touchscreen.tap(*screen_point(page, *BLOSNE))
    page.touchscreen.tap(*screen_point(page, *BLOSNE_2))
    expect(page.locator("#rf-error")).to_contain_text(shown)
    assert page.locator("#rf-error b").count() == 0
    expect(page.locator("path.route-recommended")).to_have_count(0)
    assert page.errors == []
    page.context.close()


def test_coordinator_places_a_circuit_on_the_map_and_publishes_it(
    app, rennes, live_server, page, make_user
):
    from tests.e2e.conftest import sign_in

    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/circuits/nouveau")
    page.fill("#name", "Circuit <b>nuit</b>")
    area = page.locator(".layer-map")
    expect(page.locator(".layer-map .leaflet-overlay-pane path").first).to_be_attached()
    area.click(position={"x": 300, "y": 200})  # the departure, then the arrival comes next
    area.click(position={"x": 500, "y": 300})
    page.check("input[name=place_next][value=waypoints]")
    area.click(position={"x": 400, "y": 100})
    placed = [page.input_value(f"#{name}") for name in ("origin", "destination", "waypoints")]
    for text in placed:
        lon, lat = (float(v) for v in text.split(", "))
        assert -1.8 < lon < -1.6 and 48.0 < lat < 48.2, placed
    expect(page.locator(".layer-map .leaflet-tooltip")).to_have_count(3)  # A, B, 1
    page.click("#drop-waypoint")
    assert page.input_value("#waypoints") == ""
    assert_no_axe_violations(page)

    # Places on the walking graph, typed as the hint says.
    page.fill("#origin", f"{BLOSNE[0]}, {BLOSNE[1]}")
    page.fill("#destination", f"{BLOSNE_2[0]}, {BLOSNE_2[1]}")
    page.click("form.circuit-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Circuit <b>nuit</b>")
    expect(page.locator("[data-field=updated]")).to_contain_text("mis à jour le")
    expect(page.locator(".path-recommended .streets li").first).to_be_visible()
    expect(page.locator(".leaflet-overlay-pane path")).not_to_have_count(0)
    assert_no_axe_violations(page)
    page.click("main >> text=Publier")
    expect(page.locator("[data-field=published]")).to_contain_text("publié sur")
    page.click("text=Fiche A4 à imprimer")
    expect(page.locator(".circuit-sheet h1")).to_have_text("Circuit <b>nuit</b>")
    expect(page.locator("img.sheet-map")).to_be_visible()
    assert_no_axe_violations(page)
    assert hosts(page) == {"127.0.0.1"}
