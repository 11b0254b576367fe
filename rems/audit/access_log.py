"""Reading the access log: who read which patient's record, when, how (page, API, export).

Auditors and administrators narrow it by reader, patient and days (UTC days, as the audit
trail's), page through it newest first, and export it as CSV (formula-safe) — an export that is
itself logged, since it says whose records were read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from rems.audit.access import RecordAccess
from rems.audit.forms import within_years
from rems.common.csvsafe import csv_chunks

HEADER = ("When (UTC)", "Who", "How", "Record type", "Record", "Request", "Address")


@dataclass(frozen=True)
class AccessFilter:
    """What the reader narrowed the log to; empty fields do not filter."""

    user: str | None = None
    patient: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def described(self) -> str:
        """The filters as text, for the log line of an export of the log."""
        shown = {"user": self.user, "patient": self.patient, "from": self.date_from,
                 "to": self.date_to}  # fmt: skip
        return "; ".join(f"{k}={v}" for k, v in shown.items() if v) or "none"


class AccessFilterForm(FlaskForm):
    """Narrow the access log by reader, patient and day."""

    class Meta:
        csrf = False

    user = StringField("Reader (username)", validators=[Optional(), Length(max=120)])
    patient = StringField(
        "Patient (REMS ID)", validators=[Optional(), Length(max=200)],
        description="Every read of this patient's record",
    )  # fmt: skip
    date_from = DateField("From (UTC)", validators=[Optional(), within_years])
    date_to = DateField("To (UTC)", validators=[Optional(), within_years])

    def to_filter(self) -> AccessFilter:
        """The filter the form describes (call after a successful validate())."""
        return AccessFilter(
            user=(self.user.data or "").strip().lower() or None,
            patient=(self.patient.data or "").strip().upper() or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )


def access_statement(filters: AccessFilter) -> sa.Select:
    """Reads matching the filters (unordered: the page orders by id, newest first)."""
    statement = sa.select(RecordAccess)
    if filters.user:
        statement = statement.where(RecordAccess.actor_label == filters.user)
    if filters.patient:
        statement = statement.where(
            RecordAccess.entity_type == "patient", RecordAccess.entity_id == filters.patient
        )
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        statement = statement.where(RecordAccess.accessed_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        statement = statement.where(RecordAccess.accessed_at < end)
    return statement


def access_csv(session, filters: AccessFilter) -> Iterator[str]:
    """The filtered log as CSV, newest first, streamed in chunks."""
    statement = access_statement(filters).order_by(RecordAccess.id.desc())
    reads = session.scalars(statement.execution_options(yield_per=1000))
    rows = (
        (r.accessed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), r.actor_label, r.channel,
         r.entity_type, r.entity_id, r.request_id, r.ip)
        for r in reads
    )  # fmt: skip
    yield from csv_chunks(HEADER, rows)
