"""De-identification of an export, the way research data systems do it.

Direct identifiers (names, dates of birth, contact details, record numbers, free text) are left
out; the REMS patient ID becomes a keyed hash (HMAC-SHA-256 under a random key made for this
export alone and never stored), so the same patient has the same key throughout one export and
cannot be linked across exports; each patient's dates move earlier by one offset of 1–364 days
drawn from the same keyed hash; ages over 89 are shown as 89.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from rems.reports.framework import Column

AGE_CAP = 89
MAX_SHIFT_DAYS = 364
APPLIED = (
    "de-identified: names, dates of birth, contact details, record numbers and free text "
    "removed; patients keyed by a keyed hash (HMAC-SHA-256, random key for this export only); "
    f"each patient's dates moved earlier by one random offset of 1-{MAX_SHIFT_DAYS} days; "
    f"ages over {AGE_CAP} shown as {AGE_CAP}"
)


class Deidentifier:
    """Turns identified rows into de-identified ones for one export."""

    def __init__(self, columns: Sequence[Column], key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self.columns = tuple(c for c in columns if not c.identifier)
        self._patient_column = next((c.key for c in columns if c.patient_key), None)

    def _digest(self, patient: str) -> bytes:
        """The keyed hash of a patient's REMS ID."""
        return hmac.new(self._key, patient.encode(), hashlib.sha256).digest()

    def pseudonym(self, patient: str) -> str:
        """The patient's key in this export."""
        return "K" + self._digest(patient).hex()[:16]

    def shift_days(self, patient: str) -> int:
        """How many days this patient's dates move earlier in this export (1–364)."""
        return 1 + int.from_bytes(self._digest(patient)[8:12], "big") % MAX_SHIFT_DAYS

    def row(self, values: Mapping[str, Any]) -> list[Any]:
        """One row, de-identified, in the order of `self.columns`."""
        patient = values.get(self._patient_column) if self._patient_column else None
        shift = timedelta(days=self.shift_days(patient)) if patient else None
        return [
            self._cell(column, values.get(column.key), patient, shift) for column in self.columns
        ]

    def _cell(self, column: Column, value: Any, patient: str | None, shift) -> Any:
        """One value, transformed as its column says."""
        if value is None:
            return None
        if column.patient_key:
            return self.pseudonym(str(value))
        if column.patient_date and shift is not None and isinstance(value, date | datetime):
            return value - shift
        if column.patient_date and shift is not None and isinstance(value, str):
            return (date.fromisoformat(value[:10]) - shift).isoformat()
        if column.age:
            return min(int(value), AGE_CAP)
        return value
