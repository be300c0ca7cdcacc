"""web accounts (app_user) and the match list's covering index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:28:43.302763
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_app_user_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_municipality_id'), ['municipality_id'], unique=False)

    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.create_index('ix_match_list', ['municipality_id', 'score', 'passed_filters', 'status', 'profile_id',
                                                'opportunity_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('match', schema=None) as batch_op:
        batch_op.drop_index('ix_match_list')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_municipality_id'))

    op.drop_table('app_user')
