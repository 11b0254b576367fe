"""CDS Hooks clients (issuer, JWKS, the organisation they speak for) and the replay cache of
their JWT ids (`jti`, kept until the token expires).

Revision ID: 0026_cds_clients
Revises: 0025_adverse_events
Create Date: 2026-12-06 04:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_cds_clients"
down_revision = "0025_adverse_events"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cds_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("jwks_url", sa.String(length=500), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_cds_client_site_id_site")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_cds_client_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_client")),
        sa.UniqueConstraint("issuer", name=op.f("uq_cds_client_issuer")),
    )  # fmt: skip
    with op.batch_alter_table("cds_client", schema=None) as batch_op:
        batch_op.create_index("ix_cds_client_site_id", ["site_id"], unique=False)
    op.create_table(
        "cds_token_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_token_use")),
        sa.UniqueConstraint("issuer", "jti", name=op.f("uq_cds_token_use_issuer_jti")),
    )
    with op.batch_alter_table("cds_token_use", schema=None) as batch_op:
        batch_op.create_index("ix_cds_token_use_expires_at", ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("cds_token_use", schema=None) as batch_op:
        batch_op.drop_index("ix_cds_token_use_expires_at")
    op.drop_table("cds_token_use")
    with op.batch_alter_table("cds_client", schema=None) as batch_op:
        batch_op.drop_index("ix_cds_client_site_id")
    op.drop_table("cds_client")
