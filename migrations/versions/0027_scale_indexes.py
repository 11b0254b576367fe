"""Indexes for a national program's volume (measured on the 100,000 and 1,000,000-patient
worlds of `python -m bench --only scale`; figures in bench/README.md, "National volume").

Each serves a report page that otherwise read its whole table for a period or an order:
the enrollments period (patient.created_at), the authorizations period
(authorization.issued_at), the infusions period (infusion.administered_on), a guide version's
acknowledgments in a period (acknowledgment), the program-wide overdue list's order
(monitoring_status.overdue_after), and the denials of a period (a partial index on
authorization_decision.decided_at, denials only).

Revision ID: 0027_scale_indexes
Revises: 0026_cds_clients
Create Date: 2026-12-06 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_scale_indexes"
down_revision = "0026_cds_clients"
branch_labels = None
depends_on = None

DENIED = sa.text("outcome = 'denied'")
#: (name, table, columns)
PLAIN = (
    ("ix_patient_created_at", "patient", ["created_at"]),
    ("ix_authorization_issued_at", "authorization", ["issued_at"]),
    ("ix_infusion_administered_on", "infusion", ["administered_on"]),
    ("ix_acknowledgment_version_at", "acknowledgment", ["document_version_id", "acknowledged_at"]),
    ("ix_monitoring_status_overdue_after", "monitoring_status", ["overdue_after"]),
)


def upgrade():
    for name, table, columns in PLAIN:
        op.create_index(name, table, columns, unique=False)
    op.create_index(
        "ix_authorization_decision_denied_at", "authorization_decision", ["decided_at"],
        unique=False, postgresql_where=DENIED, sqlite_where=DENIED,
    )  # fmt: skip


def downgrade():
    op.drop_index("ix_authorization_decision_denied_at", table_name="authorization_decision")
    for name, table, _ in reversed(PLAIN):
        op.drop_index(name, table_name=table)
