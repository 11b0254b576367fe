"""The REMS assessment on the hand-made program: its figures on the page, the same figures in
the printable layout and in the PDF, the gate's proof, and bad periods."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from rems.audit.models import AuditEvent
from rems.authorizations.models import Authorization
from rems.common.transactions import writing
from rems.extensions import db
from rems.infusions.models import Infusion

PERIOD = {"from": "2026-11-01", "to": "2026-12-04"}


def text_of(html: str) -> str:
    """Visible text with single spaces."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").strip()


#: Phrases with their figures, as a person counted them on the hand-made program.
FIGURES = (
    "Prescribers 1 1 0 0 0",
    "Pharmacies 1 1 0 0 0",
    "Infusion sites 1 1 0 0 0",
    "Patients enrolled in the period 2",
    "Patients enrolled at the period's end 2",
    "Enrolled patients who acknowledged it 2 of 2 (100.0%)",
    "Requests at the gate 3",
    "Authorized 1",
    "Denied 2",
    "Course not authorized Prescriber 1 0",
    "Patient not found (ID or date of birth) Site 1 0",
    "Dispensed or infused without a valid authorization: 0",
    "3 dose(s) given and 1 authorization(s) issued in the period",
    "Infusions given 3",
    "(doses with no protocol deviation ÷ doses recorded) 2 (66.7%)",
    "Observation shorter than the program's minutes Major Gate Infusion Center",
    "No visit ended without an infusion in the period.",
    "Site 1 0 1 0 0",
    "Premedication as the program requires 3 (100.0%)",
    "Observed for the full period 2 (66.7%)",
    "Infusion reactions 2, of which serious: 1",
    "Infection Not serious 1",
    "Infusion reaction Serious 1 0.0",
)


def test_the_page_shows_every_figure_with_charts_and_their_tables(world, auditor):
    response = auditor.get("/reports/assessment", query_string=PERIOD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    for phrase in FIGURES:
        assert phrase in text, phrase
    # charts: the gate, denials, adverse events (no monitoring item fell due in the period)
    assert page.count('src="data:image/svg+xml;base64,') == 3
    assert "Requests per month" in text and "2026-11 1 2" in text


def test_printable_layout_and_pdf_carry_the_same_figures(app, world, auditor):
    printable = text_of(auditor.get("/reports/assessment/print", query_string=PERIOD).get_data(
        as_text=True))  # fmt: skip
    response = auditor.get("/reports/assessment.pdf", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.get_data()))
    pdf_text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pdf.pages))
    for phrase in FIGURES:
        assert phrase in printable, phrase
        assert phrase.replace("'", "’") in pdf_text or phrase in pdf_text, phrase
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "report.exported")
        )
        assert event.entity_id == "assessment" and event.new_values["format"] == "pdf"


def test_a_dose_outside_its_authorization_breaks_the_proof(app, world, auditor):
    with app.app_context(), writing():
        given = db.session.scalar(sa.select(Infusion).where(Infusion.dose_number == 3))
        authorization = db.session.get(Authorization, given.authorization_id)
        given.administered_on = authorization.valid_until + timedelta(days=1)
        authorization_id = authorization.id
        db.session.commit()
    text = text_of(auditor.get("/reports/assessment", query_string=PERIOD).get_data(as_text=True))
    assert "Dispensed or infused without a valid authorization: 1" in text
    assert "Doses given outside the authorization's validity Each infusion" in text
    with app.app_context(), writing():  # reversed: each of its doses is beyond it
        given = db.session.scalars(sa.select(Infusion).where(
            Infusion.authorization_id == authorization_id)).all()  # fmt: skip
        db.session.get(Authorization, authorization_id).status = "reversed"
        db.session.commit()
    text = text_of(auditor.get("/reports/assessment", query_string=PERIOD).get_data(as_text=True))
    assert len(given) == 3  # and the one outside the validity still counts as such
    assert "Dispensed or infused without a valid authorization: 4" in text


def test_an_issue_while_a_party_did_not_hold_its_status_breaks_the_proof(app, world):
    from datetime import date

    from rems.audit.models import StatusChange
    from rems.reports.gateproof import prove

    period = (date.fromisoformat(PERIOD["from"]), date.fromisoformat(PERIOD["to"]))

    def found() -> dict[str, int]:
        with app.app_context():
            checks = prove(db.session, *period).checks
        return {c.title.split(" while ")[1]: c.found for c in checks if " while " in c.title}

    assert set(found().values()) == {0}
    with app.app_context(), writing():
        issued = db.session.scalar(sa.select(Authorization).order_by(Authorization.id))
        at, minute = issued.issued_at, timedelta(minutes=1)
        # Every party was certified at the moment of issue (the frozen clock), each change
        # recorded after the last: at the same moment, the later one (by id) stands.
        db.session.add_all([
            # the pharmacy suspended at the moment of issue, certified again a minute later
            StatusChange(entity_type="site", entity_id=issued.pharmacy_site_id,
                         to_status="suspended", changed_at=at),
            StatusChange(entity_type="site", entity_id=issued.pharmacy_site_id,
                         to_status="certified", changed_at=at + minute),
            # the prescriber suspended a minute after: not at the moment of issue
            StatusChange(entity_type="prescriber", entity_id=issued.prescriber_id,
                         to_status="suspended", changed_at=at + minute),
            # the patient withdrawn at the moment of issue
            StatusChange(entity_type="patient", entity_id=issued.patient_id,
                         to_status="discontinued", changed_at=at),
        ])  # fmt: skip
        db.session.commit()
    assert found() == {"the pharmacy was not certified": 1, "the prescriber was not certified": 0,
                       "the patient was not enrolled": 1}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "2026-12-04", "to": "2026-11-01"}, "after its last day"),
        ({"from": "1990-01-01"}, "longer than the longest allowed"),
        ({"to": "04/12/2026"}, "YYYY-MM-DD"),
    ],
)
def test_a_bad_period_is_a_field_error_never_a_pdf(app, auditor, args, message):
    for path in ("/reports/assessment", "/reports/assessment.pdf"):
        response = auditor.get(path, query_string=args)
        assert response.status_code == 400 and response.mimetype == "text/html"
        assert message in response.get_data(as_text=True)
