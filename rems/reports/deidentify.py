"""De-identification of an export, the way research data systems do it.

Direct identifiers (names, dates of birth, contact details) and free text are left out. The REMS
patient ID and record numbers (decision IDs, authorization numbers) become keyed hashes
(HMAC-SHA-256 under the key of `REMS_DEIDENTIFY_KEY`), so one patient has one key in every
export and nobody without the key can compute it from an ID. Each patient's dates move earlier
by one whole number of days (1–364, drawn from the same keyed hash); times are dropped, a time
becoming its day in the program's zone, then shifted. A count of days from one of those dates
to the report's day is counted from the shifted date, so it reveals neither the shift nor the
real date (and never equals the identified count). A date in a
row that names no patient is left out. Ages over 89 are shown as 89.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from rems.reports.framework import Column

AGE_CAP = 89
MAX_SHIFT_DAYS = 364
APPLIED = (
    "de-identified: names, dates of birth, contact details and free text removed; patients, "
    "decision IDs and authorization numbers replaced by keyed hashes (HMAC-SHA-256); each "
    f"patient's dates moved earlier by one offset of 1-{MAX_SHIFT_DAYS} whole days, times "
    "dropped; days-to-date counts recomputed from the shifted dates; "
    f"ages over {AGE_CAP} shown as {AGE_CAP}"
)
DATED = ("date", "datetime")
#: Patients whose key and shift are kept while an export runs (rows of one patient come
#: together, so a small cache spares nearly every repeated HMAC in flat memory).
PATIENT_CACHE = 4096


def derive_key(secret: str | bytes) -> bytes:
    """A de-identification key derived from another secret (the app's SECRET_KEY)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"rems-deidentify", hashlib.sha256).digest()


def _label(column: Column) -> str:
    """A dated column's heading once its times are dropped and its days shifted."""
    return column.label.replace(" (UTC)", "") + " (shifted day)"


class Deidentifier:
    """Turns identified rows into de-identified ones."""

    def __init__(self, columns: Sequence[Column], key: bytes, *, zone: tzinfo = UTC) -> None:
        self._key = key
        self._zone = zone
        kept = [c for c in columns if not c.identifier]
        self.columns = tuple(
            replace(c, kind="date", label=_label(c), link=None) if c.kind in DATED
            else replace(c, link=None)
            for c in kept
        )  # fmt: skip
        self._patient_column = next((c.key for c in columns if c.patient_key), None)
        self._source_keys = tuple(c.key for c in columns)
        self._shift_of = lru_cache(PATIENT_CACHE)(self._shift)
        self._pseudonym_of = lru_cache(PATIENT_CACHE)(self.pseudonym)

    def _digest(self, kind: str, value: str) -> bytes:
        """The keyed hash of one identifier of one kind."""
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def pseudonym(self, patient: str) -> str:
        """The patient's key."""
        return "K" + self._digest("patient", patient).hex()[:16]

    def record_pseudonym(self, number: str) -> str:
        """A record number's key."""
        return "R" + self._digest("record", number).hex()[:16]

    def shift_days(self, patient: str) -> int:
        """How many days this patient's dates move earlier (1–364)."""
        return 1 + int.from_bytes(self._digest("shift", patient)[:4], "big") % MAX_SHIFT_DAYS

    def _shift(self, patient: Any) -> timedelta | None:
        return timedelta(days=self.shift_days(str(patient))) if patient else None

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        """One row, de-identified, in the order of `self.columns`."""
        patient = values.get(self._patient_column) if self._patient_column else None
        shift = timedelta(days=self.shift_days(str(patient))) if patient else None
        return [self._cell(column, values, shift) for column in self.columns]

    def _day(self, value: Any) -> date | None:
        """The day of a date, a date-time (in the program's zone) or their ISO text."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return aware.astimezone(self._zone).date()
        return value if isinstance(value, date) else None

    def _cell(self, column: Column, values: Mapping[str, Any], shift: timedelta | None) -> Any:
        """One value, transformed as its column says."""
        value = values.get(column.key)
        if value is None:
            return None
        if column.days_to_today:
            # The day counted from moves with the patient's dates; the report's day does not.
            return int(value) + shift.days if shift is not None else None
        if column.patient_key:
            return self.pseudonym(str(value))
        if column.record_key:
            return self.record_pseudonym(str(value))
        if column.kind in DATED or column.patient_date:
            day = self._day(value)
            return day - shift if day is not None and shift is not None else None
        if column.age:
            return min(int(value), AGE_CAP)
        return value

    def column_values(self, batch: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """Rows (tuples in the order of the report's columns) de-identified as `row` does
        it, given back as one list of values per column of `self.columns`."""
        by_key = dict(zip(self._source_keys, zip(*batch, strict=True), strict=True))
        patients = by_key.get(self._patient_column) if self._patient_column else None
        shifts = list(map(self._shift_of, patients)) if patients else [None] * len(batch)
        return [self._column(column, by_key[column.key], shifts) for column in self.columns]

    def _column(self, column: Column, values: Sequence[Any], shifts: list) -> list[Any]:
        """One column's values, transformed as `_cell` transforms each."""
        if column.days_to_today:
            return [None if v is None or s is None else int(v) + s.days
                    for v, s in zip(values, shifts, strict=True)]  # fmt: skip
        if column.patient_key:
            return [None if v is None else self._pseudonym_of(str(v)) for v in values]
        if column.record_key:
            return [None if v is None else self.record_pseudonym(str(v)) for v in values]
        if column.kind in DATED or column.patient_date:
            return [None if v is None or (d := self._day(v)) is None or s is None else d - s
                    for v, s in zip(values, shifts, strict=True)]  # fmt: skip
        if column.age:
            return [None if v is None else min(int(v), AGE_CAP) for v in values]
        return list(values)
