"""The daily jobs, run once by `rems demo` after loading, so the first sign-in already finds
what a day of the system leaves behind: expired certifications and authorizations, notices of
certifications about to end, and the prescribers' monitoring digests in the outbox."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rems.alerts.services import escalate_alerts
from rems.certification.notices import notify_expiring
from rems.certification.services import expire_lapsed
from rems.common.clock import utcnow
from rems.courses.settling import expire_authorizations
from rems.reminders.digest import queue_digest
from rems.reminders.services import prescribers_to_remind


def run_daily_jobs(session: Session, today: date) -> str:
    """Each daily job once, as its timer would run it (idempotent: a second run adds nothing).
    Nothing is mailed: the messages wait in the outbox and on the dashboards."""
    expired = expire_lapsed(session, today)
    lapsed = expire_authorizations(session, today)
    notices = notify_expiring(session, today)
    escalate_alerts(session, utcnow())
    digests = 0
    for prescriber_id in prescribers_to_remind(session, today):
        if queue_digest(session, today, prescriber_id) is not None:
            digests += 1
    return (
        f"Daily jobs run once: {expired} certification(s) and {lapsed} authorization(s) "
        f"expired, {notices} expiry notice(s) and {digests} monitoring digest(s) queued "
        "(in the outbox, /admin/outbox; nothing mailed)."
    )
