"""Password resets by an administrator: a password that must be changed at the next sign-in, and
the moment an account's failed sign-ins were last cleared (reset or unlock).

Revision ID: 0012_must_change_password
Revises: 0011_record_access
Create Date: 2026-11-30 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_must_change_password"
down_revision = "0011_record_access"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("failures_cleared_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("failures_cleared_at")
        batch_op.drop_column("must_change_password")
