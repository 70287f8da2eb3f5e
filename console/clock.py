"""Time: stored as UTC ISO-8601 text, shown in the configured zone.

One clock for the whole app: every time the console stamps (web pages, the
API, the monitors, documents, boards) comes from ``utcnow()``. Outside drills
it is the real clock; with ``CLOCK_FILE`` set, it is the time written in that
file, so a drill or a test can run a whole incident on a moved clock.

``now`` is passed into rules rather than read inside them, so tests can set it.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def utcnow(settings=None):
    """Now, by the app's clock: CLOCK_FILE's time when set (drills, tests), else the real time.

    ``settings`` is the app's config; without it, the config of the app in
    context is read (outside any app, the real time).
    """
    if settings is None:
        settings = _current_settings()
    path = settings.get("CLOCK_FILE") if settings else None
    if path:
        return read_clock_file(path)
    return datetime.now(timezone.utc)


def read_clock_file(path):
    """The time held in a clock file (ISO-8601; UTC when it names no zone)."""
    with open(path, encoding="utf-8") as f:
        return from_iso(f.read().strip())


def _current_settings():
    from flask import current_app, has_app_context

    return current_app.config if has_app_context() else None


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
