"""The items request's parameters read from a plain mapping into a :class:`Query`; an
unknown or bad parameter is a :class:`ParameterError` (400) naming it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _

from app.analysis.filters import day_bound
from app.gis.ogc import crs
from app.gis.ogc.collections import CRS84, LIMIT_DEFAULT, LIMIT_MAX, Kind, ParameterError
from app.gis.ogc.selection import NOTHING, SELECTION_PARAMS, Selection, read_selection


@dataclass
class Query:
    limit: int
    offset: int
    bbox: tuple[float, float, float, float] | None
    start: datetime | None
    end: datetime | None
    filters: dict[str, str]
    # Part 2: the CRS of the answer's coordinates, and the CRS of ``bbox`` (as given).
    crs: str = CRS84
    bbox_crs: str = CRS84
    selection: Selection = NOTHING  # Part 3: filter, sortby, properties


def parse_query(
    kind: Kind, args, offered: list[str] | tuple[str, ...] = (CRS84,), comments: bool = False
) -> Query:
    """``args`` (the query string, a mapping) checked for the items of ``kind``;
    ``offered``: the CRS URIs its collection offers; ``comments``: the reader may filter
    on approved comment text."""
    errors: dict[str, str] = {}
    allowed = {"f", "limit", "offset", "bbox", "datetime", *kind.filters, *SELECTION_PARAMS}
    allowed |= {"crs", "bbox-crs"}
    for name in args:
        if name not in allowed:
            errors[name] = _(
                "Paramètre inconnu ; paramètres possibles : %(names)s.",
                names=", ".join(sorted(allowed)),
            )
    limit = _integer(args, "limit", LIMIT_DEFAULT, 1, errors)
    offset = _integer(args, "offset", 0, 0, errors)
    target = crs.read(args, "crs", list(offered), errors)
    bbox_crs = crs.read(args, "bbox-crs", list(offered), errors)
    bbox = _bbox(args, errors, bbox_crs) if "bbox-crs" not in errors else None
    start, end = (
        _interval(args, errors, days_only=not kind.staff) if kind.temporal else (None, None)
    )
    chosen = read_selection(kind, args, errors, comments)
    if errors:
        raise ParameterError(errors, _("Paramètres invalides."))
    filters = {n: args[n] for n in kind.filters if n in args}
    return Query(
        min(limit, LIMIT_MAX),
        offset,
        bbox,
        start,
        end,
        filters,
        crs=target,
        bbox_crs=bbox_crs,
        selection=chosen,
    )


def _integer(args, name: str, default: int, low: int, errors: dict) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) < low:
        errors[name] = _("Entier supérieur ou égal à %(low)d attendu.", low=low)
        return default
    return int(raw)


def _bbox(args, errors: dict, bbox_crs: str = CRS84):
    raw = args.get("bbox")
    if raw is None:
        return None
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:  # with heights: drop them
        values = [values[0], values[1], values[3], values[4]]
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or not crs.bbox_fits(values, bbox_crs)
    ):
        errors["bbox"] = crs.bbox_expected(bbox_crs)
        return None
    return tuple(values)


def _interval(args, errors: dict, days_only: bool) -> tuple[datetime | None, datetime | None]:
    """``datetime`` as (start, end). Public collections take whole days only: comparing
    two instants a second apart would reveal when a pin was placed, and where, under
    the suppression threshold."""
    raw = args.get("datetime")
    if raw is None:
        return None, None
    if days_only and "T" in raw.upper():
        errors["datetime"] = _("Dates AAAA-MM-JJ seulement, par exemple 2026-01-01/2026-06-30.")
        return None, None
    try:
        if "/" in raw:
            first, last = raw.split("/", 1)
            start, end = _instant(first, end=False), _instant(last, end=True)
            if first == last == ".." or (start and end and start > end):
                raise ValueError
        else:
            start, end = _instant(raw, end=False), _instant(raw, end=True)
            if start is None:
                raise ValueError
    except ValueError:
        errors["datetime"] = _(
            "Date ou intervalle RFC 3339 attendu, par exemple 2026-01-01T00:00:00Z/.."
        )
        return None, None
    return start, end


def _instant(raw: str, end: bool) -> datetime | None:
    if raw in ("", ".."):
        return None
    if "T" in raw.upper():
        moment = datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment
    # Days in the towns' time zone, as the layers' from/to filters.
    return day_bound(date.fromisoformat(raw), time.max if end else time.min)
