"""Results stored once: the key duplicates are compared by (case-folded value) and a database
uniqueness on (patient, test, collection date, that key).

Duplicates stored before this revision (concurrent batches could store one twice) are kept —
results are never deleted — but only the first of each keeps its key; the later ones get a
NULL key, which the uniqueness ignores. The count is printed.

Revision ID: 0019_results_once
Revises: 0017_deviations
Create Date: 2026-12-06 01:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_results_once"
down_revision = "0017_deviations"
branch_labels = None
depends_on = None

CHUNK = 5_000
UNIQUE = "uq_lab_result_patient_id_test_code_collected_on_value_key"


def upgrade():
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_key", sa.String(length=300), nullable=True))
    _fill_keys(op.get_bind())
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            UNIQUE, ["patient_id", "test_code", "collected_on", "value_key"]
        )


def _fill_keys(connection) -> None:
    """Each result's key (Python's casefold, as the app computes it), oldest first; a later
    duplicate of one already keyed keeps NULL."""
    table = sa.table(
        "lab_result",
        sa.column("id"), sa.column("patient_id"), sa.column("test_code"),
        sa.column("collected_on"), sa.column("value"), sa.column("value_key"),
    )  # fmt: skip
    rows = connection.execute(
        sa.select(
            table.c.id, table.c.patient_id, table.c.test_code, table.c.collected_on, table.c.value
        ).order_by(table.c.id)  # fmt: skip
    ).all()
    seen, updates, surplus = set(), [], 0
    for row in rows:
        key = (row.patient_id, row.test_code, row.collected_on, (row.value or "").casefold())
        if key in seen:
            surplus += 1
            continue
        seen.add(key)
        updates.append({"row_id": row.id, "key": key[3]})
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(value_key=sa.bindparam("key"))
    )
    for start in range(0, len(updates), CHUNK):
        connection.execute(statement, updates[start : start + CHUNK])
    if surplus:
        print(f"0019_results_once: {surplus} duplicate result(s) kept without a key")


def downgrade():
    with op.batch_alter_table("lab_result", schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.drop_column("value_key")
