"""Rate-limit counters in PostgreSQL, shared by every worker and node

Each worker kept its own counters in memory, so N workers let N times the limit
through. One row per key (``code:<join code>``, ``client:<keyed hash>``, …) holds the
start of its current window and the count in it; UNLOGGED because counters are worth
nothing after a crash.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_counter",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        prefixes=["UNLOGGED"],
    )


def downgrade():
    op.drop_table("rate_counter")
