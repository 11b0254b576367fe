"""The document pages: the list, publishing versions, a version's page and its download, who may
see and do what, and the patients who still have to acknowledge a version."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import sqlalchemy as sa

from rems.auth.models import Role, User
from rems.common.clock import today
from rems.common.transactions import writing
from rems.documents.models import DocumentVersion
from rems.documents.services import acknowledge
from rems.extensions import db
from rems.patients.models import Patient
from rems.patients.services import prepare_enrollment, record_patient_signature, sign_enrollment
from rems.prescribers.models import Prescriber
from tests.certification.helpers import PartyRef, certify, make_prescriber, page_text
from tests.factories import PASSWORD, csrf_token

MG, PG = "medication_guide", "patient_guide"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n\x00\xff\xfe binary part\n%%EOF\n"
TEXT = "Patient Guide — what you need to know about LEMTRADA.\n".encode()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fake image bytes"


def publish(browser, code: str, label: str, content: bytes = PDF, filename: str = "guide.pdf",
            effective_on: str = "2026-11-24"):  # fmt: skip
    """Post the publish form with a file, as a browser does (multipart/form-data)."""
    path = f"/documents/{code}/publish"
    data = {"csrf_token": csrf_token(browser, path), "label": label, "effective_on": effective_on}
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    return browser.post(path, data=data, content_type="multipart/form-data")


def version_id_of(response) -> int:
    """The id of the version a successful publish redirected to."""
    assert response.status_code == 302, page_text(response)
    match = re.fullmatch(r"/documents/versions/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def stored_versions(app) -> list[tuple[str, str]]:
    """(document code, label) of every stored version."""
    with app.app_context():
        rows = db.session.scalars(sa.select(DocumentVersion).order_by(DocumentVersion.id))
        return [(v.document.code, v.label) for v in rows]


def enroll_patient(app, prescriber: PartyRef, first: str, last: str) -> str:
    """An enrolled patient of `prescriber`: the patient signs in clinic (acknowledging the
    current documents), then the prescriber co-signs. Returns the REMS ID."""
    program = app.extensions["rems_program"]
    values = {"first_name": first, "last_name": last, "date_of_birth": date(1985, 3, 14),
              "sex": "female", "can_become_pregnant": False}  # fmt: skip
    with app.app_context(), writing():
        user = db.session.get(User, prescriber.user.id)
        record = db.session.get(Prescriber, prescriber.id)
        patient = prepare_enrollment(db.session, user, record, values, today=today())
        record_patient_signature(
            db.session, patient, user, typed_name=f"{first} {last}", method="in_person",
            attested=[a.id for a in program.patient_attestations(False)], today=today(),
        )  # fmt: skip
        sign_enrollment(db.session, patient, user, password=PASSWORD, today=today())
        db.session.commit()
        return patient.rems_id


def published_guides_and_prescriber(app, factory):
    """An administrator's browser, both guides published today (ids), and a certified prescriber
    ready to enroll patients."""
    admin = factory.user(Role.ADMIN)
    browser = factory.signed_in(admin)
    guide = version_id_of(publish(browser, MG, "2026-11"))
    patient_guide = version_id_of(publish(browser, PG, "PG-1", TEXT, "guide.txt"))
    prescriber = make_prescriber(app, factory, last_name="Okafor")
    certify(app, prescriber, admin)
    return browser, guide, patient_guide, prescriber


def pending_section(response) -> str:
    """The text of the "still have to acknowledge" section of a version page."""
    text = page_text(response)
    start = text.index("still have to acknowledge this version")
    return text[start : text.index("Every version of the")]


# ---------- List and publishing ----------


def test_the_list_says_authorization_is_impossible_until_a_version_is_published(factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    listing = browser.get("/documents")
    text = page_text(listing)
    assert "No version of the Medication Guide is in effect yet" in text
    assert "No version of the Patient Guide is in effect yet" in text
    assert "no patient can be enrolled or authorized for treatment" in text
    assert 'href="/documents/medication_guide/publish"' in listing.get_data(as_text=True)
    publish_page = browser.get("/documents/medication_guide/publish")
    form, publish_html = page_text(publish_page), publish_page.get_data(as_text=True)
    assert "Publish a new version of the Medication Guide" in form
    assert "before their next dispensing" in form
    assert "e.g. &#34;2026-11&#34;" in publish_html
    assert 'enctype="multipart/form-data"' in publish_html
    assert re.search(r'type="date"[^>]*value="2026-11-24"', publish_html)
    assert "No version of the Medication Guide has been published yet" in form


def test_an_admin_publishes_a_pdf_and_a_text_version(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN, username="pubadmin"))
    pdf_id = version_id_of(publish(browser, MG, " 2026-11 ", PDF, "Medication Guide.pdf"))
    text = page_text(browser.get(f"/documents/versions/{pdf_id}"))
    assert "Medication Guide, version 2026-11" in text and "In effect" in text
    assert "application/pdf" in text and "Medication Guide.pdf" in text
    assert f"Size {len(PDF)} bytes" in text and hashlib.sha256(PDF).hexdigest() in text
    assert "Test Pubadmin (pubadmin)" in text and "2026-11-24 04:00 EST" in text

    text_id = version_id_of(publish(browser, PG, "PG-1", TEXT, "patient-guide.md"))
    text_page = page_text(browser.get(f"/documents/versions/{text_id}"))
    assert "text/plain" in text_page and hashlib.sha256(TEXT).hexdigest() in text_page
    assert stored_versions(app) == [(MG, "2026-11"), (PG, "PG-1")]

    listing = browser.get("/documents").get_data(as_text=True)
    for version_id, content in ((pdf_id, PDF), (text_id, TEXT)):
        digest = hashlib.sha256(content).hexdigest()
        assert f'title="{digest}">{digest[:12]}…' in listing
        assert f'href="/documents/versions/{version_id}/file"' in listing
    assert "No version of" not in listing and "Scheduled" not in listing


def test_the_flash_after_publishing_names_the_version_and_its_date(factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    response = publish(browser, MG, "2026-12", effective_on="2026-12-01")
    page = page_text(browser.get(response.headers["Location"]))
    flashed = "Version 2026-12 of the Medication Guide is published; it takes effect on 2026-12-01"
    assert flashed in page
    assert "Scheduled" in page and "Takes effect on 2026-12-01" in page


def test_a_binary_file_named_pdf_is_refused_and_nothing_is_stored(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    response = publish(browser, MG, "2026-11", PNG, "guide.pdf")
    assert response.status_code == 422
    assert "File: Upload a PDF (a real PDF file) or a UTF-8 text file (.txt)." in page_text(
        response
    )
    assert 'value="2026-11"' in response.get_data(as_text=True)  # what was typed stays
    not_utf8 = publish(browser, MG, "2026-11", "é".encode("latin-1") * 10, "guide.txt")
    assert not_utf8.status_code == 422 and "UTF-8 text file" in page_text(not_utf8)
    missing = publish(browser, MG, "2026-11", None)
    assert missing.status_code == 422
    assert "Upload the document: a PDF or a text file." in page_text(missing)
    assert stored_versions(app) == []
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM document")) == 0


def test_a_duplicate_label_is_refused(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    version_id_of(publish(browser, MG, "2026-11"))
    again = publish(browser, MG, "2026-11", effective_on="2026-11-25")
    assert again.status_code == 422
    assert "This document already has a version with this label." in page_text(again)
    version_id_of(publish(browser, PG, "2026-11"))  # the label is per document
    assert stored_versions(app) == [(MG, "2026-11"), (PG, "2026-11")]


def test_an_effective_date_before_the_newest_version_is_refused(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    version_id_of(publish(browser, MG, "2026-12", effective_on="2026-12-01"))
    early = publish(browser, MG, "2026-11", effective_on="2026-11-30")
    assert early.status_code == 422
    assert "The newest version takes effect on 2026-12-01" in page_text(early)
    bad_date = publish(browser, MG, "2026-13", effective_on="not a date")
    assert bad_date.status_code == 422
    assert "Give the date the version takes effect" in page_text(bad_date)
    assert stored_versions(app) == [(MG, "2026-12")]
    listing = page_text(browser.get("/documents"))
    assert "No version of the Medication Guide is in effect yet" in listing
    assert "Scheduled Version 2026-12 takes effect on 2026-12-01" in listing


def test_a_new_version_replaces_the_current_one_on_its_effective_date(app, factory, clock):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    first = version_id_of(publish(browser, MG, "2026-11"))
    second = version_id_of(publish(browser, MG, "2026-12", effective_on="2026-11-25"))
    listing = browser.get("/documents").get_data(as_text=True)
    assert f'href="/documents/versions/{first}">2026-11</a>' in listing
    clock.advance(days=1)
    browser = factory.signed_in(factory.user(Role.ADMIN))
    listing = page_text(browser.get("/documents"))
    assert "Version in effect today 2026-12" in listing and "1 superseded" in listing
    old_page = page_text(browser.get(f"/documents/versions/{first}"))
    assert "Superseded" in old_page and "A newer version is in effect" in old_page
    assert "In effect" in page_text(browser.get(f"/documents/versions/{second}"))


# ---------- Download ----------


def test_the_download_is_the_exact_bytes_with_safe_headers(factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    version_id = version_id_of(publish(browser, MG, "2026-11", PDF, "Guía (final) v2.pdf"))
    response = browser.get(f"/documents/versions/{version_id}/file")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="Guia_final_v2.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    page = page_text(browser.get(f"/documents/versions/{version_id}"))
    assert hashlib.sha256(response.data).hexdigest() in page

    text_id = version_id_of(publish(browser, PG, "PG-1", TEXT, "guide.md"))
    text = browser.get(f"/documents/versions/{text_id}/file")
    assert text.data == TEXT and text.mimetype == "text/plain"
    assert text.headers["Content-Disposition"] == 'attachment; filename="guide.md"'
    big = PDF + b"x" * 2000
    unnamed = version_id_of(publish(browser, MG, "2026-12", big, "…"))
    fallback = browser.get(f"/documents/versions/{unnamed}/file")
    assert fallback.data == big
    assert fallback.headers["Content-Disposition"].endswith('"medication_guide-2026-12.pdf"')
    size = page_text(browser.get(f"/documents/versions/{unnamed}"))
    assert f"Size 2.1 kB ({len(big)} bytes)" in size


def test_unknown_documents_and_versions_are_404(factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    assert browser.get("/documents/versions/999999").status_code == 404
    assert browser.get("/documents/versions/999999/file").status_code == 404
    assert browser.get("/documents/prescriber_letter/publish").status_code == 404
    token = csrf_token(browser, "/documents/medication_guide/publish")
    posted = browser.post("/documents/prescriber_letter/publish", data={"csrf_token": token})
    assert posted.status_code == 404


# ---------- Who sees what ----------


def test_a_prescriber_reads_and_downloads_but_cannot_publish_or_see_patients(app, factory):
    browser, version_id, _, prescriber = published_guides_and_prescriber(app, factory)
    enroll_patient(app, prescriber, "Dana", "Whitfield")
    newest = version_id_of(publish(browser, MG, "2026-12"))
    reader = factory.signed_in(prescriber.user)
    listing = reader.get("/documents")
    assert listing.status_code == 200 and "2026-12" in page_text(listing)
    assert "Publish a new version" not in page_text(listing)
    assert "/publish" not in listing.get_data(as_text=True)
    assert reader.get(f"/documents/versions/{version_id}/file").data == PDF
    assert reader.get("/documents/medication_guide/publish").status_code == 403
    token = csrf_token(reader, "/account")
    refused = reader.post("/documents/medication_guide/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    page = page_text(reader.get(f"/documents/versions/{newest}"))
    assert "2026-12" in page and "Whitfield" not in page
    assert "still have to acknowledge" not in page and "Audit events" not in page


def test_a_new_version_lists_patients_until_they_acknowledge_it(app, factory):
    browser, first, patient_guide, prescriber = published_guides_and_prescriber(app, factory)
    rems_id = enroll_patient(app, prescriber, "Dana", "Whitfield")
    before = browser.get(f"/documents/versions/{first}")
    assert "Every enrolled patient has acknowledged this version" in pending_section(before)
    second = version_id_of(publish(browser, MG, "2026-12"))
    listed = pending_section(browser.get(f"/documents/versions/{second}"))
    assert "1 enrolled patient still has to acknowledge it" in listed
    assert f"{rems_id} Dana Whitfield Elena Okafor" in listed
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert rems_id in pending_section(auditor.get(f"/documents/versions/{second}"))
    assert "superseded" in pending_section(browser.get(f"/documents/versions/{first}"))
    assert rems_id not in pending_section(browser.get(f"/documents/versions/{patient_guide}"))

    with app.app_context(), writing():  # the patient acknowledges it in clinic
        patient = db.session.scalar(sa.select(Patient).where(Patient.rems_id == rems_id))
        version = db.session.get(DocumentVersion, second)
        user = db.session.get(User, prescriber.user.id)
        acknowledge(db.session, patient, version, witness=user, method="in_person", today=today())
        db.session.commit()
    after = pending_section(browser.get(f"/documents/versions/{second}"))
    assert rems_id not in after and "Every enrolled patient has acknowledged this version" in after


def test_the_patient_list_is_paged(app, factory):
    browser, _, _, prescriber = published_guides_and_prescriber(app, factory)
    for last in ("Adams", "Baker", "Clark"):
        enroll_patient(app, prescriber, "Pat", last)
    new = version_id_of(publish(browser, MG, "2026-12"))
    app.config["REMS_PAGE_SIZE"] = 2
    first = pending_section(browser.get(f"/documents/versions/{new}"))
    second = pending_section(browser.get(f"/documents/versions/{new}?page=2"))
    assert "3 enrolled patients still have to acknowledge it" in first
    assert "Showing 1–2 of 3" in first and "Adams" in first and "Clark" not in first
    assert "Showing 3–3 of 3" in second and "Clark" in second and "Adams" not in second
    html = browser.get(f"/documents/versions/{new}").get_data(as_text=True)
    assert f'href="/documents/versions/{new}?page=2"' in html
