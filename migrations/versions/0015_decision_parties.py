"""The parties of each gate decision, so a denial reaches those who must act: the patient the
request matched, the prescriber it falls on, the receiving site, the REMS ID as asked and who
must act; indexed for the dashboards, the patient's page and the pharmacy's history.

Revision ID: 0015_decision_parties
Revises: 0013_course_drafts
Create Date: 2026-11-29 03:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_decision_parties'
down_revision = '0013_course_drafts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('authorization_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prescriber_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('receiving_site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('patient_rems_id', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('acting', sa.String(length=60), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_authorization_decision_patient_id_patient'), 'patient', ['patient_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_authorization_decision_prescriber_id_prescriber'), 'prescriber', ['prescriber_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_authorization_decision_receiving_site_id_site'), 'site', ['receiving_site_id'], ['id'])
        batch_op.create_index('ix_authorization_decision_patient_order', ['patient_id', 'id'], unique=False)
        batch_op.create_index('ix_authorization_decision_prescriber_order', ['prescriber_id', 'id'], unique=False)
        batch_op.create_index('ix_authorization_decision_receiving_order', ['receiving_site_id', 'id'], unique=False)
        batch_op.create_index('ix_authorization_decision_pharmacy_order', ['pharmacy_site_id', 'id'], unique=False)
        batch_op.create_index('ix_authorization_decision_pharmacy_patient', ['pharmacy_site_id', 'patient_rems_id'], unique=False)


def downgrade():
    with op.batch_alter_table('authorization_decision', schema=None) as batch_op:
        batch_op.drop_index('ix_authorization_decision_pharmacy_patient')
        batch_op.drop_index('ix_authorization_decision_pharmacy_order')
        batch_op.drop_index('ix_authorization_decision_receiving_order')
        batch_op.drop_index('ix_authorization_decision_prescriber_order')
        batch_op.drop_index('ix_authorization_decision_patient_order')
        batch_op.drop_constraint(batch_op.f('fk_authorization_decision_receiving_site_id_site'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_authorization_decision_prescriber_id_prescriber'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_authorization_decision_patient_id_patient'), type_='foreignkey')
        batch_op.drop_column('acting')
        batch_op.drop_column('patient_rems_id')
        batch_op.drop_column('receiving_site_id')
        batch_op.drop_column('prescriber_id')
        batch_op.drop_column('patient_id')
