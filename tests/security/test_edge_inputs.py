"""Extreme and malformed inputs (issue 22, items 6 and 9): far dates in "as of" and report
periods, a CSV cell past the csv module's limit, a username taken at the same moment, a date
given as a number, a NUL in a nested API route's query string — each a 4xx naming the field."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa

from rems.auth import users
from rems.auth.models import Role
from rems.common.errors import ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult
from tests.authorizations.helpers import gate
from tests.factories import csrf_token
from tests.monitoring.helpers import treated_patient

FAR = ["9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00",
       "9999-12-31", "0001-01-01", "2101-01-01T00:00:00Z"]  # fmt: skip


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---------- 6. Far dates ----------


@pytest.mark.parametrize("moment", FAR)
def test_a_far_as_of_is_a_400_naming_it(app, factory, moment):
    world = gate(app, factory)
    reader = factory.token(factory.user(Role.AUDITOR))
    answer = app.test_client().get(
        f"/api/v1/patients/{world.patient.rems_id}", query_string={"as_of": moment},
        headers=_bearer(reader),
    )  # fmt: skip
    assert answer.status_code in (400, 422), answer.get_data(as_text=True)
    assert "as_of" in str(answer.get_json()["error"])


@pytest.mark.parametrize(
    ("path", "field"),
    [("/reports/infusions", "to"), ("/reports/gate-decisions", "from"),
     ("/reports/assessment", "to"), ("/reports/assessment", "from")],
)  # fmt: skip
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_far_report_period_is_a_400_naming_the_field(factory, path, field, day):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    answer = auditor.get(path, query_string={field: day})
    assert answer.status_code == 400
    assert "Give a date between 1900 and 2100" in answer.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_far_dates_in_the_audit_filter_are_named_not_a_500(factory, day):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    for field in ("date_from", "date_to"):
        answer = auditor.get("/audit/events", query_string={field: day})
        assert answer.status_code == 400
        assert "Give a date between 1900 and 2100" in answer.get_data(as_text=True)


# ---------- 6. A CSV cell over 131,072 characters ----------


def _long_cell_file(header: str) -> bytes:
    return (header + "\n" + "x" * 140_000 + "\n").encode()


def test_a_huge_results_cell_is_named_not_a_500(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    client = factory.signed_in(treated.world.prescriber.user)
    path = "/results/upload"
    content = _long_cell_file("collected_on,test,value,patient_id,date_of_birth")
    data = {"csrf_token": csrf_token(client, path), "file": (io.BytesIO(content), "labs.csv")}
    answer = client.post(path, data=data, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "cannot be read as CSV" in answer.get_data(as_text=True)


def test_a_huge_prior_treatment_cell_is_named_not_a_500(app, factory):
    admin = factory.signed_in(factory.user(Role.ADMIN))
    path = "/admin/prior-treatment"
    content = _long_cell_file("given_on,course,patient_id,source_document,date_of_birth")
    data = {"csrf_token": csrf_token(admin, path), "file": (io.BytesIO(content), "prior.csv")}
    answer = admin.post(path, data=data, content_type="multipart/form-data")
    assert 400 <= answer.status_code < 500
    assert "cannot be read as CSV" in answer.get_data(as_text=True)


# ---------- 6. The same username at the same moment ----------


def test_a_username_taken_between_the_check_and_the_insert_is_the_fields_error(
    db, factory, monkeypatch
):
    """What two concurrent registrations do on PostgreSQL: both find the name free, the unique
    index refuses the second insert. Its caller gets the username's error, not a 500."""
    taken = factory.user(Role.AUDITOR, username="same.name")
    monkeypatch.setattr(users, "find_user", lambda *_: None)  # the check ran before the commit
    with pytest.raises(ValidationFailed) as failure:
        users.create_user(
            db.session, actor=None, actor_label="test", username=taken.username,
            email="other@example.org", full_name="Someone Else", role=Role.AUDITOR,
            password="a perfectly fine passphrase",
        )  # fmt: skip
    assert failure.value.errors == {"username": [users.USERNAME_TAKEN]}
    db.session.rollback()


# ---------- 9. Dates as ISO strings only; NUL on nested API routes ----------


@pytest.mark.parametrize("value", [0, 1_700_000_000, 20261201, True, "1700000000"])
def test_collected_on_accepts_only_an_iso_date(app, factory, clock, value):
    treated = treated_patient(app, factory, clock)
    token = factory.token(treated.world.prescriber.user)
    answer = app.test_client().post(
        f"/api/v1/patients/{treated.world.patient.rems_id}/results",
        json={"results": [{"test": "cbc", "collected_on": value, "value": "5.1"}]},
        headers=_bearer(token),
    )
    assert answer.status_code == 422
    assert "collected_on" in str(answer.get_json()["error"]["details"])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LabResult)) == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/patients/P000000000?as_of=%00", "/api/v1/authorizations/A1?x=a%00b",
             "/api/v1/me?q=%00", "/api/v1/health?%00=1"],
)  # fmt: skip
def test_a_nul_in_an_api_query_string_is_a_json_400(app, factory, path):
    token = factory.token(factory.user(Role.AUDITOR))
    answer = app.test_client().get(path, headers=_bearer(token))
    assert answer.status_code == 400
    assert answer.mimetype == "application/json"
    assert answer.get_json()["error"]["code"] == "bad_request"


@pytest.mark.postgres
def test_the_same_username_registered_concurrently_on_postgresql(app, monkeypatch):
    """Two registrations of one username, both checked free before either inserts: the unique
    index refuses the second, which gets the username's error (no 500, one account)."""
    real, both_checked = users.find_user, threading.Barrier(2, timeout=20)

    def checked_together(session, username):
        found = real(session, username)
        both_checked.wait()
        return found

    monkeypatch.setattr(users, "find_user", checked_together)
    outcomes: list[object] = []

    def register(number: int) -> None:
        with app.app_context(), writing():
            try:
                users.create_user(
                    db.session, actor=None, actor_label="test", username="twin.name",
                    email=f"twin{number}@example.org", full_name="Twin", role=Role.AUDITOR,
                    password="a perfectly fine passphrase",
                )  # fmt: skip
                db.session.commit()
                outcomes.append("created")
            except ValidationFailed as failure:
                db.session.rollback()
                outcomes.append(failure.errors)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == sorted(
        ["created", {"username": [users.USERNAME_TAKEN]}], key=str
    )
