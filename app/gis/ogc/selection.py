"""The items request's ``filter`` (CQL2, Part 3), ``sortby`` and ``properties``: read from
the query string into a :class:`Selection`, then applied to each kind of collection —
in SQL for points and quartiers, in Python over the cached layer for hexagons and hot
spots (the public ones: over the published features only, see :mod:`.queryables`)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.gis.ogc import cql2, filtering
from app.gis.ogc.collections import CRS84, Kind
from app.gis.ogc.queryables import PROPERTIES, queryables, sortables
from app.models import Category, Pin, Quartier, Workshop

SELECTION_PARAMS = ("filter", "filter-lang", "filter-crs", "sortby", "properties")
MAX_SORT_KEYS = 5
IN_PYTHON = ("hexagons", "hexagons-full", "hotspots")


@dataclass(frozen=True)
class Selection:
    """``condition``: a SQL condition or a predicate over features (None: everything);
    ``sortby``: (name, descending) pairs; ``properties``: the names each feature keeps."""

    condition: object = None
    sortby: tuple[tuple[str, bool], ...] = ()
    properties: tuple[str, ...] | None = None


NOTHING = Selection()


def columns(kind: Kind) -> dict:
    """The SQL expression of each queryable of ``kind`` (points: as joined by
    :func:`app.gis.pinrows.pin_query`; the comment is the approved text alone)."""
    if kind.name == "quartiers":
        return {"code": Quartier.code, "name": Quartier.name, "geometry": Quartier.geom}
    return {
        "feeling": Pin.feeling,
        "category": Category.code,
        "time_of_day": Pin.time_of_day,
        "workshop_id": Pin.workshop_id,
        "workshop": Workshop.title,
        "quartier": Quartier.name,
        "created_at": Pin.created_at,
        "geometry": Pin.geom,
        "comment": sa.case((Pin.comment_status == "approved", Pin.comment), else_=None),
    }


def read_selection(kind: Kind, args, errors: dict, comments: bool = False) -> Selection:
    """The selection asked in ``args``; each bad parameter is added to ``errors``."""
    return Selection(
        _condition(kind, args, errors, comments),
        _sortby(kind, args, errors, comments),
        _properties(kind, args, errors),
    )


def _condition(kind: Kind, args, errors: dict, comments: bool):
    lang = args.get("filter-lang", "cql2-text")
    if lang not in cql2.LANGS:
        names = ", ".join(cql2.LANGS)
        errors["filter-lang"] = _("Valeurs possibles : %(names)s.", names=names)
        return None
    if args.get("filter-crs", CRS84) not in cql2.FILTER_CRS:
        errors["filter-crs"] = _("Géométries en CRS84 (longitude, latitude) seulement.")
        return None
    raw = args.get("filter")
    if raw is None:
        return None
    backend = filtering.Python() if kind.name in IN_PYTHON else filtering.SQL(columns(kind))
    try:
        node = cql2.parse(raw, lang)
        return filtering.compile_filter(node, queryables(kind, comments), backend)
    except cql2.FilterError as exc:
        errors["filter"] = str(exc)
        return None


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def _sortby(kind: Kind, args, errors: dict, comments: bool) -> tuple:
    raw = args.get("sortby")
    if raw is None:
        return ()
    allowed = sortables(kind, comments)
    keys = []
    for name in _names(raw):
        descending = name.startswith("-")
        name = name.lstrip("+-").strip()  # "+" arrives as a space when not encoded
        if name not in allowed:
            errors["sortby"] = _(
                "Tri possible sur : %(names)s, précédé de + ou -.", names=", ".join(allowed)
            )
            return ()
        keys.append((name, descending))
    if not keys or len(keys) > MAX_SORT_KEYS:
        errors["sortby"] = _("De 1 à %(n)d propriétés de tri.", n=MAX_SORT_KEYS)
        return ()
    return tuple(keys)


def _properties(kind: Kind, args, errors: dict) -> tuple[str, ...] | None:
    raw = args.get("properties")
    if raw is None:
        return None
    names = _names(raw)
    unknown = [n for n in names if n not in PROPERTIES[kind.name]]
    if unknown:
        errors["properties"] = _(
            "Propriétés possibles : %(names)s.", names=", ".join(PROPERTIES[kind.name])
        )
        return None
    return tuple(dict.fromkeys(names))


# -- applying it -------------------------------------------------------------------------------


def sql(query, selection: Selection, kind: Kind, *tiebreak):
    """``query`` filtered and, with ``sortby``, ordered (then by ``tiebreak``)."""
    if selection.condition is not None:
        query = query.where(selection.condition)
    if selection.sortby:
        known = columns(kind)
        keys = [
            (known[name].desc() if descending else known[name].asc()).nulls_last()
            for name, descending in selection.sortby
        ]
        query = query.order_by(None).order_by(*keys, *tiebreak)
    return query


def count(session, query) -> int:
    """Rows of ``query`` (with its joins, which the filter may name)."""
    return session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))


def features(found: list[dict], selection: Selection) -> list[dict]:
    """Cached features kept by the filter (true, not unknown) and sorted, nulls last."""
    if selection.condition is not None:
        found = [f for f in found if selection.condition(f) is True]
    for name, descending in reversed(selection.sortby):  # stable sorts: the first key wins
        known = [f for f in found if filtering.value(f, name) is not None]
        unknown = [f for f in found if filtering.value(f, name) is None]
        known.sort(key=lambda f, n=name: filtering.value(f, n), reverse=descending)
        found = known + unknown
    return found


def trimmed(page: list[dict], selection: Selection) -> list[dict]:
    """Each feature with only the properties asked (all without ``properties``)."""
    if selection.properties is None:
        return page
    keep = selection.properties
    return [
        {**f, "properties": {n: v for n, v in (f["properties"] or {}).items() if n in keep}}
        for f in page
    ]
