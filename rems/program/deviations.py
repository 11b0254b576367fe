"""The program file's `[deviations]` table: each protocol deviation of the infusion record with
its severity and the party answerable for it, the reasons a visit may end not infused, and the
escalation threshold of non-compliance cases (program §5)."""

from __future__ import annotations

from dataclasses import dataclass

from rems.program._fields import Node

#: The deviations the infusion rules can find (rems.infusions.rules): the program file gives
#: each one its severity and its answerable party, and must name every one of them.
DEVIATION_CODES = (
    "identity_not_verified",
    "infused_despite_infection",
    "premedication_missing",
    "antiviral_missing",
    "observation_short",
    "outside_validity",
    "beyond_authorized_doses",
    "course_interval_short",
    "first_dose_late",
)
SEVERITIES = ("minor", "major")
#: Who answers for a deviation: the infusion site, the course's prescriber, the pharmacy.
PARTIES = ("site", "prescriber", "pharmacy")


@dataclass(slots=True, frozen=True)
class DeviationKind:
    """One protocol deviation: what it is called, how serious, who answers for it."""

    code: str
    label: str
    severity: str
    party: str


@dataclass(slots=True, frozen=True)
class DeviationRules:
    """Deviations, not-infused reasons, and when a party's record goes to the administrators."""

    kinds: tuple[DeviationKind, ...]
    not_infused_reasons: tuple[str, ...]
    #: This many major deviations of one party within `escalate_within_months`: administrators
    #: are asked to consider suspending the party (the decision stays theirs).
    escalate_major_count: int
    escalate_within_months: int
    #: The latest due date a corrective action may set, in days after it is written.
    action_max_days: int

    def kind(self, code: str) -> DeviationKind:
        """The deviation with this code; KeyError if there is none."""
        for kind in self.kinds:
            if kind.code == code:
                return kind
        raise KeyError(f"no deviation {code!r}")


def load_deviations(node: Node) -> DeviationRules:
    """The `[deviations]` table, strict: every known code once, nothing unknown."""
    node.refuse_unknown(
        "not_infused_reasons",
        "escalate_major_count",
        "escalate_within_months",
        "action_max_days",
        "kinds",
    )
    kinds = node.each("kinds", _kind, "code", "deviation code")
    missing = [code for code in DEVIATION_CODES if code not in {k.code for k in kinds}]
    if missing:
        raise node.error("kinds", f"missing deviation codes: {', '.join(missing)}")
    return DeviationRules(
        kinds=kinds,
        not_infused_reasons=node.texts("not_infused_reasons", identifiers=True),
        escalate_major_count=node.integer("escalate_major_count"),
        escalate_within_months=node.integer("escalate_within_months"),
        action_max_days=node.integer("action_max_days"),
    )


def _kind(node: Node) -> DeviationKind:
    node.refuse_unknown("code", "label", "severity", "party")
    return DeviationKind(
        code=node.choice("code", DEVIATION_CODES),
        label=node.text("label"),
        severity=node.choice("severity", SEVERITIES),
        party=node.choice("party", PARTIES),
    )
