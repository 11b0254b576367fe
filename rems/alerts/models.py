"""An abnormal-result alert on one coded value of a result."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rems.auth.models import User
from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.patients.models import Patient


class LabAlert(db.Model):
    """Raised in the transaction that stored the result; open until acknowledged."""

    __tablename__ = "lab_alert"
    __table_args__ = (
        sa.UniqueConstraint("result_value_id", "rule"),
        sa.Index("ix_lab_alert_open", "prescriber_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    #: The patient's prescriber of record when raised (whose dashboard shows it).
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("lab_result.id"))
    result_value_id: Mapped[int] = mapped_column(sa.ForeignKey("result_value.id"))
    #: The program file's alert rule code, and its label when raised.
    rule: Mapped[str] = mapped_column(sa.String(60))
    label: Mapped[str] = mapped_column(sa.String(300))
    analyte: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(40))
    #: What the value was compared with, as people read it ("< 100 10*9/L", "baseline 0.9 …").
    compared_with: Mapped[str] = mapped_column(sa.String(200))
    raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    action_note: Mapped[str | None] = mapped_column(sa.Text)
    #: When the daily job told the administrators that it was still not acknowledged.
    escalated_at: Mapped[datetime | None]

    acknowledged_by: Mapped[User | None] = relationship(lazy="joined")
    patient: Mapped[Patient] = relationship(lazy="joined")
    result: Mapped[LabResult] = relationship(lazy="joined")
