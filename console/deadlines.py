"""The clocks a complaint runs on: the decision deadline (Art. 18) and the
severity tiers of seed 004.

The decision deadline is a date: the end of the DECISION_DAYS-th calendar day
after receipt (Art. 43: calendar days; the day of receipt is not counted), in
the configured TIMEZONE. It is stored as the first instant after that day, so
"passed" is ``due_at <= now``; ``last_day`` gives the date a person reads.
Extensions count the same way: to the end of the EXTENSION_1_TOTAL_DAYS-th day
after receipt, then EXTENSION_2_EXTRA_DAYS more whole days.

Severity tiers are per complaint: light (first response, resolution), medium
(first response, resolution), severe (the supervisor told). Their due times
are fields of the complainant, computed from its receipt whenever the severity
or the receipt changes.
"""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .clock import from_iso, to_iso

DUE_FIELDS = {
    "first_response_due_at": "first_response_minutes",
    "resolution_due_at": "resolution_minutes",
    "supervisor_due_at": "supervisor_minutes",
}


def end_of_day_after(moment, days, tz_name):
    """The first instant after the ``days``-th local calendar day following ``moment``'s day."""
    zone = ZoneInfo(tz_name)
    last = moment.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(timezone.utc)


def last_day(due_at, tz_name):
    """The local date a deadline stored as ``due_at`` ends on (the day before the instant)."""
    moment = from_iso(due_at) if isinstance(due_at, str) else due_at
    return (moment - timedelta(seconds=1)).astimezone(ZoneInfo(tz_name)).date()


def decision_due(received_at, settings):
    """The 15-day decision deadline (Art. 18) of a complaint received at ``received_at``."""
    return end_of_day_after(received_at, settings["DECISION_DAYS"], settings["TIMEZONE"])


def extended_due(level, received_at, current_due, settings):
    """The deadline after an extension: level 1 to EXTENSION_1_TOTAL_DAYS from
    receipt, level 2 EXTENSION_2_EXTRA_DAYS more whole days."""
    tz = settings["TIMEZONE"]
    if level == 1:
        return end_of_day_after(received_at, settings["EXTENSION_1_TOTAL_DAYS"], tz)
    last = datetime.combine(last_day(current_due, tz), time(12), ZoneInfo(tz))
    return end_of_day_after(last, settings["EXTENSION_2_EXTRA_DAYS"], tz)


def severity_dues(severity, received_at, settings):
    """The tier's due times for a complaint of ``severity`` received at ``received_at``
    (stored text; None where the tier sets no such time)."""
    tier = settings["SEVERITY_TIMERS"].get(severity, {})
    out = {}
    for field, key in DUE_FIELDS.items():
        minutes = tier.get(key)
        out[field] = to_iso(received_at + timedelta(minutes=int(minutes))) if minutes is not None else None
    return out
