"""The "Exporter" menu of the dashboard and of the CLSPD board in Chromium: a keyboard
disclosure whose links carry the page's current filters and download what they say."""

import re
from urllib.parse import parse_qs, urlsplit

import rasterio
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

READY = ".layer-map[data-layers-ready]"


def _query(href: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def _focused_text(page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def test_dashboard_menu_follows_filters_keyboard_and_downloads(
    runner, rennes, live_server, page, make_user, tmp_path
):
    assert "demo workshop created" in runner.invoke(args=["demo", "load", "--no-survey"]).output
    sign_in(page, live_server, make_user("police", "rennes").email)
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/")
    expect(page.locator(READY)).to_have_count(1)
    menu = page.locator("[data-export-menu]")
    button = menu.get_by_role("button", name="Exporter")
    items = menu.locator(".export-list")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(items).to_be_hidden()
    page.select_option("select[name=category]", "lighting")
    page.fill("input[name=bandwidth]", "300")
    page.locator("input[name=bandwidth]").dispatch_event("change")
    expect(page.locator(READY)).to_have_count(1)
    # The keyboard: Enter opens, Tab walks the links, Escape closes and returns focus.
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(items).to_be_visible()
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Points (GeoJSON)"
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Points (GeoPackage, WGS 84)"
    page.keyboard.press("Escape")
    expect(items).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(items).to_be_visible()
    # Every link carries the filters it takes.
    csv = items.get_by_role("link", name="Points (CSV pour Excel)").get_attribute("href")
    assert _query(csv) == {"category": "lighting", "dialect": "excel-fr"}
    tif = items.get_by_role("link", name="Densité (GeoTIFF, EPSG:2154)")
    assert _query(tif.get_attribute("href")) == {
        "category": "lighting",
        "bandwidth": "300",
        "full": "1",
    }
    hexagons = items.get_by_role("link", name="Hexagones (GeoJSON)").get_attribute("href")
    assert _query(hexagons) == {"category": "lighting", "full": "1"}
    png = items.get_by_role("link", name=re.compile("PNG")).get_attribute("href")
    assert png == page.locator("#map-png").get_attribute("href") and "category=lighting" in png
    ogc = items.get_by_role("textbox", name=re.compile("OGC API")).input_value()
    assert ogc == f"{live_server}/ogc/collections/rennes-points/items?category=lighting"
    items.get_by_role("button", name="Copier").click()
    copied = re.compile(r"^Adresse (copiée|sélectionnée)")
    expect(items.locator("[data-copied]")).to_have_text(copied)
    # A download: the GeoTIFF of the filters, named after them, in Lambert-93.
    with page.expect_download() as download:
        tif.click()
    assert download.value.suggested_filename == (
        "ressenti-rennes-density-epsg2154-bandwidth-300-category-lighting-full-1.tif"
    )
    with rasterio.open(download.value.path()) as dataset:
        assert dataset.crs.to_epsg() == 2154 and dataset.read(1).max() > 0
    response = page.request.get(f"{live_server}{csv}")
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.body()[:3] == b"\xef\xbb\xbf"  # the BOM French Excel needs
    # The points GeoJSON of the filters has only lighting pins.
    points = page.request.get(
        f"{live_server}{items.get_by_role('link', name='Points (GeoJSON)').get_attribute('href')}"
    )
    assert points.headers["content-type"] == "application/geo+json"
    categories = {f["properties"]["category"] for f in points.json()["features"]}
    assert categories == {"lighting"}


def test_board_menu_carries_the_board_filters(client, live_server, page, make_user, rennes):
    sign_in(page, live_server, make_user("coordinator", "rennes").email)
    page.goto(f"{live_server}/t/rennes/suivi/")
    menu = page.locator("[data-export-menu]")
    page.select_option("#board-filters select[name=status]", "engaged")
    menu.get_by_role("button", name="Exporter").click()
    link = menu.get_by_role("link", name="Actions et leurs zones (GeoJSON)")
    href = link.get_attribute("href")
    assert _query(href) == {"status": "engaged"}
    response = page.request.get(f"{live_server}{href}")
    assert response.status == 200 and response.headers["content-type"] == "application/geo+json"
    assert response.json()["features"] == []  # no action yet
    minutes = menu.get_by_role("link", name="Actions pour le compte rendu (CSV)")
    assert _query(minutes.get_attribute("href")) == {"status": "engaged"}
    page.keyboard.press("Escape")
    expect(menu.locator(".export-list")).to_be_hidden()
