"""Perception questionnaires: versioned question sets, questionnaires with an opening
window, one response per device, moderated free text, and the public release of answers

``territory`` gains ``time_zone`` (a questionnaire opens and closes on dates read in it):
Europe/Paris, Europe/Brussels for Belgian territories.

``question_set`` / ``question``: a territory's questions, versioned by ``lineage`` and
``version``; a version with answers is ``frozen``. ``survey``: a question set open between
two dates, tied to its workshop of kind ``questionnaire`` (public code, map pins).
``survey_response``: one per device, its id made by the browser; no IP, no device id.
``survey_text``: free text, pending until moderated. ``survey_release``: the noisy,
k-thresholded counts every public figure is read from.

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

QUESTION_KINDS = ("single", "multiple", "scale", "text", "map")  # app.models.QUESTION_KINDS
QUESTION_SECTIONS = ("main", "profile")  # app.models.QUESTION_SECTIONS
SURVEY_TEXT_STATUSES = ("pending", "approved", "rejected")  # app.models.SURVEY_TEXT_STATUSES


def _territory():
    return sa.Column(
        "territory_id",
        sa.Integer(),
        sa.ForeignKey("territory.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _survey():
    return sa.Column(
        "survey_id",
        sa.Integer(),
        sa.ForeignKey("survey.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def upgrade():
    op.add_column(
        "territory",
        sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="Europe/Paris"),
    )
    op.execute("UPDATE territory SET time_zone = 'Europe/Brussels' WHERE country = 'BE'")
    op.create_table(
        "question_set",
        sa.Column("id", sa.Integer(), primary_key=True),
        _territory(),
        sa.Column("lineage", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("territory_id", "lineage", "version"),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "question_set_id",
            sa.Integer(),
            sa.ForeignKey("question_set.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("section", sa.String(length=10), nullable=False, server_default="main"),
        sa.Column("label_fr", sa.Text(), nullable=False),
        sa.Column("label_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("help_fr", sa.Text(), nullable=False, server_default=""),
        sa.Column("help_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("options", JSONB(), nullable=False, server_default="[]"),
        sa.Column("allow_other", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("required", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("question_set_id", "key"),
        sa.CheckConstraint(f"kind IN {QUESTION_KINDS}", name="ck_question_kind"),
        sa.CheckConstraint(f"section IN {QUESTION_SECTIONS}", name="ck_question_section"),
    )
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), primary_key=True),
        _territory(),
        sa.Column(
            "workshop_id",
            sa.Integer(),
            sa.ForeignKey("workshop.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "question_set_id",
            sa.Integer(),
            sa.ForeignKey("question_set.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("code", sa.String(length=16), nullable=False, unique=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "survey_response",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _survey(),
        _territory(),
        sa.Column("answers", JSONB(), nullable=False, server_default="{}"),
        sa.Column(
            "quartier_id",
            sa.Integer(),
            sa.ForeignKey("quartier.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "survey_text",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "response_id",
            sa.Uuid(),
            sa.ForeignKey("survey_response.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _survey(),
        _territory(),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False, server_default="pending"),
        sa.Column(
            "moderated_by", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="SET NULL")
        ),
        sa.Column("moderated_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("response_id", "question_key"),
        sa.CheckConstraint(f"status IN {SURVEY_TEXT_STATUSES}", name="ck_survey_text_status"),
    )
    op.create_table(
        "survey_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        _survey(),
        _territory(),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("tables", JSONB(), nullable=False),
    )


def downgrade():
    op.drop_table("survey_release")
    op.drop_table("survey_text")
    op.drop_table("survey_response")
    op.drop_table("survey")
    op.drop_table("question")
    op.drop_table("question_set")
    op.drop_column("territory", "time_zone")
