"""Official SDG texts imported by an operator (issue 4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:50:43.872238
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sdg_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('imported_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sdg_text')),
    sa.UniqueConstraint('code', 'language', 'source', name=op.f('uq_sdg_text_code_language_source'))
    )


def downgrade() -> None:
    op.drop_table('sdg_text')
