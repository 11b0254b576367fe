"""Delivering queued messages over SMTP, when a mail relay is configured.

Without `MAIL_SERVER` messages stay in the outbox (each user's dashboard and the administrators'
outbox page show them). With it, each queued or failed message is handed to the relay and marked
at once, in a transaction of its own: a message the relay accepted must be on record as sent
before the next one goes, or a crash halfway would send it again on the next run.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.notifications.models import DeliveryState, Notification

#: A message the relay refused this many times stays failed until an administrator looks.
MAX_ATTEMPTS = 5
SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Relay:
    """Where mail goes, from the MAIL_* settings."""

    host: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    base_url: str | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Relay | None:
        """The configured relay, or None when MAIL_SERVER is not set."""
        if not config.get("MAIL_SERVER"):
            return None
        return cls(
            host=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or 25),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=config.get("MAIL_FROM") or "rems@localhost",
            base_url=config.get("REMS_BASE_URL") or None,
        )


def deliver_queued(
    session: Session, config: Mapping[str, Any], *, now: datetime
) -> tuple[int, int]:
    """Send every deliverable message; returns (sent, failed). Commits after each message."""
    relay = Relay.from_config(config)
    if relay is None:
        return 0, 0
    sent = failed = 0
    with smtplib.SMTP(relay.host, relay.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if relay.use_tls:
            smtp.starttls()
        if relay.username:
            smtp.login(relay.username, relay.password or "")
        for message in _deliverable(session):
            if _send(session, smtp, relay, message, now):
                sent += 1
            else:
                failed += 1
            session.commit()
    return sent, failed


def _deliverable(session: Session) -> list[Notification]:
    """Queued messages, and failed ones still worth another try, oldest first."""
    return list(
        session.scalars(
            sa.select(Notification)
            .where(
                Notification.state.in_([DeliveryState.QUEUED, DeliveryState.FAILED]),
                Notification.attempts < MAX_ATTEMPTS,
            )
            .order_by(Notification.created_at, Notification.id)
        )
    )


def _send(
    session: Session, smtp: smtplib.SMTP, relay: Relay, message: Notification, now: datetime
) -> bool:
    """Hand one message to the relay and record the outcome on it."""
    message.attempts += 1
    try:
        smtp.send_message(_email(relay, message))
    except (smtplib.SMTPException, OSError) as failure:
        message.state = DeliveryState.FAILED
        message.last_error = f"{type(failure).__name__}: {failure}"[:300]
        record_event(session, "notification.failed", actor=None, entity=message,
                     entity_id=message.id, new={"error": message.last_error})  # fmt: skip
        return False
    message.state = DeliveryState.SENT
    message.sent_at = now
    message.last_error = None
    record_event(session, "notification.sent", actor=None, entity=message,
                 entity_id=message.id, new={"to": message.recipient.email})  # fmt: skip
    return True


def _email(relay: Relay, message: Notification) -> EmailMessage:
    """The message as mail: plain text, with the link made absolute when the base URL is known."""
    mail = EmailMessage()
    mail["From"] = relay.sender
    mail["To"] = message.recipient.email
    mail["Subject"] = message.subject
    body = message.body
    if message.link:
        body += f"\n\n{(relay.base_url or '').rstrip('/')}{message.link}"
    mail.set_content(body)
    return mail
