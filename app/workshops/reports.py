"""The workshop synthesis: one printable document (HTML, and PDF by WeasyPrint) with
the map, the counts by category × feeling × time of day, the tables' diagnostics,
their proposals and the actions that came of them. In French.

For the territory's staff: counts are not suppressed (a working document of the
CLSPD, marked as such).
"""

from __future__ import annotations

import base64

import shapely
import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_babel import force_locale
from flask_login import login_required
from geoalchemy2.shape import to_shape

from app import access, audit, vocabulary
from app.analysis import layers
from app.analysis.filters import parse_filters
from app.extensions import db
from app.models import (
    TIMES_OF_DAY,
    Action,
    Category,
    Pin,
    Proposal,
    Street,
    action_proposal,
    action_workshop,
)
from app.workshops.views import _workshop

bp = Blueprint("reports", __name__, url_prefix="/t/<slug>/ateliers/<int:workshop_id>")

MAP_WIDTH = 1400


def _context(slug: str, workshop_id: int) -> dict:
    territory, workshop = _workshop(slug, workshop_id, access.READERS)
    rows = db.session.execute(
        sa.select(Category.label_fr, Pin.feeling, Pin.time_of_day, sa.func.count())
        .join(Category, Category.id == Pin.category_id)
        .where(Pin.workshop_id == workshop.id)
        .group_by(Category.label_fr, Category.position, Pin.feeling, Pin.time_of_day)
        .order_by(Pin.feeling.desc(), Category.position)
    ).all()
    table: dict[tuple[str, str], dict[str, int]] = {}
    for label, feeling, time_of_day, count in rows:
        table.setdefault((feeling, label), {})[time_of_day] = count
    proposals = db.session.scalars(
        sa.select(Proposal).where(Proposal.workshop_id == workshop.id).order_by(Proposal.id)
    ).all()
    actions = db.session.scalars(
        sa.select(Action)
        .where(
            sa.or_(
                Action.id.in_(
                    sa.select(action_workshop.c.action_id).where(
                        action_workshop.c.workshop_id == workshop.id
                    )
                ),
                Action.id.in_(
                    sa.select(action_proposal.c.action_id).where(
                        action_proposal.c.proposal_id.in_([p.id for p in proposals])
                    )
                ),
            )
        )
        .order_by(Action.id)
    ).all()
    return {
        "territory": territory,
        "workshop": workshop,
        "table": table,
        "times": TIMES_OF_DAY,
        "time_labels": vocabulary.TIME_LABELS,
        "totals": {
            feeling: sum(sum(c.values()) for (f, _label), c in table.items() if f == feeling)
            for feeling in ("unsafe", "safe")
        },
        "proposals": proposals,
        "actions": actions,
        "status_labels": vocabulary.ACTION_STATUS_LABELS,
        "partner_names": vocabulary.partner_names,
        "map_png": base64.b64encode(png).decode("ascii")
        if (png := map_image(territory, workshop))
        else None,
    }


def map_image(territory, workshop) -> bytes | None:
    """The workshop's quartiers, streets and pins per hexagon (unsafe red, safe green)."""
    from geo.render import Style, render_png  # Pillow: heavy, loaded late

    quartiers = [to_shape(q.geom) for q in workshop.quartiers] or [
        to_shape(q.geom) for q in territory.quartiers
    ]
    if not quartiers:
        return None  # nothing to frame the map with
    area = shapely.union_all(quartiers)
    streets = [
        to_shape(geom)
        for geom in db.session.scalars(
            sa.select(Street.geom).where(
                Street.territory_id == territory.id,
                sa.func.ST_Intersects(Street.geom, sa.func.ST_GeomFromText(area.wkt, 4326)),
            )
        )
    ]
    filters = parse_filters(territory, {"workshop": str(workshop.id)})
    filters.full = True
    cells = layers.hexagon_layer(territory, filters).features
    shapes = [shapely.geometry.shape(c["geometry"]) for c in cells]
    styles = []
    for cell in cells:
        props = cell["properties"]
        share = props["unsafe"] / props["total"]
        alpha = int(90 + 140 * min(1.0, props["total"] / 8))
        colour = vocabulary.rgb(vocabulary.FEELING_COLOURS["unsafe" if share >= 0.5 else "safe"])
        styles.append(Style(outline=(*colour, 255), fill=(*colour, alpha), width=1))
    return render_png(
        [
            (streets, Style(outline=(170, 170, 170, 255), width=1)),
            (shapes, styles),
            (quartiers, Style(outline=(31, 78, 121, 255), fill=(74, 144, 194, 20), width=3)),
        ],
        area.bounds,
        width=MAP_WIDTH,
    )


@bp.get("/synthese")
@login_required
def synthesis(slug: str, workshop_id: int):
    """The workshop synthesis, printable (the browser's print makes a PDF too)."""
    with force_locale("fr"):
        return render_template("reports/synthesis.html", pdf=False, **_context(slug, workshop_id))


@bp.get("/synthese.pdf")
@login_required
def synthesis_pdf(slug: str, workshop_id: int):
    """The workshop synthesis as a PDF file (WeasyPrint)."""
    from weasyprint import HTML  # WeasyPrint: heavy, loaded late
    from weasyprint.urls import URLFetcher  # WeasyPrint: heavy, loaded late

    with force_locale("fr"):
        context = _context(slug, workshop_id)
        html = render_template("reports/synthesis.html", pdf=True, **context)
    # Self-contained: the map is a data: URI; WeasyPrint fetches nothing from any host.
    no_network = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, base_url=request.url_root, url_fetcher=no_network).write_pdf()
    audit.record(
        "export", target=f"synthese.pdf:{workshop_id}", territory=context["territory"], format="pdf"
    )
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=synthese-atelier-{workshop_id}.pdf"},
    )
