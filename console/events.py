"""Live events: which exist, which rooms they go to, and the outbox that
records them in the same transaction as the change they report.

Rooms (one stream each, with its own gap-free sequence number):
- ``incident:<id>:team``              crisis lead, crisis team, legal
- ``incident:<id>:exec``              executives: aggregates only, never a person
- ``incident:<id>:province:<code>``   branch contacts scoped to a province
- ``incident:<id>:branch:<code>``     branch contacts scoped to one branch

A writer passes an ``Outbox`` into the domain function; the function calls
``outbox.record(...)`` inside its transaction, which writes one ``live_event``
row per room. After the commit, ``console.live.publish(outbox)`` emits them.
A crash between commit and emit loses no change: the next event's sequence
number shows the gap and the client fetches a fresh snapshot.
"""

import json

from . import masking
from .clock import to_iso

# name -> what it means (server -> client, past tense)
EVENTS = {
    "complainants_added": "Complainants were added (form, API, CSV import, intake).",
    "complainant_updated": "A complainant changed: status, group, region, or other fields.",
    "contact_logged": "A contact with a complainant was logged.",
    "incident_updated": "The incident's title, severity or status changed.",
    "group_updated": "A complainant group was added or changed.",
    "update_posted": "A branch posted its hourly update (people on site, mood, banners, media, police, outlet closed).",
    "alert_raised": "A monitor or rule raised an alert: surge, silent branch, overdue timer, group visit, crowd.",
    "task_updated": "Playbook tasks were made, changed or completed.",
    "rollup_updated": "A daily roll-up was drafted or issued.",
    "settlement_updated": "A complainant accepted a settlement, or withdrew an acceptance: the group and early-acceptance tier it counts in, never an amount.",
    "request_handled": "The crisis team marked a branch's request (the needs of an hourly update) handled.",
    "referral_updated": "Something was sent to an outside party (regulator, consumer association, media, police), or they acknowledged it.",
}

# Sent by console.live_queue to one process's own clients (no room, no seq):
# the message queue between server processes dropped out, or came back.
QUEUE_EVENTS = {
    "live_queue_lost": "This server lost the message queue (Redis): changes made through other servers, or this one, may not arrive; the board may be behind.",
    "live_queue_restored": "The message queue is back: join the incident again for a fresh snapshot.",
}

# Fields of a complainant that full (non-executive) payloads carry.
PERSON_FIELDS = ("id", "name", "status", "escalation_channel", "province_code", "branch_code", "group_id")


def team_room(incident_id):
    return f"incident:{incident_id}:team"


def exec_room(incident_id):
    return f"incident:{incident_id}:exec"


def province_room(incident_id, code):
    return f"incident:{incident_id}:province:{code}"


def branch_room(incident_id, code):
    return f"incident:{incident_id}:branch:{code}"


# Rooms every board of a role joins, whatever incident it shows: alerts about
# incidents nobody is watching yet (a surge just opened one) arrive here.
TEAM_ALERTS = "console:team"
EXEC_ALERTS = "console:exec"


def alert_rooms_for(viewer):
    if viewer.role in ("lead", "team"):
        return [TEAM_ALERTS]
    if viewer.role == "executive":
        return [EXEC_ALERTS]
    return []


def room_for(incident_id, viewer):
    """The one room a viewer's board follows for an incident."""
    if viewer.role == "executive":
        return exec_room(incident_id)
    if viewer.scope_kind == "province":
        return province_room(incident_id, viewer.scope_code)
    if viewer.scope_kind == "branch":
        return branch_room(incident_id, viewer.scope_code)
    return team_room(incident_id)


def _in_room_scope(kind, code, province_code, branch_code):
    if kind == "province":
        return province_code == code
    if kind == "branch":
        return branch_code == code
    return True


def count_delta(group_id, province_code, branch_code, status, delta):
    """One change to the group x province x status counts."""
    return {"group_id": group_id, "province_code": province_code, "branch_code": branch_code, "status": status, "delta": delta}


def merge_deltas(deltas):
    """Add up deltas with the same key and drop the ones that cancel out."""
    totals = {}
    for d in deltas:
        key = (d["group_id"], d["province_code"], d["branch_code"], d["status"])
        totals[key] = totals.get(key, 0) + d["delta"]
    return [count_delta(*key, delta) for key, delta in totals.items() if delta]


class Outbox:
    """Collects a transaction's events; see the module docstring."""

    def __init__(self, db):
        self.db = db
        self.pending = []  # (room, name, payload) written and not yet emitted

    def _next_seq(self, room):
        return self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM live_event WHERE room = ?", [room]).fetchone()[0]

    def _write(self, incident_id, room, name, at, payload):
        # free text (update notes, task notes) as this room may read it: personal numbers masked
        payload = masking.event_for_room(payload, masking.room_kind(room))
        seq = self._next_seq(room)
        payload = {"name": name, "incident_id": incident_id, "room": room, "seq": seq, "at": to_iso(at), **payload}
        self.db.execute(
            "INSERT INTO live_event (incident_id, room, seq, name, at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, room, seq, name, to_iso(at), json.dumps(payload, ensure_ascii=False, default=str)],
        )
        self.pending.append((room, name, payload))

    def record(self, incident_id, name, at, *, counts=(), person=None, places=(), data=None):
        """Record one event for every room it concerns. Call inside the writer's transaction.

        ``counts``: count deltas (see ``count_delta``). ``person``: the
        complainant as it is now (only full rooms in its scope get it).
        ``places``: (province, branch) pairs the change touched; the rooms of
        these places get the event too. ``data``: extra fields with no
        personal data, for every room.
        """
        if name not in EVENTS:
            raise KeyError(f"undeclared live event {name!r}: add it to console.events.EVENTS")
        counts = merge_deltas(counts)
        data = data or {}
        targets = [(team_room(incident_id), "all", None), (exec_room(incident_id), "exec", None)]
        seen = set()
        for province_code, branch_code in places:
            if province_code and ("province", province_code) not in seen:
                seen.add(("province", province_code))
                targets.append((province_room(incident_id, province_code), "province", province_code))
            if branch_code and ("branch", branch_code) not in seen:
                seen.add(("branch", branch_code))
                targets.append((branch_room(incident_id, branch_code), "branch", branch_code))
        for room, kind, code in targets:
            room_counts = [
                {k: v for k, v in c.items() if k != "branch_code"} for c in counts if _in_room_scope(kind, code, c["province_code"], c["branch_code"])
            ]
            payload = {"counts": room_counts, **data}
            if kind == "exec":
                # where it happened, without who: the wall board's feed says "Hebei: contacted"
                payload["province_codes"] = sorted({p for p, _b in places if p})
            if kind != "exec" and person is not None and _in_room_scope(kind, code, person["province_code"], person["branch_code"]):
                payload["complainant"] = {f: person.get(f) for f in PERSON_FIELDS}
            elif kind in ("province", "branch") and not room_counts:
                continue  # nothing of this room's scope changed
            self._write(incident_id, room, name, at, payload)

    def record_everywhere(self, incident_id, name, at, data):
        """An event with no personal data that every room of the incident gets (incident or group changes)."""
        if name not in EVENTS:
            raise KeyError(f"undeclared live event {name!r}: add it to console.events.EVENTS")
        rooms = {team_room(incident_id), exec_room(incident_id)}
        for r in self.db.query("SELECT DISTINCT province_code, branch_code FROM complainant WHERE incident_id = ?", [incident_id]):
            rooms.add(province_room(incident_id, r["province_code"]))
            if r["branch_code"]:
                rooms.add(branch_room(incident_id, r["branch_code"]))
        # rooms that had events before, even if their complainants have since moved away
        rooms.update(r["room"] for r in self.db.query("SELECT DISTINCT room FROM live_event WHERE incident_id = ?", [incident_id]))
        for room in sorted(rooms):
            self._write(incident_id, room, name, at, {"counts": [], **data})

    def record_to(self, incident_id, name, at, rooms, data):
        """An event with no personal data, to the rooms given."""
        if name not in EVENTS:
            raise KeyError(f"undeclared live event {name!r}: add it to console.events.EVENTS")
        for room in rooms:
            self._write(incident_id, room, name, at, {"counts": [], **data})


def room_seq(db, room):
    """The last sequence number of a room (0 if none yet)."""
    return db.execute("SELECT coalesce(max(seq), 0) FROM live_event WHERE room = ?", [room]).fetchone()[0]


def events_since(db, room, since, limit=500):
    """Payloads of a room after ``since``, oldest first, for catching up."""
    return [json.loads(r["payload"]) for r in db.query("SELECT payload FROM live_event WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?", [room, since, limit])]
