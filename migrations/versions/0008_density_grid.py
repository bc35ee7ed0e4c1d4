"""The density counting grid per territory, and each pin's cell in it, kept stored

A density layer counts pins per cell of a fine grid laid over the territory's quartiers
(600 cells on the longer side); grouping 10^6 pins by floor() expressions took most of
a request. The grid is fixed by the quartiers: stored on the territory by
``territory_grid`` (called at quartier import), each pin's cell kept by its trigger.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DEFAULT_SIZE = 150.0
GRID_CELLS = 600


def upgrade():
    for name in ("grid_west", "grid_south", "grid_east", "grid_north", "grid_cell"):
        op.add_column("territory", sa.Column(name, sa.Float(), nullable=True))
    op.add_column("pin", sa.Column("grid_i", sa.Integer(), nullable=True))
    op.add_column("pin", sa.Column("grid_j", sa.Integer(), nullable=True))
    op.execute(
        f"""
        CREATE FUNCTION territory_grid(tid integer, cells integer) RETURNS void
        LANGUAGE plpgsql AS $$
        DECLARE box box2d; size float8;
        BEGIN
            SELECT ST_Extent(ST_Transform(q.geom, t.metric_srid)) INTO box
            FROM quartier q JOIN territory t ON t.id = q.territory_id
            WHERE q.territory_id = tid;
            IF box IS NULL THEN
                UPDATE territory SET grid_west = NULL, grid_south = NULL, grid_east = NULL,
                    grid_north = NULL, grid_cell = NULL WHERE id = tid;
                UPDATE pin SET grid_i = NULL, grid_j = NULL WHERE territory_id = tid;
                RETURN;
            END IF;
            size := greatest(ST_XMax(box) - ST_XMin(box), ST_YMax(box) - ST_YMin(box)) / cells;
            UPDATE territory SET grid_west = ST_XMin(box), grid_south = ST_YMin(box),
                grid_east = ST_XMax(box), grid_north = ST_YMax(box), grid_cell = size
            WHERE id = tid;
            UPDATE pin SET grid_i = floor((x_m - ST_XMin(box)) / size),
                           grid_j = floor((y_m - ST_YMin(box)) / size)
            WHERE territory_id = tid;
        END $$;

        CREATE OR REPLACE FUNCTION pin_metric_xy() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            projected geometry; west float8; south float8; size float8;
            fq float8; fr float8; fs float8; rq float8; rr float8; rs float8;
            dq float8; dr float8; ds float8;
        BEGIN
            SELECT ST_Transform(NEW.geom, t.metric_srid), t.grid_west, t.grid_south, t.grid_cell
            INTO projected, west, south, size
            FROM territory t WHERE t.id = NEW.territory_id;
            NEW.x_m := ST_X(projected);
            NEW.y_m := ST_Y(projected);
            -- the density grid's cell (territory_grid)
            NEW.grid_i := floor((NEW.x_m - west) / size);
            NEW.grid_j := floor((NEW.y_m - south) / size);
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

        SELECT territory_grid(id, {GRID_CELLS}) FROM territory;
        """
    )


def downgrade():
    # 0007's trigger function first: this one reads the grid columns dropped below, and
    # left in place it would fail every later pin write.
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
        """
    )
    op.execute("DROP FUNCTION territory_grid(integer, integer)")
    op.drop_column("pin", "grid_j")
    op.drop_column("pin", "grid_i")
    for name in ("grid_cell", "grid_north", "grid_east", "grid_south", "grid_west"):
        op.drop_column("territory", name)
