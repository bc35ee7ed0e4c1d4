"""The territory dashboard: who may open it, what it shows, how filters change it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import login

URL = "/t/rennes/tableau-de-bord/"


def _summary(page: str) -> tuple[int, int, int]:
    from tests.helpers import page_text

    found = re.search(r"(\d+) points : (\d+) insécurité, (\d+) sécurité", page_text(page))
    return tuple(int(v) for v in found.groups())


def _layer_names(page: str) -> list[str]:
    """The layers the map offers, from its JSON data island."""
    import json

    island = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page)
    return [layer["name"] for layer in json.loads(island.group(1))["layers"]]


def test_dashboard_shows_the_four_layers_with_legends(app, client, demo, make_user):
    login(client, make_user("police", "rennes").email)
    page = client.get(URL).get_data(as_text=True)
    total, unsafe, safe = _summary(page)
    assert total == unsafe + safe == 320 and unsafe > safe
    layers = _layer_names(page)
    for layer in ("Densité", "Hexagones", "Points chauds (Gi*)", "Ressenti net", "Points"):
        assert layer in layers, layers
    assert "Légende" in page and "point chaud, 99 %" in page
    assert "data:image/png;base64," in page  # the density overlay
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "points.viewed"))
        assert event.details["view"] == "dashboard" and event.details["count"] == 320


def test_filtering_to_one_category_changes_the_counts(client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    every = _summary(client.get(URL).get_data(as_text=True))
    lighting = _summary(client.get(f"{URL}?category=lighting").get_data(as_text=True))
    assert 0 < lighting[0] < every[0] and lighting[2] == 0  # lighting is an unsafe category


def test_bad_filters_are_named_in_french(client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    response = client.get(f"{URL}?size=1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Filtres invalides" in page and "<strong>size</strong>" in page


def test_planners_see_points_without_comments(client, demo, make_user, app):
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE pin SET comment_status = 'approved' WHERE comment IS NOT NULL")
        )
        db.session.commit()
    login(client, make_user("planner", "rennes").email)
    page = client.get(URL).get_data(as_text=True)
    assert "éclairage en panne" not in page.lower()
    police = app.test_client()
    login(police, make_user("police", "rennes", email="p2@example.org").email)
    assert "clairage en panne" in police.get(URL).get_data(as_text=True)


def test_legend_says_what_hot_spots_are_compared_with(client, demo, make_user):
    """Gi*'s window and distance band, in French, under the hot-spot swatches."""
    login(client, make_user("police", "rennes").email)
    page = client.get("/t/rennes/tableau-de-bord/").get_data(as_text=True)
    assert "ailleurs dans les quartiers enquêtés (Bréquigny, Le Blosne, Sud gare" in page
    assert "voisinage de 520 m" in page


def test_filters_and_popups_speak_the_readers_language(client, demo, make_user):
    """Time of day and categories are labels, never codes, in French and in English."""
    login(client, make_user("police", "rennes").email)
    french = client.get("/t/rennes/tableau-de-bord/").get_data(as_text=True)
    assert '<option value="night" >La nuit</option>' in french
    assert ">Éclairage</option>" in french
    english = client.get("/t/rennes/tableau-de-bord/?lang=en").get_data(as_text=True)
    assert '<option value="night" >Night</option>' in english
    assert ">Lighting</option>" in english and ">Éclairage</option>" not in english
    for page in (french, english):
        assert ">night</option>" not in page and "· night" not in page
