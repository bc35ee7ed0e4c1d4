"""Coordinator pages: workshops, groups and codes, QR sheet, live feed, moderation."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Pin, Workshop
from app.workshops.groups import ALPHABET, CODE_LENGTH, new_join_code
from tests.conftest import csrf_token, login, pin_body


@pytest.fixture
def coordinator(client, make_user, rennes):
    user = make_user("coordinator", "rennes", name="Camille")
    login(client, user.email)
    return client


def _quartier_id(app, code="Q.11") -> int:
    from app.models import Quartier

    with app.app_context():
        return db.session.scalar(sa.select(Quartier.id).where(Quartier.code == code))


def test_join_codes_are_unguessable_and_unambiguous(app):
    assert len(ALPHABET) ** CODE_LENGTH >= 2**40
    assert not set("01OIL") & set(ALPHABET)
    with app.app_context():
        codes = {new_join_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)


def test_coordinator_creates_opens_and_closes_a_workshop(app, coordinator):
    response = coordinator.post(
        "/t/rennes/ateliers/nouveau",
        data={
            "kind": "atelier",
            "title": "Atelier du Blosne",
            "held_on": "2026-12-03",
            "place": "Maison de quartier",
            "edition": "2026",
            "quartiers": [_quartier_id(app)],
            "group_count": 3,
            "csrf_token": csrf_token(coordinator, "/t/rennes/ateliers/nouveau"),
        },
    )
    assert response.status_code == 302
    page_url = response.headers["Location"]
    page = coordinator.get(page_url).get_data(as_text=True)
    codes = re.findall(r'<code class="join-code">([^<]+)</code>', page)
    assert len(codes) == 3
    assert coordinator.get(f"/j/{codes[0]}").status_code == 403  # draft: not open yet
    token = csrf_token(coordinator, page_url)
    coordinator.post(f"{page_url}/statut", data={"status": "open", "csrf_token": token})
    assert coordinator.get(f"/j/{codes[0]}").status_code == 200
    assert coordinator.post(f"/api/v1/groups/{codes[0]}/pins", json=pin_body()).status_code == 201
    closing = {"status": "closed", "csrf_token": token, "confirm": "yes"}
    coordinator.post(f"{page_url}/statut", data=closing)
    assert coordinator.post(f"/api/v1/groups/{codes[0]}/pins", json=pin_body()).status_code == 403
    assert (
        coordinator.post(
            f"{page_url}/statut", data={"status": "draft", "csrf_token": token}
        ).status_code
        == 409
    )
    with app.app_context():
        workshop = db.session.scalar(sa.select(Workshop))
        assert workshop.closed_at and workshop.opened_at and workshop.edition == "2026"


def test_invalid_workshop_form_names_fields(app, coordinator):
    response = coordinator.post(
        "/t/rennes/ateliers/nouveau",
        data={
            "kind": "atelier",
            "title": "",
            "held_on": "demain",
            "quartiers": [],
            "csrf_token": csrf_token(coordinator, "/t/rennes/ateliers/nouveau"),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("title", "held_on", "quartiers"):
        assert f'id="{field}-error"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Workshop)) == 0


def test_questionnaire_has_one_public_code(app, coordinator):
    coordinator.post(
        "/t/rennes/ateliers/nouveau",
        data={
            "kind": "questionnaire",
            "title": "Questionnaire 2026",
            "held_on": "2026-12-01",
            "quartiers": [_quartier_id(app)],
            "group_count": 5,
            "csrf_token": csrf_token(coordinator, "/t/rennes/ateliers/nouveau"),
        },
    )
    with app.app_context():
        assert len(db.session.scalar(sa.select(Workshop)).groups) == 1


def test_groups_can_be_added_and_qr_sheet_lists_them(app, coordinator, make_workshop):
    workshop = make_workshop(status="open", groups=1)
    base = f"/t/rennes/ateliers/{workshop['id']}"
    coordinator.post(
        f"{base}/groupes",
        data={"name": "Table des jeunes", "csrf_token": csrf_token(coordinator, base)},
    )
    sheet = coordinator.get(f"{base}/qr").get_data(as_text=True)
    assert sheet.count("<svg") == 2
    assert "Table des jeunes" in sheet
    assert f"http://localhost/j/{workshop['codes'][0]}" in sheet


def test_opening_the_live_screen_is_audited(app, coordinator, make_workshop):
    workshop = make_workshop()
    assert coordinator.get(f"/t/rennes/ateliers/{workshop['id']}/direct").status_code == 200
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "points.viewed"))
        assert event.target == f"workshop:{workshop['id']}" and event.details == {"view": "live"}


def test_live_feed_has_pins_and_no_comment(app, coordinator, make_workshop):
    workshop = make_workshop()
    coordinator.post(
        f"/api/v1/groups/{workshop['codes'][0]}/pins", json=pin_body(comment="Nom d'une personne")
    )
    feed = coordinator.get(f"/t/rennes/ateliers/{workshop['id']}/direct.json")
    data = feed.get_json()
    assert len(data["pins"]) == 1 and "comment" not in data["pins"][0]
    assert data["pins"][0]["group"] == workshop["group_ids"][0]
    again = coordinator.get(
        f"/t/rennes/ateliers/{workshop['id']}/direct.json",
        headers={"If-None-Match": feed.headers["ETag"]},
    )
    assert again.status_code == 304


def _points_viewed(app, workshop_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.actor, AuditEvent.target)
            .where(AuditEvent.action == "points.viewed")
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(row) for row in rows if row.target == f"workshop:{workshop_id}"]


def test_live_feed_is_audited_once_per_user_and_period(
    app, coordinator, make_workshop, make_user, monkeypatch
):
    """The screen polls every few seconds: a raw read is audited without flooding."""
    from app.workshops import views as workshops

    workshop = make_workshop()
    feed = f"/t/rennes/ateliers/{workshop['id']}/direct.json"
    for _ in range(5):
        assert coordinator.get(feed).status_code == 200
    assert _points_viewed(app, workshop["id"]) == [
        ("coordinator-rennes@example.org", f"workshop:{workshop['id']}")
    ]
    police = app.test_client()
    login(police, make_user("police", "rennes").email)
    police.get(feed)
    police.get(feed)
    assert [actor for actor, _ in _points_viewed(app, workshop["id"])] == [
        "coordinator-rennes@example.org",
        "police-rennes@example.org",
    ]
    monkeypatch.setattr(workshops, "LIVE_AUDIT_MINUTES", 0)  # the period has gone by
    coordinator.get(feed)
    assert len(_points_viewed(app, workshop["id"])) == 3


def _pending_pin(client, workshop, text="Regroupements devant le hall, M. Dupont du 3e"):
    body = pin_body(comment=text)
    client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body)
    return body["id"]


@pytest.mark.parametrize(
    ("decision", "status", "text"),
    [
        ("approve", "approved", "Regroupements devant le hall, M. Dupont du 3e"),
        ("reject", "rejected", "Regroupements devant le hall, M. Dupont du 3e"),
        ("redact", "approved", "Regroupements devant le hall"),
    ],
)
def test_moderation_decisions_are_recorded(app, coordinator, make_workshop, decision, status, text):
    workshop = make_workshop()
    pin_id = _pending_pin(coordinator, workshop)
    base = f"/t/rennes/ateliers/{workshop['id']}/moderation"
    assert "M. Dupont" in coordinator.get(base).get_data(as_text=True)
    response = coordinator.post(
        f"{base}/{pin_id}",
        data={
            "decision": decision,
            "text": "Regroupements devant le hall",
            "csrf_token": csrf_token(coordinator, base),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        pin = db.session.get(Pin, __import__("uuid").UUID(pin_id))
        assert (pin.comment_status, pin.comment) == (status, text)
        assert pin.moderated_by is not None and pin.moderated_at is not None
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "moderation"))
        assert event.details == {"decision": decision} and event.target == pin_id


def test_bad_moderation_decision_is_refused(app, coordinator, make_workshop):
    workshop = make_workshop()
    pin_id = _pending_pin(coordinator, workshop)
    base = f"/t/rennes/ateliers/{workshop['id']}/moderation"
    response = coordinator.post(
        f"{base}/{pin_id}",
        data={"decision": "publish", "csrf_token": csrf_token(coordinator, base)},
    )
    assert response.status_code == 422
    assert (
        coordinator.post(
            f"{base}/not-a-uuid",
            data={"decision": "approve", "csrf_token": csrf_token(coordinator, base)},
        ).status_code
        == 404
    )


def test_diagnostics_page_shows_every_group(app, coordinator, make_workshop):
    workshop = make_workshop()
    coordinator.put(
        f"/api/v1/groups/{workshop['codes'][1]}/diagnostic",
        json={"troubles": "Rodéos urbains le soir", "proposals": ["Installer des ralentisseurs"]},
    )
    page = coordinator.get(f"/t/rennes/ateliers/{workshop['id']}/diagnostics").get_data(
        as_text=True
    )
    assert "Table 1" in page and "Table 2" in page
    assert "Rodéos urbains le soir" in page and "Installer des ralentisseurs" in page


def test_workshop_of_another_territory_is_not_found(app, coordinator, make_workshop, paris):
    workshop = make_workshop()
    with app.app_context():
        from app.accounts.auth import hash_password
        from app.models import Territory, User

        paris = db.session.scalar(sa.select(Territory).where(Territory.slug == "paris"))
        db.session.add(
            User(
                email="p@example.org",
                name="P",
                role="admin",
                password_hash=hash_password("correct horse battery staple"),
            )
        )
        db.session.commit()
        assert paris is not None
    admin = app.test_client()
    login(admin, "p@example.org")
    assert admin.get(f"/t/paris/ateliers/{workshop['id']}").status_code == 404


def test_moderation_shows_labels_in_the_readers_language(coordinator, make_workshop):
    workshop = make_workshop()
    _pending_pin(coordinator, workshop)
    base = f"/t/rennes/ateliers/{workshop['id']}/moderation"
    assert "· Éclairage · La nuit ·" in coordinator.get(base).get_data(as_text=True)
    english = coordinator.get(f"{base}?lang=en").get_data(as_text=True)
    assert "· Lighting · Night ·" in english and "Éclairage" not in english
