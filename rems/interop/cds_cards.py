"""CDS Hooks cards from the gate's own facts and rules: the patient's facts are gathered as a
dry run of the gate (`deciding.dry_run`, nothing created) and decided by the same pure rules
(`rules.decide_dispensing`); each failing reason becomes a `warning` card and each warning an
`info` or `warning` card, with a link to the page of this system where it is put right. Nothing
here restates a rule. At ordering time no pharmacy is asked about, so the pharmacy counts as
certified unless the client speaks for a dispensing site (then that site's own refusal is a
card too); the receiving site is the client's site when it infuses, else not asked about."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import Session

from rems.authorizations.deciding import dry_run
from rems.authorizations.rules import Party, decide_dispensing
from rems.common.localtime import program_today
from rems.interop.cds_input import HookQuery
from rems.interop.cds_models import CdsClient
from rems.patients.models import Patient
from rems.sites.models import Site

SOURCE_LABEL = "LEMTRADA REMS"
NOT_ASKED = Party(certified=True)
#: Per reason or warning code: the card's summary, indicator, the link's label and page.
CARDS: dict[str, tuple[str, str, str, str]] = {
    "PATIENT_NOT_ENROLLED": ("Patient not enrolled in the LEMTRADA REMS", "warning",
                             "Patient record", "patient"),
    "GUIDE_NOT_ACKNOWLEDGED": ("Medication Guide: current version not acknowledged",
                               "warning", "Patient record", "patient"),
    "COURSE_NOT_AUTHORIZED": ("No authorized LEMTRADA course (baseline labs too old or none)",
                              "warning", "Patient record", "patient"),
    "DOSES_EXCEEDED": ("No LEMTRADA doses left to authorize in this course", "warning",
                       "Patient record", "patient"),
    "PRESCRIBER_NOT_OF_RECORD": ("You are not this patient's REMS prescriber of record",
                                 "warning", "Patient record", "patient"),
    "PRESCRIBER_NOT_CERTIFIED": ("Prescriber not certified in the LEMTRADA REMS", "warning",
                                 "Prescriber enrollment", "prescriber"),
    "PHARMACY_NOT_CERTIFIED": ("Pharmacy not certified in the LEMTRADA REMS", "warning",
                               "Site certification", "site"),
    "SITE_NOT_CERTIFIED": ("Infusion site not certified in the LEMTRADA REMS", "warning",
                           "Site certification", "site"),
    "MONITORING_OVERDUE": ("LEMTRADA monitoring overdue", "warning", "Patient record", "patient"),
    "CERTIFICATION_EXPIRING": ("A LEMTRADA REMS certification ends soon", "warning",
                               "Prescriber enrollment", "prescriber"),
    "DOSE_DELAYED": ("LEMTRADA course resumed after a gap", "info", "Patient record", "patient"),
}  # fmt: skip


def cards_for(session: Session, client: CdsClient, query: HookQuery):
    """The cards for one call (none for a drug that is not ours), and the REMS ID of the patient
    whose record was read (None when no status was shown)."""
    if not query.ours:
        return [], None
    if query.rems_id and query.born:
        found = _cards_from_gate(session, client, query)
        if found is not None:
            return found, query.rems_id
    return [_lookup_card(session, query)], None


def _cards_from_gate(session: Session, client: CdsClient, query: HookQuery):
    """The gate's reasons and warnings as cards; None when no patient has this ID and DOB."""
    site = session.get(Site, client.site_id) if client.site_id else None
    requester = SimpleNamespace(id=None, site_id=site.id if site and site.dispenses else None)
    body = {
        "patient_id": query.rems_id,
        "date_of_birth": query.born,
        "prescriber_npi": query.prescriber_npi,
        "infusion_site_id": site.site_code if site and site.infuses else None,
    }
    gathered, _ = dry_run(session, requester, body, today=program_today())
    facts = gathered.facts
    if not facts.patient_found:
        return None
    asked = replace(facts, pharmacy=facts.pharmacy if requester.site_id else NOT_ASKED,
                    site=facts.site if body["infusion_site_id"] else NOT_ASKED)  # fmt: skip
    decision = decide_dispensing(replace(asked, pharmacy=NOT_ASKED))
    findings = [(r.code, r.message) for r in decision.reasons]
    findings += [(w.code, w.message) for w in decision.warnings]
    refused = decide_dispensing(asked).reasons
    if refused and refused[0].code == "PHARMACY_NOT_CERTIFIED":
        findings.insert(0, (refused[0].code, refused[0].message))
    return [_card(code, message, gathered.refs.patient_rems_id) for code, message in findings]


def _card(code: str, message: str, rems_id: str) -> dict[str, Any]:
    summary, indicator, label, page = CARDS.get(
        code, (f"LEMTRADA REMS: {code}", "info", "Patient record", "patient")
    )
    if code == "CERTIFICATION_EXPIRING" and "prescriber's" not in message:
        label, page = "Site certification", "site"
    return {
        "summary": summary,
        "detail": message,
        "indicator": indicator,
        "source": _source(),
        "links": [{"label": label, "url": _page(page, rems_id), "type": "absolute"}],
    }


def _lookup_card(session: Session, query: HookQuery) -> dict[str, Any]:
    """Without our REMS ID (or with one that matches nobody): name and birth date say only
    whether a REMS patient may be this one; no status is shown either way."""
    matches = 0
    if query.family and query.given and query.born:
        matches = session.scalar(
            sa.select(sa.func.count()).select_from(Patient).where(
                sa.func.lower(Patient.last_name) == query.family.strip().lower(),
                sa.func.lower(Patient.first_name) == query.given.strip().lower(),
                Patient.date_of_birth == query.born,
            )
        )  # fmt: skip
    if matches:
        return {
            "summary": "Possible LEMTRADA REMS patient: confirm in the REMS",
            "detail": "A LEMTRADA REMS patient has this name and date of birth (a possible "
            "match only). Open the REMS to confirm it is this patient and see what the program "
            "needs; add the REMS patient ID to the chart to see it here.",
            "indicator": "info",
            "source": _source(),
            "links": [{"label": "Find the patient in the REMS", "type": "absolute",
                       "url": url_for("patients.patient_list", _external=True)}],
        }  # fmt: skip
    return {
        "summary": "LEMTRADA requires REMS enrollment of the patient",
        "detail": "No LEMTRADA REMS patient matches this patient. Enroll the patient in the "
        "REMS before LEMTRADA can be dispensed.",
        "indicator": "warning",
        "source": _source(),
        "links": [{"label": "Enroll a patient", "type": "absolute",
                   "url": url_for("patients.enroll", _external=True)}],
    }  # fmt: skip


def _page(page: str, rems_id: str) -> str:
    if page == "patient":
        return url_for("patients.patient_detail", patient_id=rems_id, _external=True)
    if page == "prescriber":
        return url_for("prescribers.enrollment", _external=True)
    return url_for("sites.overview", _external=True)


def _source() -> dict[str, str]:
    return {"label": SOURCE_LABEL, "url": url_for("web.index", _external=True)}
