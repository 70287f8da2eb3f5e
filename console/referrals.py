"""What was sent to outside parties (regulator, consumer association, media,
police), and their acknowledgement; the media's one agreed line."""

from datetime import timedelta

from flask_babel import gettext as _

from . import audit, vocabulary
from .clock import to_iso
from .db import write
from .errors import Invalid, NotFound
from .incidents import get_incident

PARTIES = tuple(vocabulary.PARTIES)


def _public(row):
    return dict(row)


def record_referral(db, incident_id, data, actor, now, settings, outbox=None, document_id=None, task_id=None):
    """Record something sent (schemas.ReferralIn); an acknowledgement is due after REFERRAL_ACK_HOURS."""
    with write(db):
        get_incident(db, incident_id)
        if task_id is not None and not db["task"].count_where("id = ? AND incident_id = ?", [task_id, incident_id]):
            raise Invalid(_("That task is not in this incident."), details=[{"field": "task_id", "message": "not in this incident"}])
        row = {
            "incident_id": incident_id,
            "task_id": task_id,
            "party": data.party,
            "recipient": data.recipient,
            "what_sent": data.what_sent,
            "document_id": document_id,
            "sent_at": to_iso(now),
            "sent_by": actor.user_id,
            "ack_due_at": to_iso(now + timedelta(hours=settings["REFERRAL_ACK_HOURS"])),
        }
        referral_id = db["referral"].insert(row).last_pk
        audit.record(db, actor, "referral", referral_id, "create", after=row, at=now)
        if outbox is not None:
            outbox.record_everywhere(incident_id, "referral_updated", now, {"referral": {**row, "id": referral_id}})
    return referral_id


def acknowledge(db, referral_id, acknowledged_by_name, actor, now, outbox=None):
    """Who at the other side confirmed receipt, and when (now)."""
    if not acknowledged_by_name or not acknowledged_by_name.strip():
        raise Invalid(_("Say who at the other side confirmed."), details=[{"field": "acknowledged_by_name", "message": "is required"}])
    with write(db):
        rows = list(db.query("SELECT * FROM referral WHERE id = ?", [referral_id]))
        if not rows:
            raise NotFound(_("No referral %(id)s.", id=referral_id))
        if rows[0]["acknowledged_at"]:
            raise Invalid(_("This was already acknowledged."))
        changes = {"acknowledged_by_name": acknowledged_by_name.strip(), "acknowledged_at": to_iso(now), "recorded_by": actor.user_id}
        db["referral"].update(referral_id, changes)
        audit.record(db, actor, "referral", referral_id, "acknowledge", after=changes, at=now)
        row = dict(db["referral"].get(referral_id))
        if outbox is not None:
            outbox.record_everywhere(row["incident_id"], "referral_updated", now, {"referral": row})
    return row


def list_referrals(db, incident_id):
    return [dict(r) for r in db.query("SELECT * FROM referral WHERE incident_id = ? ORDER BY sent_at DESC, id DESC", [incident_id])]


def overdue(db, incident_id, now):
    """Referrals not acknowledged by their due time: overdue like a task."""
    return [
        dict(r)
        for r in db.query(
            "SELECT * FROM referral WHERE incident_id = ? AND acknowledged_at IS NULL AND ack_due_at <= ? ORDER BY ack_due_at", [incident_id, to_iso(now)]
        )
    ]


def draft_line(db, incident_id, text, actor, now):
    """A new draft of the one agreed line; it is used only after legal approves it."""
    if not text or not text.strip():
        raise Invalid(_("The agreed line is empty."), details=[{"field": "text", "message": "must not be blank"}])
    with write(db):
        get_incident(db, incident_id)
        row = {"incident_id": incident_id, "text": text.strip(), "drafted_by": actor.user_id, "drafted_at": to_iso(now)}
        line_id = db["agreed_line"].insert(row).last_pk
        audit.record(db, actor, "agreed_line", line_id, "create", after=row, at=now)
    return line_id


def approve_line(db, line_id, actor, now):
    with write(db):
        rows = list(db.query("SELECT * FROM agreed_line WHERE id = ?", [line_id]))
        if not rows:
            raise NotFound(_("No agreed line %(id)s.", id=line_id))
        if rows[0]["approved_at"]:
            raise Invalid(_("This line is already approved."))
        db["agreed_line"].update(line_id, {"approved_by": actor.user_id, "approved_at": to_iso(now)})
        audit.record(db, actor, "agreed_line", line_id, "approve", after={"approved_at": to_iso(now)}, at=now)
    return dict(db["agreed_line"].get(line_id))


def lines(db, incident_id):
    return [dict(r) for r in db.query("SELECT * FROM agreed_line WHERE incident_id = ? ORDER BY id DESC", [incident_id])]
