"""The dashboard in Chromium: the page loads once and fetches its layers; a filter change
redraws them without a navigation; the legend follows the visible layers."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

LAYERS = ("Densité", "Hexagones", "Points chauds (Gi*)", "Ressenti net")
READY = ".layer-map[data-layers-ready]"


def _count(page) -> int:
    return int(re.match(r"(\d+) points", page.locator("#summary").inner_text()).group(1))


def test_dashboard_layers_legends_and_filter(app, runner, rennes, live_server, page, make_user):
    assert "demo workshop created" in runner.invoke(args=["demo", "load", "--no-survey"]).output
    police = make_user("police", "rennes")
    sign_in(page, live_server, police.email)
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/")
    expect(page.locator(READY)).to_have_count(1)
    legend = page.locator("aside.legend")
    # Only the density is shown at first, and only its legend.
    expect(legend.locator("[data-layer=density]")).to_be_visible()
    for name in ("hexagons", "hotspots", "net", "difference", "points"):
        expect(legend.locator(f"[data-layer={name}]")).to_be_hidden()
    control = page.locator(".leaflet-control-layers-overlays")
    for name in LAYERS:
        checkbox = control.locator("label", has_text=name).locator("input")
        if not checkbox.is_checked():
            checkbox.check()
    expect(page.locator(".leaflet-image-layer")).to_have_count(1)  # the density
    assert page.locator("path.leaflet-interactive").count() > 100  # hexagons, hot spots, net
    expect(legend).to_contain_text("point chaud, 99 %")
    expect(legend.locator("[data-layer=hotspots]")).to_be_visible()
    expect(legend.locator("#hotspot-window")).to_contain_text(
        "ailleurs dans les quartiers enquêtés (Bréquigny, Le Blosne, Sud gare"
    )
    expect(legend.locator("#hotspot-window")).to_contain_text("voisinage de 520 m")
    control.locator("label", has_text="Ressenti net").locator("input").uncheck()
    expect(legend.locator("[data-layer=net]")).to_be_hidden()
    expect(legend.locator("[data-layer=hexagons]")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text(" points : ")
    before = _count(page)
    assert before == 320
    # A filter change: the layers are fetched again and redrawn, the page stays.
    # Playwright reports history.replaceState as a (same-document) framenavigated too, so
    # a reload is told by what only a new document brings: a navigation request for the
    # main frame and a new load event.
    navigations = []
    page.on(
        "request",
        lambda r: (
            r.is_navigation_request() and r.frame == page.main_frame and navigations.append(r.url)
        ),
    )
    page.on("load", lambda p: navigations.append("load"))
    paths_before = page.locator("path.leaflet-interactive").count()
    page.select_option("select[name=category]", "lighting")
    expect(page.locator(READY)).to_have_count(1)
    expect(page.locator("#summary")).not_to_contain_text(f"{before} points")
    after = _count(page)
    assert 0 < after < before
    assert "category=lighting" in page.url  # a reload gives the same view
    expect(page.locator(".leaflet-image-layer")).to_have_count(1)
    paths_after = page.locator("path.leaflet-interactive").count()
    assert 0 < paths_after < paths_before  # fewer cells with one category
    page.click("form.filters button[type=submit]")  # the button also redraws in place
    expect(page.locator(READY)).to_have_count(1)
    assert navigations == [], navigations
    # The map as shown, drawn by the server: the links follow the visible layers and view.
    link = page.locator("#map-png")
    expect(link).to_have_attribute("href", re.compile(r"layers=density%2Chexagons%2Chotspots&"))
    for name in ("Hexagones", "Points chauds"):
        control.locator("label", has_text=name).locator("input").uncheck()
    expect(link).to_have_attribute("href", re.compile(r"layers=density&"))
    expect(legend.locator("[data-layer=hotspots]")).to_be_hidden()
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
    # The raw points, fetched when shown; a reload keeps the filters.
    control.locator("label", has_text=re.compile(r"^\s*Points\s*$")).locator("input").check()
    expect(legend.locator("[data-layer=points]")).to_be_visible()
    expect(page.locator("path.leaflet-interactive")).not_to_have_count(0)
    page.reload()
    expect(page.locator(READY)).to_have_count(1)
    expect(page.locator("select[name=category]")).to_have_value("lighting")
    expect(page.locator("#summary")).to_contain_text(f"{after} points")
    # Nothing from another host (the density is shown from a blob: URL of its PNG).
    assert {u for u in page.requests if not u.startswith("blob:http://127.0.0.1:")}
    assert page.requests.hosts() - {None} == {"127.0.0.1"}
    assert all(u.startswith(("http://127.0.0.1:", "blob:http://127.0.0.1:")) for u in page.requests)


def test_comparing_two_editions_adds_the_difference_layer(
    client, make_workshop, live_server, page, make_user
):
    from tests.app.test_layers import _two_editions

    a, b = _two_editions(client, make_workshop)
    sign_in(page, live_server, make_user("police", "rennes").email)
    # An unusual cell size: the layer cache rows this test leaves behind (see the report:
    # they can outlive the test's data) share no key with other tests' requests.
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/?size=175")
    expect(page.locator(READY)).to_have_count(1)
    control = page.locator(".leaflet-control-layers-overlays")
    expect(control.locator("label", has_text="Différence B − A")).to_have_count(0)
    page.select_option("select[name=a]", str(a))
    expect(page.locator(READY)).to_have_count(1)
    page.select_option("select[name=b]", str(b))
    expect(page.locator(READY)).to_have_count(1)
    expect(control.locator("label", has_text="Différence B − A")).to_have_count(1)
    expect(page.locator("aside.legend [data-layer=difference]")).to_be_visible()
    assert f"a={a}" in page.url and f"b={b}" in page.url
    page.select_option("select[name=b]", "")
    expect(page.locator(READY)).to_have_count(1)
    expect(control.locator("label", has_text="Différence B − A")).to_have_count(0)
    expect(page.locator("aside.legend [data-layer=difference]")).to_be_hidden()


def test_large_territory_draws_hexagons_and_points_from_vector_tiles(
    app, runner, rennes, live_server, page, make_user
):
    """Past DASHBOARD_TILES_FROM_PINS (lowered here under the demo's 320 pins) the
    hexagons and points are vector tiles of the OGC API: drawn from tiles in view, with
    the filters, and points.json is never asked."""
    assert "demo workshop created" in runner.invoke(args=["demo", "load", "--no-survey"]).output
    app.config["DASHBOARD_TILES_FROM_PINS"] = 100
    sign_in(page, live_server, make_user("police", "rennes").email)
    tiles = []
    page.on(
        "response",
        lambda r: "/tiles/WebMercatorQuad/" in r.url and tiles.append((r.url, r.status)),
    )
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/")
    expect(page.locator(READY)).to_have_count(1)
    assert tiles == []  # hidden overlays fetch nothing
    control = page.locator(".leaflet-control-layers-overlays")
    control.locator("label", has_text="Hexagones").locator("input").check()
    expect(page.locator(".layer-map[data-tiles-hexagons-ready]")).to_have_count(1)
    drawn = page.locator(".leaflet-tile path")
    expect(drawn).not_to_have_count(0)
    every = drawn.count()
    assert {status for url, status in tiles} <= {200, 204}
    assert all("rennes-hexagons-full/tiles" in url for url, _status in tiles)
    page.select_option("select[name=category]", "lighting")
    expect(page.locator(READY)).to_have_count(1)
    expect(page.locator(".layer-map[data-tiles-hexagons-ready]")).to_have_count(1)
    assert any("category=lighting" in url for url, _status in tiles)
    assert 0 < drawn.count() < every  # fewer cells with one category
    control.locator("label", has_text=re.compile(r"^\s*Points\s*$")).locator("input").check()
    expect(page.locator(".layer-map[data-tiles-points-ready]")).to_have_count(1)
    assert any("rennes-points/tiles" in url and status == 200 for url, status in tiles)
    assert not [u for u in page.requests if "points.json" in u]
