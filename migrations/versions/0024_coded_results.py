"""Coded results and abnormal-result alerts: each result's coded values (analyte, LOINC code,
number in the analyte's stored UCUM unit, the number and unit reported), a finding test's
structured finding, and the alerts the program file's rules raise on the values.

Existing results keep their free-text value and unit and get no coded values: nothing is
guessed from old text.

Revision ID: 0024_coded_results
Revises: 0023_monitoring_states
Create Date: 2026-12-06 04:40:00

"""

import sqlalchemy as sa
from alembic import op

import rems.db

# revision identifiers, used by Alembic.
revision = "0024_coded_results"
down_revision = "0023_monitoring_states"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, rems.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "result_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("analyte", sa.String(length=40), nullable=False),
        sa.Column("loinc", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("reported_value", sa.Float(), nullable=False),
        sa.Column("reported_unit", sa.String(length=40), nullable=False),
        sa.Column("flag", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["result_id"], ["lab_result.id"], name=op.f("fk_result_value_result_id_lab_result")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_value")),
        sa.UniqueConstraint("result_id", "analyte", name=op.f("uq_result_value_result_id_analyte")),
    )
    op.create_index("ix_result_value_analyte", "result_value", ["analyte", "result_id"])
    op.create_table(
        "lab_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("result_value_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("analyte", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("compared_with", sa.String(length=200), nullable=False),
        _when("raised_at", False),
        _when("acknowledged_at", True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("action_note", sa.Text(), nullable=True),
        _when("escalated_at", True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["user_account.id"],
            name=op.f("fk_lab_alert_acknowledged_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_lab_alert_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["prescriber_id"], ["prescriber.id"], name=op.f("fk_lab_alert_prescriber_id_prescriber")
        ),
        sa.ForeignKeyConstraint(
            ["result_id"], ["lab_result.id"], name=op.f("fk_lab_alert_result_id_lab_result")
        ),
        sa.ForeignKeyConstraint(
            ["result_value_id"], ["result_value.id"],
            name=op.f("fk_lab_alert_result_value_id_result_value"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_alert")),
        sa.UniqueConstraint("result_value_id", "rule", name=op.f("uq_lab_alert_result_value_id_rule")),
    )  # fmt: skip
    op.create_index("ix_lab_alert_open", "lab_alert", ["prescriber_id", "acknowledged_at"])
    op.create_index(op.f("ix_lab_alert_patient_id"), "lab_alert", ["patient_id"])
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finding", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("finding_description", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.drop_column("finding_description")
        batch_op.drop_column("finding")
    op.drop_index(op.f("ix_lab_alert_patient_id"), table_name="lab_alert")
    op.drop_index("ix_lab_alert_open", table_name="lab_alert")
    op.drop_table("lab_alert")
    op.drop_index("ix_result_value_analyte", table_name="result_value")
    op.drop_table("result_value")
