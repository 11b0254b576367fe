"""Monitoring states: "due soon" and "due" read from the earliest open item's due date (an
index on prescriber and next due date for the worklist's and the digest's horizons);
monitoring extensions; periodic patient statuses (prepared, then signed by the prescriber).

Revision ID: 0023_monitoring_states
Revises: 0022_access_log
Create Date: 2026-12-06 04:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_monitoring_states"
down_revision = "0022_access_log"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monitoring_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("previous_ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extended_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["extended_by_id"], ["user_account.id"],
                                name=op.f("fk_monitoring_extension_extended_by_id_user_account")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_monitoring_extension_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_extension")),
    )  # fmt: skip
    with op.batch_alter_table("monitoring_extension", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_extension_patient_id"), ["patient_id"], unique=False
        )
    op.create_table(
        "patient_status_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("results_reviewed", sa.Boolean(), nullable=False),
        sa.Column("new_autoimmune_event", sa.Boolean(), nullable=False),
        sa.Column("new_malignancy", sa.Boolean(), nullable=False),
        sa.Column("pregnancy_status", sa.String(length=20), nullable=False),
        sa.Column("still_under_care", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_patient_status_report_patient_id_patient")),
        sa.ForeignKeyConstraint(["prepared_by_id"], ["user_account.id"],
                                name=op.f("fk_patient_status_report_prepared_by_id_user_account")),
        sa.ForeignKeyConstraint(["signed_by_id"], ["user_account.id"],
                                name=op.f("fk_patient_status_report_signed_by_id_user_account")),
        sa.ForeignKeyConstraint(["signature_id"], ["signature.id"],
                                name=op.f("fk_patient_status_report_signature_id_signature")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_status_report")),
        sa.UniqueConstraint("patient_id", "period",
                            name=op.f("uq_patient_status_report_patient_id_period")),
    )  # fmt: skip
    with op.batch_alter_table("patient_status_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_status_report_patient_id"), ["patient_id"], unique=False
        )
    op.create_table(
        "patient_status_due",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column("anchor_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("next_period", sa.Integer(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("overdue_after", sa.Date(), nullable=True),
        sa.Column("open_periods", sa.String(length=400), nullable=False),
        sa.Column("signed", sa.Integer(), nullable=False),
        sa.Column("periods_total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_patient_status_due_patient_id_patient")),
        sa.ForeignKeyConstraint(["prescriber_id"], ["prescriber.id"],
                                name=op.f("fk_patient_status_due_prescriber_id_prescriber")),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_status_due")),
    )  # fmt: skip
    with op.batch_alter_table("patient_status_due", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_status_due_due", ["prescriber_id", "next_due_on"], unique=False
        )
    with op.batch_alter_table("monitoring_status", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitoring_status_due", ["prescriber_id", "next_due_on"], unique=False
        )


def downgrade():
    with op.batch_alter_table("monitoring_status", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_status_due")
    with op.batch_alter_table("patient_status_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_status_report_patient_id"))
    op.drop_table("patient_status_report")
    with op.batch_alter_table("monitoring_extension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_extension_patient_id"))
    op.drop_table("monitoring_extension")
    with op.batch_alter_table("patient_status_due", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_status_due_due")
    op.drop_table("patient_status_due")
