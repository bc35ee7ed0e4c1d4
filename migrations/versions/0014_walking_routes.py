"""Walking routes: pgRouting, the walking graph per territory, perception costs per edge,
circuits

``street`` gains ``highway`` (OSM class, to keep motorways and trunk roads out of the
walking graph) and ``level`` (OSM ``layer``: a bridge crosses the street under it without
meeting it). Streets imported before this revision have neither: their digest is cleared
so that the next ``flask streets import`` (``demo load`` included) reads them again.

``route_node`` / ``route_edge``: the graph ``flask routes build`` makes from the streets
(noded at intersections, lengths in metres in the territory's metric CRS), in the shape
``pgr_dijkstra`` reads (``id, source, target``). ``route_graph`` records each build.

``route_cost`` / ``route_edge_cost``: per (territory, basis, time of day, workshops) the
normalised unsafe and safe densities along every edge (``geo.routing``; with the edge's
ends and length, the one table pgRouting reads), computed from
the public release (basis ``public``) or the exact pins (``exact``), with the release or
data version they were computed at.

``circuit``: a named route coordinators publish, with its last computed paths.

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _territory():
    return sa.Column(
        "territory_id",
        sa.Integer(),
        sa.ForeignKey("territory.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.add_column("street", sa.Column("highway", sa.String(length=40)))
    op.add_column("street", sa.Column("level", sa.SmallInteger(), server_default="0", nullable=False))
    op.execute("UPDATE street SET source_digest = ''")
    op.create_table(
        "route_graph",
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey("territory.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        sa.Column("largest_share", sa.Float(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "route_node",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _territory(),
        sa.Column("component", sa.Integer(), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=True), nullable=False),
    )
    op.create_table(
        "route_edge",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _territory(),
        sa.Column("source", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("name", sa.String(length=200)),
        sa.Column("highway", sa.String(length=40)),
        sa.Column("geom", Geometry("LINESTRING", srid=4326, spatial_index=True), nullable=False),
    )
    op.create_table(
        "route_cost",
        sa.Column("id", sa.Integer(), primary_key=True),
        _territory(),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("time_of_day", sa.String(length=10), nullable=False),
        sa.Column("workshops", sa.String(length=400), nullable=False),
        sa.Column("graph_version", sa.BigInteger(), nullable=False),
        sa.Column("source_version", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("territory_id", "basis", "time_of_day", "workshops"),
        sa.CheckConstraint("basis IN ('public', 'exact')", name="ck_route_cost_basis"),
    )
    op.create_table(
        "route_edge_cost",
        sa.Column(
            "cost_id",
            sa.Integer(),
            sa.ForeignKey("route_cost.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "edge_id",
            sa.BigInteger(),
            sa.ForeignKey("route_edge.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        # The edge's ends and length again: pgr_dijkstra's edge query reads this one
        # table by its key, without a join (half the time of each routing call).
        sa.Column("source", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("unsafe", sa.Float(), nullable=False),
        sa.Column("safe", sa.Float(), nullable=False),
    )
    op.create_table(
        "circuit",
        sa.Column("id", sa.Integer(), primary_key=True),
        _territory(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("origin", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("origin_label", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("destination", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("destination_label", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("waypoints", JSONB(), nullable=False, server_default="[]"),
        sa.Column("time_of_day", sa.String(length=10), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("result", JSONB()),
        sa.Column("computed_at", sa.DateTime(timezone=True)),
        sa.Column("release_id", sa.Integer()),
        sa.Column(
            "created_by", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("circuit")
    op.drop_table("route_edge_cost")
    op.drop_table("route_cost")
    op.drop_table("route_edge")
    op.drop_table("route_node")
    op.drop_table("route_graph")
    op.drop_column("street", "level")
    op.drop_column("street", "highway")
    # The pgrouting extension stays: other schemas of the database may use it.
