"""near-duplicate keys: MinHash band keys of each opportunity title, for cross-source dedup

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 20:30:26.188358
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('opportunity_dedup_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_dedup_key_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_dedup_key'))
    )
    with op.batch_alter_table('opportunity_dedup_key', schema=None) as batch_op:
        batch_op.create_index('ix_opportunity_dedup_key_key', ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_dedup_key_opportunity_id'), ['opportunity_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('opportunity_dedup_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_dedup_key_opportunity_id'))
        batch_op.drop_index('ix_opportunity_dedup_key_key')

    op.drop_table('opportunity_dedup_key')
