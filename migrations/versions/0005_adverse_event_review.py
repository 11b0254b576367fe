"""Adverse events: who reported the event, and an administrator's review of a serious one.

Revision ID: 0005_adverse_event_review
Revises: 0004_notifications
Create Date: 2026-11-29 01:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_adverse_event_review"
down_revision = "0004_notifications"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_adverse_event_reviewed_by_id_user_account"),
            "user_account",
            ["reviewed_by_id"],
            ["id"],
        )
        batch_op.create_index("ix_adverse_event_review", ["serious", "reviewed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_index("ix_adverse_event_review")
        batch_op.drop_constraint(
            batch_op.f("fk_adverse_event_reviewed_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reporter")
