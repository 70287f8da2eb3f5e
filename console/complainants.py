"""Complainants: adding them (one or thousands at once), finding them,
changing them under the status rules, and their decision deadline."""

import json
import re
from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _

from . import audit, deadlines, figures, money, regions
from .access import in_scope, scope_sql
from .audit import Actor
from .caller import Caller
from .clock import from_iso, to_iso
from .db import write
from .errors import Conflict, Invalid, NotFound
from .events import count_delta
from .incidents import get_incident
from .org import inactive_outlets
from .status import TransitionRefused, check_transition

MONEY_FIELDS = ("principal", "interest_claimed", "expenses_claimed")

COLUMNS = (
    "id, incident_id, group_id, name, phone, id_number, province_code, city_code, branch_code, status, "
    "escalation_channel, temperament, motive, flags, principal_fen, interest_claimed_fen, expenses_claimed_fen, "
    "demands, handler_id, received_at, decision_due_at, extension_level, next_contact_due_at, first_contact_at, "
    "settled_at, created_at, updated_at, version, severity, first_response_due_at, resolution_due_at, supervisor_due_at, "
    "supervisor_told_at, phone_hash, id_hash"
)
_NAMES = [c.strip() for c in COLUMNS.split(",")]
_INSERT = f"INSERT INTO complainant ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS.split(',')))})"


def public(row):
    """A stored row as the API and templates see it: amounts in yuan, flags a list,
    the decision deadline's last day as a local date."""
    out = dict(row)
    out["flags"] = json.loads(out["flags"]) if isinstance(out["flags"], str) else out["flags"]
    for field in MONEY_FIELDS:
        out[field] = money.to_yuan(out.pop(field + "_fen"))
    if out.get("decision_due_at"):
        out["decision_last_day"] = deadlines.last_day(out["decision_due_at"], _timezone()).isoformat()
    return out


def _timezone():
    from flask import current_app, has_app_context

    return current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"


decision_due = deadlines.decision_due


def check_received_at(received_at, now, settings, field="received_at"):
    """A time of receipt in the future (beyond RECEIPT_SKEW_MINUTES) would start every clock late."""
    if received_at is not None and received_at > now + timedelta(minutes=settings["RECEIPT_SKEW_MINUTES"]):
        return [{"field": field, "message": _("is in the future: a complaint cannot be received after now")}]
    return []


def place_problems(tables, province, city, branch, prefix=""):
    """Whether province, city and branch exist and lie inside one another
    (``tables``: regions.lookup_tables). Complainants and intake check the same way."""
    found = []
    if province is not None and province not in tables["provinces"]:
        found.append((prefix + "province_code", _("is not a province code in GB/T 2260")))
    if city is not None:
        if city not in tables["cities"]:
            found.append((prefix + "city_code", _("is not a known city code")))
        elif province is not None and tables["cities"][city] != province:
            found.append((prefix + "city_code", _("is not in province %(code)s", code=province)))
    if branch is not None:
        if branch not in tables["branches"]:
            found.append((prefix + "branch_code", _("is not a known branch code")))
        else:
            b_city, b_province = tables["branches"][branch]
            if province is not None and b_province != province:
                found.append((prefix + "branch_code", _("is not in province %(code)s", code=province)))
            elif city is not None and b_city != city:
                found.append((prefix + "branch_code", _("is not in city %(code)s", code=city)))
    return found


class References:
    """Everything a batch of complainants may point at, loaded once per batch."""

    def __init__(self, db, incident_id):
        self.regions = regions.lookup_tables(db)
        self.groups = {r["id"] for r in db.query("SELECT id FROM complainant_group WHERE incident_id = ?", [incident_id])}
        self.users = {r["id"] for r in db.query("SELECT id FROM user WHERE active = 1")}

    def problems(self, item, viewer, prefix):
        """Problems with the references of one validated item (a dict or a model)."""
        if isinstance(item, dict):
            province, city, branch = item.get("province_code"), item.get("city_code"), item.get("branch_code")
            group_id, handler_id = item.get("group_id"), item.get("handler_id")
            amounts = [(f, item.get(f)) for f in MONEY_FIELDS]
        else:
            province, city, branch = item.province_code, item.city_code, item.branch_code
            group_id, handler_id = item.group_id, item.handler_id
            amounts = [("principal", item.principal), ("interest_claimed", item.interest_claimed), ("expenses_claimed", item.expenses_claimed)]
        found = place_problems(self.regions, province, city, branch, prefix)
        if group_id is not None and group_id not in self.groups:
            found.append((prefix + "group_id", _("is not a group of this incident")))
        if handler_id is not None and handler_id not in self.users:
            found.append((prefix + "handler_id", _("is not an active user")))
        for field, amount in amounts:
            if amount and (refused := money.problem(amount)):
                found.append((prefix + field, refused))
        if viewer.scoped and province is not None and not in_scope(viewer, province, branch):
            found.append((prefix + "province_code", _("is outside your region")))
        return [{"field": f, "message": m} for f, m in found]


def create_complainants(db, incident_id, items, caller, settings, outbox=None, transfer_details=True):
    """Add validated schemas.ComplainantIn items to an incident, all or none.

    Returns one complainant id per item (see ``create_arrivals``).
    """
    return create_arrivals(db, incident_id, items, caller, settings, outbox, transfer_details)["ids"]


def create_arrivals(db, incident_id, items, caller, settings, outbox=None, transfer_details=True):
    """Add validated schemas.ComplainantIn items to an incident, all or none.

    Each item is an arrival of a person. One whose ID number or phone matches
    a complainant of this incident (by keyed hash, console/identity.py; an
    earlier item of the same batch included) becomes another complaint of
    that person; the others become new complainants, each with their first
    complaint. Every reference is checked before anything is written; one bad
    item refuses the whole batch, naming each problem.

    Returns {ids (one per item: new or matched), new, linked (item indexes),
    also_in_incidents (other incidents knowing one of these numbers)}.
    ``transfer_details``: a transfer must carry its reference and reply
    deadline (intake complaints from other systems may lack them).
    """
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    from . import complaints, identity, search_index

    key = complaints.key(settings)
    with write(db):
        incident = get_incident(db, incident_id)
        if incident["status"] == "closed":
            raise Invalid(_("A closed incident takes no new complainants."))
        refs = References(db, incident_id)
        closed = inactive_outlets(db)
        problems = [
            {
                "field": (f"{index}." if len(items) > 1 else "") + "branch_code",
                "message": _("outlet %(code)s is closed (deactivated): it takes no new complainants", code=item.branch_code),
            }
            for index, item in enumerate(items)
            if item.branch_code in closed
        ]
        for index, item in enumerate(items):
            prefix = f"{index}." if len(items) > 1 else ""
            problems += check_received_at(item.received_at, now, settings, prefix + "received_at")
            if item.channel or item.transfer_reference or item.reply_due_at:
                problems += complaints.arrival_problems(
                    item.channel, item.transfer_reference, item.reply_due_at, item.received_at or now, prefix, transfer_details
                )
        checked = {}  # the places and references of a batch repeat: check each combination once
        fens = []  # each item's amounts in fen, read once (a 10,000-row import has 30,000)
        for index, item in enumerate(items):
            (principal, why_p), (interest, why_i), (expenses, why_e) = map(money.read, (item.principal, item.interest_claimed, item.expenses_claimed))
            fens.append((principal, interest, expenses))
            key_ = (item.province_code, item.city_code, item.branch_code, item.group_id, item.handler_id, (why_p, why_i, why_e) == (None, None, None))
            if key_ not in checked:
                checked[key_] = bool(refs.problems(item, viewer, ""))
            if checked[key_]:
                problems += refs.problems(item, viewer, f"{index}." if len(items) > 1 else "")
        if problems:
            raise Invalid(_("Nothing was added: %(n)s problem(s) found.", n=len(problems)), details=problems)
        identity.remember_key(db, key)
        id_hashes, phone_hashes = identity.arrival_hashes(key, items)
        by_id, by_phone, id_of = complaints.find_people(db, incident_id, {h for h in id_hashes if h}, {p for p in phone_hashes if p})
        # a merged complainant's id stays its own while merged (an undo puts the row back): never given again
        start = (
            db.execute("SELECT max(coalesce((SELECT max(id) FROM complainant), 0), coalesce((SELECT max(merged_id) FROM complainant_merge), 0))").fetchone()[0]
            + 1
        )
        stamp = to_iso(now)
        due_now = to_iso(decision_due(now, settings))
        dues_now = {}  # by severity: the tier's due times of a complaint received now
        rows, complaint_rows, ids, linked = [], [], [], {}
        implicit, known = {}, set()  # first arrivals without a complaint row; people of earlier calls matched
        for offset, item in enumerate(items):
            received = item.received_at
            severity = item.severity or incident["severity"]
            id_hash, phone_hash = id_hashes[offset], phone_hashes[offset]
            person_id = complaints.match(by_id, by_phone, id_of, id_hash, phone_hash) if id_hash in by_id or phone_hash in by_phone else None
            if person_id is not None:
                ids.append(person_id)
                linked.setdefault(person_id, []).append((offset, item, severity))
                if person_id in implicit:  # new in this batch, first arrival not yet a row: now it becomes one
                    first = items[implicit.pop(person_id)]
                    complaint_rows.append(
                        complaints.complaint_values(
                            person_id, incident_id, first, first.received_at or now, first.severity or incident["severity"], settings, actor, stamp
                        )
                    )
                elif person_id < start:
                    known.add(person_id)
                complaint_rows.append(complaints.complaint_values(person_id, incident_id, item, received or now, severity, settings, actor, stamp))
                continue
            new_id = start + len(rows)
            ids.append(new_id)
            if id_hash and id_hash not in by_id:
                by_id[id_hash] = new_id
            if phone_hash and phone_hash not in by_phone:
                by_phone[phone_hash] = new_id
                id_of[new_id] = id_hash
            if received:
                dues = deadlines.severity_dues(severity, received, settings)
                due = to_iso(decision_due(received, settings))
            else:
                dues = dues_now.get(severity) or dues_now.setdefault(severity, deadlines.severity_dues(severity, now, settings))
                due = due_now
            if item.reply_due_at is not None:
                due = min(due, to_iso(item.reply_due_at))  # a transfer's reply deadline governs when it is earlier
            rows.append(
                (
                    new_id,
                    incident_id,
                    item.group_id,
                    item.name,
                    item.phone,
                    item.id_number.upper() if item.id_number else None,
                    item.province_code,
                    item.city_code,
                    item.branch_code,
                    "new",
                    None,
                    item.temperament,
                    item.motive,
                    json.dumps(item.flags) if item.flags else "[]",
                    *fens[offset],
                    item.demands,
                    item.handler_id,
                    to_iso(received) if received else stamp,
                    due,
                    0,
                    to_iso(item.next_contact_due_at),
                    None,
                    None,
                    stamp,
                    stamp,
                    1,
                    severity,
                    dues["first_response_due_at"],
                    dues["resolution_due_at"],
                    dues["supervisor_due_at"],
                    None,
                    phone_hash,
                    id_hash,
                )
            )
            if complaints.has_details(item):
                complaint_rows.append(complaints.complaint_values(new_id, incident_id, item, received or now, severity, settings, actor, stamp))
            else:
                # kept on the person's row until another complaint joins it (its row made then, if ever)
                implicit[new_id] = offset
        if rows:
            db.conn.executemany(_INSERT, rows)
            search_index.index_new(db, rows[0][0], rows[-1][0])
        complaints.materialize_first(db, known, settings)
        complaints.insert_complaints(db, complaint_rows)
        changed = _link_arrivals(db, linked, actor, now, settings, outbox if len(items) == 1 else None)
        # One audit row per call: the new rows are themselves the record of what
        # was created (with created_at), the complaint rows of each arrival;
        # later changes are audited field by field.
        first = rows[0][0] if rows else ids[0]
        after = {"ids": [rows[0][0], rows[-1][0]], "count": len(rows)} if len(rows) > 1 else (dict(zip(_NAMES, rows[0])) if rows else {"count": 0})
        if linked:
            after["linked"] = {str(k): v for k, v in changed.items()} if len(changed) <= 1000 else sorted(linked)
            after["linked_count"] = sum(len(v) for v in linked.values())
        audit.record(db, actor, "complainant", first, "create", after=after, at=now)
        if outbox is not None and rows:
            # columns 2, 6, 8 are group_id, province_code, branch_code
            outbox.record(
                incident_id,
                "complainants_added",
                now,
                counts=[count_delta(g, p, b, "new", n) for (g, p, b), n in Counter((r[2], r[6], r[8]) for r in rows).items()],
                places={(r[6], r[8]) for r in rows},
                data={"added": len(rows)},
            )
        also = complaints.also_in(db, viewer, incident_id, list(zip(id_hashes, phone_hashes))) if len(items) <= 1000 else []
    return {"ids": ids, "new": len(rows), "linked": sorted(o for arrivals in linked.values() for o, _i, _s in arrivals), "also_in_incidents": also}


_LINK_FIELDS = (
    "decision_due_at",
    "received_at",
    "severity",
    "first_response_due_at",
    "resolution_due_at",
    "supervisor_due_at",
    "flags",
    "id_number",
    "id_hash",
    "temperament",
    "motive",
    "next_contact_due_at",
)


def _link_arrivals(db, linked, actor, now, settings, outbox):
    """Fold the arrivals matched to known people into them: deadlines brought
    forward (never put back), flags joined, an ID number or type filled in
    where none was known. One arrival (a form, one API object) is audited and
    told to the boards as a change of that person; a batch writes its changes
    in bulk, listed in the batch's audit row. Returns {id: changed fields}."""
    from . import complaints

    if not linked:
        return {}
    people = {}
    for start in range(0, len(linked), 500):
        chunk = list(linked)[start : start + 500]
        for r in db.query(f"SELECT {COLUMNS} FROM complainant WHERE id IN ({','.join('?' * len(chunk))})", chunk):
            people[r["id"]] = dict(r)
    changed = {}
    for person_id, arrivals in linked.items():
        before = people[person_id]
        person = dict(before)
        for _offset, item, severity in arrivals:
            person.update(complaints.fold_arrival(person, item.received_at or now, item.reply_due_at, severity, settings))
            flags = json.loads(person["flags"])
            extra = [f for f in item.flags if f not in flags]
            if extra:
                person["flags"] = json.dumps(flags + extra)
            if item.id_number and not person["id_number"]:
                from . import identity

                person["id_number"] = item.id_number.upper()
                person["id_hash"] = identity.id_hash(complaints.key(settings), item.id_number)
            for field in ("temperament", "motive"):
                if getattr(item, field) and not person[field]:
                    person[field] = getattr(item, field)
            if item.next_contact_due_at is not None:
                due = to_iso(item.next_contact_due_at)
                if person["next_contact_due_at"] is None or due < person["next_contact_due_at"]:
                    person["next_contact_due_at"] = due
        changes = {k: person[k] for k in _LINK_FIELDS if person[k] != before[k]}
        if outbox is not None or len(linked) == 1:
            apply_change(
                db,
                before,
                changes,
                actor,
                now,
                outbox,
                action="link_complaint",
                reason=_("Another complaint of the same person (matched by ID or phone number)"),
            )
            changed[person_id] = changes
            continue
        if changes:
            changes.update(updated_at=to_iso(now), version=before["version"] + 1)
            db.execute(f"UPDATE complainant SET {', '.join(f'{k} = ?' for k in changes)} WHERE id = ?", [*changes.values(), person_id])
        changed[person_id] = changes
    return changed


# Past a due time and not yet done (the complainant still open), for ?overdue=
OVERDUE = {
    "first_response": "first_contact_at IS NULL AND first_response_due_at <= ?",
    "resolution": "resolution_due_at <= ?",
    "supervisor": "supervisor_told_at IS NULL AND supervisor_due_at <= ?",
    "decision": "decision_due_at <= ?",
    "contact": "next_contact_due_at <= ?",
}

# An overdue list reads longest overdue first: ordered by the due time it is filtered on.
OVERDUE_ORDER = {
    "first_response": "first_response_due_at",
    "resolution": "resolution_due_at",
    "supervisor": "supervisor_due_at",
    "decision": "decision_due_at",
    "contact": "next_contact_due_at",
}


def _filters(viewer, incident_id, query, now, db=None):
    where, params = scope_sql(viewer)
    clauses, args = ["incident_id = ?", where], [incident_id, *params]
    if query.group_id is not None:
        clauses.append("group_id = ?")
        args.append(query.group_id)
    if query.province_code:
        clauses.append("province_code = ?")
        args.append(query.province_code)
    if query.branch_code:
        clauses.append("branch_code = ?")
        args.append(query.branch_code)
    if query.status:
        clauses.append("status = ?")
        args.append(query.status)
    if query.flag:
        # complainant_flag: the flags as indexed rows (kept in step by triggers, migration m018)
        clauses.append("complainant.id IN (SELECT complainant_id FROM complainant_flag WHERE incident_id = ? AND flag = ?)")
        args += [incident_id, query.flag]
    if query.overdue_contact:
        is_open, open_args = figures.open_complainant_sql()
        clauses.append(f"next_contact_due_at < ? AND {is_open}")
        args += [to_iso(now), *open_args]
    if query.severity:
        clauses.append("severity = ?")
        args.append(query.severity)
    if query.overdue:
        is_open, open_args = figures.open_complainant_sql()
        clauses.append(f"{OVERDUE[query.overdue]} AND {is_open}")
        args += [to_iso(now), *open_args]
    if query.q:
        clause, values = _search_clause(query.q, incident_id, db)
        clauses.append(clause)
        args += values
    return " AND ".join(clauses), args


NUMBER_QUERY = re.compile(r"\+?[0-9]+|[0-9]{17}[0-9X]")
_PLAIN_PHONE = "replace(replace(complainant.phone, ' ', ''), '-', '')"


def search_kind(q):
    """What a search box text asks for: ('name', text), ('last4', digits),
    ('number', digits) for a whole phone or ID number, or ('none', digits)
    for a part of a number, which matches nothing.

    Numbers match whole or by their last four digits only (which the masks
    show anyway): a partial number never narrows the list, so a masked
    ``138****9922`` cannot be rebuilt digit by digit."""
    text = q.strip()
    compact = text.replace(" ", "").replace("-", "").upper()
    if not NUMBER_QUERY.fullmatch(compact):
        return "name", text
    if len(compact) == 4:
        return "last4", compact
    if len(compact.lstrip("+")) >= 7:
        return "number", compact
    return "none", compact


def fts_phrase(text):
    return '"' + text.replace('"', '""') + '"'


def _search_clause(q, incident_id, db=None):
    """The WHERE fragment for a search box text.

    A name or part of one, of any length: through the two-character pieces
    of complainant_name_gram (FTS5, ``_name_search``). A whole phone or ID
    number: through its keyed hash, never the clear number. Any text is also
    tried as a complaint's own or transfer reference (exact)."""
    from . import identity

    kind, value = search_kind(q)
    # Each alternative is its own indexed SELECT joined by UNION inside one
    # IN (...): with OR between them SQLite scans every row of the incident.
    references = [
        "SELECT complainant_id FROM complaint WHERE transfer_reference = ? AND incident_id = ?",
        "SELECT complainant_id FROM complaint WHERE reference = ? AND incident_id = ?",
    ]
    reference_args = [q.strip(), incident_id, q.strip(), incident_id]
    if kind == "name":
        found, args = _name_search(value, incident_id)
        if db is not None:  # the lookup once, not once for the count and again for the page
            ids = [r[0] for r in db.execute(found[0], args).fetchall()]
            found, args = ["SELECT value FROM json_each(?)"], [json.dumps(ids)]
    elif kind == "last4":
        return f"(substr({_PLAIN_PHONE}, -4) = ? OR substr(complainant.id_number, -4) = ?)", [value, value]
    elif kind == "number":
        key = _matching_key()
        found = ["SELECT id FROM complainant WHERE phone_hash = ? AND incident_id = ?"]
        args = [identity.phone_hash(key, value), incident_id]
        if len(value) in (15, 18):
            found.append("SELECT id FROM complainant WHERE id_hash = ? AND incident_id = ?")
            args += [identity.id_hash(key, value), incident_id]
    else:
        found, args = [], []
    return f"complainant.id IN ({' UNION ALL '.join(found + references)})", [*args, *reference_args]


def _name_search(value, incident_id):
    """([SELECT], args) of the complainants of an incident whose name holds
    ``value``, through the two-character pieces of the names in
    complainant_name_gram (migrations m021, m022): one character is a prefix
    of the pieces (王*), two are one piece, three or more are each of their
    pieces (张建国: 张建 AND 建国), the name itself confirming that they stand
    together in it. Pieces are folded and split like any FTS5 unicode61 text,
    so for anything but Chinese characters and digits the name confirms every
    hit too (case-blind, as LIKE)."""
    if not any(ch.isalnum() for ch in value):
        # punctuation only: no word to look up; LIKE over the incident's names
        like = "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return ["SELECT id FROM complainant WHERE incident_id = ? AND name LIKE ? ESCAPE '\\'"], [incident_id, like]
    if len(value) <= 2:
        words = fts_phrase(value) + (" *" if len(value) == 1 else "")
        if all(ch in "0123456789" or _is_ideograph(ch) for ch in value):
            # Chinese characters (and digits) are words as they are, never folded:
            # the index's hits are the answer, no name need be read (a surname
            # finds thousands); the list's incident filter reads its index
            return ["SELECT rowid FROM complainant_name_gram WHERE complainant_name_gram MATCH ?"], [words]
    else:
        pieces = dict.fromkeys(value[i : i + 2] for i in range(len(value) - 1))
        words = " AND ".join(fts_phrase(piece) for piece in pieces if any(ch.isalnum() for ch in piece))
    return (
        [
            "SELECT id FROM complainant WHERE id IN (SELECT rowid FROM complainant_name_gram WHERE complainant_name_gram MATCH ?) "
            "AND incident_id = ? AND instr(lower(name), lower(?)) > 0"
        ],
        [words, incident_id, value],
    )


def _is_ideograph(ch):
    """A CJK unified ideograph (the basic block, extension A, or the supplementary planes' extensions)."""
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3134F


def _matching_key(settings=None):
    from flask import current_app

    from . import complaints

    return complaints.key(settings if settings is not None else current_app.config)


def _audit_number_search(db, where, args, q, caller):
    """A search on a whole phone or ID number tells the searcher that number
    belongs to whoever it finds: log it for each of them, like a reveal (by
    ``caller.actor``, else the searching viewer)."""
    from . import identity

    kind, value = search_kind(q)
    if kind != "number":
        return
    key = _matching_key()
    phone, id_number = identity.phone_hash(key, value), identity.id_hash(key, value)
    found = [
        (r["id"], "phone" if r["phone_hash"] == phone else "id_number")
        for r in db.query(f"SELECT id, phone_hash, id_hash FROM complainant WHERE {where}", args)
        if r["phone_hash"] == phone or r["id_hash"] == id_number
    ]
    if not found:
        return
    viewer = caller.viewer
    actor = caller.actor or Actor(viewer.id, viewer.username, "complainant search")
    with write(db):
        for complainant_id, field in found:
            audit.record(db, actor, "complainant", complainant_id, "reveal", after={"via": "search", "field": field}, at=caller.now)


def _order(query):
    due = OVERDUE_ORDER.get(query.overdue) or ("next_contact_due_at" if query.overdue_contact else None)
    return f"{due}, id" if due else "id DESC"


def list_complainants(db, incident_id, viewer, query, now, actor=None):
    """One page of an incident's complainants matching a schemas.ComplainantQuery.

    Returns (rows, total). Rows are unmasked: masking is the view's job.
    ``query.q`` matches names in part, numbers whole (or by their last four
    digits), references exactly; a whole-number match is audited as a reveal
    by ``actor``. Newest first. ``query.cursor`` (the last id of the previous
    page) pages by key, as fast on page 1,000 as on page 1; ``page`` pages by
    offset, over the (incident_id, id) index only, then reads the page's rows.
    """
    get_incident(db, incident_id)
    where, args = _filters(viewer, incident_id, query, now, db)
    # A search (but the last four digits) names its few ids: read those rows by
    # id. Left to itself the planner may walk a filter's index instead (every
    # 'new' complainant of the incident, each checked against the ids: 20 ms).
    table = "complainant NOT INDEXED" if query.q and search_kind(query.q)[0] != "last4" else "complainant"
    total = db.execute(f"SELECT count(*) FROM {table} WHERE {where}", args).fetchone()[0]
    order = _order(query)
    if order != "id DESC":  # an overdue list reads longest overdue first, paged by offset
        rows = [
            public(r)
            for r in db.query(
                f"SELECT {COLUMNS} FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*args, query.per_page, (query.page - 1) * query.per_page],
            )
        ]
    else:
        if query.cursor is not None:
            page_sql = f"SELECT id FROM {table} WHERE {where} AND complainant.id < ? ORDER BY id DESC LIMIT ?"
            page_args = [*args, query.cursor, query.per_page]
        else:
            page_sql = f"SELECT id FROM {table} WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?"
            page_args = [*args, query.per_page, (query.page - 1) * query.per_page]
        rows = [public(r) for r in db.query(f"SELECT {COLUMNS} FROM complainant WHERE id IN ({page_sql}) ORDER BY id DESC", page_args)]
    if query.q:
        _audit_number_search(db, where, args, query.q, Caller(viewer, actor, now))
    return rows, total


def next_cursor(rows, query):
    """The cursor of the page after ``rows`` (None when this page was not full,
    or for an overdue list, which pages by offset in its own order)."""
    return rows[-1]["id"] if len(rows) == query.per_page and _order(query) == "id DESC" else None


def scoped_row(db, complainant_id, viewer):
    rows = list(db.query(f"SELECT {COLUMNS} FROM complainant WHERE id = ?", [complainant_id]))
    if not rows or not in_scope(viewer, rows[0]["province_code"], rows[0]["branch_code"]):
        raise NotFound(_("No complainant %(id)s.", id=complainant_id))
    return dict(rows[0])


def get_complainant(db, complainant_id, viewer):
    """One complainant, or NotFound if it does not exist or is outside the viewer's scope."""
    return public(scoped_row(db, complainant_id, viewer))


def reveal(db, complainant_id, caller):
    """The unmasked phone and ID number; each reveal is logged (PIPL Art. 51)."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        row = scoped_row(db, complainant_id, viewer)
        audit.record(db, actor, "complainant", complainant_id, "reveal", at=now)
    return {"phone": row["phone"], "id_number": row["id_number"]}


def update_complainant(db, complainant_id, data, caller, outbox=None, *, settings):
    """Change the fields sent in a schemas.ComplainantUpdate, under the status rules.

    A new severity or a corrected time of receipt (crisis lead only) needs a
    reason, kept in the audit entry; the complaint's due times follow them.
    """
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    changes = data.model_dump(exclude_unset=True)
    expected_version = changes.pop("version", None)
    reason = changes.pop("reason", None)
    with write(db):
        before = scoped_row(db, complainant_id, viewer)
        if expected_version is not None and expected_version != before["version"]:
            raise Conflict(
                _(
                    "Someone changed this complainant since you opened it (version %(theirs)s, yours %(yours)s). Reload and try again.",
                    theirs=before["version"],
                    yours=expected_version,
                )
            )
        if "status" in changes or "escalation_channel" in changes:
            new_status = changes.get("status", before["status"])
            channel = changes.get("escalation_channel", before["escalation_channel"] if new_status == "escalated" else None)
            try:
                check_transition(before["status"], new_status, channel)
            except TransitionRefused as exc:
                raise Invalid(str(exc), details=[{"field": "status", "message": str(exc)}]) from None
            if new_status == "settled" and before["status"] != "settled":
                message = _("A complainant becomes settled when their settlement record is finalised (crisis lead or legal), not by a status change.")
                raise Invalid(message, details=[{"field": "status", "message": message}])
            if (
                before["status"] == "accepted"
                and new_status != "accepted"
                and db.execute("SELECT count(*) FROM settlement WHERE complainant_id = ? AND status = 'accepted'", [complainant_id]).fetchone()[0]
            ):
                message = _("This complainant's acceptance is recorded in a settlement: the crisis lead or legal withdraws it there first.")
                raise Invalid(message, details=[{"field": "status", "message": message}])
            changes["status"] = new_status
            changes["escalation_channel"] = channel if new_status == "escalated" else None
        for field in MONEY_FIELDS:
            if field in changes:
                changes[field + "_fen"] = money.parse(changes.pop(field), field)
        if "flags" in changes:
            changes["flags"] = json.dumps(changes["flags"])
        if "id_number" in changes and changes["id_number"]:
            changes["id_number"] = changes["id_number"].upper()
        if "phone" in changes or "id_number" in changes:  # the hashes matching and search read follow the numbers
            from . import identity

            key = _matching_key(settings)
            if "phone" in changes:
                changes["phone_hash"] = identity.phone_hash(key, changes["phone"])
            if "id_number" in changes:
                changes["id_hash"] = identity.id_hash(key, changes["id_number"])
        for field in ("next_contact_due_at",):
            if field in changes:
                changes[field] = to_iso(changes[field])
        if changes.get("severity") == before["severity"]:
            changes.pop("severity")
        if "received_at" in changes and to_iso(changes["received_at"]) == before["received_at"]:
            changes.pop("received_at")
        if "severity" in changes or "received_at" in changes:
            changes.update(_clock_changes(before, changes, reason, viewer, now, settings))
        merged = {**before, **changes}
        references = ("province_code", "city_code", "branch_code", "group_id", "handler_id")
        problems = []
        if any(k in changes for k in references):  # unchanged references were checked when they were set
            problems = References(db, before["incident_id"]).problems({k: merged[k] for k in references}, viewer, "")
        if problems:
            raise Invalid(_("Nothing was changed: %(n)s problem(s) found.", n=len(problems)), details=problems)
        apply_change(db, before, changes, actor, now, outbox, reason=reason)
    return get_complainant(db, complainant_id, viewer)


def _clock_changes(before, changes, reason, viewer, now, settings):
    """The due times a new severity or a corrected receipt moves, after checking both may change."""
    problems = []
    if not reason:
        problems.append({"field": "reason", "message": _("is required when the severity or the time of receipt changes")})
    received = before["received_at"]
    if "received_at" in changes:
        if viewer.role != "lead":
            problems.append({"field": "received_at", "message": _("only the crisis lead may correct the time of receipt")})
        problems += check_received_at(changes["received_at"], now, settings)
        if before["first_contact_at"] and changes["received_at"] > from_iso(before["first_contact_at"]):
            problems.append({"field": "received_at", "message": _("is after the first contact with this complainant")})
        received = to_iso(changes.pop("received_at"))
    if problems:
        raise Invalid(_("Nothing was changed: %(n)s problem(s) found.", n=len(problems)), details=problems)
    severity = changes.get("severity", before["severity"])
    out = {"received_at": received, **deadlines.severity_dues(severity, from_iso(received), settings)}
    if received != before["received_at"]:
        out["decision_due_at"] = to_iso(_decision_due_at_level(from_iso(received), before["extension_level"], settings))
    return out


def _decision_due_at_level(received, level, settings):
    due = decision_due(received, settings)
    for step in range(1, level + 1):
        due = deadlines.extended_due(step, received, due, settings)
    return due


def record_supervisor_told(db, ids, actor, now, alert_id=None):
    """The supervisor was told of these severe complaints (seed 004): their
    supervisor clock stops. Call inside the writer's transaction."""
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    db.execute(f"UPDATE complainant SET supervisor_told_at = ? WHERE supervisor_told_at IS NULL AND id IN ({marks})", [to_iso(now), *ids])
    after = {"ids": list(ids), "count": len(ids)}
    if alert_id is not None:
        after["alert_id"] = alert_id
    audit.record(db, actor, "complainant", ids[0], "supervisor_told", after=after, at=now)


def apply_change(db, before, changes, actor, now, outbox=None, reason=None, action="update"):
    """Write the fields of ``changes`` that differ from ``before`` (a stored row),
    with a new version, an audit entry and the boards told. Checks are the
    caller's; call inside its transaction. Returns the fields written."""
    old, new = audit.changed(before, changes)
    if not new:
        return new
    new["updated_at"] = to_iso(now)
    new["version"] = before["version"] + 1
    # plain SQL: sqlite-utils' update() reads the table's columns twice per call (0.35 ms)
    db.execute(f"UPDATE complainant SET {', '.join(f'{k} = ?' for k in new)} WHERE id = ?", [*new.values(), before["id"]])
    audit.record(db, actor, "complainant", before["id"], action, before=old, after={**new, "reason": reason} if reason else new, at=now)
    if outbox is not None:
        record_change(outbox, before, {**before, **new}, "complainant_updated", now)
    return new


KEY_FIELDS = ("group_id", "province_code", "branch_code", "status")


def record_change(outbox, before, after, name, now):
    """Tell the boards how a complainant's change moves the counts."""
    counts = []
    if any(before[k] != after[k] for k in KEY_FIELDS):
        counts = [
            count_delta(*(before[k] for k in KEY_FIELDS), -1),
            count_delta(*(after[k] for k in KEY_FIELDS), 1),
        ]
    outbox.record(
        after["incident_id"],
        name,
        now,
        counts=counts,
        person=after,
        places={(before["province_code"], before["branch_code"]), (after["province_code"], after["branch_code"])},
    )


def extend_deadline(db, complainant_id, data, caller, settings, outbox=None):
    """Extend the decision deadline (Art. 18): level 1 to 30 days from receipt,
    level 2 a further 30 days with a senior approval; the complainant is told."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        before = scoped_row(db, complainant_id, viewer)
        if data.level != before["extension_level"] + 1:
            raise Invalid(
                _(
                    "The next extension for this complainant is level %(next)s, not %(asked)s.",
                    next=before["extension_level"] + 1,
                    asked=data.level,
                )
                if before["extension_level"] < 2
                else _("The decision deadline has already been extended twice, the most Art. 18 allows.")
            )
        due = deadlines.extended_due(data.level, from_iso(before["received_at"]), before["decision_due_at"], settings)
        from .complaints import earliest_reply_due

        reply_due = earliest_reply_due(db, complainant_id)
        if reply_due is not None and reply_due < to_iso(due):
            due = from_iso(reply_due)  # a transfer's reply deadline still governs: an extension cannot pass it
        db["deadline_extension"].insert(
            {
                "complainant_id": complainant_id,
                "level": data.level,
                "reason": data.reason,
                "approved_by": data.approved_by,
                "complainant_notified_at": to_iso(data.complainant_notified_at),
                "new_due_at": to_iso(due),
                "created_by": actor.user_id,
                "created_at": to_iso(now),
            }
        )
        apply_change(
            db,
            before,
            {"decision_due_at": to_iso(due), "extension_level": data.level},
            actor,
            now,
            outbox,
            action="extend_deadline",
            reason=_("Extension %(level)s approved by %(by)s: %(reason)s", level=data.level, by=data.approved_by, reason=data.reason),
        )
    return get_complainant(db, complainant_id, viewer)


def extensions(db, complainant_id):
    return [dict(r) for r in db.query("SELECT * FROM deadline_extension WHERE complainant_id = ? ORDER BY level", [complainant_id])]
