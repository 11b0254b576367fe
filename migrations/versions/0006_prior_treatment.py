"""Prior treatment: historical courses (with their source document) and their doses.

Revision ID: 0006_prior_treatment
Revises: 0005_adverse_event_review
Create Date: 2026-11-29 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_prior_treatment"
down_revision = "0005_adverse_event_review"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("historical", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("source_document", sa.String(length=300), nullable=True))
    op.create_table(
        "prior_dose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("source_document", sa.String(length=300), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("dose_number > 0", name=op.f("ck_prior_dose_prior_dose_number_positive")),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"], name=op.f("fk_prior_dose_course_id_course")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_prior_dose_patient_id_patient")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_prior_dose_recorded_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_dose")),
        sa.UniqueConstraint("course_id", "dose_number", name=op.f("uq_prior_dose_course_id_dose_number")),
        sa.UniqueConstraint("patient_id", "given_on", name=op.f("uq_prior_dose_patient_id_given_on")),
    )
    with op.batch_alter_table("prior_dose", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prior_dose_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prior_dose_patient_id"), ["patient_id"], unique=False)


def downgrade():
    with op.batch_alter_table("prior_dose", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prior_dose_patient_id"))
        batch_op.drop_index(batch_op.f("ix_prior_dose_course_id"))
    op.drop_table("prior_dose")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("source_document")
        batch_op.drop_column("historical")
