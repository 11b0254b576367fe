"""Course drafts: a Patient Authorization and Baseline Lab Form prepared by a delegate, waiting
for the prescriber's signature (one open draft per patient).

Revision ID: 0013_course_drafts
Revises: 0012_must_change_password
Create Date: 2026-11-30 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_course_drafts"
down_revision = "0012_must_change_password"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "course_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("prescriber_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "signed", "discarded", name="course_draft_status", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discard_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_course_draft_patient_id_patient")),
        sa.ForeignKeyConstraint(["prescriber_id"], ["prescriber.id"], name=op.f("fk_course_draft_prescriber_id_prescriber")),
        sa.ForeignKeyConstraint(["prepared_by_id"], ["user_account.id"], name=op.f("fk_course_draft_prepared_by_id_user_account")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"], name=op.f("fk_course_draft_updated_by_id_user_account")),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_course_draft_course_id_course")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"], name=op.f("fk_course_draft_closed_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_draft")),
    )
    with op.batch_alter_table("course_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_draft_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_course_draft_one_open_per_patient", ["patient_id"], unique=True,
            sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
        )


def downgrade():
    with op.batch_alter_table("course_draft", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_course_draft_one_open_per_patient",
            sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_course_draft_patient_id"))
    op.drop_table("course_draft")
