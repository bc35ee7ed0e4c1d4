"""Admin-editable categories, the residents' diagnostic form, and comment retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Category, Pin, Workshop
from tests.conftest import csrf_token, login, pin_body


@pytest.fixture
def admin(client, make_user, rennes):
    login(client, make_user("admin").email)
    return client


def test_categories_are_seeded_from_the_design(app):
    with app.app_context():
        rows = db.session.execute(sa.select(Category.code, Category.label_fr, Category.feelings))
        labels = {code: (label, feelings) for code, label, feelings in rows}
    assert labels["lighting"] == ("Éclairage", ["unsafe"])
    assert labels["urban_rodeos"][0] == "Rodéos urbains"
    assert labels["good_lighting"] == ("Bon éclairage", ["safe"])
    assert sum("unsafe" in f for _label, f in labels.values()) >= 14
    assert sum("safe" in f for _label, f in labels.values()) >= 5


def test_admin_adds_and_edits_a_category(app, admin, client, make_workshop):
    form = {
        "code": "stray_dogs",
        "label_fr": "Chiens errants",
        "label_en": "Stray dogs",
        "feelings": ["unsafe"],
        "colour": "#123abc",
        "position": 50,
        "active": "y",
        "csrf_token": csrf_token(admin, "/admin/categories"),
    }
    assert admin.post("/admin/categories", data=form).status_code == 302
    assert admin.post("/admin/categories", data=form).status_code == 422  # same code
    code = make_workshop()["codes"][0]
    assert (
        client.post(f"/api/v1/groups/{code}/pins", json=pin_body(category="stray_dogs")).status_code
        == 201
    )
    with app.app_context():
        category_id = db.session.scalar(sa.select(Category.id).where(Category.code == "stray_dogs"))
    edit = {**form, "code": "renamed", "label_fr": "Chiens sans laisse", "active": ""}
    assert admin.post(f"/admin/categories/{category_id}", data=edit).status_code == 302
    with app.app_context():
        category = db.session.get(Category, category_id)
        assert (category.code, category.label_fr, category.active) == (
            "stray_dogs",
            "Chiens sans laisse",
            False,
        )
    # A withdrawn category is refused for new pins.
    refused = client.post(f"/api/v1/groups/{code}/pins", json=pin_body(category="stray_dogs"))
    assert refused.status_code == 422 and "category" in refused.get_json()["fields"]


def test_bad_category_form_names_the_fields(admin):
    response = admin.post(
        "/admin/categories",
        data={
            "code": "Pas un code",
            "label_fr": "",
            "label_en": "x",
            "feelings": [],
            "colour": "red",
            "csrf_token": csrf_token(admin, "/admin/categories"),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name in ("code", "label_fr", "feelings", "colour"):
        assert f'id="{name}-error"' in page


def test_residents_fill_their_diagnostic_with_a_plain_form(app, client, make_workshop):
    code = make_workshop()["codes"][0]
    page = client.get(f"/j/{code}/diagnostic")
    assert page.status_code == 200 and "Quels troubles ressentez-vous" in page.get_data(
        as_text=True
    )
    response = client.post(
        f"/j/{code}/diagnostic",
        data={
            "troubles": "Rodéos",
            "causes": "",
            "solutions": "Médiation",
            "residents_role": "Signaler",
            "proposals": "Ralentisseurs\n\nÉclairage du passage\n",
        },
    )
    assert response.status_code == 302
    assert client.get(f"/api/v1/groups/{code}/diagnostic").get_json()["proposals"] == [
        "Ralentisseurs",
        "Éclairage du passage",
    ]
    too_long = client.post(f"/j/{code}/diagnostic", data={"troubles": "x" * 5001})
    assert too_long.status_code == 422


def _workshop_closed(app, make_workshop, client, days_ago: int) -> str:
    workshop = make_workshop()
    body = pin_body(comment=f"closed {days_ago} days ago")
    client.post(f"/api/v1/groups/{workshop['codes'][0]}/pins", json=body)
    with app.app_context():
        row = db.session.get(Workshop, workshop["id"])
        row.status, row.closed_at = "closed", datetime.now(UTC) - timedelta(days=days_ago)
        db.session.commit()
    return body["id"]


def test_retention_purge_erases_old_comments_only(app, client, runner, make_workshop):
    old = _workshop_closed(app, make_workshop, client, days_ago=800)
    recent = _workshop_closed(app, make_workshop, client, days_ago=100)
    dry = runner.invoke(args=["retention", "purge", "--older-than", "24m", "--dry-run"])
    assert "would erase 1 comments of 1 workshops" in dry.output
    result = runner.invoke(args=["retention", "purge", "--older-than", "24m"])
    assert result.exit_code == 0 and "erased 1 comments of 1 workshops" in result.output
    with app.app_context():
        purged, kept = (db.session.get(Pin, uuid.UUID(i)) for i in (old, recent))
        assert (purged.comment, purged.comment_status) == (None, "purged")
        assert kept.comment == "closed 100 days ago"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "retention.purged")
        )
        assert event.details == {"older_than": "24m", "workshops": 1, "comments": 1}
    again = runner.invoke(args=["retention", "purge"])  # default: the configured 24 months
    assert "erased 0 comments" in again.output


def test_retention_period_must_be_readable(runner):
    result = runner.invoke(args=["retention", "purge", "--older-than", "two years"])
    assert result.exit_code != 0 and "is not a period like 24m" in result.output
