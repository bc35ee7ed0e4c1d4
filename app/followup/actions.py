"""What is known about an action: open or overdue, the quartiers its zone touches, its
period, and what changed around it before and after (no Flask view here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date

import sqlalchemy as sa
from flask_babel import gettext as _
from geoalchemy2 import Geography
from geoalchemy2.shape import to_shape

from app import access, vocabulary
from app.errors import ValidationError
from app.extensions import db
from app.models import (
    ACTION_STATUSES,
    PARTNERS,
    Action,
    Pin,
    Quartier,
    Territory,
    Workshop,
)
from geo import export

OPEN_STATUSES = ("proposed", "engaged")


@dataclass
class BoardFilters:
    partner: str | None
    status: str | None
    quartier: str | None
    overdue: bool


# The board's filters, also taken by the actions' file exports (app/gis/exports.py).
BOARD_PARAMS = ("partner", "status", "quartier", "overdue")


def board_filters(territory: Territory, args) -> BoardFilters:
    """The board's filters from a query string; 422 naming each unknown value."""
    errors: dict[str, str] = {}
    partner = args.get("partner") or None
    status = args.get("status") or None
    quartier = args.get("quartier") or None
    if partner and partner not in PARTNERS:
        errors["partner"] = _("Partenaire inconnu.")
    if status and status not in ACTION_STATUSES:
        errors["status"] = _("Statut inconnu.")
    if quartier and not db.session.scalar(
        sa.select(Quartier.id).where(
            Quartier.territory_id == territory.id, Quartier.code == quartier
        )
    ):
        errors["quartier"] = _("Quartier inconnu.")
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    return BoardFilters(partner, status, quartier, args.get("overdue") == "1")


def action_query(territory: Territory, filters: BoardFilters | None = None):
    query = sa.select(Action).where(Action.territory_id == territory.id)
    if filters:
        if filters.partner:
            query = query.where(sa.literal(filters.partner) == sa.any_(Action.partners))
        if filters.status:
            query = query.where(Action.status == filters.status)
        if filters.quartier:
            query = query.where(
                sa.exists().where(
                    Quartier.territory_id == territory.id,
                    Quartier.code == filters.quartier,
                    sa.func.ST_Intersects(Quartier.geom, Action.zone),
                )
            )
        if filters.overdue:
            query = query.where(Action.status.in_(OPEN_STATUSES), Action.due_on < date.today())
    return query.order_by(Action.due_on.is_(None), Action.due_on, Action.id)


def is_overdue(action: Action) -> bool:
    return (
        action.status in OPEN_STATUSES
        and action.due_on is not None
        and (action.due_on < date.today())
    )


def action_quartiers(action: Action) -> list[str]:
    """Names of the quartiers the action's zone touches."""
    if action.zone is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Quartier.name)
            .where(
                Quartier.territory_id == action.territory_id,
                sa.func.ST_Intersects(Quartier.geom, zone_of(action)),
            )
            .order_by(Quartier.name)
        )
    )


def zone_of(action: Action):
    """The stored zone as SQL (a bound geometry value would need its type spelt out)."""
    return sa.select(Action.zone).where(Action.id == action.id).scalar_subquery()


def action_dates(action: Action) -> tuple[date, date]:
    """When the action started (engaged, else created) and ended (done, else started)."""
    started = next(
        (u.created_at.date() for u in action.updates if u.status_to == "engaged"),
        action.created_at.date(),
    )
    ended = next((u.created_at.date() for u in action.updates if u.status_to == "done"), started)
    return started, ended


def before_after(action: Action) -> dict | None:
    """Per workshop of the territory: pins inside the zone, unsafe and safe, their share
    of the workshop's pins and the density of unsafe pins (per km²), split into the
    workshops held before the action started and those held after it ended."""
    if action.zone is None:
        return None
    started, ended = action_dates(action)
    area_km2 = db.session.scalar(
        sa.select(sa.func.ST_Area(sa.cast(zone_of(action), _geography())) / 1e6)
    )
    inside = sa.func.ST_Intersects(Pin.geom, zone_of(action))
    rows = db.session.execute(
        sa.select(
            Workshop.id,
            Workshop.title,
            Workshop.edition,
            Workshop.held_on,
            sa.func.count(Pin.id).label("total"),
            sa.func.count(Pin.id).filter(inside, Pin.feeling == "unsafe").label("unsafe"),
            sa.func.count(Pin.id).filter(inside, Pin.feeling == "safe").label("safe"),
        )
        .join(Pin, Pin.workshop_id == Workshop.id)
        .where(Workshop.territory_id == action.territory_id)
        .group_by(Workshop.id)
        .order_by(Workshop.held_on)
    ).all()
    k = access.suppression_k()

    def describe(row) -> dict:
        return {
            "title": row.title,
            "edition": row.edition,
            "held_on": row.held_on,
            "unsafe": row.unsafe,
            "safe": row.safe,
            "total": row.total,
            "unsafe_share": row.unsafe / row.total if row.total else 0.0,
            "unsafe_per_km2": row.unsafe / area_km2 if area_km2 else None,
        }

    return {
        "started": started,
        "ended": ended,
        "area_km2": area_km2,
        "k": k,
        "before": [describe(r) for r in rows if r.held_on < started],
        "after": [describe(r) for r in rows if r.held_on > ended],
    }


def _geography():
    return Geography(srid=4326)


def action_features(territory, filters: BoardFilters | None = None) -> list[dict]:
    """The action plan (``filters``: the board's): public actions for everyone, every
    action for the staff."""
    query = action_query(territory, filters).order_by(None).order_by(Action.id)
    if not access.staff(territory):
        query = query.where(Action.public.is_(True))
    features = []
    for action in db.session.scalars(query):
        zone = to_shape(action.zone) if action.zone is not None else None
        features.append(
            {
                "type": "Feature",
                "id": action.id,
                "geometry": export.mapping(zone) if zone is not None else None,
                "properties": {
                    "id": action.id,
                    "title": action.title,
                    "theme": action.theme.label_fr if action.theme else None,
                    "partners": vocabulary.partner_names(action.partners),
                    "status": action.status,
                    "status_label": str(vocabulary.ACTION_STATUS_LABELS[action.status]),
                    "due_on": action.due_on.isoformat() if action.due_on else None,
                    "overdue": is_overdue(action),
                    "public": action.public,
                    "quartiers": ", ".join(action_quartiers(action)),
                    "updated_at": action.updated_at.astimezone(UTC).isoformat(timespec="seconds"),
                },
            }
        )
    return features
