"""The pins as rows for the files and the OGC items: one query with the labels, the
workshop, the quartier and (for who may read it) the approved comment; the same
properties written by Python or, for the streamed GeoJSON, by PostgreSQL."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from app.analysis.counts import pin_conditions
from app.models import Category, Pin, Quartier, Workshop

FIELDS = (
    "id",
    "feeling",
    "category",
    "category_label",
    "time_of_day",
    "workshop_id",
    "workshop",
    "quartier",
    "created_at",
    "comment",
)


def pin_query(territory, filters, *conditions, comments: bool, english: bool = False, extra=()):
    """Pins with their labels (in English with ``english``), workshop and quartier;
    approved comment text when ``comments`` (:func:`app.access.reads_comments`).
    ``extra``: more columns."""
    show_comments = comments
    comment = sa.case((Pin.comment_status == "approved", Pin.comment), else_=None)
    return (
        sa.select(
            Pin.id,
            Pin.feeling,
            Category.code.label("category"),
            (Category.label_en if english else Category.label_fr).label("category_label"),
            Pin.time_of_day,
            Pin.workshop_id,
            Workshop.title.label("workshop"),
            Quartier.name.label("quartier"),
            Pin.created_at,
            (comment if show_comments else sa.null()).label("comment"),
            sa.func.ST_X(Pin.geom).label("lon"),
            sa.func.ST_Y(Pin.geom).label("lat"),
            *extra,
        )
        .join(Category, Category.id == Pin.category_id)
        .join(Workshop, Workshop.id == Pin.workshop_id)
        .outerjoin(Quartier, Quartier.id == Pin.quartier_id)
        .where(*pin_conditions(territory, filters), *conditions)
        .order_by(Pin.created_at, Pin.id)
    )


def feature_text_query(territory, filters, comments: bool, english: bool = False):
    """Each pin as the text of its GeoJSON feature, written by PostgreSQL: the same
    properties as :func:`pin_properties`, 7-decimal coordinates."""
    geometry = sa.func.ST_AsGeoJSON(Pin.geom, 7).label("geometry")
    pins = pin_query(
        territory, filters, comments=comments, english=english, extra=(geometry,)
    ).subquery()
    utc = sa.func.to_char(
        sa.func.timezone("UTC", pins.c.created_at), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
    )
    properties = sa.func.json_build_object(
        *[
            item
            for name, column in (
                ("id", pins.c.id),
                ("feeling", pins.c.feeling),
                ("category", pins.c.category),
                ("category_label", pins.c.category_label),
                ("time_of_day", pins.c.time_of_day),
                ("workshop_id", pins.c.workshop_id),
                ("workshop", pins.c.workshop),
                ("quartier", pins.c.quartier),
                ("created_at", utc),
                ("comment", pins.c.comment),
            )
            for item in (sa.literal(name, sa.Text), column)
        ]
    )
    return sa.select(
        sa.func.concat(
            '{"type":"Feature","id":"',
            pins.c.id,
            '","geometry":',
            pins.c.geometry,
            ',"properties":',
            properties,
            "}",
        )
    ).order_by(pins.c.created_at, pins.c.id)


def pin_properties(row) -> dict:
    return {
        "id": str(row.id),
        "feeling": row.feeling,
        "category": row.category,
        "category_label": row.category_label,
        "time_of_day": row.time_of_day,
        "workshop_id": row.workshop_id,
        "workshop": row.workshop,
        "quartier": row.quartier,
        "created_at": row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
        "comment": row.comment,
    }
