"""Dispensing authorizations and the stored decision behind every request (program §5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class AuthorizationStatus(StrEnum):
    """issued → partially_used → used, or reversed, or expired."""

    ISSUED = "issued"
    PARTIALLY_USED = "partially_used"
    USED = "used"
    REVERSED = "reversed"
    EXPIRED = "expired"


LIVE_AUTHORIZATION_STATUSES = (AuthorizationStatus.ISSUED, AuthorizationStatus.PARTIALLY_USED)


class Authorization(db.Model):
    """A granted dispensing authorization, bound to patient, course, parties and dose count."""

    __tablename__ = "authorization"
    __table_args__ = (
        sa.CheckConstraint("doses > 0", name="doses_positive"),
        sa.CheckConstraint("doses_given >= 0 AND doses_given <= doses", name="doses_given_range"),
        sa.CheckConstraint("valid_until >= valid_from", name="validity_ordered"),
        #: A pharmacy's list, newest first (its keyset).
        sa.Index("ix_authorization_pharmacy_order", "pharmacy_site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The authorization number: unguessable, ends with a check character.
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    pharmacy_site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    infusion_site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    doses: Mapped[int]
    doses_given: Mapped[int] = mapped_column(default=0)
    status: Mapped[AuthorizationStatus] = mapped_column(
        str_enum(AuthorizationStatus, "authorization_status"),
        default=AuthorizationStatus.ISSUED,
        index=True,
    )
    #: Infusions under the authorization may be recorded on these days only.
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    #: While the course has not started: the last day the first dose may be given.
    first_dose_by: Mapped[date | None]
    issued_at: Mapped[datetime] = mapped_column(index=True)  # the authorizations report's period
    issued_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    end_reason: Mapped[str | None] = mapped_column(sa.Text)


class AuthorizationDecision(db.Model):
    """Every authorization request, granted or denied, with its reasons and warnings."""

    __tablename__ = "authorization_decision"
    __table_args__ = (
        sa.UniqueConstraint("requested_by_id", "idempotency_key"),
        #: The lists of decisions, newest first (their keysets): the pharmacy's history, the
        #: patient's page, the prescriber's and the receiving site's dashboards.
        sa.Index("ix_authorization_decision_pharmacy_order", "pharmacy_site_id", "id"),
        sa.Index("ix_authorization_decision_patient_order", "patient_id", "id"),
        sa.Index("ix_authorization_decision_prescriber_order", "prescriber_id", "id"),
        sa.Index("ix_authorization_decision_receiving_order", "receiving_site_id", "id"),
        sa.Index(
            "ix_authorization_decision_pharmacy_patient", "pharmacy_site_id", "patient_rems_id"
        ),
        #: The denials report: the denials of a period, without reading the grants.
        sa.Index(
            "ix_authorization_decision_denied_at",
            "decided_at",
            postgresql_where=sa.text("outcome = 'denied'"),
            sqlite_where=sa.text("outcome = 'denied'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public identifier of the decision, quoted back to the pharmacy on a denial.
    decision_id: Mapped[str] = mapped_column(sa.String(24), unique=True)
    decided_at: Mapped[datetime] = mapped_column(index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    pharmacy_site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    #: The patient the request matched (REMS ID and date of birth), if any.
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patient.id"))
    #: The prescriber the request concerns: the matched patient's prescriber of record, else
    #: the prescriber named by NPI, if on record.
    prescriber_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prescriber.id"))
    #: The receiving infusion site named, if on record.
    receiving_site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    #: The REMS patient ID as asked (normalised), for the pharmacy's search.
    patient_rems_id: Mapped[str | None] = mapped_column(sa.String(20))
    #: Who must act on a denial, space-separated: prescriber, pharmacy, receiving_site,
    #: program (None when granted).
    acting: Mapped[str | None] = mapped_column(sa.String(60))
    #: The request exactly as received.
    request: Mapped[dict[str, Any]]
    outcome: Mapped[str] = mapped_column(sa.String(16))  # authorized / denied
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    authorization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("authorization.id"))
    #: A retry with the same key and body replays `response`; a different body is refused.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    request_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    response: Mapped[dict[str, Any] | None]
