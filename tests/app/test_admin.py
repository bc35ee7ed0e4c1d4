"""Admin pages: users, roles, tokens and the audit log."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import csrf_token, login


@pytest.fixture
def admin_client(client, make_user, rennes):
    admin = make_user("admin", name="Alex Admin")
    login(client, admin.email)
    return client


def test_admin_creates_a_user_and_sees_its_password_once(app, admin_client):
    rennes_id = re.search(
        r'value="(\d+)">Rennes', admin_client.get("/admin/utilisateurs").get_data(as_text=True)
    ).group(1)
    response = admin_client.post(
        "/admin/utilisateurs",
        data={
            "email": "Police@Rennes.fr",
            "name": "Commandant Martin",
            "role": "police",
            "territories": [rennes_id],
            "active": "y",
            "csrf_token": csrf_token(admin_client, "/admin/utilisateurs"),
        },
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "police@rennes.fr"))
        assert user.role == "police" and [t.slug for t in user.territories] == ["rennes"]
    other = app.test_client()
    assert login(other, "police@rennes.fr", password).status_code == 302
    assert password not in admin_client.get(f"/admin/utilisateurs/{user.id}").get_data(as_text=True)


def test_invalid_user_form_names_the_fields_in_french(admin_client):
    response = admin_client.post(
        "/admin/utilisateurs",
        data={
            "email": "pas-une-adresse",
            "name": "",
            "role": "chef",
            "csrf_token": csrf_token(admin_client, "/admin/utilisateurs"),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and 'id="name-error"' in page and 'id="role-error"' in page


def test_role_change_is_audited(app, admin_client, make_user):
    police = make_user("police", "rennes")
    response = admin_client.post(
        f"/admin/utilisateurs/{police.id}",
        data={
            "email": police.email,
            "name": police.name,
            "role": "planner",
            "active": "y",
            "territories": [],
            "csrf_token": csrf_token(admin_client, "/admin/utilisateurs"),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.role_changed")
        )
        assert event.actor.startswith("admin")
        assert event.details["before"]["role"] == "police"
        assert event.details["after"] == {"role": "planner", "territories": [], "active": True}


def test_admin_revokes_a_token(app, admin_client, runner, make_user):
    planner = make_user("planner", "rennes")
    token = runner.invoke(
        args=["users", "token", "create", planner.email, "--name", "QGIS"]
    ).output.strip()
    page = admin_client.get(f"/admin/utilisateurs/{planner.id}").get_data(as_text=True)
    action = re.search(r'action="(/admin/utilisateurs/\d+/jetons/\d+/revoquer)"', page).group(1)
    assert (
        admin_client.post(action, data={"csrf_token": csrf_token(admin_client, "/")}).status_code
        == 302
    )
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )


def test_audit_log_filters_and_csv(app, admin_client, client):
    login(app.test_client(), "intruder@example.org", "guess")
    page = admin_client.get("/admin/journal?action=login.failure").get_data(as_text=True)
    assert "intruder@example.org" in page and "<code>login.success</code>" not in page
    assert admin_client.get("/admin/journal?action=drop+table").status_code == 400
    assert admin_client.get("/admin/journal?from=yesterday").status_code == 400
    assert "intruder" not in admin_client.get("/admin/journal?actor=admin").get_data(as_text=True)
    response = admin_client.get("/admin/journal.csv?action=login.failure")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "actor", "action", "target", "territory_id", "details"]
    assert [r[2] for r in rows[1:]] == ["login.failure"]
    with app.app_context():
        exported = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "audit.exported")
        )
        assert exported.details == {"filters": {"action": "login.failure"}}


def test_csv_cells_cannot_become_formulas(app, admin_client):
    login(app.test_client(), '=HYPERLINK("http://evil")@x.org', "guess")
    text = admin_client.get("/admin/journal.csv?action=login.failure").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_audit_log_is_append_only(app, admin_client):
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        event.action = "login.failure"
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.delete(AuditEvent))
        db.session.rollback()
