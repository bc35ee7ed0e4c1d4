"""The filters of every layer, export and OGC request, read from the query string and
checked against a whitelist: an unknown filter or value is a 422 naming it. A
:class:`Filters` knows whether it asks for full (staff) counts and so its own k."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import gettext as _

from app import access, openapi
from app.analysis.cells import DEFAULT_SIZE
from app.errors import ValidationError
from app.extensions import db
from app.models import FEELINGS, TIMES_OF_DAY, Category, Territory, Workshop
from app.territories import places

FILTERS = (
    "feeling",
    "category",
    "time_of_day",
    "workshop",
    "from",
    "to",
    "size",
    "bandwidth",
    "full",
)
FILTER_PARAMS = (
    openapi.query("feeling", openapi.text(), "unsafe, safe or both (comma-separated)."),
    openapi.query("category", openapi.text(), "Category codes, comma-separated."),
    openapi.query("time_of_day", openapi.text(), "morning, day, evening, night, always."),
    openapi.query("workshop", openapi.text(), "Workshop ids of the territory, comma-separated."),
    openapi.query("from", openapi.text(format="date"), "Pins placed on or after (YYYY-MM-DD)."),
    openapi.query("to", openapi.text(format="date"), "Pins placed on or before (YYYY-MM-DD)."),
    openapi.query("size", {"type": "number"}, "Hexagon size in metres (25 to 5000)."),
    openapi.query("bandwidth", {"type": "number"}, "Density bandwidth in metres (20 to 10000)."),
    openapi.query("full", openapi.text(enum=["0", "1", "true", "false"]), "Unsuppressed (staff)."),
)
# The interface language (app.select_locale) may ride on any URL: never a filter.
LANGUAGE_PARAM = "lang"
SIZE_RANGE = (25.0, 5000.0)
BANDWIDTH_RANGE = (20.0, 10000.0)


@dataclass
class Filters:
    feeling: list[str]
    category: list[int]
    time_of_day: list[str]
    workshop: list[int]
    start: datetime | None
    end: datetime | None
    size: float
    bandwidth: float | None
    full: bool  # exact counts, for the territory's staff (parse_filters checks who asks)

    @property
    def k(self) -> int:
        """The smallest count these filters' layers state: every count when full, else k."""
        return access.threshold(self.full)


def territory_or_404(slug: str) -> Territory:
    territory = places.get_territory(slug)
    if territory is None:
        abort(404, description=_("Territoire inconnu : %(slug)s", slug=slug))
    return territory


def parse_filters(territory: Territory, args, compare: bool = False) -> Filters:
    """Check the query string against the whitelist; 422 naming each bad field.

    With ``compare``, the workshop sets ``a`` and ``b`` replace ``workshop`` (they are
    read by :func:`parse_sets`).
    """
    errors: dict[str, str] = {}
    allowed = [n for n in FILTERS if n != "workshop"] + ["a", "b"] if compare else FILTERS
    for name in args:
        if name not in allowed and name != LANGUAGE_PARAM:
            errors[name] = _(
                "Filtre inconnu ; filtres possibles : %(names)s.", names=", ".join(allowed)
            )
    values = {
        "feeling": _choices(args, "feeling", FEELINGS, errors),
        "time_of_day": _choices(args, "time_of_day", TIMES_OF_DAY, errors),
        "category": _categories(args, errors),
        "workshop": parse_workshops(args, territory, errors),
        "start": _date(args, "from", time.min, errors),
        "end": _date(args, "to", time.max, errors),
        "size": _number(args, "size", SIZE_RANGE, errors, default=DEFAULT_SIZE),
        "bandwidth": _number(args, "bandwidth", BANDWIDTH_RANGE, errors, default=None),
        "full": args.get("full", "0") in ("1", "true"),
    }
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    if values["full"] and not access.staff(territory):
        abort(403, description=_("Les couches non masquées sont réservées aux équipes."))
    return Filters(**values)


def _listed(args, name: str) -> list[str]:
    return [v.strip() for v in args.get(name, "").split(",") if v.strip()]


def _choices(args, name, allowed, errors) -> list[str]:
    wanted = _listed(args, name)
    unknown = [v for v in wanted if v not in allowed]
    if unknown:
        errors[name] = _(
            "Valeur inconnue : %(value)s ; valeurs possibles : %(values)s.",
            value=unknown[0][:50],
            values=", ".join(allowed),
        )
    return wanted


def _categories(args, errors) -> list[int]:
    wanted = _listed(args, "category")
    if not wanted:
        return []
    found = dict(
        db.session.execute(
            sa.select(Category.code, Category.id).where(Category.code.in_(wanted))
        ).all()
    )
    unknown = [v for v in wanted if v not in found]
    if unknown:
        errors["category"] = _("Catégorie inconnue : %(value)s.", value=unknown[0][:50])
    return list(found.values())


def parse_workshops(args, territory, errors, name: str = "workshop") -> list[int]:
    wanted = _listed(args, name)
    if not wanted:
        return []
    if not all(v.isascii() and v.isdigit() and int(v) < 2**31 for v in wanted):
        errors[name] = _("Identifiants d'ateliers attendus (nombres).")
        return []
    ids = [int(v) for v in wanted]
    found = set(
        db.session.scalars(
            sa.select(Workshop.id).where(
                Workshop.id.in_(ids), Workshop.territory_id == territory.id
            )
        )
    )
    missing = [i for i in ids if i not in found]
    if missing:
        errors[name] = _("Atelier inconnu dans ce territoire : %(id)s.", id=missing[0])
    return ids


def parse_sets(territory: Territory, args) -> tuple[list[int], list[int]]:
    """The two workshop sets ``a`` and ``b`` of a comparison (both required)."""
    errors: dict[str, str] = {}
    sets = []
    for name in ("a", "b"):
        ids = parse_workshops(args, territory, errors, name)
        if not ids and name not in errors:
            errors[name] = _("Donnez au moins un atelier à comparer.")
        sets.append(ids)
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))
    return sets[0], sets[1]


def _date(args, name, bound, errors) -> datetime | None:
    if not args.get(name):
        return None
    try:
        day = date.fromisoformat(args[name])
    except ValueError:
        errors[name] = _("Date AAAA-MM-JJ attendue.")
        return None
    return day_bound(day, bound)


def day_bound(day: date, bound: time) -> datetime:
    """The first or last instant of ``day`` in the towns' time zone (any year, 1 to 9999)."""
    return datetime.combine(
        day, bound, tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    )


def _number(args, name, bounds, errors, default):
    if not args.get(name):
        return default
    try:
        value = float(args[name])
    except ValueError:
        value = float("nan")
    if not bounds[0] <= value <= bounds[1]:
        errors[name] = _(
            "Nombre de mètres entre %(low)d et %(high)d attendu.", low=bounds[0], high=bounds[1]
        )
        return default
    return value
