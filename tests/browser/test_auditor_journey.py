"""An auditor's journey in headless Chromium: open the REMS assessment, download its PDF (whose
text carries the figures shown on the page), export a de-identified CSV, read its metadata (the JSON
sidecar offered next to it), and find that export in the exports report."""

from __future__ import annotations

import hashlib
import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from rems.auth.models import Role
from tests.browser.helpers import sign_in_as
from tests.reports.world import build

#: Making the PDF (two periods, charts, WeasyPrint) takes seconds; on a loaded machine, more.
PDF_TIMEOUT_MS = 60_000


def test_an_auditor_assesses_the_program_and_exports_safely(
    app, factory, client, clock, browser_page
):
    world = build(app, factory, client, clock)
    auditor = factory.user(Role.AUDITOR)
    page = browser_page
    sign_in_as(page, auditor.username)

    page.get_by_role("link", name="REMS assessment").first.click()
    page.get_by_label("From", exact=True).fill("2026-11-01")
    page.get_by_label("To", exact=True).fill("2026-12-04")
    with page.expect_navigation(timeout=PDF_TIMEOUT_MS):
        page.get_by_role("button", name="Show").click()
    proof = page.locator("#unauthorized-dispensings")
    expect(proof).to_have_text("0")
    shown = {
        "requests": page.get_by_role(
            "row", name=re.compile(r"^Requests at the gate \d+$")
        ).inner_text(),
        "infusions": page.get_by_role("row", name=re.compile("Infusions given")).inner_text(),
        "observed": page.get_by_role("row", name=re.compile("Observed for the full")).inner_text(),
    }
    with page.expect_download(timeout=PDF_TIMEOUT_MS) as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = PdfReader(io.BytesIO(download_info.value.path().read_bytes()))
    pdf_text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    assert "Dispensed or infused without a valid authorization: 0" in pdf_text
    for row in shown.values():
        assert re.sub(r"\s+", " ", row).strip() in pdf_text, row

    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Patients by enrollment status").click()
    page.get_by_label(re.compile("^De-identified")).check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-deidentified.csv")
    body = download.path().read_bytes()
    text = body.decode("utf-8-sig")
    assert world.bruno.rems_id not in text and "Costa" not in text
    assert text.startswith("REMS patient ID,")  # a plain CSV: the header row first
    page.reload()  # the page offers the file's metadata next to it
    link = page.get_by_role("link", name="metadata (JSON)").first
    about = page.request.get(link.get_attribute("href")).json()
    assert about["options"].startswith("de-identified")
    assert about["sha256"] == hashlib.sha256(body).hexdigest()

    page.goto("/reports/exports")
    rows = page.locator("table.report-table tbody tr")
    expect(rows.filter(has_text="enrollments")).to_have_count(1)
    assert "de-identified" in rows.filter(has_text="enrollments").inner_text()
    expect(rows.filter(has_text="assessment")).to_have_count(1)
