"""CSV uploads: many patients by REMS ID and date of birth, or one patient; a preview of what
each row stores and satisfies, then one confirmation; every bad row named, nothing stored."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.patients.models import Patient
from rems.program.model import add_months
from tests.factories import csrf_token
from tests.monitoring.helpers import more_treated_patients, move_to, stored_state, treated_patient
from tests.patients.helpers import add_delegate

HEADER = "collected_on,Test,value,date_of_birth,patient_id,unit,abnormal"


def _born(app, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).date_of_birth.isoformat()


def _upload(client, content: bytes, patient: str | None = None):
    path = "/results/upload" + (f"?patient={patient}" if patient else "")
    data = {"csrf_token": csrf_token(client, path), "file": (io.BytesIO(content), "labs.csv")}
    return client.post(path, data=data, content_type="multipart/form-data")


def _confirm(client, preview_html: str):
    fields = dict(
        re.findall(r'name="(csrf_token|content|patient|batch)"[^>]*value="([^"]*)"', preview_html)
    )
    return client.post("/results/upload/confirm", data=fields)


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LabResult))


def _world(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    other = more_treated_patients(app, treated.world, clock, 1)[0]
    move_to(clock, add_months(treated.first_dose, 1) + days_(3))
    delegate = add_delegate(app, factory, treated.world.prescriber)
    return treated, other, factory.signed_in(delegate)


def days_(n):
    from datetime import timedelta

    return timedelta(days=n)


def test_a_file_for_several_patients_previews_then_stores(app, factory, clock):
    treated, other, client = _world(app, factory, clock)
    day = clock.now().date().isoformat()
    first = (treated.world.patient.rems_id, _born(app, treated.world.patient.id))
    second = (other.rems_id, _born(app, other.id))
    lines = [HEADER,
             f"{day},cbc,5.1,{first[1]},{first[0].lower()},10^9/L,no",
             f"{day},creatinine,70,{first[1]},{first[0]},umol/L,",
             f"{day},cbc,4.8,{second[1]},{second[0]},10^9/L,yes",
             f"{day},cbc,4.8,{second[1]},{second[0]},10^9/L,yes",
             ""]  # fmt: skip
    content = "\ufeff".encode() + "\r\n".join(lines).encode()
    preview = _upload(client, content)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "3 result(s) will be stored" in html and "Duplicate" in html
    assert "CBC with differential #1 (due" in html
    assert _stored(app) == 0
    done = _confirm(client, html)
    assert done.status_code == 302 and done.headers["Location"].endswith("/worklist")
    assert _stored(app) == 3
    assert stored_state(app, other.id)["cbc"].next_k == 2
    with app.app_context():
        assert {r.source for r in db.session.scalars(sa.select(LabResult))} == {"csv"}


def test_every_bad_row_is_named_and_nothing_is_stored(app, factory, clock):
    treated, _other, client = _world(app, factory, clock)
    day = clock.now().date().isoformat()
    rems_id, born = treated.world.patient.rems_id, _born(app, treated.world.patient.id)
    wrong_check = rems_id[:-1] + ("0" if rems_id[-1] != "0" else "1")
    lines = [HEADER,
             f"{day},cbc,5.1,{born},{rems_id},,",
             f"{day},cbc,5.1,{born},{wrong_check},,",
             f"2099-01-01,nope,=cmd|' /C calc'!A0,{born},{rems_id},,",
             f"{day},cbc,5.1,1900-01-01,{rems_id},,",
             f"{day},cbc,5.1,{born},{rems_id},,,extra"]  # fmt: skip
    answer = _upload(client, "\n".join(lines).encode())
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    for expected in ("Row 3", "check character", "Row 4", "after today", "formula", "Unknown test",
                     "Row 5", "Row 6", "8 cells"):  # fmt: skip
        assert expected in html, expected
    assert "Row 2<" not in html
    assert _stored(app) == 0


def test_unreadable_files_are_refused_clearly(app, factory, clock):
    _, _, client = _world(app, factory, clock)
    app.config["REMS_RESULTS_UPLOAD_MAX_BYTES"] = 2048
    cases = {
        b"": "The file is empty",
        "test,collected_on\ncbc,2026-12-01\n".encode("utf-16"): "not UTF-8",
        b"x" * 2049: "larger than 2 KB",
        b"patient_id,colour\n": "Unknown column",
    }
    for content, message in cases.items():
        answer = _upload(client, content)
        assert answer.status_code == 422, message
        assert message in answer.get_data(as_text=True)
    assert _stored(app) == 0


def test_a_file_for_one_patient_needs_no_patient_columns(app, factory, clock):
    treated, _, client = _world(app, factory, clock)
    rems_id = treated.world.patient.rems_id
    day = clock.now().date().isoformat()
    preview = _upload(client, f"test,collected_on,value\ntsh,{day},2.1\n".encode(), rems_id)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    done = _confirm(client, preview.get_data(as_text=True))
    assert done.headers["Location"].endswith(f"/patients/{rems_id}#monitoring")
    assert _stored(app) == 1


def test_the_template_downloads(app, factory, clock):
    _, _, client = _world(app, factory, clock)
    many = client.get("/results/template.csv")
    assert many.mimetype == "text/csv"
    assert many.get_data(as_text=True).splitlines()[0] == (
        "patient_id,date_of_birth,test,collected_on,value,unit,abnormal,loinc,finding,"
        "finding_description"
    )
    one = client.get("/results/template.csv?patient=x").get_data(as_text=True)
    assert one.splitlines()[0] == (
        "test,collected_on,value,unit,abnormal,loinc,finding,finding_description"
    )
