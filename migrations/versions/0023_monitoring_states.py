"""Monitoring states: "due soon" and "due" read from the earliest open item's due date (an
index on prescriber and next due date for the worklist's and the digest's horizons).

Revision ID: 0023_monitoring_states
Revises: 0019_results_once
Create Date: 2026-12-06 04:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_monitoring_states"
down_revision = "0019_results_once"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("monitoring_status", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_status_due", ["prescriber_id", "next_due_on"], unique=False
        )


def downgrade():
    with op.batch_alter_table("monitoring_status", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_status_due")
