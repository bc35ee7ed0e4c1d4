"""The public release (DESIGN §6): what the public sees is computed from it alone.

A release is made per workshop when it closes, and on a schedule for open questionnaires
(``flask release make``; each run releases only the pins placed since the last one, so no
pin is ever released twice). It stores, with discrete Laplace noise from OpenDP
(:mod:`geo.privacy`), three tables over domains fixed before the pins are read:

- pins per 150 m hexagon × feeling, over every hexagon of the workshop's quartiers;
- pins per quartier × feeling × category;
- pins per quartier × feeling × time of day.

Public layers, public OGC collections, public exports and the public quartier page sum
these noisy counts and show a count only when it reaches the display threshold (at least
k, and high enough that noise alone rarely reaches it). A count released once keeps its
noise: the same request gives the same answer, and complementary filters, two periods,
two sizes or two workshop sets only ever subtract noisy numbers. Public cell layers take
no category or time-of-day filter and no hexagon smaller than 150 m: those details are
released per quartier. Staff keep exact counts (``full=1``).

Over 400 lines on purpose: the release is one privacy mechanism (make, store, read back
under thresholds) reviewed as a whole against the attacker tests; moved unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app import access
from app.analysis.cells import (
    DEFAULT_SIZE,
    Layer,
    cells_in,
    empty_message,
    hexagon_features,
    study_area,
    surveyed_cells,
)
from app.errors import ValidationError
from app.extensions import db
from app.models import (
    FEELINGS,
    TIMES_OF_DAY,
    Category,
    Pin,
    PublicRelease,
    Quartier,
    Territory,
    Workshop,
    utcnow,
)
from geo.hexgrid import axial_cells, hex_centres
from geo.privacy import display_threshold, noise_sd, noisy_counts

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


# -- making a release ---------------------------------------------------------------------


def make_release(workshop: Workshop, until: datetime | None = None) -> PublicRelease:
    """Release the workshop's pins placed since its last release (all of them the first
    time), up to ``until`` (now by default). The caller commits."""
    until = until or utcnow()
    territory = workshop.territory
    since = db.session.scalar(
        sa.select(sa.func.max(PublicRelease.period_end)).where(
            PublicRelease.workshop_id == workshop.id
        )
    )
    budget = current_app.config["PUBLIC_RELEASE_EPSILON"]
    in_slice = [Pin.workshop_id == workshop.id, Pin.created_at <= until]
    if since is not None:
        in_slice.append(Pin.created_at > since)
    cells = _release_cells(territory, workshop, in_slice, budget["cells"])
    quartiers, categories = _quartier_domain(territory)
    ids = [c for c, _feelings in categories]
    by_category = _quartier_table(in_slice, quartiers, Pin.category_id, ids)
    allowed = np.array([[f in feelings for _c, feelings in categories] for f in FEELINGS])
    category_values, noisy_categories = _noisy_allowed(
        by_category, allowed[None, :, :], budget["categories"]
    )
    by_time = _quartier_table(in_slice, quartiers, Pin.time_of_day, list(TIMES_OF_DAY))
    noisy_times = noisy_counts(by_time, budget["times"])
    release = PublicRelease(
        territory_id=territory.id,
        workshop_id=workshop.id,
        period_start=since,
        period_end=until,
        covers_from=since or _first_day(workshop),
        covers_to=workshop.closed_at or until,
        made_at=utcnow(),
        k=access.suppression_k(),
        epsilon=cells["epsilon"] + noisy_categories.epsilon + noisy_times.epsilon,
        scales={
            "cells": cells["scale"],
            "categories": noisy_categories.scale,
            "times": noisy_times.scale,
        },
        cells={key: cells[key] for key in ("q", "r", "unsafe", "safe")},
        quartiers={
            "ids": quartiers,
            "categories": ids,
            "by_category": category_values.tolist(),
            "by_time": noisy_times.values.tolist(),
        },
    )
    db.session.add(release)
    return release


def _first_day(workshop: Workshop) -> datetime:
    """When the workshop began: the start of its day (town time), or its creation when
    its date is absurd (year 1 became a timestamp PostgreSQL cannot read back)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if not EARLIEST.year <= workshop.held_on.year <= 2100:
        return workshop.created_at
    return min(workshop.created_at, datetime.combine(workshop.held_on, time.min, tzinfo=zone))


def _release_cells(territory: Territory, workshop: Workshop, in_slice: list, epsilon: float):
    """Noisy pins per 150 m hexagon × feeling over the workshop's quartiers (widened by
    one hexagon, for taps just outside), empty hexagons included."""
    ids = [q.id for q in workshop.quartiers] or None
    area = study_area(territory, ids)
    q, r = cells_in(None if area is None else area.buffer(DEFAULT_SIZE), DEFAULT_SIZE)
    index = {(a, b): i for i, (a, b) in enumerate(zip(q.tolist(), r.tolist(), strict=True))}
    exact = np.zeros((len(index), len(FEELINGS)), dtype=np.int64)
    rows = db.session.execute(
        sa.select(Pin.hex_q, Pin.hex_r, Pin.feeling, sa.func.count())
        .where(*in_slice)
        .group_by(Pin.hex_q, Pin.hex_r, Pin.feeling)
    )
    for hq, hr, feeling, n in rows:
        at = index.get((hq, hr))
        if at is not None:  # outside the domain: not released
            exact[at, FEELINGS.index(feeling)] = n
    noisy = noisy_counts(exact, epsilon)
    return {
        "q": q.tolist(),
        "r": r.tolist(),
        "unsafe": noisy.values[:, 0].tolist(),
        "safe": noisy.values[:, 1].tolist(),
        "scale": noisy.scale,
        "epsilon": noisy.epsilon,
    }


def _quartier_domain(territory: Territory) -> tuple[list[int], list[int]]:
    quartiers = list(
        db.session.scalars(
            sa.select(Quartier.id)
            .where(Quartier.territory_id == territory.id)
            .order_by(Quartier.id)
        )
    )
    categories = db.session.execute(
        sa.select(Category.id, Category.feelings).order_by(Category.id)
    ).all()
    return quartiers, categories


def _noisy_allowed(exact: np.ndarray, allowed: np.ndarray, epsilon: float):
    """Noise on the allowed entries only; the others are zero by construction (a pin of
    an unsafe-only category is never "safe"), and noise there would invent answers."""
    allowed = np.broadcast_to(allowed, exact.shape)
    noisy = noisy_counts(exact[allowed], epsilon)
    values = np.zeros_like(exact)
    values[allowed] = noisy.values
    return values, noisy


def _quartier_table(in_slice: list, quartiers: list[int], column, values: list) -> np.ndarray:
    """Exact pins per quartier × feeling × ``column`` value, zeros included."""
    exact = np.zeros((len(quartiers), len(FEELINGS), len(values)), dtype=np.int64)
    at_q = {v: i for i, v in enumerate(quartiers)}
    at_v = {v: i for i, v in enumerate(values)}
    rows = db.session.execute(
        sa.select(Pin.quartier_id, Pin.feeling, column, sa.func.count())
        .where(*in_slice, Pin.quartier_id.isnot(None))
        .group_by(Pin.quartier_id, Pin.feeling, column)
    )
    for quartier, feeling, value, n in rows:
        if quartier in at_q and value in at_v:
            exact[at_q[quartier], FEELINGS.index(feeling), at_v[value]] = n
    return exact


def release_due(territory: Territory | None = None) -> list[Workshop]:
    """Workshops to release now: closed ones never released since closing, and open
    questionnaires (released on a schedule)."""
    last = (
        sa.select(sa.func.max(PublicRelease.period_end))
        .where(PublicRelease.workshop_id == Workshop.id)
        .scalar_subquery()
    )
    query = sa.select(Workshop).where(
        sa.or_(
            sa.and_(Workshop.status == "closed", sa.or_(last.is_(None), last < Workshop.closed_at)),
            sa.and_(Workshop.status == "open", Workshop.kind == "questionnaire"),
        )
    )
    if territory is not None:
        query = query.where(Workshop.territory_id == territory.id)
    return list(db.session.scalars(query.order_by(Workshop.id)))


def latest(territory: Territory) -> PublicRelease | None:
    return db.session.scalar(
        sa.select(PublicRelease)
        .where(PublicRelease.territory_id == territory.id)
        .order_by(PublicRelease.made_at.desc())
        .limit(1)
    )


def covered(territory: Territory) -> tuple[datetime | None, datetime | None]:
    """The first and last moments the territory's releases cover (None, None without)."""
    return db.session.execute(
        sa.select(
            sa.func.min(PublicRelease.covers_from), sa.func.max(PublicRelease.covers_to)
        ).where(PublicRelease.territory_id == territory.id)
    ).one()


def latest_per_territory() -> list[tuple[Territory, PublicRelease]]:
    """Each territory that has a release, with its latest one (for the privacy page)."""
    territories = db.session.scalars(sa.select(Territory).order_by(Territory.name))
    made = [(territory, latest(territory)) for territory in territories]
    return [(territory, rel) for territory, rel in made if rel is not None]


# -- reading it ------------------------------------------------------------------------------


def check_public(filters) -> None:
    """The public asks only what the release holds; 422 naming the filter otherwise."""
    errors = {}
    for name in ("category", "time_of_day"):
        if getattr(filters, name):
            errors[name] = _(
                "Filtre réservé aux équipes : le public voit les catégories et les moments "
                "par quartier, pas par hexagone."
            )
    if filters.size < DEFAULT_SIZE:
        errors["size"] = _(
            "Le public voit des hexagones d’au moins %(size)d m.", size=int(DEFAULT_SIZE)
        )
    if errors:
        raise ValidationError(errors, _("Filtres invalides."))


def _slices(territory: Territory, filters) -> list[PublicRelease]:
    query = sa.select(PublicRelease).where(PublicRelease.territory_id == territory.id)
    if filters.workshop:
        query = query.where(PublicRelease.workshop_id.in_(filters.workshop))
    if filters.start:
        query = query.where(PublicRelease.covers_to >= filters.start)
    if filters.end:
        query = query.where(PublicRelease.covers_from <= filters.end)
    return list(db.session.scalars(query.order_by(PublicRelease.id)))


class CellSums:
    """Noisy pins per hexagon of ``size`` summed over the chosen releases and feelings.

    ``q, r``: the cells; ``unsafe, safe``: their noisy sums (zero for a feeling filtered
    out); ``terms``: how many noisy counts each total adds up (for the threshold).
    """

    def __init__(self, territory: Territory, filters) -> None:
        check_public(filters)
        self.territory = territory
        releases = _slices(territory, filters)
        self.k = access.suppression_k()
        self.scale = max((rel.scales["cells"] for rel in releases), default=1.0)
        self.size = filters.size
        feelings = filters.feeling or list(FEELINGS)
        q, r, u, s = (
            np.concatenate([np.asarray(rel.cells[key], dtype=np.int64) for rel in releases])
            if releases
            else np.array([], dtype=np.int64)
            for key in ("q", "r", "unsafe", "safe")
        )
        if filters.size != DEFAULT_SIZE and len(q):  # 150 m hexagons into larger ones
            q, r = axial_cells(*hex_centres(q, r, DEFAULT_SIZE), filters.size)
        keys = np.stack([q, r], axis=1) if len(q) else np.zeros((0, 2), dtype=np.int64)
        cells, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        self.q, self.r = cells[:, 0], cells[:, 1]
        self.unsafe = self._sum(inverse, u if "unsafe" in feelings else 0 * u)
        self.safe = self._sum(inverse, s if "safe" in feelings else 0 * s)
        self.terms = self._sum(inverse, np.full(len(q), len(feelings)))

    def _sum(self, inverse, values) -> np.ndarray:
        total = np.zeros(len(self.q), dtype=np.int64)
        np.add.at(total, inverse, values)
        return total

    @property
    def total(self) -> np.ndarray:
        return self.unsafe + self.safe

    def shown(self, values=None, terms=None) -> np.ndarray:
        """Which cells reach the display threshold."""
        values = self.total if values is None else values
        terms = self.terms if terms is None else terms
        return values >= display_threshold(self.k, self.scale, terms)

    def stated(self, value: int) -> int | None:
        """A count as the public may read it: None below k."""
        return int(value) if value >= self.k else None

    def pair(self, first: int, second: int) -> tuple[int | None, int | None]:
        """Two sub-counts of one shown total: both stated from k, or neither (the total
        minus one would state the other)."""
        if first >= self.k and second >= self.k:
            return int(first), int(second)
        return None, None

    def features(self, keep: np.ndarray, properties: list[dict]) -> list[dict]:
        return hexagon_features(self.territory, self.size, self.q[keep], self.r[keep], properties)


def _sums(territory: Territory, filters) -> CellSums:
    return CellSums(territory, filters)


def hexagon_layer(territory: Territory, filters) -> Layer:
    """Public hexagons: noisy totals reaching the threshold; unsafe and safe stated only
    when both reach k."""
    sums = _sums(territory, filters)
    keep = sums.shown()
    props = []
    for u, s in zip(sums.unsafe[keep], sums.safe[keep], strict=True):
        unsafe, safe = sums.pair(u, s)
        props.append({"total": int(u + s), "unsafe": unsafe, "safe": safe, "top_categories": []})
    features = sums.features(keep, props)
    return Layer(features, empty_message(features), _meta(territory, sums))


def net_layer(territory: Territory, filters) -> Layer:
    """(unsafe − safe) / (unsafe + safe) of the noisy counts; to 4 decimals when both
    sides are stated, in steps of 0.5 otherwise (with the total, a precise ratio would
    state the small side)."""
    sums = _sums(territory, filters)
    keep = sums.shown()
    props = []
    for u, s in zip(sums.unsafe[keep], sums.safe[keep], strict=True):
        pu, ps = max(int(u), 0), max(int(s), 0)
        net = (pu - ps) / (pu + ps) if pu + ps else 0.0
        unsafe, safe = sums.pair(u, s)
        net = round(net, 4) if unsafe is not None else round(net * 2) / 2
        props.append({"unsafe": unsafe, "safe": safe, "net": net})
    features = sums.features(keep, props)
    return Layer(features, empty_message(features), _meta(territory, sums))


def hotspot_values(territory: Territory, filters):
    """``(q, r, values, quartier_names)`` over the surveyed window of the released
    workshops (:func:`~app.analysis.cells.surveyed_cells`): the released noisy totals,
    zero where nothing was released, for Gi*."""
    sums = _sums(territory, filters)
    released = {s.workshop_id for s in _slices(territory, filters)}
    q, r, names = surveyed_cells(territory, filters.size, sorted(released))
    at = {(a, b): i for i, (a, b) in enumerate(zip(sums.q.tolist(), sums.r.tolist(), strict=True))}
    totals = sums.total
    values = np.array(
        [float(totals[at[c]]) if c in at else 0.0 for c in zip(q.tolist(), r.tolist(), strict=True)]
    )
    return q, r, values, names


def density_points(territory: Territory, filters):
    """Centres (metric) and noisy totals of the public hexagons, to smooth into a density;
    None when nothing is shown."""
    sums = _sums(territory, filters)
    keep = sums.shown()
    if not keep.any():
        return None
    x, y = hex_centres(sums.q[keep], sums.r[keep], sums.size)
    return x, y, sums.total[keep].astype(float)


def difference_layer(territory: Territory, filters, a: list[int], b: list[int]) -> Layer:
    """Two workshop sets compared per hexagon from the release: each set's noisy counts as
    shares of its total over the cells shown (a cell is shown when A and B together reach
    the threshold). A's and B's counts and shares are stated only when both reach k; the
    difference is then precise, otherwise in steps of 0.05 (a precise one, with the
    totals, would state the small count)."""
    parts = {
        key: _sums(territory, replace(filters, workshop=ids)) for key, ids in (("a", a), ("b", b))
    }
    cells: dict[tuple[int, int], dict] = {}
    for key, part in parts.items():
        for qi, ri, n, t in zip(
            part.q.tolist(), part.r.tolist(), part.total, part.terms, strict=True
        ):
            cell = cells.setdefault((qi, ri), {"a": 0, "b": 0, "terms": 0})
            cell[key] += int(n)
            cell["terms"] += int(t)
    sums = parts["a"]
    keys = list(cells)
    values = np.array([cells[c]["a"] + cells[c]["b"] for c in keys], dtype=np.int64)
    terms = np.array([cells[c]["terms"] for c in keys], dtype=np.int64)
    keep = sums.shown(values, terms) if keys else np.zeros(0, dtype=bool)
    kept = [c for c, shown in zip(keys, keep, strict=True) if shown]
    totals = {key: sum(max(cells[c][key], 0) for c in kept) for key in ("a", "b")}
    meta = {"total_a": sums.stated(totals["a"]), "total_b": sums.stated(totals["b"])}
    if totals["a"] < sums.k or totals["b"] < sums.k:
        return Layer([], _("Un des deux ensembles d'ateliers n'a aucun point."), meta)
    props = []
    for c in kept:
        share_a = max(cells[c]["a"], 0) / totals["a"]
        share_b = max(cells[c]["b"], 0) / totals["b"]
        count_a, count_b = sums.pair(cells[c]["a"], cells[c]["b"])
        stated = count_a is not None
        props.append(
            {
                "a": count_a,
                "b": count_b,
                "share_a": round(share_a, 5) if stated else None,
                "share_b": round(share_b, 5) if stated else None,
                "difference": round(share_b - share_a, 5)
                if stated
                else round((share_b - share_a) * 20) / 20,
            }
        )
    q = np.array([c[0] for c in kept], dtype=np.int64)
    r = np.array([c[1] for c in kept], dtype=np.int64)
    features = hexagon_features(territory, filters.size, q, r, props)
    return Layer(features, empty_message(features), meta)


def _meta(territory: Territory, sums: CellSums) -> dict:
    made = latest(territory)
    return {
        "release": None
        if made is None
        else {"made_at": made.made_at.isoformat(), "epsilon": made.epsilon, "k": made.k}
    }


def quartier_summary(territory: Territory, quartier_id: int) -> dict:
    """The quartier's released counts: noisy totals per feeling, per category and per time
    of day (unsafe), each stated only when it reaches its threshold."""
    releases = _slices(territory, _NoFilters())
    k = access.suppression_k()
    feelings = np.zeros(len(FEELINGS), dtype=np.int64)
    categories: dict[int, np.ndarray] = {}
    times = np.zeros((len(FEELINGS), len(TIMES_OF_DAY)), dtype=np.int64)
    scales = {"categories": 1.0, "times": 1.0}
    for rel in releases:
        ids = rel.quartiers["ids"]
        if quartier_id not in ids:
            continue
        at = ids.index(quartier_id)
        by_time = np.asarray(rel.quartiers["by_time"][at], dtype=np.int64)
        times += by_time
        feelings += by_time.sum(axis=1)
        for c, column in zip(
            rel.quartiers["categories"], np.asarray(rel.quartiers["by_category"][at]).T, strict=True
        ):
            categories[c] = categories.get(c, np.zeros(len(FEELINGS), dtype=np.int64)) + column
        for key in scales:
            scales[key] = max(scales[key], rel.scales[key])
    n = max(len(releases), 1)
    # The smallest figure stated: feeling totals add the five times of day.
    shown_from = {
        "feelings": display_threshold(k, scales["times"], len(TIMES_OF_DAY) * n),
        "categories": display_threshold(k, scales["categories"], n),
        "times": display_threshold(k, scales["times"], n),
    }
    return {
        "releases": len(releases),
        "feelings": {
            f: int(v) if v >= shown_from["feelings"] else None
            for f, v in zip(FEELINGS, feelings, strict=True)
        },
        "categories": {
            c: [int(v) if v >= shown_from["categories"] else None for v in tally]
            for c, tally in categories.items()
        },
        "times": {
            t: int(v)
            for t, v in zip(TIMES_OF_DAY, times[FEELINGS.index("unsafe")], strict=True)
            if v >= shown_from["times"]
        },
        "noise_sd": float(noise_sd(scales["times"], len(TIMES_OF_DAY) * n)),
    }


class _NoFilters:
    workshop: list[int] = []
    start = None
    end = None
