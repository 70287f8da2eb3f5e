"""Alerts the monitors and rules raise: stored once, shown on the boards,
and sent to the webhook when one is configured.

An alert's ``dedupe_key`` names the fact it reports ("branch X silent since
10:00, first reminder"); inserting it twice is a no-op, so two processes or a
re-run after a crash never raise the same alert twice.
"""

import json

from . import events, vocabulary
from .clock import to_iso

LEVELS = tuple(vocabulary.ALERT_LEVELS)


def level_labels():
    from .vocabulary import ALERT_LEVELS

    return {k: str(v) for k, v in ALERT_LEVELS.items()}


def raise_alert(db, *, key, kind, level, message, now, audience, incident_id=None, province_code=None, branch_code=None, data=None, outbox=None, settings):
    """Store an alert unless one with ``key`` exists; returns its id, or None if it existed.

    ``audience``: roles ('lead', 'team', 'executive') and places
    ('province:<code>', 'branch:<code>') that should see it. Messages carry no
    personal data: they name branches, incidents and counts.
    Call inside the writer's transaction.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown alert level {level!r}")
    cursor = db.execute(
        "INSERT OR IGNORE INTO alert (dedupe_key, kind, level, incident_id, province_code, branch_code, audience, message, data, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            key,
            kind,
            level,
            incident_id,
            province_code,
            branch_code,
            json.dumps(sorted(audience)),
            message,
            json.dumps(data or {}, ensure_ascii=False),
            to_iso(now),
        ],
    )
    if cursor.rowcount == 0:
        return None
    alert_id = cursor.lastrowid
    alert = {
        "id": alert_id,
        "kind": kind,
        "level": level,
        "message": message,
        "province_code": province_code,
        "branch_code": branch_code,
        "raised_at": to_iso(now),
    }
    if outbox is not None and incident_id is not None:
        outbox.record_to(incident_id, "alert_raised", now, rooms_for(incident_id, audience, province_code, branch_code), {"alert": alert})
    from .channels import route_alert

    route_alert(db, alert_id, kind, level, province_code, branch_code, now)
    if settings.get("WEBHOOK_URL"):
        from .webhooks import enqueue

        enqueue(db, alert_id, settings["WEBHOOK_URL"], {**alert, "incident_id": incident_id, "audience": sorted(audience), "data": data or {}}, now)
    return alert_id


def rooms_for(incident_id, audience, province_code, branch_code):
    """The board rooms an alert goes to: the team always, executives when named,
    and the branch contacts of the place it concerns."""
    rooms = {events.team_room(incident_id), events.TEAM_ALERTS}
    if "executive" in audience:
        rooms.update({events.exec_room(incident_id), events.EXEC_ALERTS})
    if province_code:
        rooms.add(events.province_room(incident_id, province_code))
    if branch_code:
        rooms.add(events.branch_room(incident_id, branch_code))
    return sorted(rooms)


def manager_audience(usernames):
    """Audience entries naming managers (org_manager) who are told of an outlet's alert."""
    return {f"user:{name}" for name in usernames}


def visible_to(viewer, alert):
    """Whether a viewer's alert list shows this alert."""
    audience = json.loads(alert["audience"]) if isinstance(alert["audience"], str) else alert["audience"]
    if f"user:{viewer.username}" in audience:
        return True  # a manager named for this outlet (console/org.py)
    if viewer.role in ("lead", "team"):
        return True
    if viewer.role == "executive":
        return "executive" in audience
    if viewer.role == "branch":
        if viewer.scope_kind == "province":
            return alert["province_code"] == viewer.scope_code
        return alert["branch_code"] == viewer.scope_code
    return viewer.role in audience


def _visible_sql(viewer):
    """visible_to as SQL, so a page of alerts is a page of the viewer's alerts."""
    named = "EXISTS (SELECT 1 FROM json_each(alert.audience) WHERE value = ?)"
    if viewer.role in ("lead", "team"):
        return "1 = 1", []
    if viewer.role == "branch":
        column = "province_code" if viewer.scope_kind == "province" else "branch_code"
        return f"({column} = ? OR {named})", [viewer.scope_code, f"user:{viewer.username}"]
    return f"({named} OR {named})", [viewer.role, f"user:{viewer.username}"]


def list_alerts(db, viewer, incident_id=None, limit=50, before_id=None, kind=None):
    """The viewer's alerts, newest first: at most ``limit``, older than ``before_id`` when given."""
    where, params = _visible_sql(viewer)
    clauses, args = [where], list(params)
    for clause, value in (("incident_id = ?", incident_id), ("id < ?", before_id), ("kind = ?", kind)):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return [dict(r) for r in db.query(f"SELECT * FROM alert WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?", [*args, limit])]


SUPERVISOR_ALERTS = ("severe_complaint", "severe_incident")


def _supervisor_told(db, alert, actor, now):
    """Acknowledging a severe alert says the supervisor was told: of the
    complainants it names, or of every severe complainant of a severe incident."""
    if alert["kind"] not in SUPERVISOR_ALERTS:
        return
    if alert["kind"] == "severe_complaint":
        ids = json.loads(alert["data"]).get("complainant_ids", [])
    else:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM complainant WHERE incident_id = ? AND severity = 'severe' AND supervisor_told_at IS NULL AND received_at <= ?",
                [alert["incident_id"], to_iso(now)],
            ).fetchall()
        ]
    from .complainants import record_supervisor_told

    record_supervisor_told(db, ids, actor, now, alert_id=alert["id"])


def acknowledge(db, alert_id, caller):
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    from . import audit
    from .db import write
    from .errors import NotFound

    with write(db):
        rows = list(db.query("SELECT * FROM alert WHERE id = ?", [alert_id]))
        if not rows or not visible_to(viewer, rows[0]):
            raise NotFound(f"No alert {alert_id}.")
        if rows[0]["acknowledged_at"] is None:
            db["alert"].update(alert_id, {"acknowledged_at": to_iso(now), "acknowledged_by": actor.user_id})
            audit.record(db, actor, "alert", alert_id, "acknowledge", at=now)
            _supervisor_told(db, rows[0], actor, now)
    return dict(db["alert"].get(alert_id))
