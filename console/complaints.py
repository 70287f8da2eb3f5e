"""Complaints of one person: every arrival (hotline, outlet, account manager,
website, a transfer from the regulator's 12378 or the consumer association's
12315, media, court, petition) is a complaint of a complainant.

The rule of deadlines, in one place: the earliest deadline of a person's
complaints governs, and forwarding never resets it (seed 002: forwarded cases
keep the original reply time). The complainant's ``decision_due_at`` is the
earliest of: the Art. 18 deadline of their first complaint (with its
extensions), and every transfer's reply deadline. A later arrival can only
bring it closer; an extension cannot carry it past a transfer's reply deadline.
"""

import functools

from flask_babel import gettext as _

from . import audit, deadlines, identity
from .access import scope_sql
from .clock import from_iso, to_iso
from .db import write
from .errors import Invalid
from .schemas import ArrivalIn

TRANSFER_BODIES = {"regulator_transfer": "12378", "consumer_association": "12315"}
DIRECT_CHANNELS = {"hotline", "outlet", "account_manager", "website"}
SEVERITY_ORDER = {"light": 0, "medium": 1, "severe": 2}
COMPLAINT_COLUMNS = (
    "id, complainant_id, incident_id, channel, received_at, reference, asked, transferring_body, transfer_reference, "
    "reply_due_at, decision_due_at, severity, created_at"
)
_INSERT = (
    "INSERT INTO complaint (complainant_id, incident_id, channel, received_at, reference, asked, transferring_body, "
    "transfer_reference, reply_due_at, decision_due_at, severity, intake_complaint_id, created_at, created_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_KEYS = {}


def key(settings):
    """The matching key for these settings (derived from SECRET_KEY once)."""
    secret = settings["SECRET_KEY"]
    if secret not in _KEYS:
        _KEYS[secret] = identity.matching_key(secret)
    return _KEYS[secret]


def arrival_problems(channel, transfer_reference, reply_due_at, received_at, prefix="", transfer_details=True):
    """What is wrong with an arrival's channel and transfer fields: a transfer
    from 12378 or 12315 carries its reference and reply deadline; a direct
    arrival carries neither."""
    found = []
    if channel in TRANSFER_BODIES and transfer_details:
        if not transfer_reference:
            found.append({"field": prefix + "transfer_reference", "message": _("is required for a transfer: the transferring body's reference number")})
        if reply_due_at is None:
            found.append({"field": prefix + "reply_due_at", "message": _("is required for a transfer: the transferring body's reply deadline")})
    elif channel in DIRECT_CHANNELS or channel is None and transfer_details:
        if transfer_reference or reply_due_at is not None:
            field = "transfer_reference" if transfer_reference else "reply_due_at"
            found.append(
                {
                    "field": prefix + field,
                    "message": _(
                        "only a transferred complaint (regulator, consumer association, media, court, petition) has a transfer reference or reply deadline"
                    ),
                }
            )
    if reply_due_at is not None and received_at is not None and reply_due_at < received_at:
        found.append({"field": prefix + "reply_due_at", "message": _("is before the complaint was received")})
    return found


def complaint_values(complainant_id, incident_id, item, received, severity, settings, actor, now, intake_id=None, asked=None):
    """One row for _INSERT from an arrival (a ComplainantIn or an ArrivalIn)."""
    channel = item.channel
    transferred = channel is not None and channel not in DIRECT_CHANNELS
    if asked is None:
        asked = item.asked if isinstance(item, ArrivalIn) else item.demands
    return (
        complainant_id,
        incident_id,
        channel,
        received if isinstance(received, str) else to_iso(received),
        item.reference,
        asked or "",
        (item.transferring_body or TRANSFER_BODIES.get(channel)) if transferred else None,
        item.transfer_reference,
        to_iso(item.reply_due_at) if item.reply_due_at else None,
        _decision_due_iso(from_iso(received) if isinstance(received, str) else received, settings["DECISION_DAYS"], settings["TIMEZONE"]),
        severity,
        intake_id,
        now if isinstance(now, str) else to_iso(now),
        actor.user_id,
    )


@functools.lru_cache(maxsize=4096)
def _decision_due_iso(received, days, tz_name):
    # arrivals of one batch share a few times of receipt: compute each once
    return to_iso(deadlines.end_of_day_after(received, days, tz_name))


def insert_complaints(db, rows):
    db.conn.executemany(_INSERT, rows)


def has_details(item):
    """Whether an arrival carries more than its person's row keeps (a channel, a reference, a transfer)."""
    return bool(item.channel or item.reference or item.transfer_reference or item.reply_due_at or item.transferring_body)


def materialize_first(db, complainant_ids, settings):
    """Give each of these people whose first complaint is kept on their own row
    a complaint row for it, before another complaint joins it or it moves.

    A first arrival with no channel, reference or transfer (a plain bulk
    import) writes no complaint row: the complainant row holds all it said
    (received_at, demands, severity), and a 100,000-row import saves 100,000
    inserts. Such a person is listed with that one implicit complaint."""
    ids = list(complainant_ids)
    rows = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows += db.execute(
            f"SELECT id, incident_id, received_at, demands, severity, created_at FROM complainant c WHERE id IN ({','.join('?' * len(chunk))}) "
            "AND NOT EXISTS (SELECT 1 FROM complaint WHERE complainant_id = c.id)",
            chunk,
        ).fetchall()
    db.conn.executemany(
        _INSERT,
        [
            (
                cid,
                incident_id,
                None,
                received,
                None,
                demands,
                None,
                None,
                None,
                _decision_due_iso(from_iso(received), settings["DECISION_DAYS"], settings["TIMEZONE"]),
                severity,
                None,
                created,
                None,
            )
            for cid, incident_id, received, demands, severity, created in rows
        ],
    )


def _implicit(person):
    """The first complaint of a person that has no complaint row (see materialize_first)."""
    return {
        "id": None,
        "complainant_id": person["id"],
        "incident_id": person["incident_id"],
        "channel": None,
        "received_at": person["received_at"],
        "reference": None,
        "asked": person["demands"],
        "transferring_body": None,
        "transfer_reference": None,
        "reply_due_at": None,
        "decision_due_at": person["decision_due_at"],
        "severity": person["severity"],
        "created_at": person["created_at"],
    }


def count_complaints(db, incident_id):
    """Complaints of an incident: rows, and the implicit first complaint of each person without one."""
    return db.execute(
        "SELECT (SELECT count(*) FROM complaint WHERE incident_id = ?) + (SELECT count(*) FROM complainant c WHERE incident_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM complaint WHERE complainant_id = c.id))",
        [incident_id, incident_id],
    ).fetchone()[0]


def governed_due(current_due, first_received, received, reply_due_at, settings):
    """The decision deadline after an arrival: never later than before; brought
    forward by a transfer's reply deadline, or by a complaint received before
    the person's first one (its own Art. 18 deadline)."""
    due = current_due
    if reply_due_at is not None:
        due = min(due, to_iso(reply_due_at))
    if received is not None and to_iso(received) < first_received:
        due = min(due, to_iso(deadlines.decision_due(received, settings)))
    return due


def earliest_reply_due(db, complainant_id):
    """The earliest transfer reply deadline among a person's complaints, or None."""
    return db.execute("SELECT min(reply_due_at) FROM complaint WHERE complainant_id = ?", [complainant_id]).fetchone()[0]


def find_people(db, incident_id, id_hashes, phone_hashes):
    """Complainants of an incident with any of these hashes: ({id_hash: id},
    {phone_hash: id}, {id: their id_hash}); the oldest complainant wins where
    several share a number. Integers only: a 10,000-row import's dicts give
    the garbage collector nothing to walk."""
    by_id, by_phone, id_of = {}, {}, {}
    for column, hashes, out in (("id_hash", id_hashes, by_id), ("phone_hash", phone_hashes, by_phone)):
        hashes = list(hashes)
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            # INDEXED BY: given "incident_id = ?" the planner would walk the whole
            # incident in id order instead (33 us a lookup at 40,000 rows, not 3)
            rows = db.execute(
                f"SELECT id, {column}, id_hash FROM complainant INDEXED BY complainant_{column} "
                f"WHERE {column} IN ({','.join('?' * len(chunk))}) AND incident_id = ?",
                [*chunk, incident_id],
            ).fetchall()
            for cid, value, their_id_hash in rows:
                if value not in out or cid < out[value]:
                    out[value] = cid
                    id_of[cid] = their_id_hash
    return by_id, by_phone, id_of


def match(by_id, by_phone, id_of, id_hash, phone_hash):
    """The complainant an arrival is, or None: the same ID number; else the
    same phone unless both carry ID numbers that differ (a family sharing one
    phone are different people)."""
    if id_hash and id_hash in by_id:
        return by_id[id_hash]
    if phone_hash and phone_hash in by_phone:
        cid = by_phone[phone_hash]
        their_id_hash = id_of.get(cid)
        if not (id_hash and their_id_hash and their_id_hash != id_hash):
            return cid
    return None


def also_in(db, viewer, incident_id, pairs):
    """Other incidents holding a complainant with one of these (id_hash, phone_hash)
    pairs, counting only complainants the viewer may see (their scope)."""
    id_hashes = sorted({i for i, _p in pairs if i})
    phone_hashes = sorted({p for _i, p in pairs if p})
    where, params = scope_sql(viewer, "c")
    found = set()
    for column, hashes in (("id_hash", id_hashes), ("phone_hash", phone_hashes)):
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            found.update(
                r[0]
                for r in db.execute(
                    f"SELECT DISTINCT c.incident_id FROM complainant c WHERE c.{column} IN ({','.join('?' * len(chunk))}) AND c.incident_id != ? AND {where}",
                    [*chunk, incident_id, *params],
                ).fetchall()
            )
    return sorted(found)


# --- reading -------------------------------------------------------------------


def _person(db, complainant_id, viewer):
    from .complainants import scoped_row

    return scoped_row(db, complainant_id, viewer)


def list_complaints(db, complainant_id, viewer):
    """A person's complaints, newest first (one implicit complaint for a person
    whose first arrival is kept on their own row: id null)."""
    person = _person(db, complainant_id, viewer)
    rows = [
        dict(r) for r in db.query(f"SELECT {COMPLAINT_COLUMNS} FROM complaint WHERE complainant_id = ? ORDER BY received_at DESC, id DESC", [complainant_id])
    ]
    return rows or [_implicit(person)]


def history(db, complainant_id, viewer):
    """Everything that happened with a person, newest first: each complaint
    (by its channel), each contact, each promise made in a contact, and each
    offer (its terms only to those who may read settlements)."""
    _person(db, complainant_id, viewer)
    entries = []
    by_channel = {}
    for c in list_complaints(db, complainant_id, viewer):
        channel = c["channel"] or "unknown"
        by_channel[channel] = by_channel.get(channel, 0) + 1
        entries.append({"kind": "complaint", "at": c["received_at"], "channel": c["channel"], "summary": c["asked"], "detail": c})
    for c in db.query("SELECT * FROM contact WHERE complainant_id = ? ORDER BY contacted_at DESC, id DESC", [complainant_id]):
        c = dict(c)
        entries.append({"kind": "contact", "at": c["contacted_at"], "channel": c["channel"], "summary": c["said"], "detail": c})
        if c["promised"]:
            entries.append(
                {
                    "kind": "promise",
                    "at": c["contacted_at"],
                    "channel": c["channel"],
                    "summary": c["promised"],
                    "detail": {"contact_id": c["id"], "next_contact_due_at": c["next_contact_due_at"]},
                }
            )
    if viewer.may("settlement.read"):
        for o in db.query("SELECT * FROM settlement_offer WHERE complainant_id = ? ORDER BY id DESC", [complainant_id]):
            o = dict(o)
            entries.append(
                {
                    "kind": "offer",
                    "at": o["made_at"],
                    "channel": None,
                    "summary": o["status"],
                    "detail": {k: o[k] for k in ("id", "status", "total_fen", "made_at", "note")},
                }
            )
    entries.sort(key=lambda e: (e["at"] or "", e["kind"]), reverse=True)
    return {"complainant_id": complainant_id, "entries": entries, "by_channel": by_channel}


def possible_matches(db, person, viewer):
    """Complainants of the same incident with the same name at the same outlet:
    maybe the same person (a different number, none given), for the team to
    merge or mark as different. Never merged by themselves."""
    from .complainants import fts_phrase

    where, params = scope_sql(viewer)
    # narrowed by the word of the name's first two characters (migration m021's
    # index), not every complainant of the outlet
    first = person["name"][:2]
    words, words_args = (
        ("AND id IN (SELECT rowid FROM complainant_name_gram WHERE complainant_name_gram MATCH ?) ", [fts_phrase(first)])
        if any(ch.isalnum() for ch in first)
        else ("", [])
    )
    rows = db.query(
        f"SELECT id, name, branch_code, status, received_at FROM complainant WHERE incident_id = ? AND name = ? {words}"
        f"AND branch_code IS ? AND id != ? AND {where} AND NOT EXISTS (SELECT 1 FROM complainant_not_same n "
        f"WHERE n.low_id = min(complainant.id, ?) AND n.high_id = max(complainant.id, ?)) ORDER BY id LIMIT 20",
        [person["incident_id"], person["name"], *words_args, person["branch_code"], person["id"], *params, person["id"], person["id"]],
    )
    return [dict(r) for r in rows]


def person_also_in(db, person, viewer):
    return also_in(db, viewer, person["incident_id"], [(person.get("id_hash"), person.get("phone_hash"))])


# --- writing -------------------------------------------------------------------


def add_complaint(db, complainant_id, data, caller, settings, outbox=None):
    """Another complaint of a known person (a validated schemas.ArrivalIn): kept
    with its channel and transfer, and the person's deadlines brought forward
    when it is earlier (never put back). Returns the complaint."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    from .complainants import apply_change, check_received_at

    received = data.received_at or now
    problems = check_received_at(data.received_at, now, settings)
    problems += arrival_problems(data.channel, data.transfer_reference, data.reply_due_at, received)
    if problems:
        raise Invalid(_("Nothing was added: %(n)s problem(s) found.", n=len(problems)), details=problems)
    with write(db):
        person = _person(db, complainant_id, viewer)
        materialize_first(db, [complainant_id], settings)
        severity = data.severity or person["severity"]
        db.conn.execute(_INSERT, complaint_values(complainant_id, person["incident_id"], data, received, severity, settings, actor, now))
        complaint_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        changes = fold_arrival(person, received, data.reply_due_at, severity, settings)
        apply_change(
            db,
            person,
            changes,
            actor,
            now,
            outbox,
            action="add_complaint",
            reason=_("Complaint %(id)s arrived (%(channel)s)", id=complaint_id, channel=data.channel),
        )
        audit.record(
            db,
            actor,
            "complaint",
            complaint_id,
            "create",
            after={
                "complainant_id": complainant_id,
                "channel": data.channel,
                "transfer_reference": data.transfer_reference,
                "reply_due_at": to_iso(data.reply_due_at) if data.reply_due_at else None,
            },
            at=now,
        )
    return dict(next(iter(db.query(f"SELECT {COMPLAINT_COLUMNS} FROM complaint WHERE id = ?", [complaint_id]))))


def fold_arrival(person, received, reply_due_at, severity, settings):
    """The changes an arrival makes to its person: deadlines brought forward
    (never put back), a higher severity taken with its earlier due times."""
    changes = {}
    due = governed_due(person["decision_due_at"], person["received_at"], received, reply_due_at, settings)
    if due != person["decision_due_at"]:
        changes["decision_due_at"] = due
    if to_iso(received) < person["received_at"]:
        changes["received_at"] = to_iso(received)
    if severity and SEVERITY_ORDER[severity] > SEVERITY_ORDER[person["severity"]]:
        changes["severity"] = severity
        for field, value in deadlines.severity_dues(severity, received, settings).items():
            if value is not None:  # a due time of the old tier is kept: every deadline stays
                changes[field] = value if person[field] is None else min(person[field], value)
    return changes


# Words other complaint systems use for their channels (intake), to ours.
_INTAKE_CHANNELS = (
    (("12378", "regulator", "监管"), "regulator_transfer"),
    (("12315", "consumer", "消协", "消费者协会"), "consumer_association"),
    (("account", "客户经理"), "account_manager"),
    (("counter", "outlet", "branch", "网点", "柜面", "柜台"), "outlet"),
    (("web", "online", "app", "网站", "网上"), "website"),
    (("media", "press", "reporter", "媒体", "记者"), "media"),
    (("court", "法院"), "court"),
    (("petition", "信访"), "petition"),
    (("hotline", "phone", "call", "热线", "电话", "955"), "hotline"),
)


def intake_channel(text):
    """Our channel for an intake complaint's free-text channel, or None when unknown."""
    lowered = (text or "").lower()
    for words, channel in _INTAKE_CHANNELS:
        if any(w in lowered for w in words):
            return channel
    return None
