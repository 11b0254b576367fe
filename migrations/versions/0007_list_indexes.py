"""Indexes that match the long lists' order and filters (keyset pages, prefix search).

Revision ID: 0007_list_indexes
Revises: 0006_prior_treatment
Create Date: 2026-11-29 01:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_list_indexes'
down_revision = '0006_prior_treatment'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_patient_prescriber_order', 'patient', ['prescriber_id', 'last_name', 'first_name', 'id']),
    ('ix_patient_order', 'patient', ['last_name', 'first_name', 'id']),
    ('ix_patient_prescriber_first_name', 'patient', ['prescriber_id', 'first_name']),
    ('ix_authorization_pharmacy_order', 'authorization', ['pharmacy_site_id', 'id']),
    ('ix_user_account_role_username', 'user_account', ['role', 'username']),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
