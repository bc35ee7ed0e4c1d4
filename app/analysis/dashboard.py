"""The territory dashboard for police, coordinators and planners: density, hexagons,
Gi* hot spots, the net layer and (for those who may) raw points, with filters.

The page carries the map without data (:mod:`app.analysis.dashboard_map`); its script
(static/js/dashboard.js) fetches the layers from the layers API with the page's filters
and redraws them when a filter changes, without reloading.
"""

from __future__ import annotations

import base64
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import login_required

from app import access, vocabulary
from app.analysis import map_image
from app.analysis.dashboard_map import page_data, page_spec, raw_points
from app.analysis.filters import parse_filters, parse_sets
from app.analysis.trends import PATTERN_LABELS
from app.errors import ValidationError
from app.extensions import db
from app.models import TIMES_OF_DAY, Category, Workshop
from geo.trends import PATTERNS

bp = Blueprint("dashboard", __name__, url_prefix="/t/<slug>/tableau-de-bord")


@bp.get("/")
@login_required
def show(slug: str):
    """The dashboard; its script fetches the layers. Filters come from the query string
    (a 422 page names bad ones, so the plain form works without the script)."""
    territory = access.territory_for(slug, *access.READERS)
    try:
        _filters(territory)
    except ValidationError as exc:
        return _page(territory, None, exc.fields), 422
    return _page(territory, page_spec(territory), {})


@bp.get("/points.json")
@login_required
def points(slug: str):
    """The raw points of the page's filters (audited; comments for who may read them);
    bad filters: a JSON error naming them, as the layers API answers."""
    territory = access.territory_for(slug, *access.READERS)
    try:
        filters, _compare = _filters(territory)
    except ValidationError as exc:
        body = {"error": "validation", "message": exc.message, "fields": exc.fields}
        return jsonify(body), exc.status
    return jsonify(raw_points(territory, filters))


def _filters(territory):
    """The page's filters (staff: full counts, DESIGN §6) and its comparison sets."""
    args = {k: v for k, v in request.args.items() if v}
    args["full"] = "1"
    sets = {k: args.pop(k) for k in ("a", "b") if k in args}
    return parse_filters(territory, args), (parse_sets(territory, sets) if sets else None)


def _page(territory, map_spec, errors):
    categories = db.session.scalars(sa.select(Category).order_by(Category.position)).all()
    workshops = db.session.scalars(
        sa.select(Workshop)
        .where(Workshop.territory_id == territory.id)
        .order_by(Workshop.held_on.desc())
    ).all()
    return render_template(
        "dashboard/show.html",
        territory=territory,
        map_spec=map_spec,
        dashboard=page_data(territory) if map_spec else None,
        errors=errors,
        args=request.args,
        file_args={k: v for k, v in request.args.items() if v and k not in ("a", "b")},
        categories=categories,
        workshops=workshops,
        times=TIMES_OF_DAY,
        time_labels=vocabulary.TIME_LABELS,
        label=vocabulary.stored_label,
        hex_steps=vocabulary.HEX_STEPS,
        hotspot_colours=vocabulary.HOTSPOT_COLOURS,
        trend_patterns=[(p, PATTERN_LABELS[p], vocabulary.TREND_COLOURS[p]) for p in PATTERNS],
    )


# -- the map as a file -----------------------------------------------------------------------


def _image_request(slug: str):
    """The territory, its filters (staff: full counts), the layers to draw and the bbox,
    from the query string; 422 naming a bad one."""
    territory = access.territory_for(slug, *access.READERS)
    skip = ("layers", "bbox", "a", "b")
    args = {k: v for k, v in request.args.items() if v and k not in skip}
    args["full"] = "1"
    filters = parse_filters(territory, args)
    shown = [
        n for n in request.args.get("layers", ",".join(map_image.DEFAULT_SHOWN)).split(",") if n
    ]
    unknown = [n for n in shown if n not in map_image.DRAWABLE]
    if unknown:
        raise ValidationError(
            {"layers": _("Couches possibles : %(names)s.", names=", ".join(map_image.DRAWABLE))}
        )
    return territory, filters, shown, _bbox(request.args.get("bbox"))


def _bbox(raw: str | None):
    if not raw:
        return None
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        west = south = east = north = float("nan")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationError(
            {"bbox": _("Quatre nombres attendus : ouest,sud,est,nord en degrés (CRS84).")}
        )
    return west, south, east, north


@bp.get("/carte.png")
@login_required
def image_png(slug: str):
    """The map as shown (layers, bounds, filters) as a PNG for a slide, drawn here."""
    territory, filters, shown, bbox = _image_request(slug)
    png = map_image.dashboard_png(territory, filters, shown, bbox)
    name = f"ressenti-{territory.slug}.png"
    return Response(png, mimetype="image/png", headers=_attachment(name))


@bp.get("/carte.pdf")
@login_required
def image_pdf(slug: str):
    """The same map on an A4 landscape page (WeasyPrint; nothing fetched from any host)."""
    from weasyprint import HTML  # WeasyPrint: heavy, loaded late
    from weasyprint.urls import URLFetcher  # WeasyPrint: heavy, loaded late

    territory, filters, shown, bbox = _image_request(slug)
    png, legend = map_image.map_png(territory, filters, shown, bbox)
    html = render_template(
        "dashboard/print.html",
        lang=str(get_locale()),
        title=map_image.title(territory),
        filters=map_image.describe_filters(territory, filters),
        made=format_datetime(datetime.now(), "d MMMM y, HH:mm"),
        map_png=base64.b64encode(png).decode("ascii"),
        legend=legend,
        attribution=map_image.attribution(territory),
    )
    no_network = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, base_url=request.url_root, url_fetcher=no_network).write_pdf()
    name = f"ressenti-{territory.slug}.pdf"
    return Response(pdf, mimetype="application/pdf", headers=_attachment(name))


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f"attachment; filename={name}"}
