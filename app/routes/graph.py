"""The walking graph of a territory, built from its imported streets (``flask routes
build``) into ``route_node``/``route_edge`` in the shape pgRouting reads. No commit here:
the command commits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa

from app.extensions import db
from app.models import RouteEdge, RouteGraph, RouteNode, Street, Territory, utcnow
from geo.routing import walking_graph

# Node and edge ids are the territory's id times this plus their index: unique across
# territories, stable within a build, known before the insert (edges name their nodes).
ID_BLOCK = 1_000_000_000
# The first key of the per-territory advisory lock (the second is the territory id):
# a build holds it exclusively, every route request shares it, so no request reads a
# graph half replaced (its edges deleted, the new ones not yet written).
LOCK_SPACE = 0x526F7574  # "Rout"


@dataclass(frozen=True)
class BuildSummary:
    nodes: int
    edges: int
    largest_share: float
    streets: int


def build(territory: Territory) -> BuildSummary:
    """(Re)build the territory's walking graph from its streets (any earlier graph and
    the perception costs computed on it are replaced)."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_SPACE, territory.id)))
    rows = db.session.execute(
        sa.select(
            sa.func.ST_AsBinary(sa.func.ST_Transform(Street.geom, territory.metric_srid)),
            Street.highway,
            Street.level,
            Street.name,
        ).where(Street.territory_id == territory.id)
    ).all()
    lines = shapely.from_wkb([bytes(r[0]) for r in rows]) if rows else np.array([], dtype=object)
    graph = walking_graph(lines, [r[1] for r in rows], [r[2] for r in rows])
    _clear(territory)
    _store(territory, graph, [(rows[i][3], rows[i][1]) for i in graph.street.tolist()])
    _record(territory, graph)
    return BuildSummary(len(graph.node_x), len(graph.source), graph.largest_share, len(rows))


def _clear(territory: Territory) -> None:
    db.session.execute(sa.delete(RouteEdge).where(RouteEdge.territory_id == territory.id))
    db.session.execute(sa.delete(RouteNode).where(RouteNode.territory_id == territory.id))


def _store(territory: Territory, graph, names: list) -> None:
    base = territory.id * ID_BLOCK
    srid = territory.metric_srid
    nodes = shapely.points(graph.node_x, graph.node_y)
    db.session.execute(
        sa.text(
            "INSERT INTO route_node (id, territory_id, component, geom) "
            "SELECT id, :territory, component, "
            "ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), :srid), 4326) "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:components AS int[]), "
            "CAST(:wkb AS bytea[])) AS n(id, component, wkb)"
        ),
        {
            "territory": territory.id,
            "srid": srid,
            "ids": (base + np.arange(len(nodes))).tolist(),
            "components": graph.component.tolist(),
            "wkb": shapely.to_wkb(nodes).tolist(),
        },
    )
    db.session.execute(
        sa.text(
            "INSERT INTO route_edge (id, territory_id, source, target, length_m, name, "
            "highway, geom) "
            "SELECT id, :territory, source, target, length_m, name, highway, "
            "ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), :srid), 4326) "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:sources AS bigint[]), "
            "CAST(:targets AS bigint[]), CAST(:lengths AS float8[]), CAST(:names AS text[]), "
            "CAST(:highways AS text[]), CAST(:wkb AS bytea[])) "
            "AS e(id, source, target, length_m, name, highway, wkb)"
        ),
        {
            "territory": territory.id,
            "srid": srid,
            "ids": (base + 1 + np.arange(len(graph.source))).tolist(),
            "sources": (base + graph.source).tolist(),
            "targets": (base + graph.target).tolist(),
            "lengths": graph.length.tolist(),
            "names": [n for n, _h in names],
            "highways": [h for _n, h in names],
            "wkb": shapely.to_wkb(graph.geometry).tolist(),
        },
    )


def _record(territory: Territory, graph) -> None:
    version = db.session.scalar(sa.text("SELECT nextval('data_version_seq')"))
    values = {
        "version": version,
        "nodes": len(graph.node_x),
        "edges": len(graph.source),
        "largest_share": graph.largest_share,
        "built_at": utcnow(),
    }
    record = db.session.get(RouteGraph, territory.id)
    if record is None:
        db.session.add(RouteGraph(territory_id=territory.id, **values))
    else:
        for key, value in values.items():
            setattr(record, key, value)


def current(territory: Territory) -> RouteGraph | None:
    """The territory's last graph build, or None when it has none; from here to the end
    of the transaction no build of this territory can start (a shared lock; see
    :data:`LOCK_SPACE`), and one under way is waited for."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(LOCK_SPACE, territory.id)))
    return db.session.get(RouteGraph, territory.id, populate_existing=True)
