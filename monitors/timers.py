"""Timers from the domain: promised contact times, the decision deadline
(Art. 18, with its extensions), and the severity tiers of seed 004, which are
per complaint: each complainant carries its first-response, resolution and
supervisor due times (console/deadlines.py).

Each timer that comes due is noted once in ``timer_notice`` (kind,
complainant, due time); a run raises one alert per incident and kind for the
timers that came due since the last run, naming every complainant concerned.
An extended deadline or a new promised time is a new due time, so it is told
again when it passes. A severe complaint is alerted as soon as it is seen
(severe_complaint: tell the supervisor), and again at its supervisor due time
if nobody acknowledged that the supervisor was told (supervisor_not_told).
Each incident is handled in its own transaction (``base.each``).
"""

import hashlib
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from console.alerts import raise_alert
from console.clock import from_iso, local, to_iso
from console.figures import OPEN_INCIDENT_STATUSES, incident_status_sql
from console.status import OPEN

from .base import Monitor, each

UNRESOLVED = sorted(OPEN)

# kind -> (due column, extra condition, level, audience, message)
CHECKS = {
    "promised_contact": (
        "next_contact_due_at",
        "next_contact_due_at IS NOT NULL",
        "warning",
        {"lead", "team"},
        lambda n: _("%(n)s promised contact(s) are overdue: call them now, even with nothing new to say.", n=n),
    ),
    "decision_deadline": (
        "decision_due_at",
        "1 = 1",
        "warning",
        {"lead", "team"},
        lambda n: _("%(n)s complainant(s) passed the decision deadline (Art. 18) without a decision.", n=n),
    ),
    "first_response": (
        "first_response_due_at",
        "first_response_due_at IS NOT NULL AND first_contact_at IS NULL",
        "warning",
        {"lead", "team"},
        lambda n: _("%(n)s complainant(s) had no first response within their severity tier's time.", n=n),
    ),
    "resolution": (
        "resolution_due_at",
        "resolution_due_at IS NOT NULL",
        "warning",
        {"lead", "team"},
        lambda n: _("%(n)s complainant(s) are past their severity tier's resolution time.", n=n),
    ),
    "supervisor_not_told": (
        "supervisor_due_at",
        "supervisor_due_at IS NOT NULL AND supervisor_told_at IS NULL",
        "critical",
        {"lead", "team", "executive"},
        lambda n: _("%(n)s severe complaint(s): nobody confirmed that the supervisor was told within the tier's time.", n=n),
    ),
}


def _due(db, incident_id, kind, column, condition, now):
    """Open complainants of an incident whose ``column`` has passed and who were not told yet."""
    marks = ",".join("?" * len(UNRESOLVED))
    return [
        dict(r)
        for r in db.query(
            f"SELECT id, {column} AS due_at FROM complainant c "
            f"WHERE incident_id = ? AND status IN ({marks}) AND {condition} AND {column} <= ? "
            f"AND NOT EXISTS (SELECT 1 FROM timer_notice t WHERE t.kind = ? AND t.subject_id = c.id AND t.due_at = c.{column})",
            [incident_id, *UNRESOLVED, to_iso(now), kind],
        )
    ]


def _notice(db, incident_id, kind, due, level, audience, message, now, settings, outbox):
    """Note each due timer once and raise one alert naming them all."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO timer_notice (kind, subject_id, due_at, noticed_at) VALUES (?, ?, ?, ?)",
        [(kind, d["id"], d["due_at"], to_iso(now)) for d in due],
    )
    digest = hashlib.sha1(",".join(f"{d['id']}@{d['due_at']}" for d in due).encode()).hexdigest()[:16]
    data = {"complainant_ids": [d["id"] for d in due], "count": len(due)}
    if kind == "severe_complaint":
        data["supervisor_due_at"] = [d["supervisor_due_at"] for d in due]
    return (
        raise_alert(
            db,
            key=f"timer:{kind}:{incident_id}:{digest}",
            kind=kind,
            level=level,
            message=message,
            now=now,
            audience=audience,
            incident_id=incident_id,
            data=data,
            outbox=outbox,
            settings=settings,
        )
        is not None
    )


def _severe_complaints(db, incident_id, now, settings, outbox):
    """Severe complaints not yet alerted: one alert per run naming them, at once."""
    marks = ",".join("?" * len(UNRESOLVED))
    due = [
        dict(r)
        for r in db.query(
            f"SELECT id, received_at AS due_at, supervisor_due_at FROM complainant c WHERE incident_id = ? AND severity = 'severe' "
            f"AND status IN ({marks}) AND supervisor_told_at IS NULL AND received_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM timer_notice t WHERE t.kind = 'severe_complaint' AND t.subject_id = c.id AND t.due_at = c.received_at)",
            [incident_id, *UNRESOLVED, to_iso(now)],
        )
    ]
    if not due:
        return 0, 0
    by = min(d["supervisor_due_at"] or d["due_at"] for d in due)
    message = _(
        "%(n)s severe complaint(s) arrived: tell the supervisor by %(by)s and start the emergency plan; acknowledge this alert when done.",
        n=len(due),
        by=local(by, settings["TIMEZONE"]).strftime("%Y-%m-%d %H:%M"),
    )
    return _notice(db, incident_id, "severe_complaint", due, "critical", {"lead", "team", "executive"}, message, now, settings, outbox), len(due)


def _severe_incident(db, incident, now, settings, outbox):
    """A severe incident: the supervisor must be told within the tier's minutes (an acknowledged alert)."""
    minutes = settings["SEVERITY_TIMERS"].get("severe", {}).get("supervisor_minutes")
    if incident["severity"] != "severe" or minutes is None:
        return 0
    raised = (
        raise_alert(
            db,
            key=f"severe:{incident['id']}",
            kind="severe_incident",
            level="critical",
            message=_("Severe incident: tell the supervisor within %(m)s minutes and start the emergency plan; acknowledge this alert when done.", m=minutes),
            now=now,
            audience={"lead", "team", "executive"},
            incident_id=incident["id"],
            outbox=outbox,
            settings=settings,
        )
        is not None
    )
    alert = db.execute("SELECT raised_at, acknowledged_at FROM alert WHERE dedupe_key = ?", [f"severe:{incident['id']}"]).fetchone()
    if alert[1] is None and now >= from_iso(alert[0]) + timedelta(minutes=minutes):
        raised += (
            raise_alert(
                db,
                key=f"severe_unacknowledged:{incident['id']}",
                kind="supervisor_not_told",
                level="critical",
                message=_("Severe incident: nobody confirmed within %(m)s minutes that the supervisor was told.", m=minutes),
                now=now,
                audience={"lead", "executive"},
                incident_id=incident["id"],
                outbox=outbox,
                settings=settings,
            )
            is not None
        )
    return raised


def run(db, now, settings, outbox):
    def handle(incident):
        raised = _severe_incident(db, incident, now, settings, outbox)
        alerted, noticed = _severe_complaints(db, incident["id"], now, settings, outbox)
        raised += alerted
        for kind, (column, condition, level, audience, message) in CHECKS.items():
            due = _due(db, incident["id"], kind, column, condition, now)
            if due:
                raised += _notice(db, incident["id"], kind, due, level, audience, message(len(due)), now, settings, outbox)
                noticed += len(due)
        return raised, noticed

    incidents = [dict(r) for r in db.query(f"SELECT * FROM incident WHERE {incident_status_sql(OPEN_INCIDENT_STATUSES)}")]
    results, failed = each(db, "timers", incidents, handle, now, settings, outbox)
    return {"alerts": sum(r[0] for r in results), "timers": sum(r[1] for r in results), "failed": failed}


MONITOR = Monitor("timers", timedelta(minutes=1), run, _l("Promised contacts, decision deadlines and each complaint's severity tier that came due."))
