"""Deviations: protocol deviations stored with their dose, visits that ended not infused, and
non-compliance cases with their corrective action and review.

Revision ID: 0017_deviations
Revises: 0016_time_zones
Create Date: 2026-12-06 02:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_deviations"
down_revision = "0016_time_zones"
branch_labels = None
depends_on = None

OPEN = sa.text("state <> 'closed'")


def upgrade():
    _case_table()
    _deviation_table()
    _not_infused_table()


def _case_table():
    op.create_table(
        "noncompliance_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("party_key", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("prescriber_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum("open", "action_submitted", "more_needed", "closed", name="case_state",
                    native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),  # fmt: skip
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("action_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action_by_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"],
                                name=op.f("fk_noncompliance_case_site_id_site")),
        sa.ForeignKeyConstraint(["prescriber_id"], ["prescriber.id"],
                                name=op.f("fk_noncompliance_case_prescriber_id_prescriber")),
        sa.ForeignKeyConstraint(["action_by_id"], ["user_account.id"],
                                name=op.f("fk_noncompliance_case_action_by_id_user_account")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["user_account.id"],
                                name=op.f("fk_noncompliance_case_reviewed_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_noncompliance_case")),
    )  # fmt: skip
    with op.batch_alter_table("noncompliance_case", schema=None) as batch_op:
        batch_op.create_index("ix_noncompliance_case_party_key", ["party_key"], unique=False)
        batch_op.create_index("ix_noncompliance_case_state_order", ["state", "id"], unique=False)
        batch_op.create_index("uq_noncompliance_case_one_open_per_party", ["party_key"],
                              unique=True, sqlite_where=OPEN, postgresql_where=OPEN)  # fmt: skip


def _deviation_table():
    op.create_table(
        "infusion_deviation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("infusion_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("party", sa.String(length=12), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("acknowledged_reason", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["infusion_id"], ["infusion.id"],
                                name=op.f("fk_infusion_deviation_infusion_id_infusion")),
        sa.ForeignKeyConstraint(["case_id"], ["noncompliance_case.id"],
                                name=op.f("fk_infusion_deviation_case_id_noncompliance_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_infusion_deviation")),
        sa.UniqueConstraint("infusion_id", "code",
                            name=op.f("uq_infusion_deviation_infusion_id_code")),
    )  # fmt: skip
    with op.batch_alter_table("infusion_deviation", schema=None) as batch_op:
        batch_op.create_index("ix_infusion_deviation_code", ["code"], unique=False)
        batch_op.create_index("ix_infusion_deviation_case_id", ["case_id"], unique=False)


def _not_infused_table():
    op.create_table(
        "not_infused_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["authorization_id"], ["authorization.id"],
                                name=op.f("fk_not_infused_visit_authorization_id_authorization")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"],
                                name=op.f("fk_not_infused_visit_patient_id_patient")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"],
                                name=op.f("fk_not_infused_visit_site_id_site")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"],
                                name=op.f("fk_not_infused_visit_recorded_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_not_infused_visit")),
    )  # fmt: skip
    with op.batch_alter_table("not_infused_visit", schema=None) as batch_op:
        for column in ("authorization_id", "patient_id", "site_id"):
            batch_op.create_index(f"ix_not_infused_visit_{column}", [column], unique=False)


def downgrade():
    op.drop_table("not_infused_visit")
    op.drop_table("infusion_deviation")
    op.drop_table("noncompliance_case")
