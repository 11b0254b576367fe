"""Time zones: each healthcare setting and each prescriber practice may name its IANA zone.

Revision ID: 0016_time_zones
Revises: 0015_decision_parties
Create Date: 2026-11-29 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_time_zones"
down_revision = "0015_decision_parties"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("prescriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("prescriber", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
