"""An auditor in headless Chromium writes the assessment's narrative for a period, signs it
with their password, sees it locked, and downloads the PDF that carries it."""

from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from rems.auth.models import Role
from tests.browser.helpers import sign_in_as
from tests.reports.world import build

#: Making the PDF (two periods, charts, WeasyPrint) takes seconds; on a loaded machine, more.
PDF_TIMEOUT_MS = 60_000

NARRATIVE = "Every dose in the period was given under a valid authorization."


def test_an_auditor_writes_signs_and_downloads_the_assessment(
    app, factory, client, clock, browser_page
):
    build(app, factory, client, clock)
    auditor = factory.user(Role.AUDITOR)
    page = browser_page
    sign_in_as(page, auditor.username)
    page.goto("/reports/assessment?from=2026-11-01&to=2026-12-03", timeout=PDF_TIMEOUT_MS)

    page.get_by_role("textbox", name="Narrative").fill(NARRATIVE)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#narrative-state")).to_contain_text(
        "Version 1: draft, not signed", timeout=PDF_TIMEOUT_MS
    )
    page.get_by_label("Your password, again, to sign").fill("wrong password")
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The password is not correct", timeout=PDF_TIMEOUT_MS
    )
    page.get_by_label("Your password, again, to sign").fill(auditor.password)
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#narrative-state")).to_contain_text("signed by", timeout=PDF_TIMEOUT_MS)
    expect(page.locator("#narrative-state")).to_contain_text("locked")
    expect(page.get_by_role("button", name="Save draft")).to_have_count(0)
    expect(page.get_by_role("button", name="Start a new version")).to_be_visible()
    requests = page.get_by_role("row", name=re.compile(r"^Requests at the gate \d+$")).inner_text()

    with page.expect_download(timeout=PDF_TIMEOUT_MS) as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "rems-assessment-2026-11-01-to-2026-12-03.pdf"
    pdf = PdfReader(io.BytesIO(download.path().read_bytes()))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pdf.pages))
    assert NARRATIVE in text and "Version 1: signed by" in text
    assert re.sub(r"\s+", " ", requests).strip() in text
