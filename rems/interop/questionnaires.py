"""The program's forms as FHIR R4 Questionnaires, generated from the program file: the
prescriber, site and patient enrollment forms (their attestations, each a required boolean to
be confirmed) and the prescriber knowledge assessment (its questions and choices; never the
answers). `url` is this server's `Questionnaire/<id>`, `version` the program file's
`[forms] version`; an EHR-embedded form shows them. A submitted patient enrollment becomes a
pending enrollment that is signed in our app (`questionnaire_submit`)."""

from __future__ import annotations

from typing import Any

from rems.program.model import Attestation, Program

PRESCRIBER = "lemtrada-prescriber-enrollment"
SITE = "lemtrada-site-enrollment"
PATIENT = "lemtrada-patient-enrollment"
ASSESSMENT = "lemtrada-knowledge-assessment"
FORM_IDS = (PRESCRIBER, SITE, PATIENT, ASSESSMENT)
TITLES = {
    PRESCRIBER: "LEMTRADA REMS Prescriber Enrollment",
    SITE: "LEMTRADA REMS Healthcare Setting Enrollment",
    PATIENT: "LEMTRADA REMS Patient Enrollment",
    ASSESSMENT: "LEMTRADA REMS Prescriber Knowledge Assessment",
}
NAMES = {
    PRESCRIBER: "LemtradaPrescriberEnrollment",
    SITE: "LemtradaSiteEnrollment",
    PATIENT: "LemtradaPatientEnrollment",
    ASSESSMENT: "LemtradaKnowledgeAssessment",
}
SUBJECTS = {PRESCRIBER: "Practitioner", SITE: "Organization", PATIENT: "Patient",
            ASSESSMENT: "Practitioner"}  # fmt: skip


def questionnaire(program: Program, form_id: str, base: str) -> dict[str, Any]:
    """One form as a Questionnaire (KeyError for an unknown id)."""
    items = _ITEMS[form_id](program)
    return {
        "resourceType": "Questionnaire",
        "id": form_id,
        "url": f"{base}/Questionnaire/{form_id}",
        "version": program.forms.version,
        "name": NAMES[form_id],
        "title": TITLES[form_id],
        "status": "active",
        "subjectType": [SUBJECTS[form_id]],
        "publisher": program.name,
        "item": items,
    }


def all_questionnaires(program: Program, base: str) -> list[dict[str, Any]]:
    return [questionnaire(program, form_id, base) for form_id in FORM_IDS]


def _confirm(attestation: Attestation, **extra) -> dict[str, Any]:
    return {"linkId": attestation.id, "text": attestation.text, "type": "boolean",
            "required": True} | extra  # fmt: skip


def _field(link_id: str, text: str, kind: str = "string") -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "type": kind, "required": True}


def _group(link_id: str, text: str, items: list[dict[str, Any]], **extra) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "type": "group", "item": items} | extra


def _when(question: str) -> dict[str, Any]:
    """Shown only when the boolean `question` is answered true."""
    return {"enableWhen": [{"question": question, "operator": "=", "answerBoolean": True}]}


def _prescriber(program: Program) -> list[dict[str, Any]]:
    return [
        _group("prescriber", "Prescriber", [_field("npi", "NPI")]),
        _group("attestations", "Attestations",
               [_confirm(a) for a in program.attestations.prescriber]),
    ]  # fmt: skip


def _site(program: Program) -> list[dict[str, Any]]:
    sets = program.attestations
    return [
        _group("site", "Healthcare setting", [
            _field("name", "Name"), _field("npi", "NPI"),
            _field("dispenses", "Dispenses LEMTRADA (pharmacy)", "boolean"),
            _field("infuses", "Infuses LEMTRADA", "boolean"),
        ]),
        _group("attestations_all", "Attestations", [_confirm(a) for a in sets.site_all]),
        _group("attestations_dispenses", "Pharmacy attestations",
               [_confirm(a) for a in sets.site_dispenses], **_when("dispenses")),
        _group("attestations_infuses", "Infusion attestations",
               [_confirm(a) for a in sets.site_infuses], **_when("infuses")),
    ]  # fmt: skip


def _patient(program: Program) -> list[dict[str, Any]]:
    confirms = [
        _confirm(a, **_when(a.applies_when)) if a.applies_when else _confirm(a)
        for a in program.attestations.patient
    ]
    return [
        _group("patient", "Patient", [
            _field("first_name", "First name"), _field("last_name", "Last name"),
            _field("date_of_birth", "Date of birth", "date"),
            _field("sex", "Sex", "choice") | {
                "answerOption": [{"valueString": sex} for sex in program.patient.sexes]},
            _field("can_become_pregnant", "Can become pregnant", "boolean"),
        ]),
        _group("attestations", "Patient attestations", confirms),
    ]  # fmt: skip


def _assessment(program: Program) -> list[dict[str, Any]]:
    return [
        {"linkId": q.id, "text": q.text, "type": "choice", "required": True,
         "answerOption": [{"valueString": choice} for choice in q.choices]}
        for q in program.assessment.questions
    ]  # fmt: skip


_ITEMS = {PRESCRIBER: _prescriber, SITE: _site, PATIENT: _patient, ASSESSMENT: _assessment}
