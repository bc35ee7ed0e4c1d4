"""HTTP hardening: CSP with a per-request nonce, security headers, secure cookies."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, g, request
from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app import access
from app.errors import ValidationError
from app.extensions import csrf

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Raw points: exports, the live screen's feed, and a table's pins and its pages.
_RAW_PATHS = re.compile(
    r"^/api/v1/territories/[^/]+/pins\.|/direct\.json$|^/api/v1/groups/|^/j(/|$)"
)
_OGC_COLLECTION = re.compile(r"^/ogc/collections/([^/]+)")
# Deeper JSON than this is refused: no request of ours nests beyond a few levels.
MAX_JSON_DEPTH = 64
PG_INT_MAX = 2**31 - 1
_CSRF_EXEMPT: set[str] = set()


def csrf_exempt(blueprint) -> None:
    """No CSRF check for a blueprint whose requests no cookie authenticates."""
    _CSRF_EXEMPT.add(blueprint.name)


class SessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(tile_url: str | None) -> str:
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url)
        tiles = f" {parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{csp_nonce()}'",
            # Leaflet positions tiles and markers with inline style attributes.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{tiles}",
            "connect-src 'self'",
            "font-src 'self'",
            "worker-src 'self'",  # the resident pages' worker (app/workshops/offline.py)
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    # CSRF is checked here rather than by default so that requests that authenticate
    # with a bearer token, which a browser never adds on its own, are not asked for one.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    app.json = StrictJSONProvider(app)
    app.request_class = Request
    app.url_map.converters["int"] = PostgresIntConverter

    @app.before_request
    def refuse_bad_text():
        # A control character in a path segment names nothing we store: 404 up front,
        # before a view sends it to PostgreSQL (which cannot hold U+0000).
        if _CONTROL.search(request.path):
            abort(404)
        fields = [n for n, v in request.values.items(multi=True) if "\x00" in n + v]
        if fields:
            raise ValidationError(
                dict.fromkeys(fields, _("Caractère nul (U+0000) interdit.")),
                _("Caractère nul interdit."),
                status=400,
            )
        _refuse_long_stream()
        if request.is_json and request.content_length:
            try:
                request.get_json()  # JSONRefused becomes a ValidationError naming the field
            except BadRequest:
                pass  # plain syntax errors: each view answers them in its own words

    @app.before_request
    def check_csrf():
        if request.blueprint in _CSRF_EXEMPT:
            return
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            current_user._get_current_object()  # runs the loaders now
            if g.get("bad_token"):
                abort(401, description="invalid, expired or revoked token")
            if g.get("token_user"):
                return  # a bearer token, which no browser sends on its own, authenticated it
        csrf.protect()

    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.add_template_global(csp_nonce)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy", content_security_policy(app.config.get("TILE_URL"))
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if _private(response):
            headers["Cache-Control"] = "no-store"
        if _READABLE_ACROSS_SITES.match(request.path) and request.method in (
            "GET",
            "HEAD",
            "OPTIONS",
        ):
            cross_origin(headers)
        return response

    @app.before_request
    def answer_preflight():
        """A browser asks before a cross-site read that sends ``Authorization``."""
        if request.method == "OPTIONS" and _READABLE_ACROSS_SITES.match(request.path):
            return app.response_class(status=204)
        return None


# Reads other sites' pages and web GIS clients may make (CORS): the OGC API, the layers
# and the layer exports. Never with cookies (no Allow-Credentials), so a visitor's session
# cannot be used from another site; a staff token is sent on purpose (Authorization).
_READABLE_ACROSS_SITES = re.compile(
    r"^/(ogc(/|$)|api/v1/territories/[^/]+/(layers/|(hexagons|hotspots|quartiers|actions)\.))"
)


def cross_origin(headers) -> None:
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    headers["Access-Control-Allow-Headers"] = "Authorization, Accept, Accept-Language"
    headers["Access-Control-Expose-Headers"] = (
        "Content-Crs, Link, X-Cache, X-Bounds, X-Ressenti-Metadata"
    )
    headers["Access-Control-Max-Age"] = "3600"


def _private(response) -> bool:
    """Whether no cache (browser, proxy) may keep this response: anything served to a
    signed-in user, raw pins and their exports, staff OGC collections, the live feed."""
    if request.path.startswith("/static/"):
        return False  # the same files for everyone
    user = g.get("_login_user")  # set once the view or its template looked at the user
    if user is not None and user.is_authenticated:
        return True
    if _RAW_PATHS.search(request.path):
        return True
    match = _OGC_COLLECTION.match(request.path)
    return bool(match) and match.group(1).endswith(_staff_suffixes())


def _staff_suffixes() -> tuple[str, ...]:
    return tuple("-" + name for name in access.STAFF_COLLECTIONS)


class JSONRefused(ValueError):
    """A JSON body that parses but that we refuse; ``fields`` names where and why."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class StrictJSONProvider(DefaultJSONProvider):
    """Refuse, naming the field, JSON nested deeper than :data:`MAX_JSON_DEPTH`, text with
    U+0000 (PostgreSQL cannot store it) and lone surrogates (not encodable as UTF-8)."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise JSONRefused({"body": _("JSON trop imbriqué.")}) from None
        problems = json_problems(value)
        if problems:
            raise JSONRefused(problems)
        return value


class Request(FlaskRequest):
    def on_json_loading_failed(self, e):
        if isinstance(e, JSONRefused):
            raise ValidationError(e.fields, _("Corps JSON refusé."), status=400)
        return super().on_json_loading_failed(e)


def _refuse_long_stream() -> None:
    """413 for a chunked body over MAX_CONTENT_LENGTH. With no Content-Length, Werkzeug
    hands over the first MAX_CONTENT_LENGTH bytes as if they were the body (a JSON cut in
    the middle: a misleading 400); one more byte read past the limit raises 413."""
    limit = request.max_content_length
    if request.content_length is not None or not limit or request.method in ("GET", "HEAD"):
        return
    if len(request.get_data(cache=True)) >= limit:
        request.stream.read(1)


class PostgresIntConverter(IntegerConverter):
    """``<int:…>`` bounded to a PostgreSQL ``integer``: a larger id matches no route (404)
    instead of overflowing in the query."""

    def __init__(self, map, fixed_digits=0, min=None, max=PG_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return _("Caractère nul (U+0000) interdit.")
    if _SURROGATE.search(text):
        return _("Caractère Unicode invalide (demi-paire de substitution).")
    return None


def json_problems(value) -> dict[str, str]:
    """What is wrong in a parsed JSON value, by field (``a.b``, ``a[0]``); iterative, so a
    deep document cannot exhaust the stack."""
    problems: dict[str, str] = {}
    stack = [(value, "", 0)]
    while stack:
        item, name, depth = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                problems[name or "body"] = problem
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:  # named by its top-level field: the full path is huge
            problems[re.split(r"[.\[]", name)[0] or "body"] = _("JSON trop imbriqué.")
            continue
        if isinstance(item, list):
            stack += [(v, f"{name}[{i}]", depth + 1) for i, v in enumerate(item)]
            continue
        for key, v in item.items():
            path = f"{name}.{key}" if name else key
            problem = _text_problem(key)
            if problem:
                problems[_printable(path)] = problem
            else:
                stack.append((v, path, depth + 1))
    return problems


def _printable(name: str) -> str:
    """A field name that is safe to send back (and to encode as UTF-8)."""
    return _SURROGATE.sub("\ufffd", name.replace("\x00", ""))
