"""Requests from branches: what an outlet asks head office for in its hourly
update ("needs"), and the crisis team marking each one handled.

A request is the update that carries it: handling it stamps
``needs_handled_at``/``needs_handled_by`` on that row (audited), and one
``request_handled`` event tells every board that shows the branch."""

from flask_babel import gettext as _

from . import audit, events, masking
from .access import in_scope
from .clock import to_iso
from .db import write
from .errors import Conflict, NotFound

RECENT_HANDLED = 10


def _public(row):
    out = {k: row[k] for k in ("id", "incident_id", "branch_code", "province_code", "posted_at", "people_on_site", "mood", "needs", "needs_handled_at")}
    for flag in ("banners", "media_present", "police_present", "outlet_closed"):
        out[flag] = bool(row[flag])
    out["branch_name"] = row.get("branch_name") or row["branch_code"]
    out["handled_by"] = row.get("handled_by_name")
    return out


def requests_for(db, incident_id, viewer):
    """The incident's requests inside the viewer's scope: every open one (oldest
    first: it has waited longest), then the last few handled ones."""
    rows = [
        dict(r)
        for r in db.query(
            "SELECT hourly_update.*, branch.name AS branch_name, user.display_name AS handled_by_name FROM hourly_update "
            "JOIN branch ON branch.code = hourly_update.branch_code LEFT JOIN user ON user.id = hourly_update.needs_handled_by "
            "WHERE hourly_update.incident_id = ? AND trim(coalesce(hourly_update.needs, '')) != '' "
            "ORDER BY hourly_update.needs_handled_at IS NOT NULL, "
            "CASE WHEN hourly_update.needs_handled_at IS NULL THEN hourly_update.posted_at END, "
            "hourly_update.needs_handled_at DESC, hourly_update.id",
            [incident_id],
        )
    ]
    rows = [r for r in rows if in_scope(viewer, r["province_code"], r["branch_code"])]
    open_rows = [r for r in rows if r["needs_handled_at"] is None]
    handled = [r for r in rows if r["needs_handled_at"] is not None][:RECENT_HANDLED]
    return [masking.update_for(viewer, _public(r)) for r in open_rows + handled]


def mark_handled(db, update_id, caller, outbox=None):
    """Mark the request of update ``update_id`` handled. NotFound when there is
    no such request in the viewer's scope; Conflict when it is already handled."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        rows = list(
            db.query(
                "SELECT hourly_update.*, branch.name AS branch_name FROM hourly_update "
                "JOIN branch ON branch.code = hourly_update.branch_code WHERE hourly_update.id = ?",
                [update_id],
            )
        )
        if not rows or not (rows[0]["needs"] or "").strip() or not in_scope(viewer, rows[0]["province_code"], rows[0]["branch_code"]):
            raise NotFound(_("No such request from a branch."))
        row = dict(rows[0])
        if row["needs_handled_at"] is not None:
            raise Conflict(_("This request was already marked handled."))
        change = {"needs_handled_at": to_iso(now), "needs_handled_by": actor.user_id}
        db["hourly_update"].update(update_id, change)
        audit.record(db, actor, "hourly_update", update_id, "request_handled", before={"needs_handled_at": None}, after=change, at=now)
        if outbox is not None:
            incident_id = row["incident_id"]
            rooms = [
                events.team_room(incident_id),
                events.exec_room(incident_id),
                events.province_room(incident_id, row["province_code"]),
                events.branch_room(incident_id, row["branch_code"]),
            ]
            outbox.record_to(
                incident_id,
                "request_handled",
                now,
                rooms,
                {
                    "request": {
                        "id": update_id,
                        "branch_code": row["branch_code"],
                        "branch_name": row["branch_name"],
                        "province_code": row["province_code"],
                        "needs_handled_at": to_iso(now),
                        "handled_by": _handler_name(db, actor),
                    }
                },
            )
    return {**row, **change}


def _handler_name(db, actor):
    if actor.user_id is None:
        return actor.username
    rows = list(db.query("SELECT display_name FROM user WHERE id = ?", [actor.user_id]))
    return rows[0]["display_name"] if rows else actor.username
