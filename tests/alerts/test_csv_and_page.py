"""Coded values from a CSV file (one row per value, Excel's dates, test names) and from the
result page; a bad row refuses the whole file, each error naming its row and field."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from rems.alerts.models import LabAlert
from rems.extensions import db
from rems.monitoring.models import LabResult, ResultValue
from rems.program.model import add_months
from tests.factories import csrf_token
from tests.monitoring.helpers import move_to, treated_patient
from tests.patients.helpers import add_delegate


def _upload(client, content: bytes, patient: str):
    path = f"/results/upload?patient={patient}"
    data = {"csrf_token": csrf_token(client, path), "file": (io.BytesIO(content), "labs.csv")}
    return client.post(path, data=data, content_type="multipart/form-data")


def _confirm(client, preview_html: str):
    fields = dict(
        re.findall(r'name="(csrf_token|content|patient|batch)"[^>]*value="([^"]*)"', preview_html)
    )
    return client.post("/results/upload/confirm", data=fields)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _setup(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    delegate = add_delegate(app, factory, treated.world.prescriber)
    return treated, factory.signed_in(delegate)


def test_a_file_of_coded_rows_in_excel_forms_is_stored_as_one_result_per_test(app, factory, clock):
    treated, client = _setup(app, factory, clock)
    day = clock.now().date()
    us, short = day.strftime("%m/%d/%Y"), f"{day.day}-{day:%b}-{day:%y}"
    content = (
        "test,collected_on,loinc,value,unit\n"
        f"CBC with differential,{us},777-3,85000,/uL\n"
        f"cbc,{day.isoformat()} 00:00:00,718-7,13.1,g/dL\n"
        f"Serum creatinine,{short},2160-0,79.6,umol/L\n"
    ).encode()
    preview = _upload(client, content, treated.world.patient.rems_id)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert "Platelets 85 10*9/L <strong>(low)</strong>" in preview.get_data(as_text=True)
    assert _confirm(client, preview.get_data(as_text=True)).status_code == 302
    with app.app_context():
        results = db.session.scalars(sa.select(LabResult).order_by(LabResult.test_code)).all()
        assert [(r.test_code, r.collected_on, r.source) for r in results] == [
            ("cbc", day, "csv"), ("creatinine", day, "csv"),
        ]  # fmt: skip
        values = dict(db.session.execute(sa.select(ResultValue.analyte, ResultValue.value)).all())
        assert values == {"platelets": 85.0, "haemoglobin": 13.1, "creatinine": 0.9004352}
        assert db.session.scalar(sa.select(LabAlert.rule)) == "platelets_low"


def test_one_bad_row_refuses_the_whole_file_naming_row_and_field(app, factory, clock):
    treated, client = _setup(app, factory, clock)
    day = clock.now().date().isoformat()
    content = (
        "test,collected_on,loinc,value,unit\n"
        f"cbc,{day},777-3,40,10*9/L\n"
        f"cbc,{day},718-7,13.1,mmol/L\n"
        f"tsh,{day},9999-9,2,m[IU]/L\n"
        f"creatinine,{day},2160-0,300,mg/dL\n"
    ).encode()
    refused = _upload(client, content, treated.world.patient.rems_id)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    for row, field in (("Row 3", "unit"), ("Row 4", "loinc"), ("Row 5", "value")):
        assert f"{row}</th><td><code>{field}</code>" in text, (row, field)
    assert "Row 2</th>" not in text  # the good row is not named, but not stored either
    assert _count(app, LabResult) == 0 and _count(app, LabAlert) == 0


def test_the_result_page_takes_numbers_and_the_dashboard_shows_the_alert(app, factory, clock):
    treated, client = _setup(app, factory, clock)
    rems_id = treated.world.patient.rems_id
    path = f"/patients/{rems_id}/results/new"
    form = {
        "csrf_token": csrf_token(client, path), "test": "cbc",
        "collected_on": clock.now().date().isoformat(),
        "platelets_value": "", "platelets_unit": "/uL",
    }  # fmt: skip
    form["platelets_value"] = "2500000"  # 2,500 ×10⁹/L: cannot be true
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    assert 'id="platelets_value-error"' in refused.get_data(as_text=True)
    form |= {"platelets_value": "42", "platelets_unit": "10*9/L", "tsh_value": "2"}
    wrong_test = client.post(path, data=form)
    assert wrong_test.status_code == 422
    assert 'id="tsh_value-error"' in wrong_test.get_data(as_text=True)
    form["tsh_value"] = ""
    assert client.post(path, data=form).status_code == 302
    dashboard = client.get("/dashboard").get_data(as_text=True)
    panel = dashboard.index('id="needs-attention"')
    assert panel < dashboard.index('id="monitoring-title"')
    assert "Platelets below 100" in dashboard[panel:] and "42 10*9/L" in dashboard[panel:]
    history = client.get(f"/patients/{rems_id}").get_data(as_text=True)
    assert "Platelets 42 10*9/L <strong>(low)</strong>" in history
