"""pin.x_m, pin.y_m: each pin's coordinates in its territory's metric CRS

Layers count pins per metric cell; storing the projected coordinates (kept by a
trigger, whoever writes the pin) spares a ST_Transform of every pin on every request.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("pin", sa.Column("x_m", sa.Float(), nullable=True))
    op.add_column("pin", sa.Column("y_m", sa.Float(), nullable=True))
    op.execute(
        """
        CREATE FUNCTION pin_metric_xy() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE projected geometry;
        BEGIN
            SELECT ST_Transform(NEW.geom, t.metric_srid) INTO projected
            FROM territory t WHERE t.id = NEW.territory_id;
            NEW.x_m := ST_X(projected);
            NEW.y_m := ST_Y(projected);
            RETURN NEW;
        END $$;
        CREATE TRIGGER pin_metric_xy BEFORE INSERT OR UPDATE OF geom, territory_id ON pin
            FOR EACH ROW EXECUTE FUNCTION pin_metric_xy();
        UPDATE pin p SET x_m = ST_X(ST_Transform(p.geom, t.metric_srid)),
                         y_m = ST_Y(ST_Transform(p.geom, t.metric_srid))
        FROM territory t WHERE t.id = p.territory_id;
        """
    )
    op.alter_column("pin", "x_m", nullable=False)
    op.alter_column("pin", "y_m", nullable=False)
    op.create_index("ix_pin_territory_created", "pin", ["territory_id", "created_at"])


def downgrade():
    op.drop_index("ix_pin_territory_created", table_name="pin")
    op.execute("DROP TRIGGER pin_metric_xy ON pin")
    op.execute("DROP FUNCTION pin_metric_xy()")
    op.drop_column("pin", "y_m")
    op.drop_column("pin", "x_m")
