"""pin.quartier_id: the quartier each pin lies in, kept by a trigger

Exports, the OGC API and per-quartier summaries name each pin's quartier; looking it
up with ST_Intersects on every read cost more than the rest of a 10^6-pin export.
A pin within the boundary tolerance but outside every quartier gets the nearest one
within 50 m; re-importing quartiers recomputes the territory's pins
(``pin_quartier`` is called by ``app.territories.store_quartiers``).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "pin",
        sa.Column(
            "quartier_id",
            sa.Integer(),
            sa.ForeignKey("quartier.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    op.execute(
        """
        CREATE FUNCTION pin_quartier(territory integer, point geometry) RETURNS integer
        LANGUAGE sql STABLE AS $$
            SELECT coalesce(
                (SELECT q.id FROM quartier q
                 WHERE q.territory_id = territory AND ST_Intersects(q.geom, point)
                 ORDER BY q.id LIMIT 1),
                -- within the boundary tolerance: the nearest quartier (0.002° > 50 m)
                (SELECT q.id FROM quartier q
                 WHERE q.territory_id = territory AND q.geom && ST_Expand(point, 0.002)
                   AND ST_DWithin(q.geom::geography, point::geography, 50)
                 ORDER BY ST_Distance(q.geom::geography, point::geography), q.id LIMIT 1))
        $$;
        CREATE FUNCTION pin_set_quartier() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.quartier_id := pin_quartier(NEW.territory_id, NEW.geom);
            RETURN NEW;
        END $$;
        CREATE TRIGGER pin_set_quartier BEFORE INSERT OR UPDATE OF geom, territory_id ON pin
            FOR EACH ROW EXECUTE FUNCTION pin_set_quartier();
        UPDATE pin SET quartier_id = pin_quartier(territory_id, geom);
        """
    )
    op.create_index("ix_pin_quartier_id", "pin", ["quartier_id"])


def downgrade():
    op.drop_index("ix_pin_quartier_id", table_name="pin")
    op.execute("DROP TRIGGER pin_set_quartier ON pin")
    op.execute("DROP FUNCTION pin_set_quartier()")
    op.execute("DROP FUNCTION pin_quartier(integer, geometry)")
    op.drop_column("pin", "quartier_id")
