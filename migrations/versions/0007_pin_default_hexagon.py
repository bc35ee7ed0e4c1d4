"""pin.hex_q, pin.hex_r: each pin's hexagon at the default size (150 m), kept by the trigger

Cube-rounding every pin on every request was most of a hexagon layer's time on 10^6
pins; the default-size layer (dashboards, the public pages, the OGC API) now groups by
two stored integers. Other sizes are still computed per request. Same rounding as
geo.hexgrid.axial_cells / axial_sql (tested).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_SIZE = 150.0


def upgrade():
    op.add_column("pin", sa.Column("hex_q", sa.BigInteger(), nullable=True))
    op.add_column("pin", sa.Column("hex_r", sa.BigInteger(), nullable=True))
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION pin_metric_xy() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            projected geometry;
            fq float8; fr float8; fs float8; rq float8; rr float8; rs float8;
            dq float8; dr float8; ds float8;
        BEGIN
            SELECT ST_Transform(NEW.geom, t.metric_srid) INTO projected
            FROM territory t WHERE t.id = NEW.territory_id;
            NEW.x_m := ST_X(projected);
            NEW.y_m := ST_Y(projected);
            -- axial hexagon of {DEFAULT_SIZE} m, cube rounding (geo.hexgrid.axial_sql)
            fq := (sqrt(3.0) / 3.0 * NEW.x_m - NEW.y_m / 3.0) / {DEFAULT_SIZE};
            fr := (2.0 / 3.0 * NEW.y_m) / {DEFAULT_SIZE};
            fs := -fq - fr;
            rq := round(fq); rr := round(fr); rs := round(fs);
            dq := abs(rq - fq); dr := abs(rr - fr); ds := abs(rs - fs);
            IF dq > dr AND dq > ds THEN
                rq := -rr - rs;
            ELSIF dr > ds THEN
                rr := -rq - rs;
            END IF;
            NEW.hex_q := rq;
            NEW.hex_r := rr;
            RETURN NEW;
        END $$;
        UPDATE pin SET geom = geom;
        """
    )
    op.alter_column("pin", "hex_q", nullable=False)
    op.alter_column("pin", "hex_r", nullable=False)


def downgrade():
    op.execute(
        """
        CREATE OR REPLACE FUNCTION pin_metric_xy() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE projected geometry;
        BEGIN
            SELECT ST_Transform(NEW.geom, t.metric_srid) INTO projected
            FROM territory t WHERE t.id = NEW.territory_id;
            NEW.x_m := ST_X(projected);
            NEW.y_m := ST_Y(projected);
            RETURN NEW;
        END $$;
        """
    )
    op.drop_column("pin", "hex_r")
    op.drop_column("pin", "hex_q")
