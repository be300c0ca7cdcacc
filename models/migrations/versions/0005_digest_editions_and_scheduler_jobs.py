"""digest editions, entry details, ledger kind and claim, scheduler job table

The APScheduler job table is created here so that `convoca db upgrade` builds the whole schema.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:29:48.677515
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import models.base
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('digest_edition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('calendar', sa.Text(), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_digest_edition_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_edition')),
    sa.UniqueConstraint('municipality_id', 'kind', 'period', name=op.f('uq_digest_edition_municipality_id_kind_period'))
    )
    with op.batch_alter_table('digest_edition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_edition_municipality_id'), ['municipality_id'], unique=False)

    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edition_id', sa.Integer(), nullable=True))
        # Existing rows get an empty object; new rows get theirs from the model.
        batch_op.add_column(sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                                      nullable=False, server_default=sa.text("'{}'")))
        batch_op.create_index(batch_op.f('ix_digest_entry_edition_id'), ['edition_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_digest_entry_edition_id_digest_edition'), 'digest_edition', ['edition_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('digest_ledger', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edition_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='digest', nullable=False))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('last_attempt_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_digest_ledger_municipality_id_recipient_period'), type_='unique')
        batch_op.create_index(batch_op.f('ix_digest_ledger_edition_id'), ['edition_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_digest_ledger_municipality_id_recipient_kind_period'), ['municipality_id', 'recipient', 'kind', 'period'])
        batch_op.create_foreign_key(batch_op.f('fk_digest_ledger_edition_id_digest_edition'), 'digest_edition', ['edition_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('digest_ledger', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_digest_ledger_edition_id_digest_edition'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_digest_ledger_municipality_id_recipient_kind_period'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_digest_ledger_edition_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_digest_ledger_municipality_id_recipient_period'), ['municipality_id', 'recipient', 'period'])
        batch_op.drop_column('last_attempt_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('kind')
        batch_op.drop_column('edition_id')

    with op.batch_alter_table('digest_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_digest_entry_edition_id_digest_edition'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_digest_entry_edition_id'))
        batch_op.drop_column('details')
        batch_op.drop_column('edition_id')

    with op.batch_alter_table('digest_edition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_edition_municipality_id'))

    op.drop_table('digest_edition')
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))

    op.drop_table('apscheduler_jobs')
