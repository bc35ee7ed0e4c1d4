"""The territory dashboard for police, coordinators and planners: density, hexagons,
Gi* hot spots, the net layer and (for those who may) raw points, with filters.

The map is described as data by :mod:`app.analysis.dashboard_map` from the same layer functions
as the API, and drawn in the page by static/js/layermap.js.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import login_required

from app import access, vocabulary
from app.analysis.dashboard_map import build_map
from app.analysis.filters import parse_filters, parse_sets
from app.errors import ValidationError
from app.extensions import db
from app.models import TIMES_OF_DAY, Category, Workshop

bp = Blueprint("dashboard", __name__, url_prefix="/t/<slug>/tableau-de-bord")


@bp.get("/")
@login_required
def show(slug: str):
    """The dashboard; filters come from the query string (a 422 page names bad ones)."""
    territory = access.territory_for(slug, *access.READERS)
    args = {k: v for k, v in request.args.items() if v}
    args["full"] = "1"  # staff see every count (DESIGN §6)
    sets = {k: args.pop(k) for k in ("a", "b") if k in args}
    try:
        filters = parse_filters(territory, args)
        compare = parse_sets(territory, sets) if sets else None
    except ValidationError as exc:
        return _page(territory, None, exc.fields), 422
    spec, summary = build_map(territory, filters, compare)
    return _page(territory, spec, {}, summary)


def _page(territory, map_spec, errors, summary=None):
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
        errors=errors,
        args=request.args,
        categories=categories,
        workshops=workshops,
        times=TIMES_OF_DAY,
        time_labels=vocabulary.TIME_LABELS,
        label=vocabulary.stored_label,
        hex_steps=vocabulary.HEX_STEPS,
        hotspot_colours=vocabulary.HOTSPOT_COLOURS,
        summary=summary,
    )
