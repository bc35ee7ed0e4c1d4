"""The Rennes map in a real browser, with no tile server reachable."""

from playwright.sync_api import expect

# A port nothing listens on: every tile request fails, as in a hall with no internet.
UNREACHABLE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


def test_rennes_map_shows_twelve_quartiers_and_streets_without_tiles(
    app, rennes, live_server, page
):
    app.config["TILE_URL"] = UNREACHABLE_TILES
    page.goto(f"{live_server}/t/rennes")

    quartiers = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    # Locator waits, not wait_for_function: its polling evaluates strings, which the
    # page's CSP (no 'unsafe-eval') rightly refuses.
    expect(quartiers).to_have_count(12)
    streets = page.locator(".leaflet-streets-pane path")
    expect(streets.nth(3000)).to_be_attached()
    assert page.locator(".leaflet-tile").count() > 0  # tiles were asked for, and failed

    box = quartiers.first.bounding_box()
    assert box["width"] > 20 and box["height"] > 20
    quartiers.first.hover(force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "km²" in tooltip.inner_text()

    assert page.locator("table.quartiers tbody tr").count() == 12
    assert page.requests, "no request recorded"
    assert page.requests.hosts() == {"127.0.0.1"}, sorted(page.requests)
