"""HTTP hardening: CSP with a per-request nonce, security headers, secure cookies."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import ValidationError

_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")
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


def with_nonce(html: str) -> Markup:
    """Give every ``<script>`` of trusted generated HTML (folium's) this request's nonce."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{csp_nonce()}"', html))


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
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    from app.extensions import csrf

    app.session_interface = SessionInterface()
    # CSRF is checked here rather than by default so that requests that authenticate
    # with a bearer token, which a browser never adds on its own, are not asked for one.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def refuse_nul_bytes():
        # PostgreSQL text cannot hold U+0000: refuse it up front, naming the field.
        fields = [n for n, v in request.values.items(multi=True) if "\x00" in n + v]
        if request.is_json:
            fields += _nul_fields(request.get_json(silent=True))
        if fields:
            raise ValidationError(
                dict.fromkeys(fields, _("Caractère nul (U+0000) interdit.")),
                _("Caractère nul interdit."),
                status=400,
            )

    @app.before_request
    def check_csrf():
        bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
        if not bearer and request.blueprint not in _CSRF_EXEMPT:
            csrf.protect()

    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    app.add_template_global(csp_nonce)
    app.add_template_filter(with_nonce, "nonced")

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
        return response


def _nul_fields(value, name: str = "") -> list[str]:
    """Names of the JSON fields whose key or text holds U+0000 (``a.b``, ``a[0]``)."""
    if isinstance(value, str):
        return [name or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            path = f"{name}.{key}" if name else key
            found += [path.replace("\x00", "")] if "\x00" in key else _nul_fields(item, path)
        return found
    if isinstance(value, list):
        return [n for i, item in enumerate(value) for n in _nul_fields(item, f"{name}[{i}]")]
    return []
