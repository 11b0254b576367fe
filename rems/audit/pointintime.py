"""The as-of engine: every point-in-time answer, read from the facts recorded by that moment.

One rule for all of them: a record as of a moment is what had been *recorded* by then (its
status history, its doses, results, waivers, acknowledgments, each by the time it was entered,
never by the date it names), and the day of that moment is the program's day (its time zone).
The readers, one per kind of record, each taking (session, record, moment):

- certification (prescribers, sites): `rems.certification.queries.certification_at`
- enrollment (patients): `rems.patients.queries.enrollment_at`
- the patient's lookup (acknowledgments, documents missing, courses): `rems.patients.asof`
- monitoring: `rems.monitoring.asof.summary_as_of`, the live schedule's own rules fed with the
  doses (infusions here and prior treatment), results and waivers recorded by then
- dispensing authorizations: `authorization_at` below

An "as of" text a person or a system gives is read by `rems.audit.asof.parse_as_of`: a date is
the end of that day in the program's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationStatus,
)
from rems.common.programday import day_of
from rems.infusions.models import Infusion


@dataclass(frozen=True)
class AuthorizationThen:
    """A dispensing authorization as it stood at a moment."""

    status: str
    doses_given: int


def authorization_at(
    session: Session, authorization: Authorization, moment: datetime
) -> AuthorizationThen | None:
    """The authorization at `moment` (None: not issued yet): the doses recorded under it by
    then, and its status as a read at that moment would have given it: ended (reversed,
    expired) once its end was recorded, expired once past its last day, else from the doses."""
    if authorization.issued_at > moment:
        return None
    given = session.scalar(
        sa.select(sa.func.count(Infusion.id)).where(
            Infusion.authorization_id == authorization.id, Infusion.recorded_at <= moment
        )
    )
    ended = authorization.ended_at is not None and authorization.ended_at <= moment
    if ended and authorization.status not in LIVE_AUTHORIZATION_STATUSES:
        return AuthorizationThen(authorization.status.value, given)
    status = _from_doses(given, authorization.doses)
    if status in LIVE_AUTHORIZATION_STATUSES and day_of(moment) > authorization.valid_until:
        status = AuthorizationStatus.EXPIRED
    return AuthorizationThen(status.value, given)


def _from_doses(given: int, doses: int) -> AuthorizationStatus:
    """issued → partially_used → used, by the doses given."""
    if given == 0:
        return AuthorizationStatus.ISSUED
    return AuthorizationStatus.USED if given >= doses else AuthorizationStatus.PARTIALLY_USED
