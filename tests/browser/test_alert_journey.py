"""An abnormal result in Chromium: a low platelet count sent by the practice's EHR puts an
alert in the prescriber's "Needs attention" panel, above the worklist; the prescriber opens
it, acknowledges it with the action taken, and the panel empties."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from rems.program.model import add_months
from tests.browser.helpers import sign_in_as
from tests.monitoring.helpers import move_to, treated_patient


def test_a_prescriber_acts_on_a_low_platelet_alert(browser_page, app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    prescriber = treated.world.prescriber.user
    rems_id = treated.world.patient.rems_id
    answer = app.test_client().post(
        f"/api/v1/patients/{rems_id}/results",
        json={"results": [{
            "test": "cbc", "collected_on": clock.now().date().isoformat(),
            "values": [{"loinc": "777-3", "value": 38000, "unit": "/uL"}],
        }]},
        headers={"Authorization": f"Bearer {factory.token(prescriber)}"},
    )  # fmt: skip
    assert answer.status_code == 201
    page = browser_page

    sign_in_as(page, prescriber.username)
    panel = page.locator("#needs-attention")
    expect(panel).to_contain_text("Platelets below 100")
    expect(panel).to_contain_text("38 10*9/L")
    above = page.evaluate(
        "document.querySelector('#needs-attention').compareDocumentPosition("
        "document.querySelector('#monitoring-title')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above, "the panel is above the worklist"
    panel.get_by_role("link", name=re.compile("Acknowledge")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Platelets below 100")
    page.get_by_role("button", name="Acknowledge the alert").click()
    expect(page.locator(".field-errors")).to_contain_text("Say what was done")
    page.get_by_label("Action taken").fill(
        "Patient called; repeat CBC today, haematology referral."
    )
    page.get_by_role("button", name="Acknowledge the alert").click()

    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator(".flashes")).to_contain_text("Alert acknowledged")
    expect(page.locator("#needs-attention")).to_contain_text("No abnormal result waits on you")
