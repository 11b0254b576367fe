"""The error services raise when input is wrong: every message names its field."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Bad input; nothing was stored. `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        """A failure of one field."""
        return cls({field: [message]})


class NeedsConfirmation(ValidationFailed):
    """What happened needs the person's explicit confirmation before it is stored (HTTP 422
    with its own `code`); nothing was stored."""

    code = "confirmation_needed"
    message = "Confirm before this is stored."


class StateConflict(Exception):
    """The record is not in a state that allows this change (HTTP 409)."""


class RequestInProgress(StateConflict):
    """An earlier request with the same Idempotency-Key is still running (HTTP 409
    `request_in_progress` with Retry-After): its answer is not known yet, so none is given."""


class OutcomeUnknown(Exception):
    """The database connection broke during the commit: the change may or may not be stored
    (HTTP 503 saying exactly that; a retry with the same Idempotency-Key tells which)."""


class Collector:
    """Gathers field errors so that a form reports every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        """Note a problem with `field`."""
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        """Raise ValidationFailed when anything was noted."""
        if self.errors:
            raise ValidationFailed(self.errors)
