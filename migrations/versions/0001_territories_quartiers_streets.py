"""territories, quartiers and streets

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 20:10:32.501302

"""
from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('territory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('metric_srid', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_geospatial_table('quartier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('source_digest', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('territory_id', 'code')
    )
    with op.batch_alter_table('quartier', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_quartier_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_quartier_territory_id'), ['territory_id'], unique=False)

    op.create_geospatial_table('street',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source_digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('street', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_street_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_street_territory_id'), ['territory_id'], unique=False)



def downgrade():
    with op.batch_alter_table('street', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_street_territory_id'))
        batch_op.drop_geospatial_index('idx_street_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('street')
    with op.batch_alter_table('quartier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quartier_territory_id'))
        batch_op.drop_geospatial_index('idx_quartier_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('quartier')
    op.drop_table('territory')
    # The postgis extension stays: other schemas of the database may use it.
