"""workshops, groups, categories, proposals, pins

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:32:50.592555

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

UNSAFE, SAFE, BOTH = ["unsafe"], ["safe"], ["unsafe", "safe"]
# DESIGN §2: the categories heard in the field, French labels, English codes.
SEED_CATEGORIES = [
    ("lighting", "Éclairage", "Lighting", UNSAFE, "#f2a900"),
    ("incivility", "Incivilités", "Incivility", UNSAFE, "#d1495b"),
    ("gatherings", "Regroupements", "Gatherings", UNSAFE, "#8c2f39"),
    ("drug_dealing", "Trafic de stupéfiants", "Drug dealing", UNSAFE, "#5f0f40"),
    ("urban_rodeos", "Rodéos urbains", "Urban rodeos", UNSAFE, "#9a031e"),
    ("speed_traffic", "Vitesse / circulation", "Speed / traffic", UNSAFE, "#e36414"),
    ("illegal_dumping", "Dépôts sauvages", "Illegal dumping", UNSAFE, "#7f5539"),
    ("street_mechanics", "Mécanique sauvage", "Street car repairs", UNSAFE, "#6c584c"),
    ("harassment", "Harcèlement", "Harassment", UNSAFE, "#b5179e"),
    ("theft_burglary", "Vols / cambriolages", "Theft / burglary", UNSAFE, "#3a0ca3"),
    ("noise", "Bruit", "Noise", UNSAFE, "#7209b7"),
    ("animals", "Animaux", "Animals", UNSAFE, "#606c38"),
    ("layout_corners", "Aménagement / recoins", "Layout / hidden corners", UNSAFE, "#495057"),
    ("public_drinking", "Alcoolisation", "Public drinking", UNSAFE, "#c1121f"),
    ("human_presence", "Présence humaine / commerces", "People around / shops", SAFE, "#2a9d8f"),
    ("good_lighting", "Bon éclairage", "Good lighting", SAFE, "#e9c46a"),
    ("mediators_police", "Présence de médiateurs ou de police", "Mediators or police around",
     SAFE, "#264653"),
    ("social_ties", "Lien social", "Social ties", SAFE, "#52b788"),
    ("open_maintained", "Espace ouvert et entretenu", "Open, well-kept space", SAFE, "#40916c"),
    ("other", "Autre", "Other", BOTH, "#6c757d"),
]

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=50), nullable=False),
    sa.Column('label_fr', sa.String(length=100), nullable=False),
    sa.Column('label_en', sa.String(length=100), nullable=False),
    sa.Column('feelings', postgresql.ARRAY(sa.String(length=10)), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('workshop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('edition', sa.String(length=100), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('atelier', 'assises', 'marche_exploratoire', 'cellule_de_veille', 'questionnaire')", name='ck_workshop_kind'),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name='ck_workshop_status'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_territory_id'), ['territory_id'], unique=False)

    op.create_table('workshop_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('join_code', sa.String(length=16), nullable=False),
    sa.Column('troubles', sa.Text(), nullable=False),
    sa.Column('causes', sa.Text(), nullable=False),
    sa.Column('solutions', sa.Text(), nullable=False),
    sa.Column('residents_role', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('join_code')
    )
    with op.batch_alter_table('workshop_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_group_territory_id'), ['territory_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workshop_group_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('workshop_quartier',
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('quartier_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['quartier_id'], ['quartier.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workshop_id', 'quartier_id')
    )
    op.create_geospatial_table('pin',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('feeling', sa.String(length=10), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('time_of_day', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('comment_status', sa.String(length=10), nullable=True),
    sa.Column('moderated_by', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("comment_status IS NULL OR comment_status IN ('pending', 'approved', 'rejected', 'purged')", name='ck_pin_comment_status'),
    sa.CheckConstraint("feeling IN ('unsafe', 'safe')", name='ck_pin_feeling'),
    sa.CheckConstraint("time_of_day IN ('morning', 'day', 'evening', 'night', 'always')", name='ck_pin_time_of_day'),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['workshop_group.id'], ),
    sa.ForeignKeyConstraint(['moderated_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pin', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_pin_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_pin_group_id'), ['group_id'], unique=False)
        batch_op.create_index('ix_pin_territory_filters', ['territory_id', 'feeling', 'category_id', 'time_of_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_pin_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['workshop_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_territory_id'), ['territory_id'], unique=False)
    category = sa.table(
        "category",
        sa.column("code", sa.String), sa.column("label_fr", sa.String),
        sa.column("label_en", sa.String), sa.column("feelings", postgresql.ARRAY(sa.String)),
        sa.column("colour", sa.String), sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(category, [
        {"code": code, "label_fr": fr, "label_en": en, "feelings": feelings, "colour": colour,
         "position": i, "active": True}
        for i, (code, fr, en, feelings, colour) in enumerate(SEED_CATEGORIES)
    ])


def downgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_territory_id'))

    op.drop_table('proposal')
    with op.batch_alter_table('pin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_workshop_id'))
        batch_op.drop_index('ix_pin_territory_filters')
        batch_op.drop_index(batch_op.f('ix_pin_group_id'))
        batch_op.drop_geospatial_index('idx_pin_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('pin')
    op.drop_table('workshop_quartier')
    with op.batch_alter_table('workshop_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_group_workshop_id'))
        batch_op.drop_index(batch_op.f('ix_workshop_group_territory_id'))

    op.drop_table('workshop_group')
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_territory_id'))

    op.drop_table('workshop')
    op.drop_table('category')
