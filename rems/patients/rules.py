"""Patient rules as pure functions: plausible dates of birth, lifecycle moves, duplicates."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from rems.common.localtime import after_today
from rems.patients.models import PatientStatus
from rems.program.model import add_months

P = PatientStatus


class PatientMove(StrEnum):
    """What can happen to a patient's enrollment."""

    ENROLL = "enroll"
    DISCONTINUE = "discontinue"
    CLOSE = "close"


#: move → (statuses it may start from, status it leads to)
MOVES: dict[PatientMove, tuple[frozenset[PatientStatus], PatientStatus]] = {
    PatientMove.ENROLL: (frozenset({P.PENDING}), P.ENROLLED),
    PatientMove.DISCONTINUE: (frozenset({P.ENROLLED}), P.DISCONTINUED),
    PatientMove.CLOSE: (frozenset({P.PENDING, P.ENROLLED, P.DISCONTINUED}), P.CLOSED),
}


def next_patient_status(current: PatientStatus, move: PatientMove) -> PatientStatus | None:
    """The status `move` leads to, or None when it is not allowed from `current`."""
    sources, target = MOVES[move]
    return target if current in sources else None


def date_of_birth_problem(
    born: date, today: date, max_age_years: int, where: str = "the practice"
) -> str | None:
    """Why a date of birth cannot be right, or None; `today` is the practice's."""
    if problem := after_today("Date of birth", born, today=today, where=where):
        return problem
    if born < add_months(today, -12 * max_age_years):
        return f"The date of birth makes the patient older than {max_age_years} years."
    return None


def same_person_key(first_name: str, last_name: str, born: date) -> tuple[str, str, date]:
    """What makes two enrollments possibly the same person: name and date of birth."""
    return (" ".join(first_name.lower().split()), " ".join(last_name.lower().split()), born)


def typed_name_matches(typed: str, first_name: str, last_name: str) -> bool:
    """Whether the patient typed their legal name (case and spacing aside)."""
    return " ".join(typed.lower().split()) == " ".join(f"{first_name} {last_name}".lower().split())
