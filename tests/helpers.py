"""Helpers shared by the test suites: constants, request bodies, signing in.

Plain functions and values, no fixture and no Flask import, so that ``tests/geo`` and
the root conftest stay free of Flask. The app fixtures live in ``tests/app/conftest.py``.
"""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUARTIERS_DATA = PROJECT_ROOT / "data" / "quartiers"
PASSWORD = "correct horse battery staple"

# Inside Le Blosne (Q.11), and a second point inside it too.
BLOSNE = (-1.6625, 48.0865)
BLOSNE_2 = (-1.6570, 48.0850)


def app_config(url: str, **extra) -> dict:
    """The configuration of every test app, on database ``url``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "TILE_URL": "",
        **extra,
    }


def pin_body(**changes) -> dict:
    """A valid pin for the pin API, in Le Blosne; ``changes`` override its fields."""
    body = {
        "id": str(uuid.uuid4()),
        "feeling": "unsafe",
        "category": "lighting",
        "time_of_day": "night",
        "comment": None,
        "lon": BLOSNE[0],
        "lat": BLOSNE[1],
    }
    body.update(changes)
    return body


def csrf_token(client, path: str = "/connexion") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    """Sign in through the login form; returns the response of the POST."""
    return client.post(
        "/connexion",
        data={"email": email, "password": password, "csrf_token": csrf_token(client)},
    )


def page_text(page: str) -> str:
    """The text a reader sees on an HTML page: no tags, no scripts, entities decoded,
    every run of whitespace (non-breaking spaces included) one space."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


@contextlib.contextmanager
def statements_on(engine):
    """The SQL statements sent through ``engine`` while the block runs (whitespace
    runs made one space)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
