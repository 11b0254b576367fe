"""Lists of gate decisions for the people who act on them: the pharmacy's own history
(searchable, keyset-paginated), the recent denials on a patient's page, and on the dashboards of
the prescriber (and their delegates), the receiving site and the administrators. Each reads the
decision's stored parties through an index ordered by id."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.authorizations.models import AuthorizationDecision
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.patients.models import Patient
from rems.sites.models import Site

RECENT = 10
OUTCOMES = ("authorized", "denied")


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One decision as a list shows it."""

    decision: AuthorizationDecision
    pharmacy: str | None
    patient_id: str | None  # the matched patient's REMS ID

    @property
    def reasons(self) -> list[dict]:
        return self.decision.reasons or []


def _rows(session: Session, statement: sa.Select) -> list[DecisionRow]:
    decision = AuthorizationDecision
    joined = (
        statement.add_columns(Site.name, Patient.rems_id)
        .outerjoin(Site, Site.id == decision.pharmacy_site_id)
        .outerjoin(Patient, Patient.id == decision.patient_id)
    )
    return [DecisionRow(*row) for row in session.execute(joined)]


def _denied() -> sa.Select:
    decision = AuthorizationDecision
    return sa.select(decision).where(decision.outcome == "denied").order_by(decision.id.desc())


def patient_denials(session: Session, patient_id: int) -> list[DecisionRow]:
    """The patient's recent denials, most recent first."""
    statement = _denied().where(AuthorizationDecision.patient_id == patient_id)
    return _rows(session, statement.limit(RECENT))


def prescriber_denials(session: Session, prescriber_ids: list[int]) -> list[DecisionRow]:
    """Recent denials that fall to these prescribers, most recent first."""
    if not prescriber_ids:
        return []
    decision = AuthorizationDecision
    statement = _denied().where(
        decision.prescriber_id.in_(prescriber_ids), decision.acting.contains("prescriber")
    )
    return _rows(session, statement.limit(RECENT))


def site_denials(session: Session, site_id: int) -> list[DecisionRow]:
    """Recent denials a site must act on: as the pharmacy that asked, or as the receiving site
    that is not certified."""
    decision = AuthorizationDecision
    statement = _denied().where(
        sa.or_(
            decision.pharmacy_site_id == site_id,
            sa.and_(
                decision.receiving_site_id == site_id, decision.acting.contains("receiving_site")
            ),
        )
    )
    return _rows(session, statement.limit(RECENT))


def program_denials(session: Session) -> list[DecisionRow]:
    """Recent denials that fall to the program (a pharmacy that may not dispense asked)."""
    statement = _denied().where(AuthorizationDecision.acting.contains("program"))
    return _rows(session, statement.limit(RECENT))


def pharmacy_history(site_id: int, outcome: str | None, search: str | None) -> sa.Select:
    """A pharmacy's decisions, newest first: one outcome, or a decision ID or a REMS patient ID
    (as asked) searched for."""
    decision = AuthorizationDecision
    statement = sa.select(decision).where(decision.pharmacy_site_id == site_id)
    if outcome in OUTCOMES:
        statement = statement.where(decision.outcome == outcome)
    wanted = (search or "").strip()
    if wanted:
        if is_valid_identifier(wanted, "D"):
            statement = statement.where(decision.decision_id == normalize_identifier(wanted))
        elif is_valid_identifier(wanted, "P"):
            statement = statement.where(decision.patient_rems_id == normalize_identifier(wanted))
        else:
            statement = statement.where(sa.false())
    return statement.order_by(decision.id.desc())


def history_rows(decisions: list[AuthorizationDecision]) -> list[DecisionRow]:
    """Rows of a history page (the patient as asked is on the decision itself)."""
    return [DecisionRow(d, None, d.patient_rems_id) for d in decisions]


def matched_patients(
    session: Session, decisions: list[AuthorizationDecision]
) -> dict[int, Patient]:
    """The patients these decisions matched (REMS ID and date of birth both), by id: what the
    pharmacy may see of them is their initials and date of birth beside the ID."""
    wanted = {d.patient_id for d in decisions if d.patient_id is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(sa.select(Patient).where(Patient.id.in_(wanted)))}
