"""Each monitored test's item states kept with its stored state (`monitoring_status.item_states`,
one letter per item: open, satisfied, waived, closed), so the REMS assessment counts the items
due in a period from the stored rows of the patients whose records did not change after it; and
the indexes that find those that did (what was recorded from a moment on: results, doses,
waivers, extensions). Rows stored before stay NULL (counted the slow way) until
`flask rems rebuild-monitoring` fills them (figures in bench/README.md, "National volume").

Revision ID: 0030_item_states
Revises: 0029_status_snapshot
Create Date: 2026-12-06 10:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_item_states"
down_revision = "0029_status_snapshot"
branch_labels = None
depends_on = None

#: (index, table, column): what was recorded at or after a moment, by a range scan.
RECORDED = (
    ("ix_lab_result_entered_at", "lab_result", "entered_at"),
    ("ix_infusion_recorded_at", "infusion", "recorded_at"),
    ("ix_prior_dose_recorded_at", "prior_dose", "recorded_at"),
    ("ix_monitoring_waiver_waived_at", "monitoring_waiver", "waived_at"),
    ("ix_monitoring_extension_extended_at", "monitoring_extension", "extended_at"),
)
UNSTATED = sa.text("item_states IS NULL")


def upgrade():
    with op.batch_alter_table("monitoring_status") as batch:
        batch.add_column(sa.Column("item_states", sa.Text(), nullable=True))
    op.create_index(
        "ix_monitoring_status_unstated", "monitoring_status", ["patient_id"],
        postgresql_where=UNSTATED, sqlite_where=UNSTATED,
    )  # fmt: skip
    for index, table, column in RECORDED:
        op.create_index(index, table, [column])


def downgrade():
    for index, table, _ in RECORDED:
        op.drop_index(index, table_name=table)
    op.drop_index("ix_monitoring_status_unstated", table_name="monitoring_status")
    with op.batch_alter_table("monitoring_status") as batch:
        batch.drop_column("item_states")
