"""The API's own answers: the error shape every failure uses, ping, health and the caller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rems.api.operations import Shape


class ErrorDetail(Shape):
    """What went wrong: a stable code, a message for people, and the fields at fault."""

    code: str
    message: str
    details: dict[str, list[str]] | None = Field(
        default=None, description="Each field (or header) with its messages (422)."
    )


class Error(Shape):
    """Every error answer, whatever the status code."""

    error: ErrorDetail


class Ping(Shape):
    """The app answers."""

    status: Literal["ok"]


class Health(Shape):
    """Each dependency is `ok`, `degraded` (answered, but slowly), `down` or `not configured`.
    `status` is `degraded` when any of them is degraded or down; the answer is 503 only when
    the database is down."""

    status: Literal["ok", "degraded"]
    database: Literal["ok", "degraded"]
    rate_limit_store: Literal["ok", "degraded", "down", "not configured"]
    mail_relay: Literal["ok", "degraded", "down", "not configured"]


class Me(Shape):
    """The user a token acts as."""

    username: str
    full_name: str
    role: Literal["admin", "prescriber", "delegate", "site_staff", "auditor"]
    is_authorized_representative: bool
    site_id: str | None
