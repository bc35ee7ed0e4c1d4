"""The patrol brief: hot-spot zones by time of day with their streets, categories, a map
and the approved comments; police and coordinators only, every reading audited."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent
from tests.conftest import login

URL = "/t/rennes/consignes/"


def _comment_unsafe_pins(app) -> None:
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE pin SET comment = 'Rue sombre et personne le soir', "
                "comment_status = 'approved' WHERE feeling = 'unsafe'"
            )
        )
        db.session.execute(
            sa.text(
                "UPDATE pin SET comment = 'SECRET en attente', comment_status = 'pending' "
                "WHERE id = (SELECT id FROM pin WHERE feeling = 'unsafe' "
                "ORDER BY created_at DESC LIMIT 1)"
            )
        )
        db.session.commit()


def test_police_get_the_zones_with_streets_comments_and_maps(app, client, demo, make_user):
    _comment_unsafe_pins(app)
    login(client, make_user("police", "rennes").email)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for label in ("Le matin", "La journée", "Le soir", "La nuit"):
        assert f"<h2>{label}</h2>" in page
    assert page.count('class="zone"') >= 1
    assert "data:image/png;base64," in page
    assert "(Le Blosne)" in page or "(Bréquigny)" in page or "(Sud gare)" in page
    assert "signalements d’insécurité" in page
    assert "Rue sombre et personne le soir" in page
    assert "SECRET en attente" not in page
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "brief.viewed")
        ).all()
    assert len(events) == 1 and events[0].target == "rennes"


def test_one_quartier_and_the_pdf(app, client, demo, make_user):
    login(client, make_user("coordinator", "rennes").email)
    page = client.get(f"{URL}?quartier=Q.11").get_data(as_text=True)
    assert "Fiche de consignes — Le Blosne" in page
    zones = page.split('class="zone"')[1:]
    assert all("(Le Blosne)" in z or "Le Blosne" in page for z in zones)
    bad = client.get(f"{URL}?quartier=NOPE")
    assert bad.status_code == 422 and "Quartier inconnu : NOPE" in bad.get_data(as_text=True)
    pdf = client.get("/t/rennes/consignes/fiche.pdf?quartier=Q.11")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"


def test_the_brief_is_for_police_and_coordinators(client, demo, paris, make_user):
    assert client.get(URL).status_code == 302  # to the login page
    login(client, make_user("planner", "rennes").email)
    assert client.get(URL).status_code == 403  # planners get no comment text
    login(client, make_user("police", "paris").email)
    assert client.get(URL).status_code == 403
