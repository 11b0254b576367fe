"""The program's forms as Questionnaires: generated from the program file (attestations,
assessment questions without their answers), searched by url, read by id, packaged; each
passes FHIR.js (the conftest validates every answer)."""

from __future__ import annotations

import json

import pytest

from rems.auth.models import Role
from tests.authorizations.helpers import site_with_staff

FHIR = "application/fhir+json"


@pytest.fixture
def token(app, factory):
    admin = factory.user(Role.ADMIN)
    return site_with_staff(app, factory, admin, dispenses=True, infuses=False, name="Forms Rx")[1]


def _get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def _link_ids(items):
    for item in items:
        yield item["linkId"]
        yield from _link_ids(item.get("item", []))


def test_the_four_forms_come_from_the_program_file(app, client, token):
    program = app.extensions["rems_program"]
    response = _get(client, token, "/fhir/Questionnaire")
    assert response.status_code == 200 and response.mimetype == FHIR
    bundle = response.get_json(force=True)
    assert bundle["type"] == "searchset" and bundle["total"] == 4
    forms = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    assert {f["version"] for f in forms.values()} == {program.forms.version}
    prescriber = set(_link_ids(forms["lemtrada-prescriber-enrollment"]["item"]))
    assert {a.id for a in program.attestations.prescriber} <= prescriber
    patient = forms["lemtrada-patient-enrollment"]["item"][1]["item"]
    (contraception,) = [i for i in patient if i["linkId"] == "use_contraception"]
    assert contraception["enableWhen"][0]["question"] == "can_become_pregnant"
    assessment = forms["lemtrada-knowledge-assessment"]["item"]
    assert [q["linkId"] for q in assessment] == [q.id for q in program.assessment.questions]
    first = program.assessment.questions[0]
    assert [o["valueString"] for o in assessment[0]["answerOption"]] == list(first.choices)
    assert "explanation" not in json.dumps(assessment) and 'answer"' not in json.dumps(assessment)


def test_search_by_url_and_version_read_by_id_and_unknowns(client, token):
    url = "http://localhost/fhir/Questionnaire/lemtrada-site-enrollment"
    found = _get(client, token, f"/fhir/Questionnaire?url={url}").get_json(force=True)
    assert [e["resource"]["id"] for e in found["entry"]] == ["lemtrada-site-enrollment"]
    other = _get(client, token, f"/fhir/Questionnaire?url={url}|0.0").get_json(force=True)
    assert (other["total"] == 0 and "entry" in other) or other["total"] == 0
    form = _get(client, token, "/fhir/Questionnaire/lemtrada-site-enrollment").get_json(force=True)
    assert form["url"] == url
    missing = _get(client, token, "/fhir/Questionnaire/nope")
    assert missing.status_code == 404
    assert missing.get_json(force=True)["resourceType"] == "OperationOutcome"
    assert _get(client, token, "/fhir/Questionnaire?name=x").status_code == 400
    assert client.get("/fhir/Questionnaire").status_code == 401


def test_questionnaire_package_by_canonical_and_by_id(client, token):
    url = "http://localhost/fhir/Questionnaire/lemtrada-knowledge-assessment"
    body = {"resourceType": "Parameters",
            "parameter": [{"name": "questionnaire", "valueCanonical": url}]}  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": FHIR}
    response = client.post("/fhir/Questionnaire/$questionnaire-package", data=json.dumps(body),
                           headers=headers)  # fmt: skip
    assert response.status_code == 200
    (package,) = response.get_json(force=True)["parameter"]
    assert package["name"] == "PackageBundle"
    assert package["resource"]["entry"][0]["resource"]["url"] == url
    wrong = dict(body, parameter=[{"name": "questionnaire", "valueCanonical": url + "|0.0"}])
    refused = client.post("/fhir/Questionnaire/$questionnaire-package",
                          data=json.dumps(wrong), headers=headers)  # fmt: skip
    assert refused.status_code == 422
    assert "questionnaire" in refused.get_json(force=True)["issue"][0]["expression"][0]
    single = _get(
        client, token, "/fhir/Questionnaire/lemtrada-patient-enrollment/$questionnaire-package"
    )
    assert len(single.get_json(force=True)["parameter"]) == 1
