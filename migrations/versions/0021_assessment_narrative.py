"""The auditor's narrative of a REMS assessment, versioned by period, signed and then locked.

Revision ID: 0021_assessment_narrative
Revises: 0019_results_once
Create Date: 2026-12-06 04:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_assessment_narrative"
down_revision = "0019_results_once"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assessment_narrative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_assessment_narrative_created_by_id_user_account")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"],
                                name=op.f("fk_assessment_narrative_updated_by_id_user_account")),
        sa.ForeignKeyConstraint(["signature_id"], ["signature.id"],
                                name=op.f("fk_assessment_narrative_signature_id_signature")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_narrative")),
        sa.UniqueConstraint("period_from", "period_to", "version",
                            name=op.f("uq_assessment_narrative_period_from_period_to_version")),
    )  # fmt: skip


def downgrade():
    op.drop_table("assessment_narrative")
