"""Daily summaries of the aggregate reports (gate decisions, denials, infusions) and the daily
snapshots of monitoring compliance and acknowledgment coverage, refreshed by
`flask rems summarise-reports`; a closed day's summary is used only while it is marked
summarised and not stale (see `rems/reports/summary_models.py` and docs/operations.md,
"Report summaries").

Plain tables on both databases (not PostgreSQL materialized views), filled by the job, not here.

Revision ID: 0028_report_summaries
Revises: 0027_scale_indexes
Create Date: 2026-12-06 07:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_report_summaries"
down_revision = "0027_scale_indexes"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def _id():
    return sa.Column("id", sa.Integer(), nullable=False)


def _counts(*names):
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def upgrade():
    op.create_table(
        "report_summary_day",
        sa.Column("report", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("refreshed_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("report", "day"),
    )
    op.create_table(
        "report_summary_stale",
        _id(),
        sa.Column("report", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("marked_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_summary_stale_report_day", "report_summary_stale", ["report", "day"])
    op.create_table(
        "summary_gate_decision_day",
        _id(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pharmacy_site_id", sa.Integer(), nullable=True),
        *_counts("requests", "authorized", "denied"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "summary_gate_denial_day",
        _id(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pharmacy_site_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("action_by", sa.Text(), nullable=True),
        *_counts("denials"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "summary_infusion_day",
        _id(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        *_counts("infusions", "deviation_free", "premedicated", "observed", "reactions",
                 "serious_reactions"),  # fmt: skip
        sa.PrimaryKeyConstraint("id"),
    )
    for table in ("summary_gate_decision_day", "summary_gate_denial_day", "summary_infusion_day"):
        op.create_index(f"ix_{table}_day", table, ["day"])
    op.create_table(
        "summary_monitoring_compliance",
        _id(),
        sa.Column("taken_at", MOMENT, nullable=False),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column("test_code", sa.String(length=40), nullable=False),
        sa.Column("patient_state", sa.String(length=2), nullable=True),
        *_counts("patients", "overdue", "satisfied", "waived"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_summary_monitoring_compliance_prescriber_id",
        "summary_monitoring_compliance",
        ["prescriber_id"],
    )
    op.create_table(
        "summary_acknowledgment_coverage",
        _id(),
        sa.Column("taken_at", MOMENT, nullable=False),
        sa.Column("document_version_id", sa.Integer(), nullable=True),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column("planned_site_id", sa.Integer(), nullable=True),
        sa.Column("patient_state", sa.String(length=2), nullable=True),
        *_counts("patients"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("summary_acknowledgment_coverage")
    op.drop_table("summary_monitoring_compliance")
    for table in ("summary_infusion_day", "summary_gate_denial_day", "summary_gate_decision_day"):
        op.drop_index(f"ix_{table}_day", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_report_summary_stale_report_day", table_name="report_summary_stale")
    op.drop_table("report_summary_stale")
    op.drop_table("report_summary_day")
