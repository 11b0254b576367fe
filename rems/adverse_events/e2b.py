"""One adverse event as XML in the shape of an ICH E2B(R3) individual case safety report (the
HL7 v3 MCCI_IN200100UV01 / PORR_IN049016UV message), for the sponsor's safety team to take in.

It is E2B(R3)-SHAPED, NOT A VALIDATED SUBMISSION: the elements and code values follow the E2B(R3)
implementation guide for the data the REMS holds (C.1 report, C.2 reporter, D patient,
E.i reaction with seriousness and outcome, G.k drug, H narrative), but there is no MedDRA
coding, no sender/receiver registration and no validation against the ICH schemas, which are
not bundled here. The file says so in a comment and in its narrative."""

from __future__ import annotations

from datetime import date, datetime
from xml.etree import ElementTree as ET

from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.presenters import category_label, follow_up_rows
from rems.common.clock import utcnow
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient

HL7 = "urn:hl7-org:v3"
NOTICE = (
    "ICH E2B(R3)-shaped export of the LEMTRADA REMS system; not a validated E2B(R3) "
    "submission (no MedDRA coding, not checked against the ICH schemas)."
)
#: E.i.3.2 seriousness criteria: our code → (E2B code of the criterion in the ICH code system).
CRITERIA_CODES = {
    "death": "34",
    "life_threatening": "21",
    "hospitalisation": "33",
    "disability": "35",
    "congenital_anomaly": "12",
    "other_medically_important": "26",
}
#: E.i.7 outcome of the reaction at the time of the last observation.
OUTCOME_CODES = {
    "recovered": "1",
    "recovering": "2",
    "not_recovered": "3",
    "recovered_with_sequelae": "4",
    "fatal": "5",
    "unknown": "0",
}
#: D.5 sex (ISO 5218 as E2B uses it).
SEX_CODES = {"male": "1", "female": "2"}
#: ICH code system OIDs (E2B(R3) implementation guide, appendix).
OID_CASE = "2.16.840.1.113883.3.989.2.1.3.2"
OID_CRITERIA = "2.16.840.1.113883.3.989.2.1.1.19"
OID_OUTCOME = "2.16.840.1.113883.3.989.2.1.1.11"
OID_REPORT_TYPE = "2.16.840.1.113883.3.989.2.1.1.2"


def _ts(day: date | datetime) -> str:
    return day.strftime("%Y%m%d%H%M%S") if isinstance(day, datetime) else day.strftime("%Y%m%d")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{HL7}}}{tag}", {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        child.text = text
    return child


def event_xml(session: Session, event: AdverseEvent, patient: Patient) -> bytes:
    """The event as E2B(R3)-shaped XML (UTF-8 bytes)."""
    program = current_app.extensions["rems_program"]
    case_id = f"REMS-AE-{event.id}"
    now = utcnow()
    root = ET.Element(f"{{{HL7}}}MCCI_IN200100UV01", {"ITSVersion": "XML_1.0"})
    _el(root, "id", root="2.16.840.1.113883.3.989.2.1.3.22", extension=f"{case_id}-batch")
    _el(root, "creationTime", value=_ts(now))
    message = _el(root, "PORR_IN049016UV")
    _el(message, "id", root="2.16.840.1.113883.3.989.2.1.3.1", extension=case_id)
    _el(message, "creationTime", value=_ts(now))
    act = _el(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    subject = _el(act, "subject", typeCode="SUBJ")
    case = _el(subject, "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _el(case, "id", root=OID_CASE, extension=case_id)  # C.1.1
    _el(case, "code", code="PAT_ADV_EVNT", codeSystem="2.16.840.1.113883.5.4")
    _el(case, "text", _narrative(session, event, patient))  # H.1 narrative
    _el(case, "effectiveTime").append(_value_el("low", event.aware_on))  # C.1.4 first received
    _el(case, "availabilityTime", value=_ts(_latest_information(session, event)))  # C.1.5
    report_type = _el(case, "subjectOf2", typeCode="SUBJ")
    characteristic = _el(report_type, "investigationCharacteristic", classCode="OBS")
    _el(characteristic, "code", code="1", codeSystem=OID_REPORT_TYPE, displayName="spontaneous")
    _reporter(case, event)
    _patient(case, event, patient, program.drug)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True).replace(
        b"?>", f"?>\n<!-- {NOTICE} -->".encode(), 1
    )


def _value_el(tag: str, day: date | None) -> ET.Element:
    element = ET.Element(f"{{{HL7}}}{tag}")
    if day is None:
        element.set("nullFlavor", "UNK")
    else:
        element.set("value", _ts(day))
    return element


def _latest_information(session: Session, event: AdverseEvent) -> date:
    """C.1.5: the day of the most recent information (the last follow-up, or awareness)."""
    days = [row["follow_up"].received_on for row in follow_up_rows(session, event.id)]
    return max([event.aware_on or event.onset_on, *days])


def _reporter(case: ET.Element, event: AdverseEvent) -> None:
    """C.2.r primary source: who reported it, as entered."""
    outbound = _el(case, "outboundRelationship", typeCode="SPRT")
    relevant = _el(outbound, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    role = _el(_el(relevant, "subjectOf2", typeCode="SUBJ"), "controlActEvent")
    _el(_el(role, "author", typeCode="AUT"), "assignedEntity", event.reporter or "Not given")


def _patient(case: ET.Element, event: AdverseEvent, patient: Patient, drug: str) -> None:
    """D patient, E.i reaction, G.k drug."""
    component = _el(case, "component", typeCode="COMP")
    observation = _el(component, "adverseEventAssessment", classCode="INVSTG", moodCode="EVN")
    primary = _el(_el(observation, "subject1", typeCode="SBJ"), "primaryRole", classCode="INVSBJ")
    person = _el(primary, "player1", classCode="PSN", determinerCode="INSTANCE")
    _el(person, "name", patient.initials)  # D.1 initials only
    _el(person, "administrativeGenderCode", code=SEX_CODES.get(patient.sex, "0"),
        codeSystem="1.0.5218")  # fmt: skip
    _el(person, "birthTime", value=_ts(patient.date_of_birth))  # D.2.1
    reaction = _el(_el(primary, "subjectOf2", typeCode="SBJ"), "observation", classCode="OBS",
                   moodCode="EVN")  # fmt: skip
    _el(reaction, "id", root="2.16.840.1.113883.3.989.2.1.3.12", extension=f"{event.id}-1")
    _el(reaction, "code", code="29", codeSystem="2.16.840.1.113883.3.989.2.1.1.19",
        displayName="reaction")  # fmt: skip
    time = _el(reaction, "effectiveTime")
    time.append(_value_el("low", event.onset_on))  # E.i.4 start date
    _el(reaction, "value", category_label(event.category), language="en")  # E.i.1.1a
    for code in (event.serious_criteria or "").split(","):
        if code in CRITERIA_CODES:  # E.i.3.2a–f, each criterion that applies
            relationship = _el(reaction, "outboundRelationship2", typeCode="PERT")
            criterion = _el(relationship, "observation", classCode="OBS", moodCode="EVN")
            _el(criterion, "code", code=CRITERIA_CODES[code], codeSystem=OID_CRITERIA,
                displayName=code)  # fmt: skip
            _el(criterion, "value", value="true")
    outcome = _el(_el(reaction, "outboundRelationship2", typeCode="PERT"), "observation",
                  classCode="OBS", moodCode="EVN")  # fmt: skip
    _el(outcome, "code", code="27", codeSystem="2.16.840.1.113883.3.989.2.1.1.19",
        displayName="outcome")  # fmt: skip
    outcome_code = OUTCOME_CODES.get(event.outcome or "unknown", "0")  # E.i.7
    _el(outcome, "value", code=outcome_code, codeSystem=OID_OUTCOME)
    drug_info = _el(_el(primary, "subjectOf2", typeCode="SBJ"), "organizer", classCode="CATEGORY",
                    moodCode="EVN")  # fmt: skip
    administration = _el(_el(drug_info, "component", typeCode="COMP"), "substanceAdministration",
                         classCode="SBADM", moodCode="EVN")  # fmt: skip
    product = _el(_el(_el(administration, "consumable", typeCode="CSM"), "instanceOfKind"),
                  "kindOfProduct")  # fmt: skip
    _el(product, "name", drug)  # G.k.2.2 medicinal product as reported
    _el(administration, "id", root="2.16.840.1.113883.3.989.2.1.3.12", extension="suspect")


def _narrative(session: Session, event: AdverseEvent, patient: Patient) -> str:
    """H.1: what happened, every follow-up in order, and what the file is."""
    lines = [NOTICE, f"REMS patient {patient.rems_id}.", event.description or "No description."]
    for row in follow_up_rows(session, event.id):
        f = row["follow_up"]
        lines.append(f"Follow-up received {f.received_on}: {f.note}")
    return "\n".join(lines)
