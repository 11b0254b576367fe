"""The periodic patient statuses' daily snapshot (`summary_patient_statuses`, taken by
`flask rems summarise-reports` as the monitoring-compliance one is), and the overdue report's
order as one index: most overdue first, the patients of a day in enrollment order
(monitoring_status: overdue_after, patient_id, test_code), which replaces the index on
overdue_after alone (figures in bench/README.md, "National volume").

Revision ID: 0029_status_snapshot
Revises: 0028_report_summaries
Create Date: 2026-12-06 08:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_status_snapshot"
down_revision = "0028_report_summaries"
branch_labels = None
depends_on = None

ORDER = ["overdue_after", "patient_id", "test_code"]


def upgrade():
    op.create_index("ix_monitoring_status_overdue_order", "monitoring_status", ORDER)
    op.drop_index("ix_monitoring_status_overdue_after", table_name="monitoring_status")
    op.create_table(
        "summary_patient_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column("patient_state", sa.String(length=2), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ("patients", "due", "overdue", "signed")),  # fmt: skip
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_summary_patient_statuses_prescriber_id", "summary_patient_statuses", ["prescriber_id"]
    )


def downgrade():
    op.drop_index(
        "ix_summary_patient_statuses_prescriber_id", table_name="summary_patient_statuses"
    )
    op.drop_table("summary_patient_statuses")
    op.create_index("ix_monitoring_status_overdue_after", "monitoring_status", ["overdue_after"])
    op.drop_index("ix_monitoring_status_overdue_order", table_name="monitoring_status")
