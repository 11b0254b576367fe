"""The program file's `[safety_reporting]` table: how long the program has to send a serious
adverse event to the sponsor's safety team (program §6)."""

from __future__ import annotations

from dataclasses import dataclass

from rems.program._fields import Node


@dataclass(slots=True, frozen=True)
class SafetyReporting:
    """The reporting clock of serious adverse events."""

    #: Calendar days from the day the program became aware of a serious event to the day it is
    #: sent to the sponsor's safety team; from the next day it is overdue.
    serious_report_days: int


def load_safety(node: Node) -> SafetyReporting:
    """The `[safety_reporting]` table, strict."""
    node.refuse_unknown("serious_report_days")
    return SafetyReporting(serious_report_days=node.integer("serious_report_days"))
