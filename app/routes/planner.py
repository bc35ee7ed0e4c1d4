"""Routes between places on a territory's walking graph: the recommended route (the
perception cost of :mod:`geo.routing`) and the shortest one, both by ``pgr_dijkstra``,
with their lengths, walking times, exposures and the streets they walk.

:func:`plan_route` raises :class:`~app.errors.ValidationError` (422, naming ``from``,
``to``, ``via``…) for a place outside the territory or too far from its walkable
streets, and :class:`NoRoute` (404) when the graph does not join the places.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from app.errors import ValidationError
from app.extensions import db
from app.models import RouteCost, RouteGraph, Territory
from app.routes import costs, graph
from geo import routing

# pgRouting reads the edges with this query, from one table by its key (no join); ORDER
# BY makes ties between equal paths break the same way in every call (and as in a bare
# pgr_dijkstra over route_edge in id order). Every edge is walkable both ways at the same
# cost: on an undirected graph pgRouting then reads ``cost`` alone, both ways (no
# ``reverse_cost`` column to compute and copy).
EDGES_SQL = (
    "SELECT edge_id AS id, source, target, {cost} AS cost "
    "FROM route_edge_cost WHERE cost_id = {cost_id} ORDER BY edge_id"
)
# The path's edges by their keys: LIMIT 1 keeps each lookup a nested index probe (the
# planner takes pgr_dijkstra for 1000 rows and would otherwise hash both whole tables).
PATH_SQL = sa.text(
    "SELECT p.seq, p.edge, e.name, c.length_m, c.unsafe, "
    "ST_AsBinary(CASE WHEN p.node = c.source THEN e.geom ELSE ST_Reverse(e.geom) END) "
    "FROM pgr_dijkstra(:edges, CAST(:start AS bigint), CAST(:end AS bigint), directed => false) p "
    "CROSS JOIN LATERAL (SELECT source, length_m, unsafe FROM route_edge_cost "
    "WHERE cost_id = :cost_id AND edge_id = p.edge LIMIT 1) c "
    "CROSS JOIN LATERAL (SELECT name, geom FROM route_edge WHERE id = p.edge LIMIT 1) e "
    "ORDER BY p.seq"
)
# Every place at once: inside the territory (its quartiers, 50 m tolerance), and the
# nearest node of the largest component with its distance in metres (the 8 nearest by
# the index in degrees, then the nearest on the sphere).
SNAP_SQL = sa.text(
    "SELECT pin_quartier(:territory, p.pt) IS NOT NULL, n.id, n.metres "
    "FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) "
    "WITH ORDINALITY AS q(lon, lat, i) "
    "CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326) AS pt) p "
    "LEFT JOIN LATERAL (SELECT k.id, ST_Distance(k.geom::geography, p.pt::geography) AS metres "
    "FROM (SELECT id, geom FROM route_node WHERE territory_id = :territory AND component = 0 "
    "ORDER BY geom <-> p.pt LIMIT 8) k ORDER BY metres LIMIT 1) n ON true "
    "ORDER BY q.i"
)


class NoRoute(NotFound):
    """The walking graph does not join the places asked for."""


@dataclass(frozen=True)
class Leg:
    edges: list[int]
    names: list[str | None]
    lengths: np.ndarray
    unsafe: np.ndarray
    lines: np.ndarray  # shapely LineStrings, one per edge, in walking order


def plan_route(
    territory: Territory,
    points: list[tuple[float, float]],
    time_of_day: str | None,
    *,
    full: bool = False,
    workshops=(),
    alpha: float | None = None,
    beta: float | None = None,
    fields: list[str] | None = None,
) -> dict:
    """The recommended and shortest walking routes through ``points`` (lon, lat: from,
    waypoints, to), as a GeoJSON FeatureCollection (see :func:`route_document`).

    ``full`` uses the exact pins (staff); otherwise the public release only. ``fields``
    name the points in errors (``from``, ``via``…, ``to`` by default). No commit: the
    costs computed on the way are written in the caller's transaction.
    """
    fields = fields or _field_names(len(points))
    built = graph.current(territory)
    if built is None or not built.edges:
        raise NoRoute(
            description=_("Ce territoire n’a pas encore de réseau de rues pour les itinéraires.")
        )
    config = current_app.config
    alpha = config["ROUTE_ALPHA"] if alpha is None else alpha
    beta = config["ROUTE_BETA"] if beta is None else beta
    nodes = snap(territory, points, fields)
    cost = costs.current(territory, built, full, time_of_day, workshops)
    recommended = _walk(cost, nodes, alpha, beta)
    shortest = _walk(cost, nodes, 0.0, 0.0)
    return route_document(recommended, shortest, _meta(cost, built, alpha, beta, time_of_day))


def _field_names(count: int) -> list[str]:
    return ["from", *[f"via[{i}]" for i in range(count - 2)], "to"]


def snap(territory: Territory, points, fields) -> list[int]:
    """The graph node (largest component) nearest each point; 422 naming the field of a
    point outside the territory or further than ``ROUTE_SNAP_M`` from a walkable street."""
    limit = current_app.config["ROUTE_SNAP_M"]
    found = db.session.execute(
        SNAP_SQL,
        {
            "territory": territory.id,
            "lons": [lon for lon, _lat in points],
            "lats": [lat for _lon, lat in points],
        },
    ).all()
    errors, nodes = {}, []
    for (inside, node, metres), field in zip(found, fields, strict=True):
        if not inside:
            errors[field] = _("Ce point est en dehors du territoire.")
        elif node is None or metres > limit:
            errors[field] = _(
                "Ce point est à plus de %(metres)d m d’une rue du réseau piéton.", metres=int(limit)
            )
        else:
            nodes.append(int(node))
    if errors:
        raise ValidationError(errors, _("Itinéraire impossible à calculer."))
    if len(set(nodes)) == 1:
        raise ValidationError(
            {fields[-1]: _("Le départ et l’arrivée sont au même endroit.")},
            _("Itinéraire impossible à calculer."),
        )
    return nodes


def _walk(cost: RouteCost, nodes: list[int], alpha: float, beta: float) -> Leg:
    expression = routing.cost_sql(alpha, beta, "length_m", "unsafe", "safe")
    edges = EDGES_SQL.format(cost=expression, cost_id=int(cost.id))
    parts = []
    for start, end in zip(nodes, nodes[1:], strict=False):
        if start == end:
            continue
        rows = db.session.execute(
            PATH_SQL, {"edges": edges, "start": start, "end": end, "cost_id": cost.id}
        ).all()
        if not rows:
            raise NoRoute(description=_("Aucun itinéraire à pied ne relie ces deux points."))
        parts.extend(rows)
    return Leg(
        edges=[int(r[1]) for r in parts],
        names=[r[2] for r in parts],
        lengths=np.array([r[3] for r in parts], dtype=float),
        unsafe=np.array([r[4] for r in parts], dtype=float),
        lines=shapely.from_wkb([r[5] for r in parts]),
    )


def _meta(cost: RouteCost, built: RouteGraph, alpha, beta, time_of_day) -> dict:
    return {
        "alpha": alpha,
        "beta": beta,
        "basis": cost.basis,
        "time_of_day": time_of_day,
        "computed_at": cost.computed_at.isoformat(),
        "release_id": cost.source_version if cost.basis == "public" else None,
        "graph_built_at": built.built_at.isoformat(),
    }


def route_document(recommended: Leg, shortest: Leg, meta: dict) -> dict:
    """Both routes as a FeatureCollection: ``recommended`` first, then ``shortest``."""
    best, short = _properties(recommended), _properties(shortest)
    best["detour_pct"] = _percent(best["length_m"] - short["length_m"], short["length_m"])
    best["exposure_reduction_pct"] = _percent(
        short["exposure"] - best["exposure"], short["exposure"]
    )
    best["avoided"] = _avoided(recommended, shortest)
    return {
        "type": "FeatureCollection",
        "features": [
            _feature("recommended", recommended, best),
            _feature("shortest", shortest, short),
        ],
        "meta": meta,
    }


def _properties(leg: Leg) -> dict:
    length = float(leg.lengths.sum())
    return {
        "length_m": round(length, 1),
        "minutes": round(routing.walking_minutes(length), 1),
        "exposure": round(routing.exposure(leg.lengths, leg.unsafe), 1),
        "streets": _streets(leg),
    }


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole > 0 else 0.0


def _streets(leg: Leg) -> list[dict]:
    """The streets walked, in order, consecutive stretches of one name merged."""
    walked: list[dict] = []
    for name, length in zip(leg.names, leg.lengths.tolist(), strict=True):
        if walked and walked[-1]["name"] == name:
            walked[-1]["length_m"] += length
        else:
            walked.append({"name": name, "length_m": length})
    return [{"name": s["name"], "length_m": round(s["length_m"], 1)} for s in walked]


def _avoided(recommended: Leg, shortest: Leg) -> list[dict]:
    """The stretches of the shortest route the recommended one does not walk, by street,
    most unsafe first (what the detour is for)."""
    kept = set(recommended.edges)
    by_name: dict[str | None, dict] = {}
    for edge, name, length, unsafe in zip(
        shortest.edges,
        shortest.names,
        shortest.lengths.tolist(),
        shortest.unsafe.tolist(),
        strict=True,
    ):
        if edge in kept:
            continue
        entry = by_name.setdefault(name, {"name": name, "length_m": 0.0, "unsafe": 0.0})
        entry["length_m"] += length
        entry["unsafe"] = max(entry["unsafe"], unsafe)
    ranked = sorted(by_name.values(), key=lambda s: (-s["unsafe"], -s["length_m"]))
    return [
        {"name": s["name"], "length_m": round(s["length_m"], 1), "unsafe": round(s["unsafe"], 3)}
        for s in ranked
    ]


def _feature(kind: str, leg: Leg, properties: dict) -> dict:
    # Every edge's points in walking order, rounded to 0.1 m; a point equal to the one
    # before it (the end of an edge and the start of the next) is written once.
    xy, _line = shapely.get_coordinates(leg.lines, return_index=True)
    xy = np.round(xy, 6)
    repeated = np.zeros(len(xy), dtype=bool)
    repeated[1:] = (xy[1:] == xy[:-1]).all(axis=1)
    coordinates = xy[~repeated].tolist()
    return {
        "type": "Feature",
        "id": kind,
        "geometry": {"type": "LineString", "coordinates": coordinates},
        "properties": {"kind": kind, **properties},
    }
