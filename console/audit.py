"""The audit log: who wrote what, when, through which route, before and after.

The log is a hash chain, so that a change made behind the console's back shows:
each entry stores ``prev_hash``, the hash of the entry before it, and ``hash``,
SHA-256 over its own fields and ``prev_hash``. ``audit_head`` keeps the id and
hash of the newest entry, so deleting the newest entries shows too. ``verify``
walks the chain and names the first entry edited, inserted or deleted (and any
later ones). Someone who can write the file and knows this scheme can rebuild
the whole chain after their change; a backup's head hash, kept elsewhere, is
what shows that (README, "Audit log").
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _

from .clock import to_iso, utcnow
from .db import write
from .masking import mask_id_number, mask_phone

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # the prev_hash of the first entry
# The fields an entry's hash covers, in this order, then its prev_hash.
FIELDS = ("id", "at", "user_id", "username", "route", "table_name", "row_id", "action", "before", "after")
_SELECT = "SELECT " + ", ".join(FIELDS) + ", prev_hash, hash FROM audit_log"


@dataclass(frozen=True)
class Actor:
    """Who is acting, and through which route ('POST /api/v1/...' or 'cli demo')."""

    user_id: Optional[int]
    username: str
    route: str


SENSITIVE = {"phone": mask_phone, "id_number": mask_id_number, "customer_phone": mask_phone, "customer_id_number": mask_id_number}


def _json(value):
    """JSON of a change, with phone and ID numbers masked: the audit log records
    that they changed, it does not keep a second copy (PIPL Art. 6)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = {k: (SENSITIVE[k](v) if k in SENSITIVE and v else v) for k, v in value.items()}
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _int(value):
    return None if value is None else int(value)


def _text(value):
    return None if value is None else str(value)


def entry_hash(values, prev_hash):
    """SHA-256 of one entry: its FIELDS as SQLite stores them, then prev_hash,
    as compact JSON (UTF-8). The same bytes whoever computes it, so a copy of
    the database verifies anywhere."""
    payload = json.dumps([*values, prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _head(db):
    """(id, hash) of the newest entry, as audit_head records it."""
    row = db.execute("SELECT last_id, hash FROM audit_head WHERE id = 1").fetchone()
    if row is None:
        # The head row was removed behind our back. Writes must go on during a
        # crisis: start again from the newest entry (verify still names gaps).
        log.warning("audit_head is missing; chaining from the newest audit entry")
        row = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() or (0, GENESIS)
        db.execute("INSERT INTO audit_head (id, last_id, hash) VALUES (1, ?, ?)", [row[0], row[1] or GENESIS])
    return row[0], row[1]


def _append(db, values):
    last_id, prev_hash = _head(db)
    # A row slipped in above the head must not block every later write.
    top = db.execute("SELECT max(id) FROM audit_log").fetchone()[0] or 0
    entry_id = max(last_id, top) + 1
    values = (entry_id, *values)
    digest = entry_hash(values, prev_hash)
    db.execute(
        "INSERT INTO audit_log (" + ", ".join(FIELDS) + ", prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*values, prev_hash, digest],
    )
    db.execute("UPDATE audit_head SET last_id = ?, hash = ? WHERE id = 1", [entry_id, digest])
    return entry_id


def record(db, actor, table, row_id, action, before=None, after=None, at=None):
    """Write one audit row, chained to the one before. Call inside the same
    transaction as the change.

    Every audit row is written here. Reading the head and appending happen in
    one write transaction (the caller's, or a BEGIN IMMEDIATE of our own), so
    two writers never chain to the same entry; in WAL a deferred transaction
    that read before another writer committed fails instead of forking.
    """
    values = (
        to_iso(at or utcnow()),
        _int(actor.user_id),
        _text(actor.username),
        _text(actor.route),
        _text(table),
        _int(row_id),
        _text(action),
        _json(before),
        _json(after),
    )
    if db.conn.in_transaction:
        return _append(db, values)
    with write(db):
        return _append(db, values)


def chain_existing(db):
    """Hash every entry in id order and set the head: for the migration that
    brought in the chain. Entries written before it are vouched for from then on."""
    prev_hash, last_id = GENESIS, 0
    rows = db.execute("SELECT " + ", ".join(FIELDS) + " FROM audit_log ORDER BY id").fetchall()
    for values in rows:
        digest = entry_hash(values, prev_hash)
        db.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?", [prev_hash, digest, values[0]])
        prev_hash, last_id = digest, values[0]
    db.execute("INSERT OR REPLACE INTO audit_head (id, last_id, hash) VALUES (1, ?, ?)", [last_id, prev_hash])
    return len(rows)


@dataclass(frozen=True)
class Problem:
    """One break in the chain: what happened (edited, inserted, deleted, relinked) to which entries."""

    kind: str
    ids: tuple
    message: str


@dataclass
class Verification:
    entries: int = 0
    last_id: int = 0
    head_hash: str = GENESIS
    problems: list = field(default_factory=list)

    @property
    def intact(self):
        return not self.problems


def _deleted(gone, reason):
    """A Problem naming the deleted entries ``gone`` (a range of ids)."""
    if len(gone) == 1:
        message = _("Entry %(id)s was deleted: %(reason)s", id=gone[0], reason=reason)
    else:
        ids = ", ".join(map(str, gone)) if len(gone) <= 10 else f"{gone[0]}–{gone[-1]}"
        message = _("Entries %(ids)s were deleted: %(reason)s", ids=ids, reason=reason)
    return Problem("deleted", tuple(gone), message)


def _with_next(rows):
    """Each row with the one after it (None after the last), reading the cursor once."""
    current = next(rows, None)
    for following in rows:
        yield current, following
        current = following
    if current is not None:
        yield current, None


def verify(db):
    """Walk the chain in id order and return a Verification: its problems name
    each entry edited (its content no longer matches its hash), inserted (the
    chain runs past it, or it lies beyond the head) or deleted (the next entry
    links to an entry that is gone), first one first.

    After an edited entry the walk goes on from its stored hash, and after an
    inserted one from the entry before it, so one change is named once and the
    entries after it are still checked.
    """
    head = db.execute("SELECT last_id, hash FROM audit_head WHERE id = 1").fetchone()
    result = Verification()
    problems = result.problems
    last_id, last_hash = 0, GENESIS  # the newest entry accepted as part of the chain
    for row, following in _with_next(iter(db.execute(_SELECT + " ORDER BY id"))):
        result.entries += 1
        values, prev_hash, stored = row[:10], row[10], row[11]
        entry_id = values[0]
        sound = stored == entry_hash(values, prev_hash)
        linked = prev_hash == last_hash
        # What the chain says comes after this entry: the next entry's link, or the head.
        after_it = following[10] if following is not None else (head[1] if head else None)
        if head is not None and entry_id > head[0]:
            problems.append(
                Problem(
                    "inserted",
                    (entry_id,),
                    _("Entry %(id)s was inserted: it lies beyond the newest entry the log recorded (%(head)s).", id=entry_id, head=head[0]),
                )
            )
            continue
        if sound and linked:
            last_id, last_hash = entry_id, stored
            continue
        if after_it == last_hash and after_it is not None:
            problems.append(
                Problem("inserted", (entry_id,), _("Entry %(id)s was inserted: the chain runs from entry %(before)s past it.", id=entry_id, before=last_id))
            )
            continue
        if not sound:
            problems.append(Problem("edited", (entry_id,), _("Entry %(id)s was edited: its content no longer matches its hash.", id=entry_id)))
        elif entry_id > last_id + 1:
            problems.append(_deleted(range(last_id + 1, entry_id), _("entry %(id)s links to an entry that is gone.", id=entry_id)))
        else:
            problems.append(
                Problem(
                    "relinked",
                    (last_id, entry_id),
                    _("Entry %(id)s does not follow entry %(before)s: one of them was rewritten with a new hash.", id=entry_id, before=last_id),
                )
            )
        last_id, last_hash = entry_id, stored
    if head is None:
        problems.append(Problem("deleted", (), _("The record of the newest entry (audit_head) was deleted.")))
    elif head[0] > last_id:
        problems.append(_deleted(range(last_id + 1, head[0] + 1), _("the log recorded entries up to %(head)s.", head=head[0])))
    elif head[1] != last_hash:
        problems.append(Problem("edited", (last_id,), _("Entry %(id)s was rewritten: its hash is not the one the log recorded.", id=last_id)))
    result.last_id, result.head_hash = last_id, last_hash
    problems.sort(key=lambda p: p.ids[0] if p.ids else float("inf"))  # the first change first
    return result


def check_anchor(db, entry_id, expected_hash):
    """A Problem if entry ``entry_id`` no longer has ``expected_hash`` (a hash
    noted elsewhere earlier, as ``run.py backup`` prints it), else None. This
    catches what the chain alone cannot: the log rebuilt, hashes and all, from
    that entry or before it."""
    row = db.execute("SELECT hash FROM audit_log WHERE id = ?", [entry_id]).fetchone()
    if row is None:
        return Problem("deleted", (entry_id,), _("Entry %(id)s, noted earlier with its hash, is gone.", id=entry_id))
    if row[0] != expected_hash:
        return Problem("rewritten", (entry_id,), _("Entry %(id)s no longer has the hash noted earlier: the log was rebuilt from there or before.", id=entry_id))
    return None


def changed(before, after):
    """Only the fields that differ, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def entries(db, table=None, row_id=None, limit=200):
    where, params = [], []
    if table:
        where.append("table_name = ?")
        params.append(table)
    if row_id is not None:
        where.append("row_id = ?")
        params.append(row_id)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return [dict(r) for r in db.query(sql, params + [limit])]
