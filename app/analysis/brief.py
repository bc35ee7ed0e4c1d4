"""The patrol brief (fiche de consignes) for police and CLSPD coordinators: for a territory
or one quartier and a period, the hot-spot zones where residents feel unsafe, by time of
day, each with its quartier, its streets, what is named there, a small map and the
approved comments. An HTML page and a PDF; every reading is audited (comments).

A zone is a group of touching Gi* hot cells (unsafe pins, exact counts, the surveyed
window of :func:`~app.analysis.layers.hotspot_layer`); "always" pins count at every time.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import shapely
import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from app import access, audit, vocabulary
from app.analysis import layers
from app.analysis.counts import pin_conditions
from app.analysis.filters import parse_filters
from app.errors import ValidationError
from app.extensions import db
from app.models import TIMES_OF_DAY, Category, Pin, Quartier, Street, Territory
from app.territories import places

bp = Blueprint("brief", __name__, url_prefix="/t/<slug>/consignes")

ZONES_PER_TIME = 3
COMMENTS_PER_ZONE = 5
BRIEF_ROLES = ("coordinator", "police")  # and admins: who reads comments, less planners
TIMES = tuple(t for t in TIMES_OF_DAY if t != "always")


def _request(slug: str):
    territory = access.territory_for(slug, *BRIEF_ROLES)
    args = {k: v for k, v in request.args.items() if v and k in ("from", "to", "workshop")}
    filters = parse_filters(territory, {**args, "full": "1", "feeling": "unsafe"})
    quartier = None
    if code := request.args.get("quartier"):
        quartier = db.session.scalar(
            sa.select(Quartier).where(Quartier.territory_id == territory.id, Quartier.code == code)
        )
        if quartier is None:
            raise ValidationError({"quartier": _("Quartier inconnu : %(code)s", code=code[:50])})
    return territory, filters, quartier


def zones(territory: Territory, filters, quartier: Quartier | None) -> dict[str, list[dict]]:
    """``{time of day: [zone, …]}``, the zones with the most unsafe pins first."""
    area = (
        shapely.from_wkb(bytes(db.session.scalar(sa.func.ST_AsBinary(quartier.geom))))
        if quartier
        else None
    )
    found = {}
    for time in TIMES:
        timed = replace(filters, time_of_day=[time, "always"])
        cells = [
            f for f in layers.hotspot_layer(territory, timed).features if f["properties"]["bin"] > 0
        ]
        parts = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in cells])
        shapes = list(getattr(parts, "geoms", [parts])) if cells else []
        if area is not None:
            shapes = [s for s in shapes if s.intersects(area)]
        described = [_zone(territory, timed, shape) for shape in shapes]
        described.sort(key=lambda z: -z["pins"])
        found[time] = described[:ZONES_PER_TIME]
    return found


def _zone(territory: Territory, filters, shape) -> dict:
    inside = [
        *pin_conditions(territory, filters),
        sa.func.ST_Intersects(Pin.geom, sa.func.ST_GeomFromText(shape.wkt, 4326)),
    ]
    tally = db.session.execute(
        sa.select(Category, sa.func.count())
        .join(Pin, Pin.category_id == Category.id)
        .where(*inside)
        .group_by(Category.id)
        .order_by(sa.func.count().desc(), Category.position)
    ).all()
    comments = db.session.scalars(
        sa.select(Pin.comment)
        .where(*inside, Pin.comment_status == "approved", Pin.comment.is_not(None))
        .order_by(Pin.created_at.desc())
        .limit(COMMENTS_PER_ZONE)
    ).all()
    streets = db.session.scalars(
        sa.select(Street.name)
        .where(
            Street.territory_id == territory.id,
            Street.name.is_not(None),
            sa.func.ST_Intersects(Street.geom, sa.func.ST_GeomFromText(shape.wkt, 4326)),
        )
        .group_by(Street.name)
        .order_by(sa.func.sum(sa.func.ST_Length(Street.geom)).desc())
        .limit(4)
    ).all()
    centre = shape.representative_point()
    place = places.place_names(territory, [(centre.x, centre.y)])[0]
    return {
        "quartier": place["quartier"],
        "streets": streets or ([place["street"]] if place["street"] else []),
        "pins": sum(n for _c, n in tally),
        "categories": [(vocabulary.stored_label(c), n) for c, n in tally[:3]],
        "comments": comments,
        "map": base64.b64encode(_small_map(territory, shape)).decode("ascii"),
    }


def _small_map(territory: Territory, shape) -> bytes:
    from geo.render import Style, render_png  # Pillow: heavy, loaded late

    west, south, east, north = shape.buffer(0.003).bounds
    box = sa.func.ST_MakeEnvelope(west, south, east, north, 4326)
    streets = [
        shapely.from_wkb(bytes(g))
        for g in db.session.scalars(
            sa.select(sa.func.ST_AsBinary(Street.geom)).where(
                Street.territory_id == territory.id, sa.func.ST_Intersects(Street.geom, box)
            )
        )
    ]
    red = vocabulary.rgb(vocabulary.HOTSPOT_COLOURS[3])
    return render_png(
        [
            (streets, Style(outline=(150, 150, 150, 255), width=2)),
            ([shape], Style(outline=(*red, 255), fill=(*red, 90), width=3)),
        ],
        (west, south, east, north),
        width=420,
    )


def _context(slug: str) -> dict:
    territory, filters, quartier = _request(slug)
    found = zones(territory, filters, quartier)
    audit.record(
        "brief.viewed",
        target=quartier.code if quartier else territory.slug,
        territory=territory,
        filters=dict(request.args),
    )
    db.session.commit()
    return {
        "territory": territory,
        "quartier": quartier,
        "filters": filters,
        "zones": found,
        "time_labels": vocabulary.TIME_LABELS,
        "quartiers": territory.quartiers,
        "args": request.args,
        "lang": str(get_locale()),
    }


@bp.get("/")
@login_required
def show(slug: str):
    """The brief as a page (printable)."""
    return render_template("dashboard/brief.html", pdf=False, **_context(slug))


@bp.get("/fiche.pdf")
@login_required
def pdf(slug: str):
    """The brief as a PDF (WeasyPrint; nothing fetched from any host)."""
    from weasyprint import HTML  # WeasyPrint: heavy, loaded late
    from weasyprint.urls import URLFetcher  # WeasyPrint: heavy, loaded late

    html = render_template("dashboard/brief.html", pdf=True, **_context(slug))
    no_network = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=html, base_url=request.url_root, url_fetcher=no_network).write_pdf()
    return Response(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=consignes-{slug}.pdf"},
    )
