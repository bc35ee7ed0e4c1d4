"""The dashboard in Chromium: four layers with legends; a category filter changes counts."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

LAYERS = ("Densité", "Hexagones", "Points chauds (Gi*)", "Ressenti net")


def test_dashboard_layers_legends_and_filter(app, runner, rennes, live_server, page, make_user):
    assert "demo workshop created" in runner.invoke(args=["demo", "load"]).output
    police = make_user("police", "rennes")
    sign_in(page, live_server, police.email)
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/")
    control = page.locator(".leaflet-control-layers-overlays")
    for name in LAYERS:
        checkbox = control.locator("label", has_text=name).locator("input")
        if not checkbox.is_checked():
            checkbox.check()
    expect(page.locator(".leaflet-image-layer")).to_have_count(1)  # the density
    assert page.locator("path.leaflet-interactive").count() > 100  # hexagons, hot spots, net
    expect(page.locator("aside.legend")).to_contain_text("point chaud, 99 %")
    before = int(re.match(r"(\d+)", page.locator("#summary").inner_text()).group(1))
    page.select_option("select[name=category]", "lighting")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#summary")).not_to_contain_text(f"{before} points")
    after = int(re.match(r"(\d+)", page.locator("#summary").inner_text()).group(1))
    assert 0 < after < before
    # The map as shown, drawn by the server: the links follow the visible layers and view.
    link = page.locator("#map-png")
    expect(link).to_have_attribute("href", re.compile(r"layers=density&"))
    switcher = page.locator(".leaflet-control-layers label", has_text="Points chauds")
    switcher.locator("input").check()
    expect(link).to_have_attribute("href", re.compile(r"layers=density%2Chotspots&"))
    href = link.get_attribute("href")
    assert "category=lighting" in href and "bbox=" in href
    with page.expect_download() as download:
        page.click("#map-png")
    with open(download.value.path(), "rb") as handle:
        png = handle.read()
    assert download.value.suggested_filename == "ressenti-rennes.png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert page.requests.hosts() == {"127.0.0.1"}
