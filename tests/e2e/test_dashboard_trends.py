"""The dashboard's "Tendances" overlay in Chromium: three editions draw coloured cells
named in the legend; with fewer periods the legend says so, as text."""

from playwright.sync_api import expect

from app.vocabulary import TREND_COLOURS
from tests.e2e.conftest import sign_in

READY = ".layer-map[data-layers-ready]"
TRENDS_READY = ".layer-map[data-trends-ready]"
NEW = TREND_COLOURS["new"]
PERSISTENT = TREND_COLOURS["persistent"]


def _three_editions(app, client, make_workshop) -> list[int]:
    """A place crowded in every edition (persistent), one only in the last (new)."""
    from tests.app.test_layers import _cluster, _held_on
    from tests.conftest import BLOSNE, pin_body

    elsewhere = (-1.6480, 48.0830)
    ids = []
    for n, day in enumerate(("2024-11-20", "2025-11-20", "2026-11-20")):
        made = make_workshop(quartiers=("Q.11", "Q.12", "Q.8"), title=f"Édition {n}")
        _held_on(app, made["id"], day)
        ids.append(made["id"])
        spots = _cluster(*BLOSNE) + (_cluster(*elsewhere) if n == 2 else [])
        for lon, lat in spots:
            body = pin_body(lon=lon, lat=lat)
            assert client.post(f"/api/v1/groups/{made['codes'][0]}/pins", json=body).status_code
    return ids


def test_trends_layer_draws_patterns_and_says_when_periods_are_too_few(
    app, client, make_workshop, live_server, page, make_user
):
    editions = _three_editions(app, client, make_workshop)
    sign_in(page, live_server, make_user("police", "rennes").email)
    page.goto(f"{live_server}/t/rennes/tableau-de-bord/?size=160")
    expect(page.locator(READY)).to_have_count(1)
    section = page.locator("aside.legend [data-layer=trends]")
    expect(section).to_be_hidden()
    control = page.locator(".leaflet-control-layers-overlays")
    control.locator("label", has_text="Tendances").locator("input").check()
    expect(page.locator(TRENDS_READY)).to_have_count(1)
    expect(section).to_be_visible()
    fills = page.locator("path.leaflet-interactive").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    assert NEW in fills and PERSISTENT in fills
    new = section.locator("[data-pattern=new]")
    expect(new).to_contain_text("Nouveau point chaud")
    expect(new.locator(".trend-count")).to_have_text(f"({fills.count(NEW)})")
    expect(section.locator("[data-pattern=persistent]")).to_contain_text(
        f"Point chaud persistant ({fills.count(PERSISTENT)})"
    )
    for pattern, colour in TREND_COLOURS.items():  # each count is what the map draws
        drawn = fills.count(colour)
        counted = section.locator(f"[data-pattern={pattern}] .trend-count")
        expect(counted).to_have_text(f"({drawn})" if drawn else "")
    expect(section.locator("#trends-periods")).to_have_text("Édition 0 → Édition 1 → Édition 2")
    expect(section.locator("#trends-message")).to_have_text("")
    # One workshop chosen: a single period, a message in the legend, no cell, no error.
    page.select_option("select[name=workshop]", str(editions[0]))
    expect(page.locator(TRENDS_READY)).to_have_count(1)
    expect(section.locator("#trends-message")).to_contain_text(
        "Une tendance demande au moins 3 éditions ou périodes ; il y en a 1."
    )
    expect(section.locator(".trend-count", has_text="(")).to_have_count(0)
    expect(page.locator("#summary")).not_to_contain_text("n’ont pas pu")
    fills = page.locator("path.leaflet-interactive").evaluate_all(
        "paths => paths.map(p => p.getAttribute('fill'))"
    )
    assert NEW not in fills and PERSISTENT not in fills
