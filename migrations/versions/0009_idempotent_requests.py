"""The first answer to an infusion or reversal sent with an Idempotency-Key.

Revision ID: 0009_idempotency
Revises: 0008_monitoring
Create Date: 2026-11-29 01:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_idempotency'
down_revision = '0008_monitoring'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotent_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=80), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotent_request_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_request')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotent_request_user_id_key'))
    )


def downgrade():
    op.drop_table('idempotent_request')
