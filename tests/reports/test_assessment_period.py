"""The assessment for a period that excludes today, on the hand-made program (tests/reports/
world.py): records before, inside and after the period, so a figure read over the wrong
interval shows. The PDF's text carries the page's figures; the previous period sits beside."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from rems.auth.models import Role
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.monitoring.services import refresh_patient
from rems.program.model import add_months
from tests.monitoring.helpers import move_to, treated_patient
from tests.reports.test_assessment import text_of


def _period(world):
    """Pat's doses 1 and 2 (dose 3, the infection and the case come after; the enrollments
    and the gate's decisions, two days before, fall in the previous period)."""
    return {"from": world.start.isoformat(), "to": (world.start + timedelta(days=1)).isoformat()}


def _rows(html: str, table_id: str) -> list[str]:
    """The text of each body row of one table."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, flags=re.S).group(0)
    body = table.split("<tbody>", 1)[1]
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


#: Counted by hand: this period (Pat's doses 1 and 2), then the previous one (the two days
#: of enrollments and decisions).
THIS_AND_PREVIOUS = (
    "Patients enrolled in the period 0 2",
    "Requests at the gate 0 3",
    "Requests denied 0 2",
    "Adverse events (onset in the period) 1 0",
    "Protocol deviations 0 0",
    "Non-compliance cases opened 0 0",
    "Denials followed by a grant by the period's end 0 of 0 0 of 2",
)
THIS_PERIOD = (
    "Infusions given 2",
    "Infusion reactions 1, of which serious: 1",
    "Patients enrolled at the period's end 2",
    "Requests at the gate 0",
    "No protocol deviation recorded in the period.",
    "Infusion reaction Serious 1",
    "Patients given their first dose in the period 1",
)


def test_every_figure_is_the_periods_and_the_pdf_carries_the_pages(app, world, auditor, clock):
    assert clock.now().date() > world.start + timedelta(days=1)  # the period excludes today
    period = _period(world)
    response = auditor.get("/reports/assessment", query_string=period)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    for phrase in THIS_AND_PREVIOUS + THIS_PERIOD:
        assert phrase in text, phrase
    assert "Infection" not in text.split("Health outcomes")[1].split("Access and burden")[0]
    before = (world.start - timedelta(days=2), world.start - timedelta(days=1))
    assert f"Compared with {before[0]} to {before[1]}" in text

    pdf = auditor.get("/reports/assessment.pdf", query_string=period)
    assert pdf.status_code == 200
    pdf_text = _pdf_text(pdf.get_data())
    comparison = _rows(html, "comparison")
    assert len(comparison) == 16
    for row in comparison + list(THIS_PERIOD):
        assert row.replace("'", "’") in pdf_text or row in pdf_text, row


def test_the_pdf_is_us_letter_tagged_with_a_bookmark_per_section(world, auditor):
    reader = PdfReader(io.BytesIO(auditor.get(
        "/reports/assessment.pdf", query_string=_period(world)).get_data()))  # fmt: skip
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # 8.5 × 11 in
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[1:] == [
        "1. Goals and their metrics", "2. Program outreach, implementation and operations",
        "3. Knowledge", "4. Safe-use behaviours",
        "5. Health outcomes: adverse events of the REMS's risks", "6. Access and burden",
        "7. Non-compliance and corrective actions", "8. This period beside the previous period",
        "9. Methods and limitations", "10. The auditor's narrative",
    ]  # fmt: skip
    assert titles[0].startswith("LEMTRADA REMS assessment report no. ")


def test_the_cover_numbers_the_assessment_on_the_program_files_timetable(world, auditor):
    text = text_of(auditor.get("/reports/assessment", query_string=_period(world)).get_data(
        as_text=True))  # fmt: skip
    # approved 2025-06-01; 18 months: 2026-12-01, the first due date after 2026-11-27
    assert "Assessment 1 of 3, due 2026-12-01" in text
    assert "Sponsor Genzyme Corporation (Sanofi)" in text
    later = text_of(auditor.get("/reports/assessment", query_string={
        "from": "2026-11-01", "to": "2026-12-03"}).get_data(as_text=True))  # fmt: skip
    assert "Assessment 2 of 3, due 2028-06-01" in later


def test_monitoring_counts_what_was_recorded_by_the_periods_end(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    first_cbc = add_months(treated.first_dose, 1)
    end = first_cbc + timedelta(days=20)  # past the first CBC's 7 grace days
    move_to(clock, end + timedelta(days=40))
    with app.app_context(), writing():  # collected in the window, entered after the period
        db.session.add(LabResult(
            patient_id=treated.world.patient.id, test_code="cbc", collected_on=first_cbc,
            source="manual", entered_by_id=treated.world.admin.id,
            entered_at=datetime.combine(end + timedelta(days=5), datetime.min.time(), UTC),
        ))  # fmt: skip
        db.session.flush()  # the stored state kept as recording a result keeps it
        refresh_patient(db.session, treated.world.patient.id, today=end + timedelta(days=40))
        db.session.commit()
    auditor = factory.signed_in(factory.user(Role.AUDITOR))

    def cbc_row(to):
        period = {"from": first_cbc.isoformat(), "to": to.isoformat()}
        html = auditor.get("/reports/assessment", query_string=period).get_data(as_text=True)
        return re.search(r"CBC with differential [^A-Z]*", text_of(html)).group(0).strip()

    # as the records stood at the end: unmet and overdue; read later, the same item is met
    assert cbc_row(end) == "CBC with differential 1 0 0 1 0 0.0%"
    assert cbc_row(end + timedelta(days=10)) == "CBC with differential 1 1 0 0 0 100.0%"


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"from": "1899-12-31", "to": "1900-01-02"}, "from", "Give a date between 1900 and"),
        ({"from": "2026-01-01", "to": "10000-01-01"}, "to", "YYYY-MM-DD"),
        ({"from": "2026-02-30"}, "from", "YYYY-MM-DD"),
        ({"from": "9999-12-31"}, "from", "Give a date between 1900 and"),
        ({"to": "2026-1-5"}, "to", "YYYY-MM-DD"),
        ({"from": "2026-12-04", "to": "2026-11-01"}, "from", "after its last day"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(auditor, args, field, message):
    for path in ("/reports/assessment", "/reports/assessment/print", "/reports/assessment.pdf"):
        response = auditor.get(path, query_string=args)
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        assert f'href="#f-{field}">{field}</a>: ' in page and message in page, path


def test_a_first_dose_counts_only_in_the_period_it_was_given(app, world):
    from rems.reports.assessment_period import first_dose

    with app.app_context():
        given = first_dose(db.session, world.start, world.start + timedelta(days=1))
        after = first_dose(db.session, world.start + timedelta(days=1), world.start + timedelta(40))
    assert given == {"patients": 1, "median_days": 2, "max_days": 2}  # enrolled two days before
    assert after == {"patients": 0, "median_days": None, "max_days": None}  # dose 2, then 3
