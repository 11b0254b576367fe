"""The stored first answer to an API write sent with an Idempotency-Key (api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class IdempotentRequest(db.Model):
    """An infusion or reversal sent with an Idempotency-Key, stored in the write's transaction:
    a retry with the same key and body gets `response` back and changes nothing. (Dispensing
    decisions keep theirs on the decision row.)"""

    __tablename__ = "idempotent_request"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Keys are per user: the caller's, as sent in the Idempotency-Key header.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    key: Mapped[str] = mapped_column(sa.String(200))
    #: What was done, e.g. "infusion A7K2…": the same key on another record is refused.
    operation: Mapped[str] = mapped_column(sa.String(80))
    #: SHA-256 of the operation and the parsed body in canonical JSON.
    request_sha256: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
