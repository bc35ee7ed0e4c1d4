"""The perception costs of a territory's walking graph (DESIGN §6 for what the public's
routes may use), stored per (territory, basis, time of day, workshops) in
``route_cost``/``route_edge_cost`` and computed again when the graph, the release (public
basis) or the pins (exact basis) change.

Unsafe and safe densities along each edge come from the same density layer the maps
show (:func:`app.analysis.density.density_raster`): for the public, the released hexagons
it may see, smoothed, with every cell fewer than k pins reach hidden; for staff, the
exact pins. The public release holds no hexagon × time-of-day table (times of day are
released per quartier only), so a public route for a time of day weights each edge's
unsafe density by its quartier's released share of unsafe pins at that time (or
"always"); where a quartier's times are all hidden, its edges keep their density.

A stored set is found by its choice key: the workshops and what shaped the densities
(the kernel bandwidth, and k for the public), so that raising k or changing the bandwidth
never serves costs computed under the old setting. A territory keeps at most
``ROUTE_COST_SETS`` sets (the least recently computed go first): every workshop
combination anyone asks for cannot grow the table without bound.
"""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from flask import current_app

from app import access
from app.analysis import cache, release
from app.analysis.cells import DEFAULT_SIZE
from app.analysis.density import density_raster
from app.analysis.filters import Filters
from app.extensions import db
from app.models import PublicRelease, RouteCost, RouteEdge, RouteGraph, Territory, utcnow
from geo.routing import edge_densities, normalised

ALL_TIMES = "all"


def current(
    territory: Territory, graph: RouteGraph, full: bool, time_of_day: str | None, workshops
) -> RouteCost:
    """The costs for these choices, computed now if missing or stale (no commit)."""
    basis = "exact" if full else "public"
    key = choice_key(full, workshops)
    times = time_of_day or ALL_TIMES
    version = cache.data_version(territory) if full else release_version(territory)
    row = db.session.scalar(
        sa.select(RouteCost).where(
            RouteCost.territory_id == territory.id,
            RouteCost.basis == basis,
            RouteCost.time_of_day == times,
            RouteCost.workshops == key,
        )
    )
    if row and row.graph_version == graph.version and row.source_version == version:
        return row
    edge_ids, unsafe, safe = _edge_perception(territory, full, time_of_day, list(workshops))
    return _store(territory, graph, (basis, times, key, version), edge_ids, unsafe, safe)


def choice_key(full: bool, workshops) -> str:
    """The workshops (sorted ids) and the settings the densities depend on."""
    key = ",".join(str(w) for w in sorted(set(workshops)))
    key += f";bw={_bandwidth(full):g}"
    return key if full else f"{key};k={access.suppression_k()}"


def _bandwidth(full: bool) -> float:
    bandwidth = current_app.config["ROUTE_BANDWIDTH_M"]
    if not full:  # released hexagons are 150 m: smooth over more than their spacing
        bandwidth = max(bandwidth, 1.5 * DEFAULT_SIZE)
    return bandwidth


def release_version(territory: Territory) -> int:
    """The latest public release of the territory (0 before the first)."""
    latest = db.session.scalar(
        sa.select(sa.func.max(PublicRelease.id)).where(PublicRelease.territory_id == territory.id)
    )
    return latest or 0


def _edge_perception(territory: Territory, full: bool, time_of_day: str | None, workshops):
    rows = db.session.execute(
        sa.select(
            RouteEdge.id,
            sa.func.ST_AsBinary(sa.func.ST_Transform(RouteEdge.geom, territory.metric_srid)),
        )
        .where(RouteEdge.territory_id == territory.id)
        .order_by(RouteEdge.id)
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    lines = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([], dtype=object)
    values = {}
    for feeling in ("unsafe", "safe"):
        grid = _density(territory, feeling, full, time_of_day, workshops)
        values[feeling] = np.zeros(len(ids)) if grid is None else edge_densities(lines, grid)
    if time_of_day and not full:
        values["unsafe"] = values["unsafe"] * _released_time_share(territory, ids, time_of_day)
    return ids, normalised(values["unsafe"]), normalised(values["safe"])


def _density(territory: Territory, feeling: str, full: bool, time_of_day, workshops):
    times = [] if not (full and time_of_day) else sorted({time_of_day, "always"})
    filters = Filters(
        feeling=[feeling],
        category=[],
        time_of_day=times,
        workshop=workshops,
        start=None,
        end=None,
        size=DEFAULT_SIZE,
        bandwidth=_bandwidth(full),
        full=full,
    )
    shown = density_raster(territory, filters)
    return None if shown is None else shown[0]


def _released_time_share(territory: Territory, edge_ids: np.ndarray, time_of_day: str):
    """Per edge, the share of its quartier's released unsafe pins placed at
    ``time_of_day`` or "always" (1 where the quartier's times are all hidden)."""
    quartiers = db.session.execute(
        sa.text(
            "SELECT e.id, pin_quartier(:territory, ST_LineInterpolatePoint(e.geom, 0.5)) "
            "FROM route_edge e WHERE e.territory_id = :territory ORDER BY e.id"
        ),
        {"territory": territory.id},
    ).all()
    shares = {}
    for quartier in {q for _e, q in quartiers if q is not None}:
        times = release.quartier_summary(territory, quartier)["times"]
        total = sum(times.values())
        at = sum(times.get(t, 0) for t in {time_of_day, "always"})
        shares[quartier] = at / total if total else 1.0
    return np.array([shares.get(q, 1.0) for _e, q in quartiers])


def _store(territory, graph, choice, edge_ids, unsafe, safe) -> RouteCost:
    basis, times, key, version = choice
    values = {
        "graph_version": graph.version,
        "source_version": version,
        "computed_at": utcnow(),
    }
    statement = (
        sa.dialects.postgresql.insert(RouteCost)
        .values(territory_id=territory.id, basis=basis, time_of_day=times, workshops=key, **values)
        .on_conflict_do_update(
            index_elements=["territory_id", "basis", "time_of_day", "workshops"], set_=values
        )
        .returning(RouteCost.id)
    )
    cost_id = db.session.scalar(statement)
    db.session.execute(sa.text("DELETE FROM route_edge_cost WHERE cost_id = :id"), {"id": cost_id})
    db.session.execute(
        sa.text(
            "INSERT INTO route_edge_cost "
            "(cost_id, edge_id, source, target, length_m, unsafe, safe) "
            "SELECT :id, e.id, e.source, e.target, e.length_m, c.u, c.s "
            "FROM unnest(CAST(:edges AS bigint[]), CAST(:unsafe AS float8[]), "
            "CAST(:safe AS float8[])) AS c(e, u, s) JOIN route_edge e ON e.id = c.e "
            "ORDER BY e.id"
        ),
        {
            "id": cost_id,
            "edges": edge_ids.tolist(),
            "unsafe": unsafe.tolist(),
            "safe": safe.tolist(),
        },
    )
    _prune(territory, cost_id)
    return db.session.get(RouteCost, cost_id, populate_existing=True)


def _prune(territory: Territory, kept: int) -> None:
    """Drop the least recently computed sets beyond ``ROUTE_COST_SETS`` (their edge
    costs go with them); ``kept``, just computed, stays."""
    db.session.execute(
        sa.text(
            "DELETE FROM route_cost WHERE id IN (SELECT id FROM route_cost "
            "WHERE territory_id = :territory AND id <> :kept "
            "ORDER BY computed_at DESC, id DESC OFFSET :room)"
        ),
        {
            "territory": territory.id,
            "kept": kept,
            "room": max(current_app.config["ROUTE_COST_SETS"] - 1, 0),
        },
    )
