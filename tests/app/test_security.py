"""HTTP hardening: CSP with nonces, security headers, body size, generic errors."""

from __future__ import annotations

import json
import re

import pytest

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)


def test_csp_forbids_inline_scripts_except_nonced_ones(client, rennes):
    response = client.get("/t/rennes")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    nonce = re.search(r"'nonce-([^']+)'", script_src).group(1)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    tags = SCRIPT_TAG.findall(response.get_data(as_text=True))
    assert len(tags) >= 2
    for attributes in tags:
        if 'type="application/json"' in attributes:
            continue  # a data island: never executed
        assert "src=" in attributes or f'nonce="{nonce}"' in attributes, attributes
    # A fresh nonce on every response.
    assert nonce not in client.get("/t/rennes").headers["Content-Security-Policy"]


def test_csp_allows_the_configured_tile_host_only(app, client):
    app.config["TILE_URL"] = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    csp = client.get("/").headers["Content-Security-Policy"]
    img_src = next(d for d in csp.split("; ") if d.startswith("img-src"))
    assert img_src == "img-src 'self' data: blob: https://*.tiles.example.org"


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers
    secure = client.get("/", base_url="https://localhost").headers
    assert secure["Strict-Transport-Security"].startswith("max-age=")


def test_oversized_body_is_refused_with_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/connexion", data={"email": "x" * 4096, "password": "y"})
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.get_data(as_text=True)


def test_unexpected_error_shows_a_generic_page_without_trace(database_url_for_tests):
    from app import create_app
    from tests.conftest import _test_config

    app = create_app(_test_config(database_url_for_tests, PROPAGATE_EXCEPTIONS=False))

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Erreur du serveur" in page
    assert "hunter2" not in page and "Traceback" not in page and "RuntimeError" not in page


def test_nul_bytes_are_refused_naming_the_field_never_a_500(app, client, make_workshop):
    """PostgreSQL text cannot hold U+0000: found by the schemathesis run (category=%00)."""
    from tests.conftest import pin_body

    response = client.get("/api/v1/territories/rennes/layers/hexagons?category=a%00b")
    assert response.status_code == 400 and "category" in response.get_json()["fields"]
    code = make_workshop()["codes"][0]
    body = pin_body(comment="bonsoir\x00")
    response = client.post(f"/api/v1/groups/{code}/pins", json=body)
    assert response.status_code == 400 and list(response.get_json()["fields"]) == ["comment"]
    assert client.get(f"/api/v1/groups/{code}/pins").get_json()["pins"] == []
    page = client.get("/connexion?next=%00")
    assert page.status_code == 400 and "Caractère nul" in page.get_data(as_text=True)


def test_deep_json_and_lone_surrogates_are_refused_naming_the_field(client, make_workshop):
    from tests.conftest import pin_body

    code = make_workshop()["codes"][0]
    deep = "[" * 900 + "]" * 900
    response = client.post(
        f"/api/v1/groups/{code}/pins", data=deep, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == ["body"]
    body = json.dumps(pin_body(comment="x\ud800y"))
    assert "\\ud800" in body
    response = client.post(
        f"/api/v1/groups/{code}/pins", data=body, content_type="application/json"
    )
    assert response.status_code == 400 and list(response.get_json()["fields"]) == ["comment"]
    nested = {"proposals": [{"a": json.loads("[" * 70 + "]" * 70)}], "x": "\ud800"}
    response = client.put(
        f"/api/v1/groups/{code}/diagnostic",
        data=json.dumps(nested),
        content_type="application/json",
    )
    assert response.status_code == 400
    fields = sorted(response.get_json()["fields"])
    assert fields == ["proposals", "x"]
    assert client.get(f"/api/v1/groups/{code}/pins").get_json()["pins"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/j/%00",
        "/j/a%01b",
        "/api/v1/groups/%00/pins",
        "/api/v1/territories/%00/layers/hexagons",
        "/ogc/collections/%00/items",
        "/ogc/collections/rennes-hexagons/items/%00",
        "/t/rennes/ateliers/99999999999",
        "/t/rennes/suivi/actions/99999999999",
        "/admin/utilisateurs/2147483648",
    ],
)
def test_nul_control_characters_and_huge_ids_in_paths_are_404(client, rennes, make_user, path):
    from tests.conftest import login

    login(client, make_user("admin").email)
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith(("/api", "/ogc")):
        assert set(response.get_json()) == {"error", "message", "fields"}
    else:
        assert "Page introuvable" in response.get_data(as_text=True)


def test_int_routes_still_take_the_largest_postgres_integer(client, rennes, make_user):
    from tests.conftest import login

    login(client, make_user("admin").email)
    assert client.get(f"/t/rennes/ateliers/{2**31 - 1}").status_code == 404
    assert client.get("/admin/utilisateurs/1").status_code == 200


# -- every route × every class of bad input ---------------------------------------------------

BAD_PATH_VALUES = {
    "nul": "%00",
    "nul_inside": "a%00b",
    "control": "a%01%09%1bb",
    "int_2_31": str(2**31),
    "int_10_30": str(10**30),
    "surrogate_utf8": "%ED%A0%80",
}
DEEP = "[" * 900 + "]" * 900
BAD_BODIES = {
    "nul": '{"comment": "a\\u0000b", "title": "x"}',
    "surrogate": '{"comment": "\\ud800", "title": "\\udfff", "\\ud800": 1}',
    "deep": DEEP,
    "deep_in_object": '{"comment": ' + DEEP + "}",
    "big_int": '{"id": ' + "9" * 40 + ', "lon": 1e400, "workshop": 99999999999}',
}
BAD_QUERIES = {
    "nul": "next=%00&category=a%00b",
    "surrogate": "next=%ud800&comment=%ud800&category=%ED%A0%80",
    "control": "next=/%0d%0aSet-Cookie:%20x=1&feeling=%01&from=%1b",
    "big": f"workshop={10**30}&size={2**31}&limit={10**30}&offset={2**63}",
    "deep": "filter=" + "(" * 900,
}
_VARIABLE = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _fill(rule: str, values: dict[str, str], bad: tuple[str, str] | None = None) -> str:
    def one(match):
        name = match.group(2)
        if bad and name == bad[0]:
            return bad[1]
        return values[name]

    return _VARIABLE.sub(one, rule)


@pytest.fixture
def bad_input_setup(app, client, make_workshop, make_user, make_token):
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import ApiToken, Category, Theme
    from tests.app.test_authorization import survey_rows
    from tests.conftest import login, pin_body

    workshop = make_workshop()
    code = workshop["codes"][0]
    pin = pin_body(comment="bonjour")
    assert client.post(f"/api/v1/groups/{code}/pins", json=pin).status_code == 201
    admin = make_user("admin")
    other = make_user("coordinator", "rennes")  # whose password the admin pages reset
    make_token(other)
    survey = survey_rows(app)
    with app.app_context():
        values = {
            "survey_id": str(survey["questionnaire_id"]),
            "text_id": str(survey["text_id"]),
            "set_id": str(survey["set_id"]),
            "key": "feeling_day",
            "response_id": survey["response_id"],
            "slug": "rennes",
            "code": code,
            "workshop_id": str(workshop["id"]),
            "pin_id": pin["id"],
            "collection_id": "rennes-hexagons",
            "feature_id": "Q.11",
            "user_id": str(other.id),
            "token_id": str(db.session.scalar(sa.select(ApiToken.id))),
            "category_id": str(db.session.scalar(sa.select(Category.id))),
            "theme_id": str(db.session.scalar(sa.select(Theme.id))),
            "action_id": "1",
            "proposal_id": "1",
            "circuit_id": "1",
            "filename": "css/app.css",
            "layer": "hexagons",
            "fmt": "geojson",
            "tms": "WebMercatorQuad",  # a z14 tile over Le Blosne
            "z": "14",
            "y": "5693",
            "x": "8115",
        }

    def sign_in():  # afresh for each rule: the walk posts to /deconnexion too
        client = app.test_client()
        assert login(client, admin.email).status_code == 302
        return client

    return values, {"anonymous": app.test_client, "admin": sign_in}


def _send(client, method, url, query, body, csrf):
    headers = {"X-CSRFToken": csrf} if csrf else {}
    kwargs = {"query_string": query, "headers": headers}
    if body is not None:
        kwargs.update(data=body.encode(), content_type="application/json")
    return client.open(url, method=method, **kwargs)


def test_no_route_answers_5xx_to_bad_input(app, bad_input_setup):
    """Walk app.url_map: every rule and method, each variable filled with each bad class,
    bad JSON bodies and query values, anonymous and signed in as admin: never a 5xx."""
    from tests.conftest import csrf_token

    values, clients = bad_input_setup
    failures = []
    cases = 0
    for rule in app.url_map.iter_rules():
        names = [m.group(2) for m in _VARIABLE.finditer(rule.rule)]
        fixed = {m.group(2) for m in _VARIABLE.finditer(rule.rule) if m.group(1) == "any"}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            requests = [
                (_fill(rule.rule, values, (name, bad)), "", None)
                for name in names
                if name not in fixed
                for bad in BAD_PATH_VALUES.values()
            ]
            good = _fill(rule.rule, values)
            requests += [(good, query, None) for query in BAD_QUERIES.values()]
            if method in ("POST", "PUT", "PATCH"):
                requests += [(good, "", body) for body in BAD_BODIES.values()]
            for who, make_client in clients.items():
                client = make_client()
                csrf = csrf_token(client, "/") if who == "admin" else None
                for url, query, body in requests:
                    cases += 1
                    try:
                        status = _send(client, method, url, query, body, csrf).status_code
                    except Exception as exc:  # noqa: BLE001 - what the server would 500 on
                        status = f"{type(exc).__name__}: {str(exc)[:120]}"
                    if not isinstance(status, int) or status >= 500:
                        failures.append(
                            f"{who} {method} {url}?{query} {(body or '')[:40]} -> {status}"
                        )
    assert cases > 2000
    assert not failures, f"{len(failures)} of {cases}:\n" + "\n".join(failures[:80])


# -- hosts and caching -------------------------------------------------------------------------


def test_only_configured_hosts_are_answered(database_url_for_tests, client, rennes):
    from app import create_app
    from tests.conftest import _test_config

    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/ogc", headers={"Host": "evil.example"}).status_code == 400
    links = client.get("/ogc?f=json").get_json()["links"]
    assert all(link["href"].startswith("http://localhost/") for link in links)
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200

    behind_proxy = create_app(
        _test_config(database_url_for_tests, PROXY_FIX=True, TRUSTED_HOSTS="ressenti.example.org")
    ).test_client()
    forged = {"Host": "ressenti.example.org", "X-Forwarded-Host": "evil.example"}
    assert behind_proxy.get("/ogc?f=json", headers=forged).status_code == 400
    proxied = {"Host": "127.0.0.1", "X-Forwarded-Host": "ressenti.example.org"}
    links = behind_proxy.get("/ogc?f=json", headers=proxied).get_json()["links"]
    assert all(link["href"].startswith("http://ressenti.example.org/") for link in links)
    assert behind_proxy.get("/", headers={"Host": "localhost"}).status_code == 400


def test_staff_pages_raw_data_and_exports_are_never_stored(
    client, rennes, make_workshop, make_user, make_token
):
    from tests.conftest import login

    workshop = make_workshop()
    planner = make_token(make_user("planner", "rennes"))
    bearer = {"Authorization": f"Bearer {planner}"}

    def stored(path, **kwargs) -> bool:
        response = client.get(path, **kwargs)
        assert response.status_code < 500, path
        return "no-store" not in response.headers.get("Cache-Control", "")

    # Public pages and public collections may be cached.
    assert stored("/") and stored("/t/rennes") and stored("/static/css/app.css")
    assert stored("/ogc/collections/rennes-hexagons/items")
    # Raw data, staff collections and exports are not, whoever asks (refusals included).
    for path in (
        "/api/v1/territories/rennes/pins.csv",
        "/api/v1/territories/rennes/pins.geojson",
        "/ogc/collections/rennes-points/items",
        "/ogc/collections/rennes-hexagons-full/items",
    ):
        assert not stored(path, headers=bearer), path
        assert not stored(path), path
    assert not stored("/api/v1/me", headers=bearer)
    login(client, make_user("coordinator", "rennes").email)
    assert not stored("/")
    assert not stored(f"/t/rennes/ateliers/{workshop['id']}/direct.json")
    assert not stored("/t/rennes")
    assert stored("/static/css/app.css")


def test_public_reads_allow_other_sites_without_cookies(client, rennes):
    """CORS on the OGC API and the layers (web GIS clients), never with credentials; raw
    pins, pages and writes stay same-site."""
    origin = {"Origin": "https://sig.example.org"}
    for url in (
        "/ogc/collections",
        "/api/v1/territories/rennes/layers/hexagons",
        "/api/v1/territories/rennes/quartiers.geojson",
    ):
        response = client.get(url, headers=origin)
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Access-Control-Allow-Credentials" not in response.headers
    preflight = client.options(
        "/ogc/collections/rennes-points/items",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    for url in ("/api/v1/territories/rennes/pins.geojson", "/t/rennes/", "/connexion"):
        assert "Access-Control-Allow-Origin" not in client.get(url, headers=origin).headers
    write = client.post("/api/v1/groups/XXXXXXXXX/pins", json={}, headers=origin)
    assert "Access-Control-Allow-Origin" not in write.headers
