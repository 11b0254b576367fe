"""Adverse events a safety team can use: the awareness date, the ICH seriousness criteria, the
day the event was sent to the sponsor's safety team, and dated follow-ups.

Data: the program file's categories grew from 8 to 15 (program §6). The 8 old codes keep their
meaning and their code (OLD_TO_NEW maps each explicitly); a stored code that is not a category
any more becomes `other`, and the count is printed. Events recorded before this revision get
the day they were recorded (UTC) as their awareness date. Downgrade keeps the categories.

Revision ID: 0025_adverse_events
Revises: 0024_coded_results
Create Date: 2026-12-06 04:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_adverse_events"
down_revision = "0024_coded_results"
branch_labels = None
depends_on = None

#: The 8 categories before this revision → the category they are now.
OLD_TO_NEW = {
    "infusion_reaction": "infusion_reaction",
    "immune_thrombocytopenia": "immune_thrombocytopenia",
    "anti_gbm_disease": "anti_gbm_disease",
    "thyroid_disorder": "thyroid_disorder",
    "other_autoimmune": "other_autoimmune",
    "malignancy": "malignancy",
    "stroke_or_arterial_dissection": "stroke_or_arterial_dissection",
    "serious_infection": "serious_infection",
}
#: The categories after this revision (the program file's at the time of writing).
CATEGORIES = (
    *OLD_TO_NEW.values(),
    "autoimmune_hepatitis",
    "hlh",
    "ttp",
    "pulmonary_alveolar_haemorrhage",
    "myocardial_ischaemia",
    "pml",
    "other",
)


def upgrade():
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aware_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("serious_criteria", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("submitted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_adverse_event_submitted_by_id_user_account"),
            "user_account",
            ["submitted_by_id"],
            ["id"],
        )
    op.create_table(
        "adverse_event_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["adverse_event.id"],
            name=op.f("fk_adverse_event_follow_up_event_id_adverse_event"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_adverse_event_follow_up_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event_follow_up")),
    )
    with op.batch_alter_table("adverse_event_follow_up", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_event_follow_up_event_id"), ["event_id"], unique=False
        )
    _map_categories(op.get_bind())


def _map_categories(bind) -> None:
    """Old codes to new ones, unknown codes to `other`; the awareness date of old events."""
    events = sa.table(
        "adverse_event",
        sa.column("category", sa.String),
        sa.column("aware_on", sa.Date),
        sa.column("reported_at", sa.DateTime),
    )
    for old, new in OLD_TO_NEW.items():
        if old != new:
            bind.execute(events.update().where(events.c.category == old).values(category=new))
    unknown = bind.execute(
        events.update()
        .where(events.c.category.not_in(CATEGORIES))
        .values(category="other")
    ).rowcount
    if unknown:
        print(f"0025: {unknown} adverse event(s) of a category no longer listed are now 'other'.")
    if bind.dialect.name == "postgresql":
        day = sa.cast(sa.func.timezone("UTC", events.c.reported_at), sa.Date)
    else:
        day = sa.func.date(events.c.reported_at)
    bind.execute(events.update().where(events.c.aware_on.is_(None)).values(aware_on=day))


def downgrade():
    with op.batch_alter_table("adverse_event_follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_event_follow_up_event_id"))
    op.drop_table("adverse_event_follow_up")
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_adverse_event_submitted_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("submitted_on")
        batch_op.drop_column("serious_criteria")
        batch_op.drop_column("aware_on")
