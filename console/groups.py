"""Complainant groups: named cohorts inside an incident, each with its own
handling line and at most a configured number of representatives (Art. 12)."""

from flask_babel import gettext as _

from . import audit
from .clock import to_iso
from .db import write
from .errors import Conflict, Invalid, NotFound
from .incidents import get_incident


def _with_representatives(db, rows):
    reps = {}
    ids = [r["id"] for r in rows]
    if ids:
        marks = ",".join("?" * len(ids))
        for r in db.query(
            f"SELECT group_id, complainant_id FROM group_representative WHERE group_id IN ({marks}) ORDER BY complainant_id",
            ids,
        ):
            reps.setdefault(r["group_id"], []).append(r["complainant_id"])
    return [{**dict(r), "representative_ids": reps.get(r["id"], [])} for r in rows]


def for_viewer(db, viewer, group_list):
    """Groups as ``viewer`` may read them: representative ids only of the
    complainants the viewer may read (none for executives; a branch contact's
    own scope only), so no out-of-scope complainant id leaks through a group."""
    from .access import in_scope

    if not viewer.may("complainant.read"):
        return [{**g, "representative_ids": []} for g in group_list]
    if not viewer.scoped:
        return group_list
    ids = sorted({i for g in group_list for i in g["representative_ids"]})
    places = {}
    if ids:
        marks = ",".join("?" * len(ids))
        places = {
            r["id"]: (r["province_code"], r["branch_code"])
            for r in db.query(f"SELECT id, province_code, branch_code FROM complainant WHERE id IN ({marks})", ids)
        }
    return [{**g, "representative_ids": [i for i in g["representative_ids"] if i in places and in_scope(viewer, *places[i])]} for g in group_list]


def list_groups(db, incident_id):
    get_incident(db, incident_id)
    rows = list(db.query("SELECT * FROM complainant_group WHERE incident_id = ? ORDER BY id", [incident_id]))
    return _with_representatives(db, rows)


def get_group(db, group_id):
    rows = list(db.query("SELECT * FROM complainant_group WHERE id = ?", [group_id]))
    if not rows:
        raise NotFound(_("No complainant group %(id)s.", id=group_id))
    return _with_representatives(db, rows)[0]


def _set_representatives(db, group, complainant_ids, max_representatives):
    if len(complainant_ids) > max_representatives:
        raise Invalid(
            _(
                "A group may choose at most %(max)s representatives (Art. 12); %(n)s were given.",
                max=max_representatives,
                n=len(complainant_ids),
            ),
            details=[{"field": "representative_ids", "message": f"at most {max_representatives}"}],
        )
    if complainant_ids:
        marks = ",".join("?" * len(complainant_ids))
        members = {r["id"] for r in db.query(f"SELECT id FROM complainant WHERE id IN ({marks}) AND group_id = ?", [*complainant_ids, group["id"]])}
        strangers = [i for i in complainant_ids if i not in members]
        if strangers:
            raise Invalid(
                _("Representatives must be complainants of this group: %(ids)s are not.", ids=", ".join(map(str, strangers))),
                details=[{"field": "representative_ids", "message": f"not in this group: {strangers}"}],
            )
    db.execute("DELETE FROM group_representative WHERE group_id = ?", [group["id"]])
    db["group_representative"].insert_all([{"group_id": group["id"], "complainant_id": c} for c in complainant_ids])


def create_group(db, incident_id, data, actor, now, max_representatives, outbox=None):
    with write(db):
        incident = get_incident(db, incident_id)
        if incident["status"] == "closed":
            raise Invalid(_("A closed incident takes no new groups."))
        if db["complainant_group"].count_where("incident_id = ? AND name = ?", [incident_id, data.name]):
            raise Conflict(_("This incident already has a group named '%(name)s'.", name=data.name))
        row = {"incident_id": incident_id, "name": data.name, "handling_line": data.handling_line, "created_at": to_iso(now)}
        group_id = db["complainant_group"].insert(row).last_pk
        # A new group has no members yet, so representatives can only be named later.
        _set_representatives(db, {"id": group_id}, data.representative_ids, max_representatives)
        audit.record(db, actor, "complainant_group", group_id, "create", after={**row, "representative_ids": data.representative_ids}, at=now)
        _record(outbox, incident_id, group_id, data.name, now)
    return group_id


def _record(outbox, incident_id, group_id, name, now):
    if outbox is not None:
        outbox.record_everywhere(incident_id, "group_updated", now, {"group": {"id": group_id, "name": name}})


def update_group(db, group_id, data, actor, now, max_representatives, outbox=None):
    changes = data.model_dump(exclude_unset=True)
    with write(db):
        before = get_group(db, group_id)
        reps = changes.pop("representative_ids", None)
        if "name" in changes and changes["name"] != before["name"]:
            if db["complainant_group"].count_where("incident_id = ? AND name = ?", [before["incident_id"], changes["name"]]):
                raise Conflict(_("This incident already has a group named '%(name)s'.", name=changes["name"]))
        if changes:
            db["complainant_group"].update(group_id, changes)
        if reps is not None:
            _set_representatives(db, before, reps, max_representatives)
            changes["representative_ids"] = reps
        old, new = audit.changed(before, changes)
        if new:
            audit.record(db, actor, "complainant_group", group_id, "update", before=old, after=new, at=now)
        if "name" in new:
            _record(outbox, before["incident_id"], group_id, new["name"], now)
    return get_group(db, group_id)


def names(db, incident_id):
    """{group id: name} of an incident's groups."""
    return {r["id"]: r["name"] for r in db.query("SELECT id, name FROM complainant_group WHERE incident_id = ?", [incident_id])}


def members(db, group_id, limit=500):
    """The complainants of a group, by name: [{id, name}] (the first ``limit``)."""
    return [dict(r) for r in db.query("SELECT id, name FROM complainant WHERE group_id = ? ORDER BY name LIMIT ?", [group_id, limit])]
