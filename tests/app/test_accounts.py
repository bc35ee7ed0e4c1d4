"""Login, logout, throttling, tokens and the users CLI, on the real database."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_token, login


def events(app, action=None) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return db.session.scalars(query).all()


def test_login_and_logout(app, client, rennes, make_user):
    user = make_user("coordinator", "rennes", name="Camille Coordinatrice")
    response = login(client, user.email)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Camille Coordinatrice" in page and "Se déconnecter" in page
    assert client.get("/api/v1/me").get_json() == {
        "email": user.email,
        "name": "Camille Coordinatrice",
        "role": "coordinator",
        "territories": ["rennes"],
    }
    token = csrf_token(client, "/")
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    assert [e.action for e in events(app)] == ["login.success", "logout"]


def test_session_cookie_flags(app, client, make_user):
    user = make_user("admin")
    response = login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # Over HTTPS (directly or via the proxy's X-Forwarded-Proto) the cookie is Secure.
    https = app.test_client().get("/connexion", base_url="https://localhost")
    assert "; Secure" in https.headers["Set-Cookie"]


def test_wrong_password_is_refused_and_logged(app, client, make_user):
    user = make_user("police", email="agent@example.org")
    response = login(client, user.email, "wrong password")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    failure = events(app, "login.failure")[0]
    assert failure.target == "agent@example.org" and failure.user_id is None


def test_unknown_email_gets_the_same_answer(client):
    response = login(client, "nobody@example.org", "whatever")
    assert response.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(app, client, make_user):
    user = make_user("planner")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    assert login(client, user.email).status_code == 401


def test_wrong_passwords_are_throttled_with_backoff(app, client, make_user):
    user = make_user("admin")
    app.config["LOGIN_BACKOFF_SECONDS"] = 30
    for _ in range(5):
        assert login(client, user.email, "nope").status_code == 401
    # The fifth failure locked the address: even the right password now waits.
    locked = login(client, user.email)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) in range(25, 31)
    assert "Trop de tentatives" in locked.get_data(as_text=True)


def test_backoff_doubles_and_success_resets_it(app, client, make_user):
    from app.accounts.auth import seconds_locked
    from app.models import LoginThrottle

    user = make_user("admin")
    app.config["LOGIN_BACKOFF_SECONDS"] = 0  # count, but let every try through
    for _ in range(7):
        login(client, user.email, "nope")
    account_key = f"account:{user.email}|client:127.0.0.1"
    with app.app_context():
        assert db.session.get(LoginThrottle, account_key).failures == 7
        assert db.session.get(LoginThrottle, "client:127.0.0.1").failures == 7
        assert seconds_locked(user.email, "127.0.0.1") == 0
    assert login(client, user.email).status_code == 302
    with app.app_context():
        assert db.session.get(LoginThrottle, account_key) is None
        # The client's own count is kept: signing in to one account must not reset it.
        assert db.session.get(LoginThrottle, "client:127.0.0.1").failures == 7


def test_login_form_requires_csrf(client, make_user):
    user = make_user("admin")
    response = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_next_parameter_only_redirects_locally(client, make_user):
    user = make_user("admin")
    for target, expected in (
        ("/admin/journal", "/admin/journal"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
    ):
        client.get("/")
        response = client.post(
            f"/connexion?next={target}",
            data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert response.headers["Location"] == expected


# -- CLI and tokens --------------------------------------------------------------------------


def test_users_cli_lifecycle(app, runner, rennes):
    out = runner.invoke(
        args=[
            "users",
            "create",
            "Chef@Example.org",
            "--name",
            "Cheffe",
            "--role",
            "police",
            "--territory",
            "rennes",
        ],
        input="a long password\na long password\n",
    )
    assert out.exit_code == 0, out.output
    assert "created police chef@example.org" in out.output
    out = runner.invoke(args=["users", "set-role", "chef@example.org", "--role", "planner"])
    assert "is now planner for rennes" in out.output
    out = runner.invoke(args=["users", "reset-password", "chef@example.org", "--generate-password"])
    assert "password of chef@example.org reset: " in out.output
    out = runner.invoke(args=["users", "deactivate", "chef@example.org"])
    assert out.exit_code == 0
    listing = runner.invoke(args=["users", "list"]).output
    assert "chef@example.org\tplanner\trennes\tinactive" in listing
    actions = [e.action for e in events(app)]
    assert actions == [
        "user.created",
        "user.role_changed",
        "user.password_reset",
        "user.deactivated",
    ]
    role_change = events(app, "user.role_changed")[0]
    assert role_change.details == {
        "before": {"role": "police", "territories": ["rennes"]},
        "after": {"role": "planner", "territories": ["rennes"]},
    }


def test_users_cli_errors(runner, rennes):
    out = runner.invoke(
        args=[
            "users",
            "create",
            "a@example.org",
            "--name",
            "A",
            "--role",
            "police",
            "--generate-password",
        ]
    )
    assert out.exit_code != 0 and "needs at least one --territory" in out.output
    out = runner.invoke(
        args=[
            "users",
            "create",
            "a@example.org",
            "--name",
            "A",
            "--role",
            "police",
            "--territory",
            "brest",
            "--generate-password",
        ]
    )
    assert out.exit_code != 0 and "unknown territory: brest" in out.output
    out = runner.invoke(args=["users", "set-role", "ghost@example.org", "--role", "admin"])
    assert out.exit_code != 0 and "no user with e-mail" in out.output


def test_token_works_until_revoked(app, client, runner, make_user):
    user = make_user("planner")
    out = runner.invoke(args=["users", "token", "create", user.email, "--name", "QGIS"])
    token = out.output.strip()
    assert token.startswith("rst_") and len(token) > 40
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == user.email
    with app.app_context():
        from app.models import ApiToken

        stored = db.session.scalar(sa.select(ApiToken))
        assert token not in (stored.token_hash, stored.prefix) and stored.last_used_at
    listing = runner.invoke(args=["users", "token", "list", user.email]).output
    assert f"{token[:10]}…\tQGIS\tactive" in listing
    out = runner.invoke(args=["users", "token", "revoke", token[:10]])
    assert "revoked" in out.output
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer rst_forged"}).status_code == 401
    )
    assert [e.action for e in events(app)] == ["token.created", "token.revoked"]


def test_deactivating_a_user_revokes_their_tokens(client, runner, make_user):
    user = make_user("police")
    token = runner.invoke(
        args=["users", "token", "create", user.email, "--name", "x"]
    ).output.strip()
    runner.invoke(args=["users", "deactivate", user.email])
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# -- hardening: redirects, sessions, throttling, tokens ----------------------------------------


def _client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_next_refuses_control_characters_whitespace_and_backslashes(client, make_user):
    user = make_user("admin")
    for target in (
        "/%09/evil.example",
        "/%0d%0a/evil.example",
        "/%0a/evil.example",
        "/%20/evil.example",
        "/%5C/evil.example",
        "/%5Cevil.example",
        "/%01/evil.example",
        "/%E2%80%8B/evil.example",
        "https:evil.example",
        "///evil.example",
    ):
        client.get("/")
        response = client.post(
            f"/connexion?next={target}",
            data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert response.status_code == 302 and response.headers["Location"] == "/", target


def test_logout_ends_every_session_of_the_user(app, make_user):
    user = make_user("coordinator")
    first, second = app.test_client(), app.test_client()
    assert login(first, user.email).status_code == 302
    assert login(second, user.email).status_code == 302
    stolen = app.test_client()
    stolen.set_cookie("session", first.get_cookie("session").value)
    assert stolen.get("/api/v1/me").status_code == 200
    token = csrf_token(first, "/")
    assert first.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    for client in (first, second, stolen):
        assert client.get("/api/v1/me").status_code == 401
    assert login(second, user.email).status_code == 302
    assert second.get("/api/v1/me").status_code == 200


def test_password_reset_ends_open_sessions(app, runner, make_user):
    user = make_user("police")
    admin = make_user("admin")
    session, admin_session = app.test_client(), app.test_client()
    login(session, user.email)
    login(admin_session, admin.email)
    out = runner.invoke(args=["users", "reset-password", user.email, "--generate-password"])
    assert out.exit_code == 0, out.output
    assert session.get("/api/v1/me").status_code == 401
    assert admin_session.get("/api/v1/me").status_code == 200
    # The admin page's reset does the same.
    login(session, user.email, out.output.rsplit(": ", 1)[1].strip())
    assert session.get("/api/v1/me").status_code == 200
    token = csrf_token(admin_session, f"/admin/utilisateurs/{user.id}")
    page = admin_session.post(
        f"/admin/utilisateurs/{user.id}/mot-de-passe", data={"csrf_token": token}
    )
    assert page.status_code == 200
    assert session.get("/api/v1/me").status_code == 401


def test_reset_password_applies_the_same_rule_as_create(app, runner, client, make_user):
    user = make_user("planner")
    out = runner.invoke(args=["users", "reset-password", user.email], input="short\nshort\n")
    assert out.exit_code != 0 and "at least 10 characters" in out.output
    assert login(client, user.email).status_code == 302  # the old password still works
    assert [e.action for e in events(app, "user.password_reset")] == []


def test_an_attacker_cannot_lock_the_owner_out(app, make_user):
    user = make_user("admin")
    app.config["LOGIN_BACKOFF_SECONDS"] = 30
    attacker, owner = _client_at(app, "203.0.113.66"), _client_at(app, "198.51.100.7")
    for _ in range(5):
        assert login(attacker, user.email, "guess").status_code == 401
    assert login(attacker, user.email).status_code == 429  # slowed, right password or not
    assert login(owner, user.email).status_code == 302


def test_one_client_trying_many_accounts_is_slowed(app, make_user):
    user = make_user("admin")
    app.config["LOGIN_BACKOFF_SECONDS"] = 30
    attacker = _client_at(app, "203.0.113.66")
    for n in range(20):
        assert login(attacker, f"victim{n}@example.org", "guess").status_code == 401
    assert login(attacker, user.email).status_code == 429
    assert login(_client_at(app, "198.51.100.7"), user.email).status_code == 302


def test_bearer_header_skips_csrf_only_when_its_token_authenticates(app, client, rennes, make_user):
    user = make_user("coordinator", "rennes")
    login(client, user.email)
    # A cookie session with a junk bearer header: the cookie authenticates the request,
    # so the CSRF token is still required (this view has no form of its own to check it).
    response = client.post(
        "/t/rennes/suivi/actions/1/suivi",
        data={"text": "forged"},
        headers={"Authorization": "Bearer junk"},
    )
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    response = client.post("/deconnexion", headers={"Authorization": "Bearer junk"})
    assert client.get("/api/v1/me").status_code == 200
    # A junk token alone is a 401, not a CSRF complaint.
    anonymous = app.test_client().post("/deconnexion", headers={"Authorization": "Bearer junk"})
    assert anonymous.status_code == 401
    # Without the header, CSRF is asked for as usual.
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/api/v1/me").status_code == 200


def test_tokens_expire_and_show_their_last_use(app, client, runner, make_user):
    from datetime import timedelta

    from app.models import ApiToken, utcnow

    user = make_user("planner")
    out = runner.invoke(
        args=["users", "token", "create", user.email, "--name", "QGIS", "--expires", "90d"]
    )
    assert out.exit_code == 0, out.output
    headers = {"Authorization": f"Bearer {out.output.strip()}"}
    listing = runner.invoke(args=["users", "token", "list", user.email]).output
    expected = (utcnow() + timedelta(days=90)).strftime("%Y-%m-%d")
    assert f"active\texpires {expected}" in listing and "never used" in listing
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        first_use = db.session.scalar(sa.select(ApiToken.last_used_at))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        # Within a minute the use is not written again (no write per request).
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) == first_use
        token = db.session.scalar(sa.select(ApiToken))
        token.last_used_at -= timedelta(minutes=2)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.last_used_at)) > first_use
    assert (
        f"used {utcnow():%Y-%m-%d}"
        in runner.invoke(args=["users", "token", "list", user.email]).output
    )
    with app.app_context():
        db.session.scalar(sa.select(ApiToken)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert "expired" in runner.invoke(args=["users", "token", "list", user.email]).output


def test_token_expiry_accepts_a_date_and_refuses_nonsense(runner, make_user):
    user = make_user("planner")
    base = ["users", "token", "create", user.email, "--name", "x", "--expires"]
    out = runner.invoke(args=[*base, "2999-06-30"])
    assert out.exit_code == 0, out.output
    listing = runner.invoke(args=["users", "token", "list", user.email]).output
    assert "expires 2999-07-01 00:00" in listing
    for bad in ("2020-01-01", "soon", "-3d"):
        out = runner.invoke(args=[*base, bad])
        assert out.exit_code != 0 and "--expires" in out.output, bad


def test_first_admin_is_created_once_and_can_sign_in(app, client, runner):
    """`make run` on a fresh database: an admin account and how to sign in, printed."""
    made = runner.invoke(args=["users", "first-admin", "--url", "http://127.0.0.1:5000/connexion"])
    assert made.exit_code == 0, made.output
    email = re.search(r"e-mail: (\S+)", made.output).group(1)
    password = re.search(r"password: (\S+)", made.output).group(1)
    assert "http://127.0.0.1:5000/connexion" in made.output
    assert login(client, email, password).status_code == 302
    again = runner.invoke(args=["users", "first-admin"])
    assert again.exit_code == 0 and "password:" not in again.output
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(User).where(User.role == "admin")
            )
            == 1
        )
