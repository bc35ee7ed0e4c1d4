"""Every route × every kind of visitor → the expected HTTP status (DESIGN §6).

A route missing from MATRIX fails ``test_every_route_is_in_the_matrix``: add it here,
with what each visitor must get, when you add it to the app.
"""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login

# Admin last: its requests change things (passwords, tokens) the others rely on.
PRINCIPALS = (
    "anonymous",
    "coordinator",
    "police",
    "planner",
    "other_territory",
    "planner_token",
    "admin",
)
SIGNED_IN = PRINCIPALS[1:]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PRINCIPALS, status)


def signed_in(status: int, anonymous: int) -> dict[str, int]:
    return {**dict.fromkeys(SIGNED_IN, status), "anonymous": anonymous}


def admin_only(status: int) -> dict[str, int]:
    return {**dict.fromkeys(SIGNED_IN, 403), "anonymous": 302, "admin": status}


# (method, rule) -> (URL with {placeholders}, expected status per principal)
MATRIX: dict[tuple[str, str], tuple[str, dict[str, int]]] = {
    ("GET", "/static/<path:filename>"): ("/static/css/app.css", everyone(200)),
    ("GET", "/healthz"): ("/healthz", everyone(200)),
    ("GET", "/"): ("/", everyone(200)),
    ("GET", "/t/<slug>"): ("/t/rennes", everyone(200)),
    ("GET", "/t/<slug>/q/<code>"): ("/t/rennes/q/Q.11", everyone(200)),
    ("GET", "/api/v1/territories/<slug>/streets.geojson"): (
        "/api/v1/territories/rennes/streets.geojson",
        everyone(200),
    ),
    ("GET", "/lang/<code>"): ("/lang/en", everyone(302)),
    ("GET", "/connexion"): ("/connexion", everyone(200)),
    ("POST", "/connexion"): ("/connexion", everyone(400)),  # empty form
    ("POST", "/deconnexion"): ("/deconnexion", signed_in(302, anonymous=302)),
    ("GET", "/confidentialite"): ("/confidentialite", everyone(200)),
    ("GET", "/api/v1/me"): ("/api/v1/me", signed_in(200, anonymous=401)),
    ("GET", "/admin/"): ("/admin/", admin_only(302)),
    ("GET", "/admin/utilisateurs"): ("/admin/utilisateurs", admin_only(200)),
    ("POST", "/admin/utilisateurs"): ("/admin/utilisateurs", admin_only(422)),
    ("GET", "/admin/utilisateurs/<int:user_id>"): (
        "/admin/utilisateurs/{police_id}",
        admin_only(200),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>"): (
        "/admin/utilisateurs/{police_id}",
        admin_only(422),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>/mot-de-passe"): (
        "/admin/utilisateurs/{police_id}/mot-de-passe",
        admin_only(200),
    ),
    ("POST", "/admin/utilisateurs/<int:user_id>/jetons/<int:token_id>/revoquer"): (
        "/admin/utilisateurs/{planner_id}/jetons/{token_id}/revoquer",
        admin_only(302),
    ),
    ("GET", "/admin/journal"): ("/admin/journal", admin_only(200)),
    ("GET", "/admin/journal.csv"): ("/admin/journal.csv", admin_only(200)),
}


def test_every_route_is_in_the_matrix(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - set(MATRIX) == set(), "add these routes to MATRIX"
    assert set(MATRIX) - routes == set(), "these MATRIX entries match no route"


@pytest.fixture
def visitors(app, rennes, runner, make_user):
    """A client per principal, signed in (or carrying a token) as that principal."""
    runner.invoke(
        args=[
            "quartiers",
            "import",
            "data/quartiers/paris_quartiers_administratifs.geojson",
            "--territory",
            "paris",
            "--name-field",
            "l_qu",
            "--code-field",
            "c_quinsee",
        ]
    )
    users = {
        "admin": make_user("admin"),
        "coordinator": make_user("coordinator", "rennes"),
        "police": make_user("police", "rennes"),
        "planner": make_user("planner", "rennes"),
        "other_territory": make_user("coordinator", "paris", email="coord-paris@example.org"),
    }
    clients = {"anonymous": app.test_client()}
    for name, user in users.items():
        clients[name] = app.test_client()
        assert login(clients[name], user.email).status_code == 302
    token = runner.invoke(args=["users", "token", "create", users["planner"].email, "--name", "t"])
    clients["planner_token"] = app.test_client()
    clients["planner_token"].environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token.output.strip()}"
    from app.extensions import db
    from app.models import ApiToken

    with app.app_context():
        token_id = db.session.scalar(db.select(ApiToken.id))
    ids = {"police_id": users["police"].id, "planner_id": users["planner"].id, "token_id": token_id}
    return clients, ids


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_principal_as_expected(visitors, route):
    clients, ids = visitors
    method, _rule = route
    url_template, expected = MATRIX[route]
    assert set(expected) == set(PRINCIPALS)
    url = url_template.format(**ids)
    got = {}
    for principal in PRINCIPALS:
        client = clients[principal]
        if method == "GET":
            got[principal] = client.get(url).status_code
        else:
            # An incomplete form: a write that is allowed still fails validation.
            data = {"email": ""}
            if principal != "planner_token":
                data["csrf_token"] = csrf_token(client)
            got[principal] = client.post(url, data=data).status_code
    assert got == expected
