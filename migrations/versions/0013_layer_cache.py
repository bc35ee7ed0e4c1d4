"""A data version per territory, bumped by every write the layers read, and the shared
layer cache keyed on it

``data_version`` holds one version per territory. Statement triggers on ``pin`` (insert,
update, delete), ``public_release`` (insert, delete) and ``quartier`` (any write) give
the territories the statement touched a new version from one sequence (never reused,
even when a territory is deleted and made again), so a cached layer is valid
while its territory's counter is unchanged — for every worker and node, as the counter
lives in the database (DESIGN §3). It is a table of its own rather than a column of
``territory`` so that pin writes never lock the territory row.

``layer_cache`` keeps computed layer documents (UNLOGGED: a cache is worth nothing after
a crash) with the version they were computed at.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (table, events): one statement trigger per event, as transition tables require.
WATCHED = (
    ("pin", ("INSERT", "UPDATE", "DELETE")),
    ("public_release", ("INSERT", "DELETE")),
    ("quartier", ("INSERT", "UPDATE", "DELETE")),
)
TRANSITION = {"INSERT": "NEW TABLE AS changed", "UPDATE": "NEW TABLE AS changed",
              "DELETE": "OLD TABLE AS changed"}


def upgrade():
    op.create_table(
        "data_version",
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey("territory.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "layer_cache",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey("territory.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        prefixes=["UNLOGGED"],
    )
    # One sequence for every territory: a version is never given twice, even after a
    # territory is deleted and made again, so a stored document can never match new data.
    op.execute("CREATE SEQUENCE data_version_seq")
    op.execute(
        """
        CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_version AS d (territory_id, version)
            SELECT territory_id, nextval('data_version_seq')
            FROM (SELECT DISTINCT territory_id FROM changed
                  WHERE territory_id IS NOT NULL ORDER BY territory_id) AS touched
            ON CONFLICT (territory_id) DO UPDATE SET version = EXCLUDED.version;
            RETURN NULL;
        END $$
        """
    )
    for table, events in WATCHED:
        for event in events:
            op.execute(
                f"CREATE TRIGGER {table}_bump_data_version_{event.lower()} AFTER {event} "
                f"ON {table} REFERENCING {TRANSITION[event]} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()"
            )


def downgrade():
    for table, events in WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER {table}_bump_data_version_{event.lower()} ON {table}")
    op.execute("DROP FUNCTION bump_data_version()")
    op.execute("DROP SEQUENCE data_version_seq")
    op.drop_table("layer_cache")
    op.drop_table("data_version")
