"""Monitoring in Chromium: a delegate sees an overdue patient on the worklist, uploads one CSV
of results for several patients, checks the preview, confirms, and the worklist and the
patient's timeline change."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from rems.extensions import db
from rems.patients.models import Patient
from rems.program.model import add_months
from tests.browser.helpers import sign_in_as
from tests.monitoring.helpers import days, more_treated_patients, move_to, treated_patient
from tests.patients.helpers import add_delegate


def _born(app, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).date_of_birth.isoformat()


def test_a_delegate_uploads_results_for_several_patients(browser_page, app, factory, clock):
    treated = treated_patient(app, factory, clock)
    other = more_treated_patients(app, treated.world, clock, 1)[0]
    first_due = add_months(treated.first_dose, 1)
    move_to(clock, first_due + days(8))  # the first patient's monthly tests are overdue
    delegate = add_delegate(app, factory, treated.world.prescriber)
    ours = treated.world.patient
    page = browser_page

    sign_in_as(page, delegate.username)
    page.get_by_role("link", name="Open the worklist").click()
    row = page.get_by_role("row").filter(has_text=ours.rems_id)
    expect(row.locator('[data-test="cbc"]')).to_contain_text("1 overdue")

    lines = ["patient_id,date_of_birth,test,collected_on,value,unit,abnormal"]
    for test in ("cbc", "creatinine", "urinalysis"):
        lines.append(f"{ours.rems_id},{_born(app, ours.id)},{test},{first_due},1.0,u,no")
    lines.append(f"{other.rems_id},{_born(app, other.id)},cbc,{clock.now().date()},4.2,u,no")
    page.get_by_role("link", name="Upload a CSV of results for several patients").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "labs.csv", "mimeType": "text/csv", "buffer": "\r\n".join(lines).encode()}
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Check the upload")).to_be_visible()
    preview = page.locator("#upload-preview")
    expect(preview.get_by_role("row")).to_have_count(5)  # header and four rows
    expect(preview).to_contain_text(f"CBC with differential #1 (due {first_due.isoformat()})")
    page.get_by_role("button", name="Store these results").click()

    expect(page).to_have_url(re.compile(r"/worklist$"))
    expect(page.locator(".flashes")).to_contain_text("Stored 4 result(s)")
    expect(page.locator("#content")).not_to_contain_text(ours.rems_id)  # nothing due soon now
    page.goto(f"/patients/{ours.rems_id}")
    timeline = page.locator("#monitoring-timeline")
    expect(timeline).to_contain_text(f"#1 due {first_due.isoformat()}: satisfied")
    expect(page.locator("#monitoring")).to_contain_text("Compliant")
