"""The resident's phone offline: the service worker (static/js/sw.js, served at /sw.js
with its settings prepended) and the web app manifest.

The worker controls the resident pages only (scope ``/j``). It stores nothing but the
paths of :data:`RESIDENT_PATHS` (GET, 200, marked ``Ressenti-Offline: store`` here, so
never a page served to a signed-in user) and the static files; writes always go to the
network. Its caches are named after :func:`build_version`, a hash of the static files
computed when the app starts: a deploy that changes any of them changes the worker's
script, so browsers install the new worker, which deletes the old caches.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.workshops import groups

bp = Blueprint("offline", __name__)

SCOPE = "/j"
THEME_COLOUR = "#1f4e79"
# What the worker may keep (network first): the code page, a table's page and its streets.
# Not the table's pin list: the phone's own storage (static/js/pinstore.js) holds the
# pins as last seen plus its queue, and reads the list only to learn what changed on the
# server; a stored copy would be older than that and would hide pins sent since (a
# failed fetch makes the store keep what it has). One home for these patterns: the
# worker gets them from here.
RESIDENT_PATHS = {
    "page": r"^/j/?$|^/j/[^/]+$",
    # A questionnaire's page (app/survey/public.py; the worker's scope there is /s/):
    # its answers live in the phone's storage, like pins.
    "survey": r"^/s/[^/]+$",
    "api": r"^/api/v1/groups/[^/]+/streets\.geojson$",
}
_RESIDENT = re.compile("|".join(f"(?:{p})" for p in RESIDENT_PATHS.values()))
# The resident page's static files, fetched when the worker installs; the ES modules
# these import are added by following their `import … from "./x.js"` lines.
PRECACHE = (
    "css/app.css",
    "css/pinning.css",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "img/favicon.svg",
    "img/icon-192.png",
    "js/register-sw.js",
    "js/pinning.js",
    "css/survey.css",
    "js/survey.js",
)
_IMPORT = re.compile(r"""(?:import|export)\s[^;]*?from\s*["']\./([\w./-]+\.js)["']""")
# Static files the hash leaves out: not served to residents, or too big to matter.
_NOT_HASHED = (".installed", "LICENSE")


@bp.record_once
def _on_register(state) -> None:
    app = state.app
    if not app.config.get("BUILD_VERSION"):
        app.config["BUILD_VERSION"] = build_version(Path(app.static_folder))
    app.config["OFFLINE_PRECACHE"] = precache_files(Path(app.static_folder))
    app.after_request(_mark_storable)
    app.after_request(_preload_modules)


def build_version(static_dir: Path) -> str:
    """A short hash of every static file's path and content (the worker included)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        if path.name in _NOT_HASHED:
            continue
        digest.update(path.relative_to(static_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def precache_files(static_dir: Path) -> list[str]:
    """:data:`PRECACHE` plus the modules the listed modules import, transitively."""
    files: list[str] = []
    todo = list(PRECACHE)
    while todo:
        name = todo.pop(0)
        if name in files or not (static_dir / name).is_file():
            continue
        files.append(name)
        if name.endswith(".js"):
            folder = Path(name).parent
            source = (static_dir / name).read_text(encoding="utf-8")
            todo += [(folder / m).as_posix() for m in _IMPORT.findall(source)]
    return files


def _mark_storable(response):
    """Tell the worker which responses it may keep: resident paths, GET, 200, nobody
    signed in (a staff member looking at a table's page gets their own header)."""
    if (
        request.method == "GET"
        and response.status_code == 200
        and _RESIDENT.search(request.path)
        and not current_user.is_authenticated
    ):
        response.headers["Ressenti-Offline"] = "store"
    return response


_TABLE_PAGE = re.compile(r"^/j/[^/]+$")


def _preload_modules(response):
    """Name the table page's ES modules up front (``Link: rel=modulepreload``): the
    browser fetches them with the page instead of one import level per round trip, a
    second or more on a slow phone network (bench/resident.py)."""
    if (
        request.method == "GET"
        and response.mimetype == "text/html"
        and _TABLE_PAGE.match(request.path)
    ):
        modules = [
            f
            for f in current_app.config["OFFLINE_PRECACHE"]
            if f.startswith("js/") and f != "js/register-sw.js"
        ]
        links = [f"<{url_for('static', filename=f)}>; rel=modulepreload" for f in modules]
        if links:
            response.headers.add("Link", ", ".join(links))
    return response


@bp.get("/sw.js")
def service_worker():
    app: Flask = current_app._get_current_object()
    settings = {
        "build": app.config["BUILD_VERSION"],
        "scope": SCOPE,
        "precache": [url_for("static", filename=f) for f in app.config["OFFLINE_PRECACHE"]],
        "paths": RESIDENT_PATHS,
        # What a table's page needs besides itself, {code} standing for its code.
        "companions": [url_for("pinning.group_streets", code="{code}")],
    }
    source = (Path(app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
    body = f"const CONFIG = {json.dumps(settings)};\n{source}"
    response = make_response(body)
    response.mimetype = "text/javascript"
    # Browsers check this script for a new version on every visit: never from a cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/j/<code>/manifest.webmanifest")
def manifest(code: str):
    """The web app manifest of one table: installed, the app opens on its page."""
    group = groups.group_by_code(code)
    data = {
        "name": f"Ressenti · {group.workshop.title}",
        "short_name": "Ressenti",
        "description": _("Placez vos ressentis sur la carte du quartier, même sans réseau."),
        "lang": "fr",
        "start_url": url_for("pinning.pin_page", code=group.join_code),
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {
                "src": url_for("static", filename=f"img/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in (192, 512)
        ]
        + [
            {
                "src": url_for("static", filename="img/favicon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            }
        ],
    }
    response = jsonify(data)
    response.mimetype = "application/manifest+json"
    return response
