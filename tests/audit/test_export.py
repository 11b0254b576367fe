"""The audit-trail CSV: the fast paths (COPY on PostgreSQL, per-chunk writerows on SQLite) write
exactly the bytes of the reference path (csvsafe.csv_chunks over export_rows), hostile values,
legacy JSON and the filters included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rems.audit import export
from rems.audit.models import AuditEvent
from rems.audit.queries import EXPORT_HEADER, EventFilter, export_rows
from rems.auth.models import Role
from rems.common.csvsafe import csv_chunks

HOSTILE = [
    "=cmd|' /C calc'!A0", "+1", "-2", "@x", "\tlead", "\rlead", "\nlead", "a,b", 'say "hi"',
    "", "line\nbreak", "crlf\r\nin", "ünïcode", "back\\slash", "\\.", " space", "tab\tin",
]  # fmt: skip


def _events(count: int) -> list[dict]:
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    rows = []
    for i in range(1, count + 1):
        hostile = HOSTILE[i % len(HOSTILE)]
        rows.append(
            {
                "seq": i, "occurred_at": start + timedelta(seconds=i, microseconds=(i % 3) * 7),
                "actor_id": None, "actor_label": hostile if i % 2 else "alice",
                "action": "-x" if i % 9 == 0 else "patient.enroll", "entity_type": "patient",
                "entity_id": hostile if i % 3 else str(i),
                "old_values": None if i % 4 == 0 else {"n": -i, "note": hostile},
                "new_values": {"status": hostile, "list": [1, "=2"]},
                "reason": hostile if i % 5 else None, "request_id": hostile or None,
                "ip": None if i % 6 == 0 else "203.0.113.9", "prev_hash": "0" * 64,
                "row_hash": f"{i:064x}",
            }
        )  # fmt: skip
    return rows


def _store(db, count: int) -> None:
    db.session.execute(sa.insert(AuditEvent), _events(count))
    legacy = sa.text(  # JSON stored before the canonical serializer, written as text
        "INSERT INTO audit_event (seq, occurred_at, actor_label, action, entity_type, entity_id,"
        " old_values, new_values, reason, prev_hash, row_hash) VALUES (:seq, :at, 'bob',"
        " 'legacy', 'patient', '1', :old, 'null', '=old, ok', :zeros, :digest)"
    ).bindparams(sa.bindparam("at", type_=AuditEvent.occurred_at.type))
    parameters = {"seq": count + 1, "at": datetime(2026, 11, 25, tzinfo=UTC),
                  "old": '{"b": 1, "a": "x, y"}', "zeros": "0" * 64,
                  "digest": "f" * 64}  # fmt: skip
    db.session.execute(legacy, parameters)
    db.session.commit()


def _reference(db, filters: EventFilter) -> str:
    return "".join(csv_chunks(EXPORT_HEADER, export_rows(db.session, filters)))


@pytest.mark.parametrize(
    "filters",
    [EventFilter(), EventFilter(action="patient", actor="ALICE"), EventFilter(entity_id="9")],
)
def test_the_export_writes_the_reference_bytes(db, filters):
    _store(db, 2500)  # more than two chunks
    fast = "".join(export.export_chunks(db.session, filters))
    db.session.rollback()
    assert fast == _reference(db, filters)
    assert fast.count("\r\n") >= 2  # the header and at least one row


@pytest.mark.postgres
def test_postgresql_copy_equals_the_python_path_on_the_same_rows(db):
    _store(db, 1200)
    assert db.engine.dialect.name == "postgresql"
    copied = "".join(export.export_chunks(db.session, EventFilter()))
    db.session.rollback()
    header = "".join(export.export_chunks(db.session, EventFilter()))[: copied.index("\r\n") + 2]
    db.session.rollback()
    python = header + "".join(export._python_chunks(db.session, EventFilter(), export._aware_stamp))
    assert copied == python


def test_hostile_cells_are_formula_safe(db):
    _store(db, 40)
    fast = "".join(export.export_chunks(db.session, EventFilter()))
    assert ",'=cmd|' /C calc'!A0," in fast
    assert ',"\'=old, ok",' in fast
    assert '{""a"":""x, y"",""b"":1}' in fast  # legacy JSON written canonical


def test_the_download_streams_the_export(db, factory, client):
    _store(db, 30)
    auditor = factory.signed_in(factory.user(Role.AUDITOR), client)
    answer = auditor.get("/audit/events.csv")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == _reference(db, EventFilter())
