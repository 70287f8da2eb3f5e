"""Time: stored as UTC ISO-8601 text, shown in the configured zone.

``now`` is passed into rules rather than read inside them, so tests can set it.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def utcnow():
    return datetime.now(timezone.utc)


def to_iso(moment):
    """UTC ISO-8601 text with seconds, the form every stored time has."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a time zone")
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_iso(text):
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def local(text_or_moment, tz_name):
    """A stored time in the given zone, for display."""
    moment = from_iso(text_or_moment) if isinstance(text_or_moment, str) else text_or_moment
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tz_name))


def parse_local(text, tz_name):
    """A time typed in a form ('2026-11-23T18:00'), read in the given zone when it has none."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment
