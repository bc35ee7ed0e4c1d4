"""public_release: the noisy counts every public output is computed from (DESIGN §6)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "public_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey("territory.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "workshop_id",
            sa.Integer(),
            sa.ForeignKey("workshop.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covers_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("covers_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("scales", JSONB(), nullable=False),
        sa.Column("cells", JSONB(), nullable=False),
        sa.Column("quartiers", JSONB(), nullable=False),
    )


def downgrade():
    op.drop_table("public_release")
