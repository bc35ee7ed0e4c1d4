"""The follow-up in Chromium: a proposal becomes an action with a zone drawn with
leaflet-draw, moves to engagée then réalisée, and the quartier's public page shows it
with its updates and no raw data."""

from playwright.sync_api import expect

from tests.conftest import BLOSNE, pin_body
from tests.e2e.conftest import sign_in


def test_action_from_proposal_to_the_public_page(
    app, client, rennes, live_server, page, make_user, make_workshop
):
    workshop = make_workshop()
    code = workshop["codes"][0]
    for _ in range(4):
        body = pin_body(comment="Commentaire privé")
        assert client.post(f"/api/v1/groups/{code}/pins", json=body).status_code == 201
    client.put(
        f"/api/v1/groups/{code}/diagnostic",
        json={"troubles": "Passage sombre", "proposals": ["Éclairer le passage Volga"]},
    )
    coordinator = make_user("coordinator", "rennes")
    sign_in(page, live_server, coordinator.email)

    page.goto(f"{live_server}/t/rennes/ateliers/{workshop['id']}/diagnostics")
    page.get_by_role("link", name="Créer une action").click()
    expect(page.locator("#title")).to_have_value("Éclairer le passage Volga")
    page.check("input[name=partners][value=services_techniques]")
    page.check("input[name=public]")
    page.fill("#due_on", "2027-06-30")

    # Draw a triangle around the pins in Le Blosne with leaflet-draw.
    page.locator(".leaflet-draw-draw-polygon").wait_for()  # the map's modules have run
    page.evaluate(
        f"document.querySelector('.layer-map').leafletMap.setView([{BLOSNE[1]}, {BLOSNE[0]}], 16)"
    )
    page.click(".leaflet-draw-draw-polygon")  # scrolls the map into view
    box = page.locator(".layer-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-80, 60), (80, 60), (0, -80), (-80, 60)):  # back to the first: closed
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(150)
    expect(page.locator("#zone_kind_drawn")).to_be_checked()
    assert '"Polygon"' in page.locator("#zone_geojson").input_value()
    page.click("form.action-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Éclairer le passage Volga")
    expect(page.locator("dl.facts")).to_contain_text("Le Blosne")

    for status, text in (
        ("engaged", "Devis signé avec la métropole"),
        ("done", "Deux candélabres posés"),
    ):
        page.fill("#update-text", text)
        page.select_option("#update-status", status)
        page.click("form.update-form button[type=submit]")
        expect(page.locator("ol.timeline")).to_contain_text(text)
    expect(page.locator("[data-field=status]")).to_have_text("réalisée")

    visitor = page.context.browser.new_context(  # a resident's phone
        locale="fr-FR", viewport={"width": 360, "height": 740}
    )
    public = visitor.new_page()
    public.goto(f"{live_server}/t/rennes/q/Q.11")
    done = public.locator("section.done")
    expect(done).to_contain_text("Éclairer le passage Volga")
    expect(done).to_contain_text("réalisée")
    expect(done).to_contain_text("Devis signé avec la métropole")
    expect(done).to_contain_text("Deux candélabres posés")
    assert public.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    html = public.content()
    assert "Commentaire privé" not in html and coordinator.name not in html
    assert f"[{BLOSNE[0]}, {BLOSNE[1]}]" not in html
    visitor.close()
    assert page.requests.hosts() == {"127.0.0.1"}
