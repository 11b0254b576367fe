"""IANA time zone names: checking one, and the choices a form offers. Pure (no app needed)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: Longest name stored (the columns' size); the longest IANA name is about 32 characters.
NAME_LIMIT = 64
#: The zones of the United States and its territories, offered first on the forms.
US_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
    "Pacific/Guam", "Pacific/Pago_Pago",
)  # fmt: skip


def is_time_zone(name: object) -> bool:
    """Whether `name` is an IANA time zone name (America/New_York, UTC) that zoneinfo knows."""
    if not isinstance(name, str) or not name or len(name) > NAME_LIMIT or name != name.strip():
        return False
    if name not in _known():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _known() -> frozenset[str]:
    """Every zone name the time zone database has (the legacy aliases included)."""
    return frozenset(available_timezones())


@cache
def zone_names() -> tuple[str, ...]:
    """The names a form offers: the US zones first, then every other region/city zone, sorted."""
    others = sorted(name for name in _known() if "/" in name and name not in US_ZONES)
    return (*US_ZONES, "UTC", *others)
