"""Public pages: territories, their quartiers on a map, and the health check."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from shapely.geometry import shape

from app import access, openapi, replica, vocabulary
from app.analysis import layers, release
from app.analysis.filters import parse_filters
from app.errors import RETRY_AFTER
from app.extensions import db
from app.followup.maps import public_quartier_map
from app.models import Action, Category, Quartier, Territory
from app.territories import maps, places

bp = Blueprint("public", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness and database check: 200 when PostGIS answers, 503 otherwise; with a
    read replica, its state and replay lag (its absence only sends reads to the
    primary, so it does not make this 503)."""
    try:
        db.session.execute(sa.text("SELECT postgis_lib_version()"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unavailable"), 503, {"Retry-After": RETRY_AFTER}
    found = replica.status()
    return jsonify(status="ok", database="ok", **({"replica": found} if found else {}))


@bp.get("/")
def home():
    rows = db.session.execute(
        sa.select(Territory, sa.func.count(Quartier.id))
        .outerjoin(Quartier)
        .group_by(Territory.id)
        .order_by(Territory.name)
    ).all()
    return render_template("public/home.html", territories=rows)


def _territory_or_404(slug: str) -> Territory:
    territory = places.get_territory(slug)
    if territory is None:
        abort(404, description=_("Territoire inconnu : %(slug)s", slug=slug))
    return territory


@bp.get("/t/<slug>")
def territory(slug: str):
    """A territory's quartiers on a map, with name and area. 404 for an unknown slug."""
    territory = _territory_or_404(slug)
    features = places.quartier_features(territory)

    spec = maps.base_spec(territory, features)

    staff = access.staff(territory)
    return render_template(
        "public/territory.html", territory=territory, features=features, map_spec=spec, staff=staff
    )


@bp.get("/t/<slug>/q/<code>")
def quartier(slug: str, code: str):
    """One quartier on a map. 404 for an unknown territory or code."""
    territory = _territory_or_404(slug)
    features = places.quartier_features(territory, code)
    if not features:
        abort(404, description=_("Quartier inconnu : %(code)s", code=code))
    feature = features[0]
    said = what_was_said(territory, feature)
    actions = public_actions(territory, code)

    spec = public_quartier_map(territory, feature, said["hexagons"], actions)
    return render_template(
        "public/quartier.html",
        territory=territory,
        quartier=feature["properties"],
        map_spec=spec,
        said=said,
        actions=actions,
        time_labels=vocabulary.TIME_LABELS,
    )


def what_was_said(territory: Territory, feature: dict) -> dict:
    """ "Vous nous avez dit…": the quartier's counts from the public release (DESIGN §6):
    hexagons of the public layer, totals and top concerns by category and by time of
    day, each stated only from k. No point, no comment."""
    k = access.suppression_k()
    code = feature["properties"]["code"]
    quartier = db.session.scalar(
        sa.select(Quartier).where(Quartier.territory_id == territory.id, Quartier.code == code)
    )
    outline = shape(feature["geometry"])
    public = layers.hexagon_layer(territory, parse_filters(territory, {})).features
    hexagons = [f for f in public if shape(f["geometry"]).intersects(outline)]
    summary = release.quartier_summary(territory, quartier.id)
    labels = {c.id: vocabulary.stored_label(c) for c in db.session.scalars(sa.select(Category))}

    def ranked(feeling: int) -> list[tuple[str, int]]:
        named = [
            (labels.get(c, "?"), counts[feeling])
            for c, counts in summary["categories"].items()
            if counts[feeling] is not None
        ]
        return sorted(named, key=lambda item: -item[1])[:5]

    made = release.latest(territory)
    return {
        "k": k,
        "hexagons": hexagons,
        "unsafe": summary["feelings"]["unsafe"],
        "safe": summary["feelings"]["safe"],
        # A list only under a total the public may read: noise alone must not speak.
        "concerns": ranked(0) if summary["feelings"]["unsafe"] is not None else [],
        "strengths": ranked(1) if summary["feelings"]["safe"] is not None else [],
        "times": list(summary["times"].items())
        if summary["feelings"]["unsafe"] is not None
        else [],
        "release": made,
    }


def public_actions(territory: Territory, code: str):
    """ "Nous avons fait…": public actions whose zone touches the quartier."""
    return db.session.scalars(
        sa.select(Action)
        .join(
            Quartier,
            sa.and_(
                Quartier.territory_id == territory.id,
                Quartier.code == code,
                sa.func.ST_Intersects(Quartier.geom, Action.zone),
            ),
        )
        .where(Action.territory_id == territory.id, Action.public.is_(True))
        .order_by(Action.updated_at.desc())
    ).all()


def _feature_bounds(geometry: dict) -> list[list[float]]:
    west, south, east, north = shape(geometry).bounds
    return [[south, west], [north, east]]


@bp.get("/api/v1/territories/<slug>/streets.geojson")
@openapi.operation(tag="base map", responses=openapi.CACHED_GEOJSON)
def streets(slug: str):
    """Street centre-lines of a territory (an empty collection if none were imported)."""
    territory = _territory_or_404(slug)
    response = make_response(jsonify(places.streets_geojson(territory)))
    response.mimetype = "application/geo+json"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the reader's language choice in a cookie and go back."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = request.referrer if _same_origin(request.referrer) else url_for("public.home")
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _same_origin(url: str | None) -> bool:
    if not url:
        return False
    return urlsplit(url).netloc == request.host
