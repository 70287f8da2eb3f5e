"""The contact log: every conversation with a complainant, what was promised,
when the next contact is due, and the proof of notice (Art. 21)."""

from datetime import timedelta

from flask_babel import gettext as _

from . import audit
from .clock import from_iso, to_iso
from .complainants import record_change, scoped_row
from .db import write
from .errors import Invalid


def list_contacts(db, complainant_id, viewer):
    scoped_row(db, complainant_id, viewer)  # NotFound outside the viewer's scope
    return [dict(r) for r in db.query("SELECT * FROM contact WHERE complainant_id = ? ORDER BY contacted_at DESC, id DESC", [complainant_id])]


def add_contact(db, complainant_id, data, caller, outbox=None, *, settings):
    """Log a contact from a validated schemas.ContactIn.

    The complainant's next promised contact becomes the one given here (or
    none); the first contact is remembered; a 'new' complainant becomes
    'contacted'. A contact before the complaint was received, or in the
    future, is refused: it would stop the first-response clock falsely.
    """
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    skew = timedelta(minutes=settings["RECEIPT_SKEW_MINUTES"])
    with write(db):
        before = scoped_row(db, complainant_id, viewer)
        contacted_at = data.contacted_at or now
        if contacted_at < from_iso(before["received_at"]):
            message = _("is before the complaint was received (%(at)s): a contact cannot come before the complaint", at=before["received_at"])
            raise Invalid(
                _("Nothing was logged: %(field)s %(problem)s.", field="contacted_at", problem=message), details=[{"field": "contacted_at", "message": message}]
            )
        if contacted_at > now + skew:
            message = _("is in the future")
            raise Invalid(
                _("Nothing was logged: %(field)s %(problem)s.", field="contacted_at", problem=message), details=[{"field": "contacted_at", "message": message}]
            )
        row = {
            "complainant_id": complainant_id,
            "contacted_at": to_iso(contacted_at),
            "user_id": actor.user_id,
            "channel": data.channel,
            "said": data.said,
            "promised": data.promised,
            "next_contact_due_at": to_iso(data.next_contact_due_at),
            "notice_proof": data.notice_proof,
            "proof_reference": data.proof_reference,
            "created_at": to_iso(now),
        }
        latest = db.execute("SELECT max(contacted_at) FROM contact WHERE complainant_id = ?", [complainant_id]).fetchone()[0]
        contact_id = db["contact"].insert(row).last_pk
        audit.record(db, actor, "contact", contact_id, "create", after=row, at=now)
        changes = {}
        if latest is None or row["contacted_at"] >= latest:
            # a contact logged after the fact does not replace a later promise
            changes["next_contact_due_at"] = row["next_contact_due_at"]
        if before["first_contact_at"] is None or row["contacted_at"] < before["first_contact_at"]:
            changes["first_contact_at"] = row["contacted_at"]
        if before["status"] == "new":
            changes["status"] = "contacted"
        old, new = audit.changed(before, changes)
        if new:
            new.update(updated_at=to_iso(now), version=before["version"] + 1)
            db["complainant"].update(complainant_id, new)
            audit.record(db, actor, "complainant", complainant_id, "update", before=old, after=new, at=now)
        if outbox is not None:
            record_change(outbox, before, {**before, **changes}, "contact_logged", now)
    return contact_id
