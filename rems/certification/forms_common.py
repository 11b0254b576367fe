"""What prescriber and site enrollment share: form cleaning, stale-form checks, attestations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from rems.certification import rules
from rems.common.errors import Collector, StateConflict, ValidationFailed
from rems.common.validation import check_format, clean_text
from rems.program.model import Attestation

REQUIRED = "This field is required."
STALE_FORM = (
    "This form was changed by someone else after you opened it. Reload the page to see the "
    "current version, then make your changes again."
)


def clean_fields(
    values: dict[str, Any], fields: Sequence[tuple[str, int, bool]], *, complete: bool,
    always_required: Iterable[str] = (),
) -> tuple[dict[str, str | None], Collector]:  # fmt: skip
    """Trim every field, check its format, and note missing ones (required ones only when the
    form must be complete, e.g. to submit it)."""
    errors, cleaned = Collector(), {}
    always = set(always_required)
    for name, limit, required in fields:
        value = clean_text(values, name)
        if value is not None and name.endswith("state"):
            value = value.upper()
        if value is None and ((complete and required) or name in always):
            errors.add(name, REQUIRED)
        elif value is not None and len(value) > limit:
            errors.add(name, f"Use at most {limit} characters.")
        check_format(errors, name, value)
        cleaned[name] = value
    return cleaned, errors


def version_of(record: Any) -> str:
    """The record's version as a form carries it (bumped by every change to the record)."""
    return str(record.version)


def check_version(record: Any, expected_version: str | None) -> None:
    """Refuse a form opened before the record last changed (a stale or doubled post)."""
    if expected_version is not None and expected_version != version_of(record):
        raise StateConflict(STALE_FORM)


def check_editable(
    status, expires_on: date | None, today: date, warning_days: int, *, pending: bool = False
) -> None:
    """Forms can change while in draft, after expiry, or inside the renewal window, and never
    while a signed submission waits for review (it must stay what was signed)."""
    if pending:
        raise StateConflict(_locked_message(rules.S.SUBMITTED, expires_on, warning_days))
    if not rules.may_start_renewal(status, expires_on, today, warning_days):
        current = rules.effective_status(status, expires_on, today)
        raise StateConflict(_locked_message(current, expires_on, warning_days))


def _locked_message(status, expires_on: date | None, warning_days: int) -> str:
    """Why the form cannot change now."""
    if status == rules.S.SUBMITTED:
        return "The enrollment is waiting for the program's review and cannot change meanwhile."
    if status == rules.S.CERTIFIED and expires_on:
        return (
            f"The certification runs until {expires_on.isoformat()}; renewal opens "
            f"{warning_days} days before that."
        )
    return f"The enrollment cannot change while its status is {status.value}."


def check_attestations(
    required: Sequence[Attestation], attested: Iterable[str], errors: Collector
) -> list[dict[str, str]]:
    """Every required attestation must be affirmed; return them as signed (id and text)."""
    given = set(attested)
    missing = [a for a in required if a.id not in given]
    for attestation in missing:
        errors.add(f"attest_{attestation.id}", "Affirm this statement to submit the form.")
    if missing:
        errors.add("attestations", f"{len(missing)} attestation(s) are not affirmed.")
    return [{"id": a.id, "text": a.text} for a in required]


def raise_errors(errors: Collector) -> None:
    """Raise the collected field errors, if any."""
    if errors.errors:
        raise ValidationFailed(errors.errors)
