"""Incidents: opening, editing, their status, and their counts."""

from flask_babel import gettext as _

from . import audit
from .access import scope_sql
from .clock import to_iso
from .db import write
from .errors import Invalid, NotFound

# monitoring -> active (activated) or closed (dismissed); active -> stood down;
# stood down -> active again, or closed.
INCIDENT_TRANSITIONS = {
    "monitoring": {"active", "closed"},
    "active": {"stood_down"},
    "stood_down": {"active", "closed"},
    "closed": set(),
}


def list_incidents(db):
    """Every incident, open ones first, newest first. Incidents carry no personal data."""
    return [
        dict(r)
        for r in db.query(
            "SELECT * FROM incident ORDER BY CASE status WHEN 'active' THEN 0 WHEN 'monitoring' THEN 1 "
            "WHEN 'stood_down' THEN 2 ELSE 3 END, opened_at DESC, id DESC"
        )
    ]


def get_incident(db, incident_id):
    rows = list(db.query("SELECT * FROM incident WHERE id = ?", [incident_id]))
    if not rows:
        raise NotFound(_("No incident %(id)s.", id=incident_id))
    return dict(rows[0])


def _check_playbook(playbook_id):
    from . import playbooks

    if playbook_id and playbooks.get(playbook_id) is None:
        known = ", ".join(sorted(playbooks.available()))
        raise Invalid(
            _("Unknown playbook '%(id)s'; known: %(known)s.", id=playbook_id, known=known), details=[{"field": "playbook", "message": f"one of {known}"}]
        )


def create_incident(db, data, actor, now, outbox=None, *, settings):
    """Open an incident from a validated schemas.IncidentIn; returns its id.

    ``settings`` is required: an incident opened active gets its playbook's tasks."""
    _check_playbook(data.playbook)
    row = {
        "title": data.title,
        "cause": data.cause,
        "product": data.product,
        "severity": data.severity,
        "status": data.status,
        "playbook": data.playbook,
        "opened_at": to_iso(now),
        "activated_at": to_iso(now) if data.status == "active" else None,
        "closed_at": None,
        "created_by": actor.user_id,
        "updated_at": to_iso(now),
    }
    with write(db):
        incident_id = db["incident"].insert(row).last_pk
        audit.record(db, actor, "incident", incident_id, "create", after=row, at=now)
        _record(outbox, incident_id, {**row, "id": incident_id}, now)
        if row["status"] == "active":
            from .tasks import sync_tasks

            sync_tasks(db, incident_id, now, settings, outbox, actor)
    return incident_id


def _record(outbox, incident_id, row, now):
    if outbox is not None:
        fields = ("id", "title", "cause", "product", "severity", "status", "opened_at", "closed_at")
        outbox.record_everywhere(incident_id, "incident_updated", now, {"incident": {k: row.get(k) for k in fields}})


def update_incident(db, incident_id, data, actor, now, outbox=None):
    changes = data.model_dump(exclude_unset=True)
    _check_playbook(changes.get("playbook"))
    with write(db):
        before = get_incident(db, incident_id)
        if before["status"] == "closed":
            raise Invalid(_("A closed incident cannot be edited."))
        if not changes:
            return before
        changes["updated_at"] = to_iso(now)
        db["incident"].update(incident_id, changes)
        old, new = audit.changed(before, changes)
        audit.record(db, actor, "incident", incident_id, "update", before=old, after=new, at=now)
        _record(outbox, incident_id, {**before, **changes}, now)
    return get_incident(db, incident_id)


def change_status(db, incident_id, new_status, reason, actor, now, outbox=None, *, settings, playbook_changes=""):
    """Move an incident along monitoring/active/stood down/closed, recording why.

    Activating makes the playbook's due tasks; standing down issues the
    post-incident review (with ``playbook_changes``, the lead's notes for the
    playbook). Both in the same transaction as the status: the change and
    what it sets off are stored together or not at all."""
    with write(db):
        before = get_incident(db, incident_id)
        allowed = INCIDENT_TRANSITIONS[before["status"]]
        if new_status not in allowed:
            raise Invalid(
                _(
                    "An incident that is '%(current)s' cannot become '%(new)s'; allowed: %(allowed)s.",
                    current=before["status"],
                    new=new_status,
                    allowed=", ".join(sorted(allowed)) or _("none"),
                )
            )
        changes = {"status": new_status, "updated_at": to_iso(now)}
        if new_status == "closed":
            changes["closed_at"] = to_iso(now)
        if new_status == "active":
            changes["activated_at"] = to_iso(now)
        db["incident"].update(incident_id, changes)
        audit.record(
            db,
            actor,
            "incident",
            incident_id,
            "status",
            before={"status": before["status"]},
            after={"status": new_status, "reason": reason},
            at=now,
        )
        _record(outbox, incident_id, {**before, **changes}, now)
        if new_status == "active":
            from .tasks import sync_tasks

            sync_tasks(db, incident_id, now, settings, outbox, actor)
        if new_status == "stood_down":
            from .issuing import post_incident_review

            post_incident_review(db, incident_id, playbook_changes, actor, now, settings)
    return get_incident(db, incident_id)


def counts(db, incident_id, viewer):
    """Complainants by group x province x status, inside the viewer's scope.

    Reads only the covering index complainant_counts.
    """
    where, params = scope_sql(viewer)
    return [
        dict(r)
        for r in db.query(
            "SELECT group_id, province_code, status, count(*) AS count FROM complainant "
            f"WHERE incident_id = ? AND {where} GROUP BY group_id, province_code, status",
            [incident_id, *params],
        )
    ]


def summary(db, incident_id, viewer, now):
    """Headline figures for the incident page: totals by status, group and province."""
    rows = counts(db, incident_id, viewer)
    by_status, by_group, by_province = {}, {}, {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["count"]
        by_group[r["group_id"]] = by_group.get(r["group_id"], 0) + r["count"]
        by_province[r["province_code"]] = by_province.get(r["province_code"], 0) + r["count"]
    where, params = scope_sql(viewer)
    overdue = db.execute(
        f"SELECT count(*) FROM complainant WHERE incident_id = ? AND next_contact_due_at < ? AND status NOT IN ('settled','closed','withdrawn') AND {where}",
        [incident_id, to_iso(now), *params],
    ).fetchone()[0]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_group": by_group,
        "by_province": by_province,
        "matrix": rows,
        "overdue_contact": overdue,
    }
