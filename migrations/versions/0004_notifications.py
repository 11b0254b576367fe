"""The notifications outbox: one message per row, with its delivery state and dedupe key.

Revision ID: 0004_notifications
Revises: 0003_first_dose_by
Create Date: 2026-11-29 02:00:00

"""
from alembic import op
import sqlalchemy as sa



revision = '0004_notifications'
down_revision = '0003_first_dose_by'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=True),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column(
            'state',
            sa.Enum('queued', 'sent', 'failed', name='delivery_state', native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['user_account.id'],
                                name=op.f('fk_notification_recipient_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key')),
    )
    op.create_index('ix_notification_recipient_created', 'notification',
                    ['recipient_id', 'created_at'], unique=False)
    op.create_index('ix_notification_state_created', 'notification',
                    ['state', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_notification_state_created', table_name='notification')
    op.drop_index('ix_notification_recipient_created', table_name='notification')
    op.drop_table('notification')
