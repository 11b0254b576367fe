"""The access log read by reader: an index on the reader's name, newest read first.

Revision ID: 0022_access_log
Revises: 0021_assessment_narrative
Create Date: 2026-12-06 04:30:00

"""
from alembic import op


revision = '0022_access_log'
down_revision = "0021_assessment_narrative"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('record_access', schema=None) as batch_op:
        batch_op.create_index('ix_record_access_actor', ['actor_label', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('record_access', schema=None) as batch_op:
        batch_op.drop_index('ix_record_access_actor')
