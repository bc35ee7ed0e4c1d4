"""When the database goes away (DESIGN §7): every request that needs it answers 503 with
``Retry-After`` — JSON for the API and OGC, a French (or English) page elsewhere, signed
in or not — unknown URLs stay 404, and nothing answers 500.

The outage is real: a second app on the same secret key, pointed at a port where no
PostgreSQL listens, so a session cookie made on the working app is presented to it."""

from __future__ import annotations

import pytest

from app import create_app
from tests.helpers import app_config, login, page_text, pin_body

# Nothing listens on the discard port; connecting fails at once.
NOWHERE = "postgresql+psycopg://ressenti@127.0.0.1:9/ressenti?connect_timeout=2"


@pytest.fixture
def outage():
    """An app whose database cannot be reached."""
    return create_app(app_config(NOWHERE)).test_client()


API = [
    ("get", "/api/v1/territories/rennes/layers/hexagons"),
    ("get", "/api/v1/groups/ABCD-2345/pins"),
    ("post", "/api/v1/groups/ABCD-2345/pins"),
    ("get", "/ogc/collections"),
    ("get", "/ogc/collections/rennes-hexagons/items"),
    ("get", "/healthz"),
]


@pytest.mark.parametrize(("method", "path"), API)
def test_api_answers_503_json_with_retry_after(outage, method, path):
    kwargs = {"json": pin_body()} if method == "post" else {}
    response = getattr(outage, method)(path, **kwargs)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.is_json


PAGES = ["/", "/j/ABCD2345", "/t/rennes"]  # the dashboard: signed in, below


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_503_in_french_then_english(outage, path):
    response = outage.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    text = page_text(response.get_data(as_text=True))
    assert "Service indisponible" in text and "réessayez dans quelques instants" in text
    english = page_text(outage.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "Service unavailable" in english


def test_unknown_urls_stay_404(outage):
    assert outage.get("/pas-une-page").status_code == 404
    assert outage.get("/api/v1/pas-une-ressource").status_code == 404


def test_a_signed_in_user_gets_the_page_not_a_bare_error(client, rennes, make_user, outage):
    """The page's header reads the signed-in user from the database: with the database
    away the page is still served (in the 'Internal Server Error' days it was not)."""
    user = make_user("coordinator", "rennes")
    assert login(client, user.email).status_code == 302
    cookie = client.get_cookie("session")
    outage.set_cookie("session", cookie.value)
    for path in ("/t/rennes/tableau-de-bord/", "/pas-une-page"):
        response = outage.get(path)
        assert response.status_code in (503, 404)
        assert "<h1>" in response.get_data(as_text=True)
        assert user.name not in response.get_data(as_text=True)  # nobody is named
