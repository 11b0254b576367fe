"""Baseline labs on the Patient Authorization and Baseline Lab Form carry values: refused on
their own box when wrong (nothing authorized), stored as the test's result with the course, and
the baseline the creatinine rule compares with."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import Role
from rems.courses.models import BaselineTest, Course
from rems.extensions import db
from rems.monitoring.models import LabResult, ResultValue
from tests.alerts.test_alerts import _alerts
from tests.courses.test_pages import _post, field_errors, form_values
from tests.patients.helpers import certified_prescriber, enroll_patient
from tests.patients.helpers import publish_guides as publish


def _world(app, factory):
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish(app, admin)
    return prescriber, enroll_patient(app, prescriber)


def test_baseline_values_are_checked_and_stored_with_the_course(app, factory):
    prescriber, patient = _world(app, factory)
    client = factory.signed_in(prescriber.user)
    page = client.get(f"/patients/{patient.rems_id}/courses/new").get_data(as_text=True)
    assert (
        'name="baseline_creatinine_value"' in page and 'name="baseline_skin_exam_finding"' in page
    )
    values = form_values(app) | {
        "baseline_creatinine_value": "300", "baseline_creatinine_unit": "mg/dL",
        "baseline_skin_exam_finding": "abnormal",
    }  # fmt: skip
    refused = _post(client, patient, values)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "not a possible Serum creatinine value" in field_errors(
        html, "baseline_creatinine_value"
    )
    assert "Describe the abnormal finding." in field_errors(
        html, "baseline_skin_exam_finding_description"
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    values |= {
        "baseline_creatinine_value": "70.7", "baseline_creatinine_unit": "umol/L",
        "baseline_skin_exam_finding": "normal",
        "baseline_platelets_value": "210", "baseline_platelets_unit": "10*9/L",
    }  # fmt: skip
    assert _post(client, patient, values).status_code == 302
    with app.app_context():
        rows = db.session.execute(
            sa.select(BaselineTest.test_code, LabResult.finding, LabResult.source)
            .join(LabResult, LabResult.id == BaselineTest.lab_result_id)
            .order_by(BaselineTest.test_code)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("cbc", None, "web"), ("creatinine", None, "web"), ("skin_exam", "normal", "web"),
        ]  # fmt: skip
        stored = dict(db.session.execute(sa.select(ResultValue.analyte, ResultValue.value)).all())
        assert stored == {"creatinine": 0.7997584, "platelets": 210.0}
    assert _alerts(app) == []
