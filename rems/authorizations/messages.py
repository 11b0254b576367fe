"""The words of the denials that must say more than a fixed sentence: which certification
state keeps a pharmacy from dispensing, and which live authorization holds the doses."""

from __future__ import annotations

RENEW = (
    "Your authorized representative renews the certification (the Healthcare Setting "
    "Enrollment Form) or contacts the REMS program."
)
CONTACT = "Your authorized representative contacts the REMS program."


def pharmacy_not_certified(party) -> str:
    """Why the requesting pharmacy may not dispense, named by its certification's state."""
    if party is None:
        return "Your account is not attached to a certified pharmacy: it may not dispense LEMTRADA."
    status = party.status
    if party.certified and not party.capable:
        return (
            "Your site is certified but not enrolled to dispense LEMTRADA. "
            "Your authorized representative enrolls it as a pharmacy with the REMS program."
        )
    if status == "expired":
        ended = f" on {party.expires_on.isoformat()}" if party.expires_on else ""
        return (
            f"Your pharmacy's certification expired{ended}: it may not dispense LEMTRADA until "
            f"it is renewed. {RENEW}"
        )
    if status == "suspended":
        return (
            "Your pharmacy's certification is suspended: it may not dispense LEMTRADA until the "
            f"REMS program reinstates it. {CONTACT}"
        )
    if status == "revoked":
        return f"Your pharmacy's certification was revoked: it may not dispense LEMTRADA. {CONTACT}"
    state = {"draft": "not yet submitted", "submitted": "waiting for the program's review"}
    return (
        f"Your pharmacy is not certified yet (its enrollment is {state.get(status, status)}): "
        "it may not dispense LEMTRADA until the REMS program certifies it."
    )


def doses_exceeded(doses: int, left: int, holder) -> str:
    """More doses asked for than the course has left, and who holds the others."""
    message = f"{doses} dose(s) asked for; the course has {left} left to authorize."
    if holder is None:
        return message
    held = (
        f" Authorization {holder.number} of {holder.pharmacy} ({holder.pharmacy_site_id}) "
        f"holds {holder.doses_held} dose(s) until {holder.valid_until.isoformat()}"
    )
    if holder.others:
        held += f" (and {holder.others} other live authorization(s) hold more)"
    if holder.yours:
        return message + held + ": it is your pharmacy's, which can reverse it before any dose."
    return message + held + ": call that pharmacy, which can reverse it before any dose."
