"""Storing a checked batch of monitoring results (rems.monitoring.results checks it): each new
result with its coded values and its audit event, the alerts its values raise, and the patients'
monitoring state refreshed, all in the caller's transaction. Callers commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.alerts.services import raise_alerts
from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict
from rems.common.transactions import reading, write_phase
from rems.monitoring import results as checking
from rems.monitoring.models import LabResult, ResultValue
from rems.monitoring.results import SOURCES, PlannedRow, Recorded, ResultRow, _values
from rems.monitoring.services import refresh_patients

#: How the uniqueness's refusal reads: PostgreSQL names the constraint, SQLite its columns.
UNIQUE_RESULT = (
    "uq_lab_result_patient_id_test_code_collected_on_value_key",
    "lab_result.value_key",
)
STORE_ATTEMPTS = 3
BUSY = (
    "Results for these patients were being stored by another request at the same moment: "
    "send the batch again (results already on file are not stored twice)."
)


@dataclass(frozen=True, slots=True)
class Batch:
    """What every result of one batch shares."""

    batch_id: str
    source: str
    actor: User
    entered_at: datetime


def record_results(
    session: Session, actor: User, patient_rows: Sequence[ResultRow], *, source: str, today: date,
    batch_id: str | None = None,
) -> Recorded:  # fmt: skip
    """Check the batch whole, store every new result with its audit event, refresh the
    patients' monitoring state. ValidationFailed (nothing stored) on any bad row. `batch_id`
    names the batch (a CSV preview's own id: see `batch_on_file`); a new one by default."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    with reading():  # validation only reads: on SQLite it must not hold the write lock
        planned = checking._checked(session, actor, patient_rows, today)
    with write_phase(session):  # then one short write of what was validated
        # duplicates once more, under the lock: a batch may have been stored meanwhile
        planned = checking._mark_duplicates(session, [(p.row, p.result) for p in planned])
        batch = Batch(batch_id or str(uuid.uuid4()), source, actor, utcnow())
        pairs, planned = _store_new(session, batch, planned)
        coded = _store_values(session, pairs)
        for result, checked in pairs:
            new = _values(result) | {"source": source, "batch_id": batch.batch_id}
            new |= _coded_values(checked)
            record_event(session, "result.recorded", actor=actor, entity=result, new=new)
        raise_alerts(session, coded)
        stored = [result for result, _ in pairs]
        refresh_patients(session, sorted({r.patient_id for r in stored}), today=today)
        return Recorded(stored, planned)


def _store_values(session: Session, pairs) -> list[tuple[LabResult, ResultValue]]:
    """Each stored result's coded values, in the stored unit, with what was reported."""
    rows = [
        (result, ResultValue(
            result_id=result.id, analyte=v.analyte, loinc=v.loinc, value=v.value, unit=v.unit,
            reported_value=v.reported_value, reported_unit=v.reported_unit, flag=v.flag,
        ))
        for result, checked in pairs
        for v in checked.values
    ]  # fmt: skip
    session.add_all([value for _, value in rows])
    session.flush()
    return rows


def _coded_values(checked) -> dict:
    """The coded values and finding as the audit trail keeps them."""
    found: dict = {}
    if checked.values:
        found["values"] = [
            {"analyte": v.analyte, "loinc": v.loinc, "value": v.value, "unit": v.unit,
             "reported": f"{v.reported_value:g} {v.reported_unit}"}
            for v in checked.values
        ]  # fmt: skip
    if checked.finding:
        found["finding"] = checked.finding
        found["finding_description"] = checked.finding_description
    return found


def _store_new(session, batch: Batch, planned: list[PlannedRow]):
    """Insert the rows not on file, in key order (so two batches never wait on each other in
    a circle). A concurrent batch may store one of them after this one read what is on file:
    the database's uniqueness refuses it, and the rows are marked again against what is now
    on file (PostgreSQL lets the refused insert see the other batch's commit)."""
    for _attempt in range(STORE_ATTEMPTS):
        pairs = sorted(
            ((_new_result(batch, p), p.result) for p in planned if not p.duplicate),
            key=lambda pair: _order(pair[0]),
        )
        try:
            with session.begin_nested():
                session.add_all([result for result, _ in pairs])
            return pairs, planned
        except sa.exc.IntegrityError as error:
            if not any(name in str(error.orig) for name in UNIQUE_RESULT):
                raise
            planned = checking._mark_duplicates(session, [(p.row, p.result) for p in planned])
    raise StateConflict(BUSY)


def _new_result(batch: Batch, p: PlannedRow) -> LabResult:
    """The result a planned row stores."""
    return LabResult(
        patient_id=p.row.patient.id, test_code=p.result.test_code,
        collected_on=p.result.collected_on, value=p.result.value, unit=p.result.unit,
        abnormal=p.result.abnormal, source=batch.source, batch_id=batch.batch_id,
        entered_at=batch.entered_at, entered_by_id=batch.actor.id, finding=p.result.finding,
        finding_description=p.result.finding_description,
    )  # fmt: skip


def _order(result: LabResult) -> tuple:
    """The uniqueness's key: the order results are inserted in."""
    return (result.patient_id, result.test_code, result.collected_on, result.value_key)


def batch_on_file(session: Session, batch_id: str) -> bool:
    """Whether results of this batch are stored (a CSV preview confirmed already)."""
    return (
        session.scalar(sa.select(LabResult.id).where(LabResult.batch_id == batch_id).limit(1))
        is not None
    )
