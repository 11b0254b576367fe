"""The program file's `[monitoring_states]` table: when a monitoring item is "due soon", the
worklist's look-ahead filters and the digest's week, how far monitoring may be extended, and
how often the prescriber signs a periodic status of each monitored patient (program §6)."""

from __future__ import annotations

from dataclasses import dataclass

from rems.program._fields import Node


@dataclass(slots=True, frozen=True)
class MonitoringStates:
    """Due soon, the worklist's windows, the digest's week, extension, periodic status."""

    #: An item is "due soon" from its due date minus this many days (in the program's zone).
    due_soon_days: int
    #: The worklist's "due within N days" filters.
    worklist_windows: tuple[int, ...]
    #: The digest tells what falls due within this many days ("this week").
    digest_days: int
    #: Close reasons that keep the items already overdue as overdue (non-compliance) and close
    #: only the later ones; every other reason closes as before.
    close_keeps_overdue: tuple[str, ...]
    #: The prescriber signs a periodic status of each monitored patient this often, from the
    #: first dose; it is overdue `status_grace_days` after its due date.
    status_every_months: int
    status_grace_days: int


def load_monitoring_states(node: Node) -> MonitoringStates:
    """The `[monitoring_states]` table, strict: nothing unknown."""
    node.refuse_unknown(
        "due_soon_days",
        "worklist_windows",
        "digest_days",
        "close_keeps_overdue",
        "status_every_months",
        "status_grace_days",
    )
    windows = tuple(int(w) for w in node.value("worklist_windows"))
    if not windows or any(w < 1 for w in windows):
        raise node.error("worklist_windows", "give whole numbers of days of at least 1")
    return MonitoringStates(
        due_soon_days=node.integer("due_soon_days", minimum=0),
        worklist_windows=tuple(sorted(set(windows))),
        digest_days=node.integer("digest_days"),
        close_keeps_overdue=node.texts("close_keeps_overdue", identifiers=True),
        status_every_months=node.integer("status_every_months"),
        status_grace_days=node.integer("status_grace_days", minimum=0),
    )
