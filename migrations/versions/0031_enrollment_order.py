"""The enrollments report's period and order as one index: patient (created_at, rems_id DESC),
read backwards for "newest first, then by REMS ID". It replaces the index on created_at alone,
which gave the period but left every patient enrolled at the same moment to be sorted (figures
in bench/README.md, "National volume").

Revision ID: 0031_enrollment_order
Revises: 0030_item_states
Create Date: 2026-12-06 11:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031_enrollment_order"
down_revision = "0030_item_states"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_patient_enrollment_order", "patient", ["created_at", sa.text("rems_id DESC")]
    )
    op.drop_index("ix_patient_created_at", table_name="patient")


def downgrade():
    op.create_index("ix_patient_created_at", "patient", ["created_at"])
    op.drop_index("ix_patient_enrollment_order", table_name="patient")
