"""An incident's playbook turned into tasks with owners and deadlines.

Tasks are made from the playbook when their trigger fires: at activation,
when the crowd rule makes a mass incident, each day, after each settlement,
for each complainant group. ``sync_tasks`` makes whatever is missing and is
safe to call any number of times (each task is unique by incident, key and
the day, settlement or group it is for).
"""

import hashlib
import json
import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import audit, masking, playbooks, uploads
from .clock import from_iso, to_iso
from .db import write
from .errors import Invalid, NotFound
from .figures import NOT_CLOSED_INCIDENT_STATUSES

TASK_FIELDS = (
    "id",
    "incident_id",
    "key",
    "trigger",
    "trigger_ref",
    "stream",
    "title",
    "owner_role",
    "owner_user_id",
    "due_at",
    "depends_on",
    "status",
    "checklist",
    "notes",
    "referral_party",
    "document_kind",
    "completed_by",
    "completed_at",
)


def _minutes(book, spec):
    return spec.due.minutes if spec.due.minutes is not None else book.defaults[spec.due.setting]


def _title(spec, locale="zh"):
    return spec.title.zh if locale == "zh" else spec.title.en


def _occurrences(db, incident, book, spec, now, settings):
    """(trigger_ref, due_at, title suffix) for each time this task's trigger has fired by ``now``."""
    activated = from_iso(incident["activated_at"]) if incident.get("activated_at") else None
    if spec.trigger == "activation":
        return [("", activated + timedelta(minutes=_minutes(book, spec)), "")] if activated else []
    if spec.trigger == "crowd":
        crowd = from_iso(incident["mass_incident_at"]) if incident.get("mass_incident_at") else None
        return [("", crowd + timedelta(minutes=_minutes(book, spec)), "")] if crowd else []
    if spec.trigger == "daily":
        if not activated:
            return []
        zone = ZoneInfo(settings["TIMEZONE"])
        hour, minute = (int(x) for x in spec.due.at.split(":"))
        day = activated.astimezone(zone).date()
        found = []
        while True:
            due = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            if due > activated:
                if due - timedelta(days=1) > now:  # made a day ahead, not further
                    break
                found.append((day.isoformat(), due, f" · {day.isoformat()}"))
            day += timedelta(days=1)
        return found
    if spec.trigger == "settlement":
        return [
            (str(r["id"]), from_iso(r["settled_at"]) + timedelta(minutes=_minutes(book, spec)), f" · #{r['id']}")
            for r in db.query("SELECT id, settled_at FROM complainant WHERE incident_id = ? AND settled_at IS NOT NULL", [incident["id"]])
        ]
    if spec.trigger == "group":
        return [
            (str(r["id"]), from_iso(r["created_at"]) + timedelta(minutes=_minutes(book, spec)), f" · {r['name']}")
            for r in db.query("SELECT id, name, created_at FROM complainant_group WHERE incident_id = ?", [incident["id"]])
        ]
    return []


def sync_tasks(db, incident_id, now, settings, outbox=None, actor=None):
    """Make the tasks whose triggers have fired and that do not exist yet; returns how many were made."""
    with write(db):
        incident = dict(db["incident"].get(incident_id))
        if not incident.get("playbook") or incident["status"] not in NOT_CLOSED_INCIDENT_STATUSES:
            return 0
        book = playbooks.get(incident["playbook"])
        if book is None:
            return 0
        existing = {(r["key"], r["trigger_ref"]) for r in db.query("SELECT key, trigger_ref FROM task WHERE incident_id = ?", [incident_id])}
        made = []
        for spec in book.tasks:
            for ref, due, suffix in _occurrences(db, incident, book, spec, now, settings):
                if (spec.key, ref) in existing:
                    continue
                row = {
                    "incident_id": incident_id,
                    "playbook": book.id,
                    "key": spec.key,
                    "trigger": spec.trigger,
                    "trigger_ref": ref,
                    "stream": spec.stream,
                    "title": spec.title.zh + suffix,
                    "owner_role": spec.owner_role,
                    "owner_user_id": None,
                    "due_at": to_iso(due),
                    "depends_on": json.dumps(spec.depends_on),
                    "status": "open",
                    "checklist": json.dumps([{"text": c.zh, "done": False} for c in spec.checklist], ensure_ascii=False),
                    "notes": "",
                    "referral_party": spec.referral,
                    "document_kind": spec.document,
                    "created_at": to_iso(now),
                }
                task_id = db["task"].insert(row).last_pk
                made.append({**row, "id": task_id})
        if made:
            audit.record(db, actor or _system(), "task", made[0]["id"], "create", after={"keys": [t["key"] for t in made], "count": len(made)}, at=now)
            if outbox is not None:
                outbox.record_everywhere(incident_id, "task_updated", now, {"tasks": [public(t) for t in made]})
    return len(made)


def _system():
    from .audit import Actor

    return Actor(user_id=None, username="playbook", route="playbook tasks")


def public(row):
    """A task as boards and the API show it (no personal data: titles name groups and settlement numbers)."""
    out = {k: row.get(k) for k in TASK_FIELDS}
    out["depends_on"] = json.loads(out["depends_on"]) if isinstance(out["depends_on"], str) else out["depends_on"]
    out["checklist"] = json.loads(out["checklist"]) if isinstance(out["checklist"], str) else out["checklist"]
    return out


def list_tasks(db, incident_id):
    return [public(dict(r)) for r in db.query("SELECT * FROM task WHERE incident_id = ? ORDER BY status = 'done', due_at, id", [incident_id])]


def for_viewer(db, viewer, task_list):
    """Tasks as ``viewer`` may read them.

    A settlement task is made for one complainant: its ``trigger_ref`` and the
    ``· #id`` in its title name them. A viewer who may not read that
    complainant (an executive, a branch contact outside its scope) gets the
    task without the id. Notes are free text: masked for a viewer who may not
    read personal numbers in incident-wide text (masking.task_for)."""
    from .access import in_scope

    refs = {int(t["trigger_ref"]) for t in task_list if t.get("trigger") == "settlement" and str(t.get("trigger_ref") or "").isdigit()}
    places = {}
    if refs:
        marks = ",".join("?" * len(refs))
        places = {
            r["id"]: (r["province_code"], r["branch_code"])
            for r in db.query(f"SELECT id, province_code, branch_code FROM complainant WHERE id IN ({marks})", sorted(refs))
        }
    out = []
    for task in task_list:
        task = masking.task_for(viewer, task)
        ref = str(task.get("trigger_ref") or "")
        if task.get("trigger") == "settlement" and ref:
            place = places.get(int(ref)) if ref.isdigit() else None
            if not viewer.may("complainant.read") or place is None or not in_scope(viewer, *place):
                task = masking.without_complainant_ref(task)
        out.append(task)
    return out


def get_task(db, task_id):
    rows = list(db.query("SELECT * FROM task WHERE id = ?", [task_id]))
    if not rows:
        raise NotFound(_("No task %(id)s.", id=task_id))
    return public(dict(rows[0]))


def blocking(db, task):
    """Open tasks this one depends on (keys and titles)."""
    if not task["depends_on"]:
        return []
    marks = ",".join("?" * len(task["depends_on"]))
    return [
        dict(r)
        for r in db.query(
            f"SELECT key, title FROM task WHERE incident_id = ? AND key IN ({marks}) AND status = 'open' ORDER BY due_at",
            [task["incident_id"], *task["depends_on"]],
        )
    ]


def _record(outbox, task, now):
    if outbox is not None:
        outbox.record_everywhere(task["incident_id"], "task_updated", now, {"tasks": [task]})


def complete(db, task_id, actor, now, outbox=None):
    """Mark a task done; refused while a task it depends on is open."""
    with write(db):
        task = get_task(db, task_id)
        if task["status"] == "done":
            raise Invalid(_("This task is already done."))
        open_deps = blocking(db, task)
        if open_deps:
            raise Invalid(
                _("This task waits for: %(tasks)s. Complete those first.", tasks="; ".join(d["title"] for d in open_deps)),
                details=[{"field": "depends_on", "message": d["key"]} for d in open_deps],
            )
        changes = {"status": "done", "completed_by": actor.user_id, "completed_at": to_iso(now)}
        db["task"].update(task_id, changes)
        audit.record(db, actor, "task", task_id, "complete", before={"status": "open"}, after=changes, at=now)
        task = get_task(db, task_id)
        _record(outbox, task, now)
    return task


def update(db, task_id, data, actor, now, outbox=None):
    """Change a task's named owner, notes, or tick checklist items (schemas.TaskUpdate)."""
    changes = data.model_dump(exclude_unset=True)
    with write(db):
        task = get_task(db, task_id)
        row = {}
        if "owner_user_id" in changes:
            if changes["owner_user_id"] is not None and not db["user"].count_where("id = ? AND active = 1", [changes["owner_user_id"]]):
                raise Invalid(_("Unknown owner."), details=[{"field": "owner_user_id", "message": "is not an active user"}])
            row["owner_user_id"] = changes["owner_user_id"]
        if "notes" in changes:
            row["notes"] = changes["notes"]
        if "checklist_done" in changes:
            items = task["checklist"]
            bad = [i for i in changes["checklist_done"] if i >= len(items)]
            if bad:
                raise Invalid(_("This task's checklist has %(n)s items.", n=len(items)), details=[{"field": "checklist_done", "message": f"no item {bad}"}])
            for index, item in enumerate(items):
                item["done"] = index in changes["checklist_done"]
            row["checklist"] = json.dumps(items, ensure_ascii=False)
        if not row:
            return task
        db["task"].update(task_id, row)
        audit.record(db, actor, "task", task_id, "update", before={k: task[k] for k in row if k != "checklist"}, after=row, at=now)
        task = get_task(db, task_id)
        _record(outbox, task, now)
    return task


# Evidence, letters, screenshots and lists: what a crisis task is worked with.
ATTACHMENT_KINDS = (*uploads.DOCUMENT_KINDS, "xlsx", "csv")


def attach(db, task_id, filename, content, actor, now, folder):
    """Keep a file with a task: stored on disk under its SHA-256, recorded with its hash.

    The file is checked first (uploads.check_upload: not empty, not too large,
    its bytes of a kind in ATTACHMENT_KINDS that its name agrees with); a
    refused file, or an unknown task, leaves nothing on disk or in the database.
    """
    safe, _content_type = uploads.check_upload(filename, content, ATTACHMENT_KINDS)
    get_task(db, task_id)
    digest = hashlib.sha256(content).hexdigest()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{digest}-{safe}")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, 0o444)
    with write(db):
        get_task(db, task_id)
        row = {
            "task_id": task_id,
            "filename": safe,
            "stored_path": path,
            "sha256": digest,
            "size": len(content),
            "uploaded_by": actor.user_id,
            "uploaded_at": to_iso(now),
        }
        attachment_id = db["task_attachment"].insert(row).last_pk
        audit.record(db, actor, "task_attachment", attachment_id, "create", after={k: v for k, v in row.items() if k != "stored_path"}, at=now)
    return attachment_id


def attachments(db, task_id):
    return [dict(r) for r in db.query("SELECT * FROM task_attachment WHERE task_id = ? ORDER BY id", [task_id])]


def get_attachment(db, attachment_id):
    """One task attachment (with its stored path); NotFound when there is none."""
    rows = list(db.query("SELECT * FROM task_attachment WHERE id = ?", [attachment_id]))
    if not rows:
        raise NotFound(_("No attachment %(id)s.", id=attachment_id))
    return dict(rows[0])


def overdue(db, incident_id, now):
    return [
        public(dict(r))
        for r in db.query("SELECT * FROM task WHERE incident_id = ? AND status = 'open' AND due_at <= ? ORDER BY due_at", [incident_id, to_iso(now)])
    ]
