"""Rename pin_metric_xy to pin_keep_xy_hexagon_cell: the name of what it keeps

Since 0007 and 0008 the trigger function (and its trigger) named after the metric x/y
also keeps each pin's default hexagon and density grid cell; the quartier is kept by
its own trigger, pin_set_quartier (0005). migrations/README.md lists them all.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD, NEW = "pin_metric_xy", "pin_keep_xy_hexagon_cell"


def _rename(old: str, new: str) -> None:
    op.execute(f"ALTER FUNCTION {old}() RENAME TO {new}")
    op.execute(f"ALTER TRIGGER {old} ON pin RENAME TO {new}")


def upgrade():
    _rename(OLD, NEW)


def downgrade():
    _rename(NEW, OLD)
