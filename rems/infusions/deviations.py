"""Protocol deviations of an infusion record: the refusal that asks the person recording to
confirm them, and their storage with the dose (each opening or joining a non-compliance case)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.errors import NeedsConfirmation
from rems.compliance.services import answer_for
from rems.infusions.models import Infusion, InfusionDeviation
from rems.infusions.rules import Deviation
from rems.program.model import Program

CONFIRM = (
    "This record has {count} protocol deviation(s). Confirm that you are recording what "
    "happened (deviations_acknowledged), optionally with a reason: the dose is then stored "
    "with its deviations flagged."
)


class DeviationsToConfirm(NeedsConfirmation):
    """The record has protocol deviations nobody confirmed yet: nothing was stored. `errors`
    lists each under `deviations_acknowledged` ("code (severity): message")."""

    code = "deviations_not_acknowledged"
    message = "The record has protocol deviations: confirm them to store the dose."

    def __init__(self, deviations: tuple[Deviation, ...], program: Program):
        self.deviations = deviations
        self.described = tuple(describe(d, program) for d in deviations)
        listed = [f"{d['code']} ({d['severity']}): {d['message']}" for d in self.described]
        super().__init__(
            {"deviations_acknowledged": [CONFIRM.format(count=len(deviations)), *listed]}
        )


def describe(deviation: Deviation, program: Program) -> dict[str, Any]:
    """A deviation as pages and the API show it: code, label, severity, party, field, message."""
    kind = program.deviations.kind(deviation.code)
    return {
        "code": deviation.code,
        "label": kind.label,
        "severity": kind.severity,
        "party": kind.party,
        "field": deviation.field,
        "message": deviation.message,
    }


def store_deviations(
    session: Session,
    infusion: Infusion,
    deviations: tuple[Deviation, ...],
    actor: User,
    record: dict[str, Any],
) -> list[InfusionDeviation]:
    """The confirmed deviations stored with their dose, audited, each answered for in a case."""
    from flask import current_app

    program = current_app.extensions["rems_program"]
    reason = (record.get("deviation_reason") or "").strip() or None
    stored = []
    for deviation in deviations:
        kind = program.deviations.kind(deviation.code)
        row = InfusionDeviation(
            infusion_id=infusion.id, code=deviation.code, severity=kind.severity,
            party=kind.party, facts=deviation.facts, acknowledged_reason=reason,
        )  # fmt: skip
        session.add(row)
        session.flush()
        record_event(session, "infusion.deviation_recorded", actor=actor, entity=row,
                     new={"infusion": infusion.id, "code": row.code, "severity": row.severity,
                          "facts": row.facts}, reason=reason)  # fmt: skip
        answer_for(session, row, infusion, actor)
        stored.append(row)
    return stored
