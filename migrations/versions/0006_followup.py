"""follow-up: themes, proposal themes, actions with zones, links and timeline

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The eight themes of the Quimper assises de la tranquillité publique (editable).
SEED_THEMES = [
    ("aller_vers", "Aller-vers", "Outreach"),
    ("public_space", "Qualité de l'espace public", "Quality of public space"),
    ("awareness", "Sensibilisation", "Awareness"),
    ("partners_acquaintance", "Interconnaissance des acteurs", "Partners knowing each other"),
    ("citizen_involvement", "Implication citoyenne", "Citizen involvement"),
    (
        "alternative_sentences",
        "Peines alternatives et sanctions éducatives",
        "Alternative sentences and educational sanctions",
    ),
    ("road_sharing", "Partage de la voirie", "Sharing the road"),
    ("animals", "Place de l'animal", "Animals in the city"),
]


def upgrade():
    theme = op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(50), nullable=False, unique=True),
        sa.Column("label_fr", sa.String(120), nullable=False),
        sa.Column("label_en", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.bulk_insert(
        theme,
        [
            {"code": c, "label_fr": fr, "label_en": en, "position": i, "active": True}
            for i, (c, fr, en) in enumerate(SEED_THEMES)
        ],
    )
    op.add_column(
        "proposal",
        sa.Column("theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="SET NULL")),
    )
    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory_id", sa.Integer(), sa.ForeignKey("territory.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="SET NULL")),
        sa.Column("partners", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("due_on", sa.Date()),
        sa.Column("zone", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.Column("zone_kind", sa.String(10)),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("app_user.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('proposed', 'engaged', 'done', 'abandoned')", name="ck_action_status"
        ),
        sa.CheckConstraint(
            "zone_kind IS NULL OR zone_kind IN ('drawn', 'hotspots', 'quartiers')",
            name="ck_action_zone_kind",
        ),
    )
    op.create_index("ix_action_territory_id", "action", ["territory_id"])
    op.create_index("idx_action_zone", "action", ["zone"], postgresql_using="gist")
    op.create_table(
        "action_proposal",
        sa.Column(
            "action_id", sa.Integer(), sa.ForeignKey("action.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "proposal_id", sa.Integer(), sa.ForeignKey("proposal.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "action_workshop",
        sa.Column(
            "action_id", sa.Integer(), sa.ForeignKey("action.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "workshop_id", sa.Integer(), sa.ForeignKey("workshop.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "action_update",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "action_id", sa.Integer(), sa.ForeignKey("action.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("app_user.id")),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status_from", sa.String(10)),
        sa.Column("status_to", sa.String(10)),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_action_update_action_id", "action_update", ["action_id"])


def downgrade():
    op.drop_table("action_update")
    op.drop_table("action_workshop")
    op.drop_table("action_proposal")
    op.drop_table("action")
    op.drop_column("proposal", "theme_id")
    op.drop_table("theme")
