"""The access log page: auditors and administrators read who read which patient's record,
filtered by reader, patient and day, paged, exported as CSV (an export itself logged); every
other role gets a 403; bad filters are a 400 naming the field."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rems.audit import access
from rems.audit.access import RecordAccess
from rems.auth.models import Role
from rems.common.transactions import writing
from rems.extensions import db

START = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)


def _seed(app, reads: list[tuple[str, str, datetime]]) -> None:
    """Reads as the log holds them: (reader, patient, when)."""
    with app.app_context(), writing():
        db.session.execute(
            sa.insert(RecordAccess),
            [{"accessed_at": when, "actor_label": who, "channel": "page",
              "entity_type": "patient", "entity_id": patient} for who, patient, when in reads],
        )  # fmt: skip
        db.session.commit()


@pytest.fixture
def logged(app):
    reads = [("alice", "PAAAA", START + timedelta(days=i % 3, minutes=i)) for i in range(30)]
    reads += [("bob", "PBBBB", START + timedelta(days=5)), ("bob", "PAAAA", START)]
    _seed(app, reads)
    return reads


def _rows(page: str) -> int:
    return page.count("<tr>") - 1  # the header row


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR])
def test_auditors_and_administrators_read_the_log_in_pages(factory, logged, role):
    client = factory.signed_in(factory.user(role))
    first = client.get("/audit/access")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "Access log" in page and _rows(page) == 25 and "PBBBB" in page  # newest first
    second = client.get("/audit/access", query_string={"page": 2}).get_data(as_text=True)
    assert _rows(second) == 7


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.DELEGATE, Role.SITE_STAFF])
def test_every_other_role_is_refused(factory, logged, role):
    client = factory.signed_in(factory.user(role))
    assert client.get("/audit/access").status_code == 403
    assert client.get("/audit/access.csv").status_code == 403


def test_nobody_signed_in_is_sent_to_sign_in(client, logged):
    assert client.get("/audit/access").status_code in (302, 401)


def test_the_log_filters_by_reader_patient_and_day(factory, logged):
    client = factory.signed_in(factory.user(Role.AUDITOR))

    def count(**args) -> int:
        response = client.get("/audit/access", query_string=args)
        assert response.status_code == 200
        return _rows(response.get_data(as_text=True))

    assert count(user="bob") == 2
    assert count(patient="pbbbb") == 1  # REMS IDs are read in capitals
    assert count(user="bob", patient="PAAAA") == 1
    assert count(date_from="2026-11-07", date_to="2026-11-07") == 1  # bob's read on day 5
    assert count(date_from="2026-11-03", date_to="2026-11-03", user="alice") == 10


@pytest.mark.parametrize(
    ("args", "field"),
    [({"date_from": "2026-02-30"}, "date_from"), ({"date_to": "0100-01-01"}, "date_to")],
)
def test_a_bad_filter_is_a_400_naming_the_field(factory, logged, args, field):
    client = factory.signed_in(factory.user(Role.AUDITOR))
    for path in ("/audit/access", "/audit/access.csv"):
        response = client.get(path, query_string=args)
        assert response.status_code == 400
        assert f'href="#{field}"' in response.get_data(as_text=True)


def test_the_csv_of_the_log_is_itself_logged(app, factory, logged):
    client = factory.signed_in(factory.user(Role.AUDITOR, username="carol"))
    response = client.get("/audit/access.csv", query_string={"user": "bob"})
    assert response.status_code == 200
    rows = list(csv.reader(response.get_data(as_text=True).splitlines()))
    assert rows[0][:5] == ["When (UTC)", "Who", "How", "Record type", "Record"]
    assert [r[4] for r in rows[1:]] == ["PAAAA", "PBBBB"]  # newest logged first
    assert rows[2][0] == "2026-11-07 15:30:00"
    with app.app_context():
        last = db.session.scalars(sa.select(RecordAccess).order_by(RecordAccess.id.desc())).first()
        assert (last.actor_label, last.channel, last.entity_type) == (
            "carol",
            "export",
            "access_log",
        )
        assert last.entity_id == "access log CSV: user=bob"


def test_many_reads_at_once_are_each_logged_once_with_who_and_when(app, clock):
    """An export naming more patients than COPY_FROM: on PostgreSQL the rows go in with one
    COPY, elsewhere with INSERT; either way one row per patient, every field stated."""
    ids = [f"P{n:05d}" for n in range(access.COPY_FROM + 5)]
    with app.app_context():
        access.note_reads(None, "export", "patient", ids + ids[:3], actor_label="cli:export")
        rows = db.session.execute(sa.select(RecordAccess).order_by(RecordAccess.entity_id))
        logged = rows.scalars().all()
    assert [r.entity_id for r in logged] == ids
    first = logged[0]
    assert (first.actor_label, first.channel, first.entity_type) == ("cli:export", "export",
                                                                      "patient")  # fmt: skip
    assert first.user_id is None and first.request_id is None and first.ip is None
    assert {r.accessed_at for r in logged} == {first.accessed_at}
    assert first.accessed_at.tzinfo is not None and first.accessed_at == clock.now()
