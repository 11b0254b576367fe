"""Monitoring reminders: which items each digest told of, so none is repeated in a state.

Revision ID: 0010_monitoring_reminder
Revises: 0009_idempotency
Create Date: 2026-11-29 02:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_monitoring_reminder"
down_revision = "0009_idempotency"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monitoring_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=40), nullable=False),
        sa.Column("item", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"], ["notification.id"],
            name=op.f("fk_monitoring_reminder_notification_id_notification"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_monitoring_reminder_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_reminder")),
        sa.UniqueConstraint(
            "patient_id", "test_code", "item", "state",
            name=op.f("uq_monitoring_reminder_patient_id_test_code_item_state"),
        ),
    )  # fmt: skip
    with op.batch_alter_table("monitoring_reminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_reminder_notification_id"), ["notification_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("monitoring_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_reminder_notification_id"))
    op.drop_table("monitoring_reminder")
