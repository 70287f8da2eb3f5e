"""Merging two complainants who are one person, and undoing it.

The team merges (never the console by itself: a name and an outlet only
suggest). A merge keeps everything: every complaint, contact, deadline
extension, offer, settlement and intake record of the merged complainant
moves to the kept one, which takes the earliest of both people's deadlines;
the merged complainant's own row is removed from the lists (and the counts)
and kept whole in the merge record. Undo moves every one of those rows
back, restores the merged complainant as it was and the kept one's fields
the merge changed. Both are audited.
"""

import json

from flask_babel import gettext as _

from . import audit, complaints, search_index
from .clock import to_iso
from .complainants import KEY_FIELDS, apply_change, public, scoped_row
from .db import write
from .errors import Conflict, Invalid, NotFound
from .events import count_delta

# tables whose rows follow their complainant (found by their complainant_id
# column), except these: kept in step by triggers, or records about merges
_NOT_MOVED = {"complainant_flag", "complainant_merge", "complainant_not_same"}
_MERGE_COLUMNS = "id, incident_id, kept_id, merged_id, reason, merged_at, merged_by, undone_at, undone_by, moved"
_EARLIEST = ("decision_due_at", "received_at", "first_response_due_at", "resolution_due_at", "supervisor_due_at", "next_contact_due_at", "first_contact_at")


def _child_tables(db):
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()]
    return [t for t in tables if t not in _NOT_MOVED and any(c[1] == "complainant_id" for c in db.execute(f"PRAGMA table_info([{t}])").fetchall())]


def _public_merge(row):
    out = dict(row)
    out["moved"] = {table: len(rows) for table, rows in json.loads(out["moved"]).items() if not table.startswith("_")}
    return out


def merge(db, kept_id, other_id, reason, caller, settings, outbox=None):
    """Merge complainant ``other_id`` into ``kept_id`` (same incident). Returns the merge record."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        kept = scoped_row(db, kept_id, viewer)
        if other_id == kept_id:
            raise Invalid(_("A complainant cannot be merged into themselves."), details=[{"field": "other_id", "message": _("is this complainant")}])
        other = scoped_row(db, other_id, viewer)
        if other["incident_id"] != kept["incident_id"]:
            message = _("is in another incident: only complainants of the same incident are merged")
            raise Invalid(_("Nothing was merged: %(problem)s.", problem=message), details=[{"field": "other_id", "message": message}])
        live = db.execute(
            "SELECT count(DISTINCT complainant_id) FROM settlement WHERE complainant_id IN (?, ?) AND status != 'withdrawn'", [kept_id, other_id]
        ).fetchone()[0]
        if live == 2:
            raise Conflict(_("Both complainants have a settlement: the crisis lead or legal withdraws one before they are merged."))
        # each first complaint kept on its person's row becomes a row before rows move (undo turns it back)
        implicit = [cid for cid in (kept_id, other_id) if not db.execute("SELECT 1 FROM complaint WHERE complainant_id = ?", [cid]).fetchone()]
        complaints.materialize_first(db, implicit, settings)
        moved = {"_materialized": [db.execute("SELECT id FROM complaint WHERE complainant_id = ?", [cid]).fetchone()[0] for cid in implicit]}
        for table in _child_tables(db):
            rows = [dict(r) for r in db.query(f"SELECT rowid AS _rowid, * FROM [{table}] WHERE complainant_id = ?", [other_id])]
            for row in rows:
                try:
                    db.execute(f"UPDATE [{table}] SET complainant_id = ? WHERE rowid = ?", [kept_id, row["_rowid"]])
                except Exception as exc:  # the kept complainant already has this row (a group's representative): drop the copy
                    if "UNIQUE" not in str(exc):
                        raise
                    db.execute(f"DELETE FROM [{table}] WHERE rowid = ?", [row["_rowid"]])
                    row["_deleted"] = True
            if rows:
                moved[table] = rows
        if not moved["_materialized"]:
            del moved["_materialized"]
        changes = {}
        for field in _EARLIEST:
            values = [v for v in (kept[field], other[field]) if v is not None]
            if values and min(values) != kept[field]:
                changes[field] = min(values)
        if complaints.SEVERITY_ORDER[other["severity"]] > complaints.SEVERITY_ORDER[kept["severity"]]:
            changes["severity"] = other["severity"]
        flags = json.loads(kept["flags"])
        joined = flags + [f for f in json.loads(other["flags"]) if f not in flags]
        if joined != flags:
            changes["flags"] = json.dumps(joined)
        for field in ("id_number", "id_hash", "temperament", "motive", "group_id", "handler_id", "city_code"):
            if kept[field] is None and other[field] is not None and (field != "id_hash" or kept["id_number"] is None):
                changes[field] = other[field]
        merged_row = dict(next(iter(db.query("SELECT * FROM complainant WHERE id = ?", [other_id]))))
        db.execute("DELETE FROM complainant WHERE id = ?", [other_id])
        kept_before = {k: kept[k] for k in changes}
        kept_before["version"] = kept["version"]
        merge_id = (
            db["complainant_merge"]
            .insert(
                {
                    "incident_id": kept["incident_id"],
                    "kept_id": kept_id,
                    "merged_id": other_id,
                    "merged_row": json.dumps(merged_row, ensure_ascii=False),
                    "kept_before": json.dumps(kept_before, ensure_ascii=False),
                    "moved": json.dumps(moved, ensure_ascii=False),
                    "reason": reason,
                    "merged_at": to_iso(now),
                    "merged_by": actor.user_id,
                }
            )
            .last_pk
        )
        apply_change(db, kept, changes, actor, now, None, action="merge", reason=_("Merge %(id)s: %(reason)s", id=merge_id, reason=reason))
        audit.record(
            db,
            actor,
            "complainant",
            other_id,
            "merged_into",
            before=merged_row,
            after={"kept_id": kept_id, "merge_id": merge_id, "moved": {t: len(r) for t, r in moved.items()}, "reason": reason},
            at=now,
        )
        if outbox is not None:
            after = scoped_row(db, kept_id, viewer)
            outbox.record(
                kept["incident_id"],
                "complainant_updated",
                now,
                counts=[count_delta(*(other[k] for k in KEY_FIELDS), -1)],
                person=after,
                places={(other["province_code"], other["branch_code"]), (after["province_code"], after["branch_code"])},
            )
        return _public_merge(next(iter(db.query(f"SELECT {_MERGE_COLUMNS} FROM complainant_merge WHERE id = ?", [merge_id]))))


def unmerge(db, merge_id, caller, outbox=None):
    """Undo a merge: the merged complainant back as it was, every row it had
    moved back to it, the kept one's fields the merge changed restored.
    Complaints and contacts added to the kept complainant after the merge stay with it."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        rows = list(db.query("SELECT * FROM complainant_merge WHERE id = ?", [merge_id]))
        if not rows:
            raise NotFound(_("No merge %(id)s.", id=merge_id))
        record = dict(rows[0])
        kept = scoped_row(db, record["kept_id"], viewer)  # NotFound outside the viewer's scope
        if record["undone_at"]:
            raise Conflict(_("Merge %(id)s was already undone.", id=merge_id))
        later = db.execute("SELECT id FROM complainant_merge WHERE kept_id = ? AND id > ? AND undone_at IS NULL", [record["merged_id"], merge_id]).fetchone()
        if later:
            raise Conflict(_("Undo merge %(id)s first: it merged into the complainant this merge removed.", id=later[0]))
        merged_row = json.loads(record["merged_row"])
        columns = list(merged_row)
        db.execute(f"INSERT INTO complainant ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", [merged_row[c] for c in columns])
        search_index.index_new(db, record["merged_id"], record["merged_id"])
        moved = json.loads(record["moved"])
        materialized = moved.pop("_materialized", [])
        for table, moved_rows in moved.items():
            for row in moved_rows:
                if row.pop("_deleted", False):
                    row["rowid"] = row.pop("_rowid")
                    db.execute(f"INSERT INTO [{table}] ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
                else:
                    db.execute(f"UPDATE [{table}] SET complainant_id = ? WHERE rowid = ?", [record["merged_id"], row["_rowid"]])
        for complaint_id in materialized:  # a first complaint the merge made a row: back on its person's row, if still alone
            db.execute(
                "DELETE FROM complaint WHERE id = ? AND NOT EXISTS (SELECT 1 FROM complaint other "
                "WHERE other.complainant_id = complaint.complainant_id AND other.id != complaint.id)",
                [complaint_id],
            )
        kept_before = json.loads(record["kept_before"])
        kept_before.pop("version", None)
        apply_change(db, kept, kept_before, actor, now, None, action="unmerge", reason=_("Merge %(id)s undone", id=merge_id))
        db.execute("UPDATE complainant_merge SET undone_at = ?, undone_by = ? WHERE id = ?", [to_iso(now), actor.user_id, merge_id])
        audit.record(db, actor, "complainant", record["merged_id"], "unmerge", after={"merge_id": merge_id, "kept_id": record["kept_id"]}, at=now)
        if outbox is not None:
            restored = scoped_row(db, record["merged_id"], viewer)
            outbox.record(
                record["incident_id"],
                "complainants_added",
                now,
                counts=[count_delta(*(restored[k] for k in KEY_FIELDS), 1)],
                places={(restored["province_code"], restored["branch_code"])},
                data={"added": 1},
            )
        return _public_merge(next(iter(db.query(f"SELECT {_MERGE_COLUMNS} FROM complainant_merge WHERE id = ?", [merge_id]))))


def not_same(db, complainant_id, other_id, caller):
    """Record that two possible matches are different people: no longer suggested."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        scoped_row(db, complainant_id, viewer)
        scoped_row(db, other_id, viewer)
        low, high = sorted((complainant_id, other_id))
        db.execute(
            "INSERT OR IGNORE INTO complainant_not_same (low_id, high_id, decided_at, decided_by) VALUES (?, ?, ?, ?)", [low, high, to_iso(now), actor.user_id]
        )
        audit.record(db, actor, "complainant", complainant_id, "not_same", after={"other_id": other_id}, at=now)


def matches(db, complainant_id, viewer):
    """Other incidents knowing this person, possible matches here, merges into them."""
    person = scoped_row(db, complainant_id, viewer)
    merges_into = [_public_merge(r) for r in db.query(f"SELECT {_MERGE_COLUMNS} FROM complainant_merge WHERE kept_id = ? ORDER BY id DESC", [complainant_id])]
    return {
        "also_in_incidents": complaints.person_also_in(db, person, viewer),
        "possible": complaints.possible_matches(db, person, viewer),
        "merges": merges_into,
    }


def snapshot(db, complainant_id):
    """Everything a merge touches of one complainant (for tests and checks):
    its row and its rows in every table that follows it."""
    out = {"complainant": public(next(iter(db.query("SELECT * FROM complainant WHERE id = ?", [complainant_id]))))}
    for table in _child_tables(db):
        out[table] = sorted(
            (dict(r) for r in db.query(f"SELECT rowid AS _rowid, * FROM [{table}] WHERE complainant_id = ?", [complainant_id])), key=lambda r: r["_rowid"]
        )
    return out
