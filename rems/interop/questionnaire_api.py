"""FHIR Questionnaire reads on the /fhir blueprint: search (`GET /fhir/Questionnaire`, with
`url`, `url|version` or `_id`), read by id, and `$questionnaire-package` (Da Vinci DTR: one
`PackageBundle` per form asked for, each a collection Bundle holding the Questionnaire; the
forms need no Library or ValueSet). The forms are the program's published ones: any API token
may read them (any role)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from rems.auth.permissions import signed_in
from rems.interop.fhir_blueprint import bp, fhir_base
from rems.interop.outcomes import FhirError, fhir_response, read_body
from rems.interop.questionnaires import FORM_IDS, all_questionnaires, questionnaire

SEARCH_PARAMS = ("url", "_id", "_format")


def _forms() -> list[dict[str, Any]]:
    return all_questionnaires(current_app.extensions["rems_program"], fhir_base())


@bp.get("/Questionnaire")
@signed_in
def questionnaire_search():
    """Every form, or those matching `url` (optionally `url|version`) or `_id`."""
    unknown = [name for name in request.args if name not in SEARCH_PARAMS]
    if unknown:
        raise FhirError(400, (f"Unknown search parameter: {', '.join(unknown)}.", None))
    found = [form for form in _forms() if _matches(form)]
    return fhir_response({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": [{"relation": "self", "url": request.url}],
        "entry": [{"fullUrl": form["url"], "resource": form, "search": {"mode": "match"}}
                  for form in found],
    })  # fmt: skip


def _matches(form: dict[str, Any]) -> bool:
    wanted = request.args.get("url")
    if wanted is not None:
        url, _, version = wanted.partition("|")
        if url != form["url"] or (version and version != form["version"]):
            return False
    ids = request.args.get("_id")
    return ids is None or form["id"] in ids.split(",")


@bp.get("/Questionnaire/<form_id>")
@signed_in
def questionnaire_read(form_id: str):
    """One form by id."""
    if form_id not in FORM_IDS:
        raise FhirError(404, (f"No Questionnaire '{form_id}'.", None))
    return fhir_response(questionnaire(current_app.extensions["rems_program"], form_id,
                                       fhir_base()))  # fmt: skip


@bp.get("/Questionnaire/<form_id>/$questionnaire-package")
@signed_in
def questionnaire_package_of(form_id: str):
    """The package of one form."""
    if form_id not in FORM_IDS:
        raise FhirError(404, (f"No Questionnaire '{form_id}'.", None))
    return fhir_response(_package([f for f in _forms() if f["id"] == form_id]))


@bp.post("/Questionnaire/$questionnaire-package")
@signed_in
def questionnaire_package():
    """The packages of the forms named by `questionnaire` (canonical URLs, `url|version`
    allowed); none named: every form."""
    body = read_body()
    if body.get("resourceType") != "Parameters":
        raise FhirError(400, ("The body must be a Parameters resource.", "resourceType"))
    wanted = [p.get("valueCanonical") or p.get("valueUri") or p.get("valueString")
              for p in body.get("parameter") or [] if p.get("name") == "questionnaire"]  # fmt: skip
    forms = _forms()
    if not wanted:
        return fhir_response(_package(forms))
    chosen, issues = [], []
    for index, canonical in enumerate(wanted):
        url, _, version = (canonical or "").partition("|")
        match = [f for f in forms if f["url"] == url and version in ("", f["version"])]
        if not match:
            where = f"Parameters.parameter.where(name='questionnaire')[{index}]"
            issues.append((f"No Questionnaire '{canonical}' (this version or url).", where))
        chosen += match
    if issues:
        raise FhirError(422, *issues)
    return fhir_response(_package(chosen))


def _package(forms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "PackageBundle", "resource": {
                "resourceType": "Bundle", "type": "collection",
                "entry": [{"fullUrl": form["url"], "resource": form}],
            }}
            for form in forms
        ],
    }  # fmt: skip
