"""Timers from the domain: promised contact times, the decision deadline
(Art. 18, with its extensions), and the severity tiers of seed 004.

Each timer that comes due is noted once in ``timer_notice`` (kind, complainant,
due time); a run raises one alert per incident and kind for the timers that
came due since the last run. An extended deadline or a new promised time is a
new due time, so it is told again when it passes.
"""

import hashlib
from datetime import timedelta

from flask_babel import gettext as _

from console.alerts import raise_alert
from console.clock import from_iso, to_iso
from console.status import OPEN

from console.db import write

from .base import Monitor

UNRESOLVED = sorted(OPEN)


def _overdue(db, incident_id, kind, due_sql, condition, params, now):
    """Open complainants of an incident whose ``due_sql`` has passed and who were not told yet."""
    marks = ",".join("?" * len(UNRESOLVED))
    return [
        dict(r)
        for r in db.query(
            f"SELECT id, province_code, branch_code, {due_sql} AS due_at FROM complainant c "
            f"WHERE incident_id = ? AND status IN ({marks}) AND {condition} AND {due_sql} <= ? "
            f"AND NOT EXISTS (SELECT 1 FROM timer_notice t WHERE t.kind = ? AND t.subject_id = c.id AND t.due_at = {due_sql})",
            [incident_id, *UNRESOLVED, *params, to_iso(now), kind],
        )
    ]


def _checks(incident, settings):
    """(kind, due expression, condition, params, message) for an incident's severity."""
    checks = [
        ("promised_contact", "next_contact_due_at", "next_contact_due_at IS NOT NULL", [],
         _("%(n)s promised contact(s) are overdue: call them now, even with nothing new to say.")),
        ("decision_deadline", "decision_due_at", "1 = 1", [],
         _("%(n)s complainant(s) passed the decision deadline (Art. 18) without a decision.")),
    ]
    tier = settings["SEVERITY_TIMERS"].get(incident["severity"], {})
    if "first_response_minutes" in tier:
        minutes = int(tier["first_response_minutes"])
        checks.append(("first_response", f"strftime('%Y-%m-%dT%H:%M:%S+00:00', received_at, '+{minutes} minutes')", "first_contact_at IS NULL", [],
                       _("%(n)s complainant(s) had no first response within the severity tier's time.")))
    if "resolution_minutes" in tier:
        minutes = int(tier["resolution_minutes"])
        checks.append(("resolution", f"strftime('%Y-%m-%dT%H:%M:%S+00:00', received_at, '+{minutes} minutes')", "1 = 1", [],
                       _("%(n)s complainant(s) are past the severity tier's resolution time.")))
    return checks


def _severe(db, incident, now, settings, outbox):
    """A severe incident: the supervisor must be told within the tier's minutes (an acknowledged alert)."""
    minutes = settings["SEVERITY_TIMERS"].get("severe", {}).get("supervisor_minutes")
    if incident["severity"] != "severe" or minutes is None:
        return 0
    raised = 0
    first = raise_alert(
        db, key=f"severe:{incident['id']}", kind="severe", level="critical",
        message=_("Severe incident: tell the supervisor within %(m)s minutes and start the emergency plan; acknowledge this alert when done.", m=minutes),
        now=now, audience={"lead", "team", "executive"}, incident_id=incident["id"], outbox=outbox, settings=settings)
    raised += first is not None
    alert = db.execute("SELECT raised_at, acknowledged_at FROM alert WHERE dedupe_key = ?", [f"severe:{incident['id']}"]).fetchone()
    if alert[1] is None and now >= from_iso(alert[0]) + timedelta(minutes=minutes):
        raised += raise_alert(
            db, key=f"severe_unacknowledged:{incident['id']}", kind="severe", level="critical",
            message=_("Severe incident: nobody confirmed within %(m)s minutes that the supervisor was told.", m=minutes),
            now=now, audience={"lead", "executive"}, incident_id=incident["id"], outbox=outbox, settings=settings) is not None
    return raised


def run(db, now, settings, outbox):
    raised = 0
    noticed = 0
    for incident in [dict(r) for r in db.query("SELECT * FROM incident WHERE status IN ('monitoring', 'active')")]:
        with write(db):
            raised += _severe(db, incident, now, settings, outbox)
            for kind, due_sql, condition, params, message in _checks(incident, settings):
                due = _overdue(db, incident["id"], kind, due_sql, condition, params, now)
                if not due:
                    continue
                db.conn.executemany(
                    "INSERT OR IGNORE INTO timer_notice (kind, subject_id, due_at, noticed_at) VALUES (?, ?, ?, ?)",
                    [(kind, d["id"], d["due_at"], to_iso(now)) for d in due],
                )
                noticed += len(due)
                digest = hashlib.sha1(",".join(f"{d['id']}@{d['due_at']}" for d in due).encode()).hexdigest()[:16]
                raised += raise_alert(
                    db, key=f"timer:{kind}:{incident['id']}:{digest}", kind=kind, level="warning",
                    message=message % {"n": len(due)}, now=now, audience={"lead", "team"}, incident_id=incident["id"],
                    data={"complainant_ids": [d["id"] for d in due][:200], "count": len(due)}, outbox=outbox, settings=settings,
                ) is not None
    return {"alerts": raised, "timers": noticed}


MONITOR = Monitor("timers", timedelta(minutes=1), run, "Promised contacts, decision deadlines and severity tiers that came due.")
