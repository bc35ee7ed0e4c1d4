"""``GET /api/v1/territories/<slug>/routes``: the recommended and shortest walking routes
between two places (and waypoints), as GeoJSON.

Answers 200 with the FeatureCollection of :func:`app.routes.planner.plan_route`; 422
naming the field for a missing or malformed point, a point outside the territory or off
the walking graph, an unknown time of day or filter; 404 for an unknown territory, a
territory without a walking graph, or places the graph does not join; 403 for ``full=1``
from someone not on the territory's staff; 429 when an anonymous client asks too often.
"""

from __future__ import annotations

import math

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import Forbidden

from app import access, openapi, ratelimit
from app.analysis.filters import LANGUAGE_PARAM, parse_workshops, territory_or_404
from app.errors import ValidationError
from app.extensions import db
from app.models import TIMES_OF_DAY
from app.routes.planner import plan_route

bp = Blueprint("routes_api", __name__, url_prefix="/api/v1/territories/<slug>/routes")

PARAMS = ("from", "to", "via", "time_of_day", "workshop", "full", "alpha", "beta")
MAX_WAYPOINTS = 8
MAX_WORKSHOPS = 20
WEIGHT_RANGES = {"alpha": (0.0, 10.0), "beta": (0.0, 0.9)}
ROUTE_PARAMS = (
    openapi.query("from", openapi.text(), "Start as lon,lat (WGS84 degrees).", required=True),
    openapi.query("to", openapi.text(), "End as lon,lat (WGS84 degrees).", required=True),
    openapi.query("via", openapi.text(), "Waypoints: lon,lat;lon,lat (up to 8)."),
    openapi.query(
        "time_of_day",
        openapi.text(enum=list(TIMES_OF_DAY)),
        "Walk at this time: the pins of that time and 'always' (all pins when absent).",
    ),
    openapi.query(
        "workshop", openapi.text(), "Workshop ids of the territory, comma-separated (up to 20)."
    ),
    openapi.query(
        "full", openapi.text(enum=["0", "1"]), "Exact pins (staff); else the public release."
    ),
    openapi.query("alpha", {"type": "number"}, "Weight of the unsafe density (0 to 10)."),
    openapi.query("beta", {"type": "number"}, "Weight of the safe density (0 to 0.9)."),
)


@bp.get("")
@openapi.operation(
    tag="routes",
    params=ROUTE_PARAMS,
    responses={200: {openapi.GEOJSON: openapi.ref("FeatureCollection")}},
    secured="optional",
)
def routes(slug: str):
    """The recommended and shortest routes (see the module docstring for the errors)."""
    territory = territory_or_404(slug)
    errors: dict[str, str] = {}
    for name in request.args:
        if name not in PARAMS and name != LANGUAGE_PARAM:
            errors[name] = _(
                "Paramètre inconnu ; paramètres possibles : %(names)s.", names=", ".join(PARAMS)
            )
    points = _points(errors)
    time_of_day = request.args.get("time_of_day") or None
    if time_of_day is not None and time_of_day not in TIMES_OF_DAY:
        errors["time_of_day"] = _(
            "Valeur inconnue : %(value)s ; valeurs possibles : %(values)s.",
            value=time_of_day[:50],
            values=", ".join(TIMES_OF_DAY),
        )
    workshops = parse_workshops(request.args, territory, errors)
    if len(set(workshops)) > MAX_WORKSHOPS:
        errors["workshop"] = _("Au plus %(count)d ateliers.", count=MAX_WORKSHOPS)
    weights = {name: _weight(name, errors) for name in WEIGHT_RANGES}
    if request.args.get("full", "0") not in ("0", "1", "true", "false"):
        errors["full"] = _("Valeur 0 ou 1 attendue.")
    if errors:
        raise ValidationError(errors, _("Itinéraire impossible à calculer."))
    full = request.args.get("full", "0") in ("1", "true")
    if full and not access.staff(territory):
        raise Forbidden(
            description=_("Les itinéraires sur les points exacts sont réservés aux équipes.")
        )
    if not full:
        ratelimit.enforce(((f"routes:{ratelimit.client_key()}", "ROUTE_RATE_PER_CLIENT"),))
    document = plan_route(territory, points, time_of_day, full=full, workshops=workshops, **weights)
    db.session.commit()  # the edge costs computed for this request, kept for the next
    response = jsonify(document)
    response.mimetype = openapi.GEOJSON
    return response


def _points(errors: dict) -> list[tuple[float, float]]:
    start = _point("from", request.args.get("from"), errors)
    end = _point("to", request.args.get("to"), errors)
    via = [v for v in (request.args.get("via") or "").split(";") if v.strip()]
    if len(via) > MAX_WAYPOINTS:
        errors["via"] = _("Au plus %(count)d étapes.", count=MAX_WAYPOINTS)
        via = []
    stops = [_point("via", v, errors) for v in via]
    return [start, *stops, end]


def _point(field: str, value: str | None, errors: dict):
    if not value:
        errors[field] = _("Point attendu : longitude,latitude.")
        return None
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        errors[field] = _("Point attendu : longitude,latitude (degrés WGS84).")
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        errors[field] = _("Longitude entre -180 et 180 et latitude entre -90 et 90 attendues.")
        return None
    return lon, lat


def _weight(name: str, errors: dict) -> float | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    low, high = WEIGHT_RANGES[name]
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        errors[name] = _("Nombre entre %(low)s et %(high)s attendu.", low=low, high=high)
        return None
    return value
