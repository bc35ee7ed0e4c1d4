"""HTTP hardening: CSP with nonces, security headers, body size, generic errors."""

from __future__ import annotations

import re

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
    secure = client.get("/", base_url="https://ressenti.example.org").headers
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
