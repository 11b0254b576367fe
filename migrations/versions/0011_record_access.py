"""The access log: reads of patients' records, apart from the hash-chained audit trail.

Revision ID: 0011_record_access
Revises: 0010_monitoring_reminder
Create Date: 2026-11-29 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_record_access'
down_revision = '0010_monitoring_reminder'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('record_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('accessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=200), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_record_access_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_access'))
    )
    with op.batch_alter_table('record_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_access_accessed_at'), ['accessed_at'], unique=False)
        batch_op.create_index('ix_record_access_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_access_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('record_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_access_user_id'))
        batch_op.drop_index('ix_record_access_entity')
        batch_op.drop_index(batch_op.f('ix_record_access_accessed_at'))

    op.drop_table('record_access')
