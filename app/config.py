"""Default settings; the environment (``RESSENTI_*`` and ``DATABASE_URL``) overrides them."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Defaults:
    """Settings every deployment starts from."""

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Where the embedded cluster lives when DATABASE_URL is not set.
    LOCALDB_DIR = str(PROJECT_ROOT / "var")
    LOCALDB_PORT = 54329
    # Base map tiles. Empty string: no tile layer (outlines and streets only).
    TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    TILE_ATTRIBUTION = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # False here; the cookie is still marked Secure on every HTTPS request (app.security).
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    # Behind a reverse proxy, trust its X-Forwarded-For/Proto/Host headers.
    PROXY_FIX = False
    # Host names the app answers to (a wrong Host or X-Forwarded-Host is a 400): links in
    # QR sheets and OGC documents are built from it. ".example.org" accepts subdomains.
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Failed logins allowed before waiting, and the first wait (doubled at each failure).
    LOGIN_BACKOFF_SECONDS = 1
    # Comment text of closed workshops is purged after this many months.
    COMMENT_RETENTION_MONTHS = 24
    # Public aggregated layers hide cells with fewer pins than this.
    SUPPRESSION_K = 3
    # Pin-level ε of each table of the public release (app/analysis/release.py): hexagon × feeling,
    # quartier × feeling × category, quartier × feeling × time of day; a pin's total is
    # their sum (2.0), shown on the privacy page.
    PUBLIC_RELEASE_EPSILON = {"cells": 1.0, "categories": 0.5, "times": 0.5}
    # Questionnaires' public release (app/survey/release.py): response-level ε of each
    # interim release (at most ``interim_max`` of them, ``interval_days`` apart, while the
    # questionnaire is open) and of the final one at its close. A response's total ε is
    # interim_epsilon × interim_max + final_epsilon (6.0), shown on the privacy page.
    SURVEY_RELEASE = {
        "interim_epsilon": 1.5,
        "interim_max": 2,
        "interval_days": 14,
        "final_epsilon": 3.0,
    }
    # Pin writes allowed per (count, seconds), per join code and per client; anonymous
    # aggregated exports per client. Counted in PostgreSQL by every worker (app.ratelimit).
    PIN_RATE_PER_CODE = (120, 60)
    PIN_RATE_PER_CLIENT = (600, 60)
    # Questionnaire answers (PUT, app/survey/responses.py) per (count, seconds), per
    # questionnaire code and per client: a school's or a library's shared address sends
    # many residents' answers, each changed a few times.
    SURVEY_RATE_PER_CODE = (600, 60)
    SURVEY_RATE_PER_CLIENT = (60, 60)
    # An answer sent sooner than this after its page was served is a bot's (the signed
    # page token says when); no maximum: answers written offline are sent days later.
    SURVEY_MIN_SECONDS = 3.0
    SURVEY_TEXT_MAX_LENGTH = 1000
    EXPORT_RATE_PER_CLIENT = (30, 60)
    # Codes typed on /j per (count, seconds) and client: a hall shares one address, and
    # 60 a minute is still hopeless against 31**9 codes.
    CODE_ENTRY_RATE_PER_CLIENT = (60, 60)
    # A tap this close (metres) outside the workshop's quartiers still counts as inside.
    PIN_BOUNDARY_TOLERANCE_M = 30.0
    COMMENT_MAX_LENGTH = 500
    # The dashboard draws hexagons and points from vector tiles (app/gis/tiles.py) once the
    # territory holds more pins than this: past it the raw points no longer fit in one
    # points.json (app/analysis/dashboard_map.RAW_POINT_LIMIT, the same 5000).
    DASHBOARD_TILES_FROM_PINS = 5000
    # Walking routes (app/routes, geo/routing): an edge costs length × (1 + α·unsafe −
    # β·safe), unsafe and safe the densities along it divided by the largest (1 on the
    # most-feared street). α = 2: one would walk up to three times a street's length to
    # avoid the most-feared one; β = 0.3: a street where people feel safest seems 30 %
    # shorter.
    ROUTE_ALPHA = 2.0
    ROUTE_BETA = 0.3
    ROUTE_BANDWIDTH_M = 150.0  # kernel radius of the densities along the streets
    ROUTE_SNAP_M = 250.0  # a place further than this from a walkable street: 422
    ROUTE_RATE_PER_CLIENT = (60, 60)  # anonymous route requests per (count, seconds)
    ROUTE_COST_SETS = 64  # stored edge-cost sets per territory (least recent dropped)
    JSON_SORT_KEYS = False


def database_url(environ: os._Environ | dict) -> str | None:
    """Return ``DATABASE_URL`` with the psycopg 3 driver, or None when unset."""
    url = environ.get("DATABASE_URL") or environ.get("RESSENTI_DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
