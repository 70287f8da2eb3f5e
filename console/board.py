"""The live board's snapshot: everything a board shows, at one sequence number.

A board loads a snapshot, then applies the deltas of its room's events. The
snapshot is read in one read transaction, so its numbers and its sequence
number agree. Executives get aggregates only: counts, never a person.
"""

from . import alerts, branch_requests, charts, events, figures, masking, settlements, tasks, updates
from .access import scope_sql
from .clock import to_iso
from .db import read_snapshot
from .incidents import get_incident

OVERDUE_LIST_LIMIT = 20
FEED_LIMIT = 30
ALERT_LIMIT = 15


def visibility_key(viewer):
    """Everything about a viewer that changes what their board shows: two
    viewers with the same key may share one cached snapshot, no others.
    Alerts are filtered by role, counts by scope, amounts and free text by role."""
    return (viewer.role, viewer.scope_kind, viewer.scope_code)


def _overdue(db, incident_id, viewer, now, column, with_people, condition="1 = 1"):
    where, params = scope_sql(viewer)
    is_open, open_args = figures.open_complainant_sql()
    base = f"FROM complainant WHERE incident_id = ? AND {column} <= ? AND {condition} AND {is_open} AND {where}"
    args = [incident_id, to_iso(now), *open_args, *params]
    total = db.execute(f"SELECT count(*) {base}", args).fetchone()[0]
    result = {"count": total}
    if with_people:
        result["items"] = [
            dict(r)
            for r in db.query(
                f"SELECT id, name, province_code, branch_code, status, {column} AS due_at {base} ORDER BY {column} LIMIT ?",
                [*args, OVERDUE_LIST_LIMIT],
            )
        ]
    return result


def snapshot(db, incident_id, viewer, now, settings):
    """The board of ``incident_id`` as ``viewer`` may see it, with its room's sequence number."""
    room = events.room_for(incident_id, viewer)
    aggregate_only = viewer.role == "executive"
    where, params = scope_sql(viewer)
    with read_snapshot(db):  # numbers and seq agree
        incident = get_incident(db, incident_id)
        seq = events.room_seq(db, room)
        counts = [
            dict(r)
            for r in db.query(
                "SELECT group_id, province_code, status, count(*) AS count FROM complainant "
                f"WHERE incident_id = ? AND {where} GROUP BY group_id, province_code, status",
                [incident_id, *params],
            )
        ]
        new_last_hour = figures.new_last_hour(db, incident_id, now, where, params)
        settled_to_date = figures.settled_to_date(db, incident_id, where, params)
        groups = [dict(r) for r in db.query("SELECT id, name FROM complainant_group WHERE incident_id = ? ORDER BY id", [incident_id])]
        feed = [
            _feed_item(masking.feed_item_for(viewer, e), aggregate_only) for e in reversed(events.events_since(db, room, max(0, seq - FEED_LIMIT), FEED_LIMIT))
        ]
        overdue_contact = _overdue(db, incident_id, viewer, now, "next_contact_due_at", not aggregate_only)
        overdue_decision = _overdue(db, incident_id, viewer, now, "decision_due_at", not aggregate_only)
        overdue_first_response = _overdue(db, incident_id, viewer, now, "first_response_due_at", not aggregate_only, "first_contact_at IS NULL")
        overdue_supervisor = _overdue(db, incident_id, viewer, now, "supervisor_due_at", not aggregate_only, "supervisor_told_at IS NULL")
        last_change = db.execute("SELECT max(at) FROM live_event WHERE room = ?", [room]).fetchone()[0]
        latest = {u["branch_code"]: u for u in updates.latest_by_branch(db, incident_id, viewer)}
        reporting = updates.reporting_status(db, incident, now, settings, viewer) if incident["status"] in figures.RESPONDING_INCIDENT_STATUSES else []
        recent_alerts = [_alert(a) for a in alerts.list_alerts(db, viewer, incident_id, limit=ALERT_LIMIT)]
        task_list = [_task(t) for t in tasks.for_viewer(db, viewer, tasks.list_tasks(db, incident_id))]
        tier_panel = settlements.tier_summary(db, incident_id, where, params, now, settings)
        requests = branch_requests.requests_for(db, incident_id, viewer)
        chart_figures = charts.for_board(db, incident_id, viewer, now, settings)
    on_site = figures.people_on_site(latest.values())
    return {
        "incident": {k: incident[k] for k in ("id", "title", "cause", "product", "severity", "status", "opened_at")},
        "room": room,
        "seq": seq,
        "aggregate_only": aggregate_only,
        "generated_at": to_iso(now),
        "last_change_at": last_change,
        "counts": counts,
        "groups": groups,
        "new_last_hour": new_last_hour,
        "on_site": on_site,
        # the headline as console/figures.py defines it (the counts above add up to the same; the board keeps them live)
        "figures": {**figures.from_status_counts(counts), "new_last_hour": new_last_hour, "settled_to_date": settled_to_date, "on_site_now": on_site},
        "mass_incident_at": incident["mass_incident_at"],
        "branches": _branches(latest, reporting, viewer),
        "alerts": recent_alerts,
        "tasks": task_list,
        "tiers": tier_panel,
        "overdue_contact": overdue_contact,
        "overdue_decision": overdue_decision,
        "overdue_first_response": overdue_first_response,
        "overdue_supervisor": overdue_supervisor,
        "feed": feed,
        "requests": requests,
        "charts": chart_figures,
    }


def _task(task):
    return {k: task[k] for k in ("id", "key", "stream", "title", "owner_role", "due_at", "status", "completed_at")}


def _alert(row):
    return {k: row[k] for k in ("id", "kind", "level", "message", "province_code", "branch_code", "raised_at", "acknowledged_at")}


def _branches(latest, reporting, viewer):
    """Each reporting branch (and each that has posted) with its latest update and whether it is late."""
    rows = {}
    for r in reporting:
        rows[r["branch_code"]] = {
            "branch_code": r["branch_code"],
            "province_code": r["province_code"],
            "name": r["name"],
            "due_at": r["due_at"],
            "missed": r["missed"],
            "update": None,
        }
    for code, u in latest.items():
        row = rows.setdefault(code, {"branch_code": code, "province_code": u["province_code"], "name": u["branch_name"], "due_at": None, "missed": 0})
        row["update"] = masking.update_for(viewer, updates.public_update(u))
    return sorted(rows.values(), key=lambda r: (-r["missed"], r["branch_code"]))


def _feed_item(payload, aggregate_only):
    """A feed entry as sent to the board (already room-filtered when it was written)."""
    if aggregate_only:
        payload = {k: v for k, v in payload.items() if k != "complainant"}
    return payload
