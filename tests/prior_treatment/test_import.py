"""The administrator's CSV import of prior treatment: preview, confirm with a signature, and
every problem with its row and column, nothing stored."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from rems.courses.models import Course
from rems.extensions import db
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from tests.authorizations.helpers import authorize, gate
from tests.factories import PASSWORD, csrf_token
from tests.patients.helpers import enroll_patient
from tests.patients.pages import count_rows

PATH = "/admin/prior-treatment"


def born(app, patient) -> str:
    with app.app_context():
        return db.session.get(Patient, patient.id).date_of_birth.isoformat()


def upload(browser, data: bytes):
    token = csrf_token(browser, PATH)
    files = {"csrf_token": token, "file": (io.BytesIO(data), "prior.csv")}
    return browser.post(PATH, data=files, content_type="multipart/form-data")


def confirm(browser, preview_html: str, password: str = PASSWORD):
    payload = re.search(r'name="payload"[^>]*value="([^"]*)"', preview_html).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', preview_html).group(1)
    values = {"csrf_token": token, "payload": payload, "password": password}
    return browser.post(f"{PATH}/confirm", data=values)


def two_patients(app, factory):
    world = gate(app, factory, with_course=False)
    second = enroll_patient(app, world.prescriber)
    return world, second


def good_file(app, world, second) -> bytes:
    """Column order shuffled, a byte-order mark and Windows line endings."""
    a, b = world.patient.rems_id, second.rems_id
    dob_a, dob_b = born(app, world.patient), born(app, second)
    lines = ["given_on,course,patient_id,source_document,date_of_birth"]
    lines += [f"2024-03-0{d},1,{a},Chart A,{dob_a}" for d in range(4, 9)]
    lines += [f"2025-04-0{d},2,{a},Chart A p.2,{dob_a}" for d in range(1, 4)]
    lines += [f"2025-10-0{d},1,{b},Letter from Dr. B,{dob_b}" for d in range(1, 4)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def test_preview_then_confirm_stores_every_course(app, factory):
    world, second = two_patients(app, factory)
    admin = factory.signed_in(world.admin)
    preview = upload(admin, good_file(app, world, second))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Preview: 3 prior courses" in html
    assert "Completed (5 of 5)" in html and "Completed (3 of 3)" in html
    assert "Closed early (3 of 5)" in html and "Letter from Dr. B" in html
    assert count_rows(app, Course) == 0
    wrong = confirm(admin, html, password="not it")
    assert wrong.status_code == 422 and "password is not correct" in wrong.get_data(as_text=True)
    assert count_rows(app, Course) == 0
    done = confirm(admin, html)
    assert done.status_code == 302
    page = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported: 3 prior courses (11 doses) for 2 patients." in page
    with app.app_context():
        courses = db.session.scalars(sa.select(Course).order_by(Course.patient_id, Course.number))
        shown = [(c.number, c.status.value, c.historical, c.doses_given) for c in courses]
        assert shown == [
            (1, "completed", True, 5),
            (2, "completed", True, 3),
            (1, "closed", True, 3),
        ]
    assert count_rows(app, PriorDose) == 11
    again = confirm(admin, html)  # the same file twice: the patients have these courses now
    assert again.status_code == 422 and "next prior course is course 3" in again.get_data(
        as_text=True
    )
    assert count_rows(app, PriorDose) == 11


def test_each_bad_row_is_named_with_its_column_and_nothing_is_stored(app, factory):
    world, second = two_patients(app, factory)
    a, dob = world.patient.rems_id, born(app, world.patient)
    broken_id = a[:-1] + ("A" if a[-1] != "A" else "B")
    rows = [
        "patient_id,date_of_birth,course,given_on,source_document",
        f"{a},{dob},1,2024-03-04,Chart A",
        f"{broken_id},{dob},1,2024-03-05,Chart A",
        f"{a},1999-01-01,1,2024-03-06,Chart A",
        f"{a},{dob},1,2026-11-25,Chart A",
        f"{a},{dob},1,2024-03-07,=cmd|' /C calc'!A0",
        f"{a},{dob},1,2024-03-08,Chart A,extra",
        f"{second.rems_id},{born(app, second)},2,2024-03-08,Chart B",
    ]
    response = upload(factory.signed_in(world.admin), "\n".join(rows).encode())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was stored" in html
    assert '<th scope="row" class="num">7</th><td><code>row</code></td>' in html


def test_row_problems_after_the_file_reads(app, factory):
    world, second = two_patients(app, factory)
    a, dob = world.patient.rems_id, born(app, world.patient)
    broken_id = a[:-1] + ("A" if a[-1] != "A" else "B")
    rows = [
        "patient_id,date_of_birth,course,given_on,source_document",
        f"{a},{dob},1,2024-03-04,Chart A",
        f"{broken_id},{dob},1,2024-03-05,Chart A",
        f"{a},1999-01-01,1,2024-03-06,Chart A",
        f"{a},{dob},1,2026-11-25,Chart A",
        f"{a},{dob},1,2024-03-07,=cmd|' /C calc'!A0",
        f"{second.rems_id},{born(app, second)},2,2024-03-08,Chart B",
    ]
    html = upload(factory.signed_in(world.admin), "\n".join(rows).encode()).get_data(as_text=True)
    problems = re.findall(
        r'<th scope="row" class="num">(\d+)</th><td><code>(\w+)</code></td>', html
    )
    assert problems == [
        ("3", "patient_id"), ("4", "patient_id"), ("5", "given_on"), ("6", "source_document"),
        ("7", "course"),
    ]  # fmt: skip
    assert (
        "check each character" in html and "No patient has this REMS ID and date of birth" in html
    )
    assert "next prior course is course 1" in html
    assert count_rows(app, Course) == 0


def test_a_file_that_cannot_be_read(app, factory):
    world = gate(app, factory, with_course=False)
    admin = factory.signed_in(world.admin)
    cases = {
        b"": "The file is empty.",
        "patient_id,course\nP1,1\n".encode("utf-16"): "not UTF-8",
        b"patient_id,date_of_birth,course,given_on\nx,y,z,w\n": "source_document",
        b"patient_id,date_of_birth,course,given_on,source_document,colour\n": "Unknown column",
    }
    for data, message in cases.items():
        response = upload(admin, data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)


def test_a_file_over_the_size_limit(app, factory, monkeypatch):
    world = gate(app, factory, with_course=False)
    monkeypatch.setattr("rems.prior_treatment.batch.MAX_BYTES", 2048)
    big = b"patient_id,date_of_birth,course,given_on,source_document\n" + b"x" * 4096
    response = upload(factory.signed_in(world.admin), big)
    assert response.status_code == 422 and "over 2 KB" in response.get_data(as_text=True)
    assert count_rows(app, Course) == 0


def test_a_patient_with_a_course_here_gets_no_prior_course(app, factory):
    world = gate(app, factory, with_course=False)
    authorize(app, world.patient, world.prescriber)
    a, dob = world.patient.rems_id, born(app, world.patient)
    data = f"patient_id,date_of_birth,course,given_on,source_document\n{a},{dob},1,2024-03-04,C\n"
    html = upload(factory.signed_in(world.admin), data.encode()).get_data(as_text=True)
    assert "course 1 is already recorded here" in html


def test_the_template_downloads(app, factory):
    world = gate(app, factory, with_course=False)
    response = factory.signed_in(world.admin).get(f"{PATH}/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).startswith("patient_id,date_of_birth,course,given_on")
