"""`among_ids`: a list of ids sent as one bound value, on SQLite and PostgreSQL alike."""

import sqlalchemy as sa

from rems.common.idlist import among_ids

ROWS = sa.Table(
    "idlist_rows", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True), sa.Column("other", sa.Integer),
)  # fmt: skip


def _found(session, ids) -> list[int]:
    statement = sa.select(ROWS.c.id).where(among_ids(ROWS.c.id, ids)).order_by(ROWS.c.id)
    return list(session.scalars(statement))


def test_finds_exactly_the_listed_rows_however_many_ids(db):
    session = db.session
    ROWS.create(session.connection())
    session.execute(ROWS.insert(), [{"id": n, "other": n % 7} for n in range(1, 5001)])
    wanted = [*range(1, 5001, 2), 9999]  # 2,501 ids, and one with no row
    assert _found(session, wanted) == list(range(1, 5001, 2))
    assert _found(session, [4, 2]) == [2, 4]  # the same statement, other ids: not cached values
    assert _found(session, []) == []
    both = sa.select(ROWS.c.id).where(among_ids(ROWS.c.id, [1, 2, 3]), ROWS.c.other == 1)
    assert list(session.scalars(both)) == [1]  # a condition among others


def test_the_statement_is_the_same_for_every_number_of_ids(db):
    dialect = db.session.get_bind().dialect
    few = sa.select(ROWS.c.id).where(among_ids(ROWS.c.id, [1, 2]))
    many = sa.select(ROWS.c.id).where(among_ids(ROWS.c.id, range(3000)))
    assert str(few.compile(dialect=dialect)) == str(many.compile(dialect=dialect))
