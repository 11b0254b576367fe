"""The facts a stored gate decision was made on, read back from the recorded history as of the
moment of the decision: the pharmacy's, the receiving site's and the prescriber's certification,
and the patient's enrollment (only when the request matched a patient: a wrong date of birth
must not reveal anything about the patient it named)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.asof import StatusAt
from rems.authorizations.models import AuthorizationDecision
from rems.certification.queries import certification_at
from rems.common.identifiers import normalize_identifier
from rems.patients.models import Patient
from rems.patients.queries import enrollment_at
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from rems.sites.queries import site_by_code

UNMATCHED_PATIENT = "PATIENT_NOT_FOUND"


@dataclass(frozen=True)
class Fact:
    """One party as it stood at the decision: who, and its status then (None: not on record)."""

    role: str
    who: str
    then: StatusAt | None


def decided_on(session: Session, decision: AuthorizationDecision) -> list[Fact]:
    """The facts of the decision, each as of its `decided_at`."""
    moment = decision.decided_at
    asked = decision.request or {}
    facts = []
    pharmacy = session.get(Site, decision.pharmacy_site_id or 0)
    facts.append(_party("Pharmacy", pharmacy, session, moment))
    site = site_by_code(session, str(asked.get("infusion_site_id") or ""))
    facts.append(_party("Receiving infusion site", site, session, moment))
    npi = str(asked.get("prescriber_npi") or "")
    prescriber = session.scalar(sa.select(Prescriber).where(Prescriber.npi == npi))
    facts.append(_party("Prescriber", prescriber, session, moment, npi))
    codes = {reason.get("code") for reason in decision.reasons or []}
    if UNMATCHED_PATIENT not in codes:
        patient = session.scalar(
            sa.select(Patient).where(
                Patient.rems_id == normalize_identifier(str(asked.get("patient_id") or ""))
            )
        )
        if patient is not None:
            facts.append(Fact("Patient", patient.rems_id, enrollment_at(session, patient, moment)))
    return facts


def _party(role: str, party, session: Session, moment, asked: str = "") -> Fact:
    """A prescriber or site at the moment, or 'not on record' for an identifier nobody has."""
    if party is None:
        return Fact(role, asked or "(not on record)", None)
    label = f"{party.name} ({party.npi if isinstance(party, Prescriber) else party.site_code})"
    return Fact(role, label, certification_at(session, party, moment))
