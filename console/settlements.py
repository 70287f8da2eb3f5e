"""Settlements: a group's standard terms and early-acceptance tiers, offers to
complainants, the accepted settlement, confidentiality agreements and breaches.

The rules (shared DOMAIN.md, "Money" and "Tactics"):
- Compensation is capped by the direct loss: principal plus interest, plus
  expenses only with evidence. Above that cap, or any lawyer's fees or
  indirect loss, needs the crisis lead's override with a written reason.
- One line per group: the group's standard terms are the default offer. A
  settlement that differs from them cannot be finalised without a
  confidentiality agreement (with liquidated damages; a warning when they
  exceed the estimated loss by more than LIQUIDATED_DAMAGES_WARN_PCT, the
  usual test for a court reducing them).
- Early acceptors are rewarded in tiers: the award of the window that holds
  the acceptance date (in the console's zone), none after the last.
- A complainant reaches ``settled`` only by finalising a settlement record;
  finalising schedules the follow-up call (SETTLEMENT_FOLLOWUP_DAYS).

Amounts, terms and agreements are for the crisis lead and legal only (the
``settlement.*`` permissions); every read of a settlement record is written
to the audit log. Live events about settlements carry no amount.
"""

import base64
import binascii
import hashlib
import os
import sqlite3
from datetime import date, timedelta

from flask_babel import gettext as _

from . import audit, money, uploads
from .access import in_scope
from .clock import local, to_iso
from .complainants import apply_change, scoped_row
from .db import write
from .errors import Conflict, Invalid, NotFound
from .groups import get_group
from .status import TransitionRefused, check_transition

AGREEMENT_KINDS = ("pdf", "png", "jpeg")  # a signed paper agreement, scanned or photographed


def local_date(now, settings):
    return local(now, settings["TIMEZONE"]).date()


# --- group terms and tiers ---------------------------------------------------


def get_terms(db, group_id):
    """The group's standard terms (None when not set yet) and its tiers."""
    get_group(db, group_id)
    terms = db["group_terms"].get(group_id) if db["group_terms"].count_where("group_id = ?", [group_id]) else None
    return {"group_id": group_id, "terms": public_terms(terms), "tiers": tiers(db, group_id)}


def read_terms(db, group_id, actor, now):
    """``get_terms`` for a person reading them: the read is logged, like every
    other read of settlement terms and amounts."""
    record = get_terms(db, group_id)
    with write(db):
        audit.record(db, actor, "complainant_group", group_id, "view_terms", at=now)
    return record


def public_terms(row):
    """Terms as the API shows them (None when not set)."""
    return {**dict(row), "pays_expenses": bool(row["pays_expenses"])} if row else None


def tiers(db, group_id):
    return [
        {**dict(r), "award": money.to_yuan(r["award_fen"])} for r in db.query("SELECT * FROM settlement_tier WHERE group_id = ? ORDER BY starts_on", [group_id])
    ]


def set_terms(db, group_id, data, actor, now):
    """Set or change a group's standard terms (each change is a new version)."""
    with write(db):
        get_group(db, group_id)
        before = db["group_terms"].get(group_id) if db["group_terms"].count_where("group_id = ?", [group_id]) else None
        row = {
            "group_id": group_id,
            "principal_pct": data.principal_pct,
            "interest_pct": data.interest_pct,
            "pays_expenses": int(data.pays_expenses),
            "text": data.text.strip(),
            "version": (before["version"] + 1) if before else 1,
            "set_by": actor.user_id,
            "set_at": to_iso(now),
        }
        db["group_terms"].upsert(row, pk="group_id")
        audit.record(db, actor, "group_terms", group_id, "update" if before else "create", before=dict(before) if before else None, after=row, at=now)
    return get_terms(db, group_id)


def set_tiers(db, group_id, data, actor, now):
    """Replace a group's early-acceptance tiers. Windows may not overlap; once
    an acceptance has used a tier of the group, the tiers are fixed."""
    windows = sorted(data.tiers, key=lambda t: t.starts_on)
    problems = []
    for index, tier in enumerate(windows):
        if tier.ends_on < tier.starts_on:
            problems.append({"field": f"tiers.{index}.ends_on", "message": _("ends before it starts")})
        if index and tier.starts_on <= windows[index - 1].ends_on:
            problems.append({"field": f"tiers.{index}.starts_on", "message": _("overlaps the window '%(name)s'", name=windows[index - 1].name)})
        money.parse(tier.award, f"tiers.{index}.award")
    if problems:
        raise Invalid(_("Nothing was changed: %(n)s problem(s) found.", n=len(problems)), details=problems)
    with write(db):
        get_group(db, group_id)
        used = db.execute("SELECT count(*) FROM settlement s JOIN settlement_tier t ON t.id = s.tier_id WHERE t.group_id = ?", [group_id]).fetchone()[0]
        if used:
            raise Conflict(_("Acceptances have already been rewarded under this group's tiers, so the tiers can no longer change."))
        before = [dict(t) for t in db.query("SELECT name, starts_on, ends_on, award_fen FROM settlement_tier WHERE group_id = ?", [group_id])]
        db.execute("DELETE FROM settlement_tier WHERE group_id = ?", [group_id])
        rows = [
            {
                "group_id": group_id,
                "name": t.name.strip(),
                "starts_on": t.starts_on.isoformat(),
                "ends_on": t.ends_on.isoformat(),
                "award_fen": money.parse(t.award, "award"),
            }
            for t in windows
        ]
        if rows:
            db["settlement_tier"].insert_all(rows)
        audit.record(db, actor, "settlement_tier", group_id, "replace", before={"tiers": before}, after={"tiers": rows}, at=now)
    return get_terms(db, group_id)


def tier_for(db, group_id, day):
    """The tier whose window holds ``day`` (a date), or None: the last get none."""
    if group_id is None:
        return None
    rows = list(db.query("SELECT * FROM settlement_tier WHERE group_id = ? AND starts_on <= ? AND ends_on >= ?", [group_id, day.isoformat(), day.isoformat()]))
    return dict(rows[0]) if rows else None


# --- offers ------------------------------------------------------------------


def standard_offer(terms, person):
    """What the group's terms give this complainant, in fen (expenses come with evidence)."""
    return {
        "principal_fen": person["principal_fen"] * terms["principal_pct"] // 100,
        "interest_fen": person["interest_claimed_fen"] * terms["interest_pct"] // 100,
    }


def differs_from_terms(terms, person, offer):
    """Whether an offer departs from its group's standard terms (no terms: no group line to keep)."""
    if terms is None:
        return False
    standard = standard_offer(terms, person)
    return (
        offer["principal_fen"] != standard["principal_fen"]
        or offer["interest_fen"] != standard["interest_fen"]
        or (offer["expenses_fen"] > 0 and not terms["pays_expenses"])
        or offer["lawyer_fees_fen"] > 0
        or offer["indirect_loss_fen"] > 0
    )


def _terms_of(db, group_id):
    if group_id is None:
        return None
    rows = list(db.query("SELECT * FROM group_terms WHERE group_id = ?", [group_id]))
    return dict(rows[0]) if rows else None


def make_offer(db, complainant_id, data, caller, outbox=None):
    """Record an offer; components left out come from the group's standard terms.

    Refused: expenses without evidence; above the cap (principal + interest +
    evidenced expenses) or with lawyer's fees or indirect loss unless the
    crisis lead overrides with a reason; a complainant in a group whose terms
    are not set yet. The complainant moves to ``offer_made``; an earlier open
    offer is superseded.
    """
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        person = scoped_row(db, complainant_id, viewer)
        terms = _terms_of(db, person["group_id"])
        if person["group_id"] is not None and terms is None:
            raise Conflict(_("Set the standard terms of this complainant's group first: one line per group."))
        standard = standard_offer(terms, person) if terms else {"principal_fen": person["principal_fen"], "interest_fen": person["interest_claimed_fen"]}
        offer = {
            "principal_fen": money.parse(data.principal, "principal") if data.principal is not None else standard["principal_fen"],
            "interest_fen": money.parse(data.interest, "interest") if data.interest is not None else standard["interest_fen"],
            "expenses_fen": money.parse(data.expenses, "expenses"),
            "lawyer_fees_fen": money.parse(data.lawyer_fees, "lawyer_fees"),
            "indirect_loss_fen": money.parse(data.indirect_loss, "indirect_loss"),
        }
        evidence = data.expenses_evidence.strip()
        if offer["expenses_fen"] and not evidence:
            raise Invalid(
                _("Expenses are paid only with evidence: say what evidences them (tickets, receipts)."),
                details=[{"field": "expenses_evidence", "message": _("is required when expenses are paid")}],
            )
        total = sum(offer.values())
        cap = person["principal_fen"] + person["interest_claimed_fen"] + offer["expenses_fen"]
        beyond = []
        if total > cap:
            beyond.append(
                _("the total %(total)s is above principal + interest + evidenced expenses (%(cap)s)", total=money.to_yuan(total), cap=money.to_yuan(cap))
            )
        if offer["lawyer_fees_fen"]:
            beyond.append(_("lawyer's fees are the customer's own"))
        if offer["indirect_loss_fen"]:
            beyond.append(_("indirect loss is not paid as a rule"))
        reason = (data.override_reason or "").strip() or None
        if beyond and not reason:
            raise Invalid(
                _("This offer needs the crisis lead's override with a written reason: %(why)s.", why="; ".join(beyond)),
                details=[{"field": "override_reason", "message": "; ".join(beyond)}],
            )
        if beyond and viewer.role != "lead":
            raise Invalid(
                _("Only the crisis lead may override the cap: %(why)s.", why="; ".join(beyond)),
                details=[{"field": "override_reason", "message": _("only the crisis lead may override")}],
            )
        if not beyond:
            reason = None
        if person["status"] != "offer_made":
            try:
                check_transition(person["status"], "offer_made")
            except TransitionRefused as exc:
                raise Invalid(str(exc), details=[{"field": "status", "message": str(exc)}]) from None
        db.execute("UPDATE settlement_offer SET status = 'superseded' WHERE complainant_id = ? AND status = 'open'", [complainant_id])
        row = {
            "complainant_id": complainant_id,
            "incident_id": person["incident_id"],
            "group_id": person["group_id"],
            **offer,
            "expenses_evidence": evidence,
            "total_fen": total,
            "cap_fen": cap,
            "differs_from_terms": int(differs_from_terms(terms, person, offer)),
            "override_reason": reason,
            "override_by": actor.user_id if reason else None,
            "note": data.note.strip(),
            "status": "open",
            "made_by": actor.user_id,
            "made_at": to_iso(now),
        }
        offer_id = db["settlement_offer"].insert(row).last_pk
        audit.record(db, actor, "settlement_offer", offer_id, "create", after=row, at=now)
        _move(db, person, "offer_made", actor, now, outbox)
    return get_offer(db, offer_id)


def get_offer(db, offer_id):
    rows = list(db.query("SELECT * FROM settlement_offer WHERE id = ?", [offer_id]))
    if not rows:
        raise NotFound(_("No offer %(id)s.", id=offer_id))
    return public_offer(rows[0])


def public_offer(row):
    out = dict(row)
    for field in ("principal", "interest", "expenses", "lawyer_fees", "indirect_loss", "total", "cap"):
        out[field] = money.to_yuan(out.pop(field + "_fen"))
    out["differs_from_terms"] = bool(out["differs_from_terms"])
    return out


def _move(db, person, status, actor, now, outbox, **extra):
    """Move the complainant as a settlement step does (the step checked the status rules)."""
    apply_change(db, person, {"status": status, "escalation_channel": None, **extra}, actor, now, outbox)


def decline_offer(db, offer_id, caller, outbox=None):
    """The complainant turned the offer down: back to negotiating."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        offer = _open_offer(db, offer_id, viewer)
        person = scoped_row(db, offer["complainant_id"], viewer)
        db["settlement_offer"].update(offer_id, {"status": "declined"})
        audit.record(db, actor, "settlement_offer", offer_id, "decline", before={"status": "open"}, after={"status": "declined"}, at=now)
        if person["status"] == "offer_made":
            _move(db, person, "negotiating", actor, now, outbox)
    return get_offer(db, offer_id)


def _open_offer(db, offer_id, viewer):
    rows = list(db.query("SELECT * FROM settlement_offer WHERE id = ?", [offer_id]))
    if not rows:
        raise NotFound(_("No offer %(id)s.", id=offer_id))
    offer = dict(rows[0])
    scoped_row(db, offer["complainant_id"], viewer)
    if offer["status"] != "open":
        raise Conflict(_("This offer is %(status)s, not open: only an open offer can be accepted or declined.", status=offer["status"]))
    return offer


# --- acceptance, finalising, withdrawal --------------------------------------


def accept_offer(db, offer_id, caller, settings, outbox=None):
    """Record that the complainant accepted: the settlement, with the tier
    award of today's window (read inside the transaction, so the date, the
    tier and the order of commits agree). A second acceptance for the same
    complainant, however close, is refused."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    try:
        with write(db):
            offer = _open_offer(db, offer_id, viewer)
            person = scoped_row(db, offer["complainant_id"], viewer)
            live = list(db.query("SELECT id, accepted_on FROM settlement WHERE complainant_id = ? AND status != 'withdrawn'", [person["id"]]))
            if live:
                raise Conflict(
                    _("This complainant already accepted a settlement on %(day)s (settlement %(id)s).", day=live[0]["accepted_on"], id=live[0]["id"])
                )
            if person["status"] != "offer_made":
                raise Invalid(_("The complainant is '%(status)s'; an offer is accepted from 'offer_made'.", status=person["status"]))
            day = local_date(now, settings)
            tier = tier_for(db, offer["group_id"], day)
            award = tier["award_fen"] if tier else 0
            row = {
                "complainant_id": person["id"],
                "incident_id": person["incident_id"],
                "group_id": offer["group_id"],
                "offer_id": offer_id,
                "accepted_on": day.isoformat(),
                "accepted_at": to_iso(now),
                "tier_id": tier["id"] if tier else None,
                "tier_award_fen": award,
                "total_fen": offer["total_fen"] + award,
                "status": "accepted",
                "created_by": actor.user_id,
            }
            settlement_id = db["settlement"].insert(row).last_pk
            db["settlement_offer"].update(offer_id, {"status": "accepted"})
            audit.record(db, actor, "settlement", settlement_id, "accept", after=row, at=now)
            _move(db, person, "accepted", actor, now, outbox)
            if outbox is not None:
                _record_tier(outbox, person, tier, "accepted", 1, now)
    except sqlite3.IntegrityError:
        # the unique index on live settlements caught a racing acceptance
        raise Conflict(_("This complainant already accepted a settlement.")) from None
    return settlement_id


def _record_tier(outbox, person, tier, stage, delta, now):
    """A count for the boards' tier panel: which tier, no amount."""
    outbox.record(
        person["incident_id"],
        "settlement_updated",
        now,
        person=person,
        places={(person["province_code"], person["branch_code"])},
        data={"stage": stage, "group_id": person["group_id"], "tier_id": tier["id"] if tier else None, "delta": delta},
    )


def _settlement(db, settlement_id, viewer):
    rows = list(db.query("SELECT * FROM settlement WHERE id = ?", [settlement_id]))
    if not rows:
        raise NotFound(_("No settlement %(id)s.", id=settlement_id))
    scoped_row(db, rows[0]["complainant_id"], viewer)
    return dict(rows[0])


def _differs_now(db, settlement, person, offer):
    """Whether a settlement's offer departs from its group's terms as they are now."""
    return differs_from_terms(_terms_of(db, settlement["group_id"]), person, offer)


def settlement_complainant(db, settlement_id, viewer):
    """The complainant a settlement belongs to (NotFound if unknown or out of scope)."""
    return _settlement(db, settlement_id, viewer)["complainant_id"]


def agreement_complainant(db, agreement_id, viewer):
    return settlement_complainant(db, _agreement(db, agreement_id, viewer)["settlement_id"], viewer)


def finalise(db, settlement_id, caller, settings, outbox=None):
    """Sign off a settlement: the complainant becomes ``settled`` and the
    follow-up call is due within SETTLEMENT_FOLLOWUP_DAYS. Refused while the
    terms differ from the group's and no confidentiality agreement is kept."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        settlement = _settlement(db, settlement_id, viewer)
        if settlement["status"] != "accepted":
            raise Conflict(_("This settlement is %(status)s; only an accepted one can be finalised.", status=settlement["status"]))
        person = scoped_row(db, settlement["complainant_id"], viewer)
        if _differs_now(db, settlement, person, db["settlement_offer"].get(settlement["offer_id"])) and not db["confidentiality_agreement"].count_where(
            "settlement_id = ?", [settlement_id]
        ):
            raise Invalid(
                _("These terms differ from the group's standard terms: record the signed confidentiality agreement before finalising."),
                details=[{"field": "agreement", "message": _("required when the terms differ from the group's")}],
            )
        try:
            check_transition(person["status"], "settled")
        except TransitionRefused as exc:
            raise Invalid(str(exc), details=[{"field": "status", "message": str(exc)}]) from None
        followup = now + timedelta(days=settings["SETTLEMENT_FOLLOWUP_DAYS"])
        changes = {"status": "final", "finalised_at": to_iso(now), "followup_due_at": to_iso(followup)}
        db["settlement"].update(settlement_id, changes)
        audit.record(db, actor, "settlement", settlement_id, "finalise", before={"status": "accepted"}, after=changes, at=now)
        _move(db, person, "settled", actor, now, outbox, settled_at=to_iso(now), next_contact_due_at=to_iso(followup))
    return settlement_id


def withdraw(db, settlement_id, caller, outbox=None):
    """The complainant went back on an acceptance before signing (seed 000):
    the settlement is kept as withdrawn and talks resume."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        settlement = _settlement(db, settlement_id, viewer)
        if settlement["status"] != "accepted":
            raise Conflict(_("This settlement is %(status)s; only an accepted one can be withdrawn.", status=settlement["status"]))
        person = scoped_row(db, settlement["complainant_id"], viewer)
        db["settlement"].update(settlement_id, {"status": "withdrawn"})
        db["settlement_offer"].update(settlement["offer_id"], {"status": "withdrawn"})
        audit.record(db, actor, "settlement", settlement_id, "withdraw", before={"status": "accepted"}, after={"status": "withdrawn"}, at=now)
        if person["status"] == "accepted":
            _move(db, person, "negotiating", actor, now, outbox)
        if outbox is not None:
            tier = {"id": settlement["tier_id"]} if settlement["tier_id"] else None
            _record_tier(outbox, {**person, "status": "negotiating"}, tier, "withdrawn", -1, now)
    return settlement_id


# --- confidentiality agreements and breaches ---------------------------------


def damages_warning(liquidated_fen, estimated_loss_fen, settings):
    """Whether liquidated damages exceed the estimated loss by more than the
    configured share (a court may reduce them; the console warns, it does not decide)."""
    return liquidated_fen * 100 > estimated_loss_fen * (100 + settings["LIQUIDATED_DAMAGES_WARN_PCT"])


def decode_document(data):
    try:
        return base64.b64decode(data.document_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(_("document_base64 is not valid base64."), details=[{"field": "document_base64", "message": _("is not valid base64")}]) from None


def record_agreement(db, settlement_id, data, content, caller, settings, folder):
    """Keep the signed confidentiality agreement of a settlement: its terms and the
    signed document (checked, stored under its SHA-256, the hash recorded)."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    filename, content_type = uploads.check_upload(data.document_name, content, AGREEMENT_KINDS)
    liquidated = money.parse(data.liquidated_damages, "liquidated_damages")
    estimated = money.parse(data.estimated_loss, "estimated_loss")
    if data.signed_on > local_date(now, settings):
        raise Invalid(_("The signing date is in the future."), details=[{"field": "signed_on", "message": _("is in the future")}])
    digest = hashlib.sha256(content).hexdigest()
    path = os.path.join(folder, f"{digest}-{filename}")
    with write(db):
        settlement = _settlement(db, settlement_id, viewer)
        if settlement["status"] == "withdrawn":
            raise Conflict(_("This settlement was withdrawn; an agreement belongs to a live settlement."))
        if db["confidentiality_agreement"].count_where("settlement_id = ?", [settlement_id]):
            raise Conflict(_("This settlement already has its confidentiality agreement."))
        row = {
            "settlement_id": settlement_id,
            "parties": data.parties.strip(),
            "signed_on": data.signed_on.isoformat(),
            "liquidated_damages_fen": liquidated,
            "estimated_loss_fen": estimated,
            "damages_warning": int(damages_warning(liquidated, estimated, settings)),
            "clause_version": data.clause_version.strip(),
            "document_name": filename,
            "document_path": path,
            "document_sha256": digest,
            "document_size": len(content),
            "content_type": content_type,
            "witness_reference": data.witness_reference.strip(),
            "created_by": actor.user_id,
            "created_at": to_iso(now),
        }
        agreement_id = db["confidentiality_agreement"].insert(row).last_pk
        audit.record(db, actor, "confidentiality_agreement", agreement_id, "create", after={k: v for k, v in row.items() if k != "document_path"}, at=now)
        # written inside the transaction: a failed write rolls the record back with it
        os.makedirs(folder, exist_ok=True)
        if not os.path.exists(path):
            with open(path + ".part", "wb") as f:
                f.write(content)
            os.replace(path + ".part", path)
    return agreement_id


def _agreement(db, agreement_id, viewer):
    rows = list(db.query("SELECT * FROM confidentiality_agreement WHERE id = ?", [agreement_id]))
    if not rows:
        raise NotFound(_("No agreement %(id)s.", id=agreement_id))
    _settlement(db, rows[0]["settlement_id"], viewer)
    return dict(rows[0])


def record_breach(db, agreement_id, data, caller, settings):
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    if data.occurred_on > local_date(now, settings):
        raise Invalid(_("The breach date is in the future."), details=[{"field": "occurred_on", "message": _("is in the future")}])
    claimed = money.parse(data.damages_claimed, "damages_claimed")
    with write(db):
        _agreement(db, agreement_id, viewer)
        row = {
            "agreement_id": agreement_id,
            "occurred_on": data.occurred_on.isoformat(),
            "evidence": data.evidence.strip(),
            "damages_claimed_fen": claimed,
            "recorded_by": actor.user_id,
            "recorded_at": to_iso(now),
        }
        breach_id = db["agreement_breach"].insert(row).last_pk
        audit.record(db, actor, "agreement_breach", breach_id, "create", after=row, at=now)
    return breach_id


def agreement_document(db, agreement_id, caller):
    """The stored signed document (path, name, type); the download is logged."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        agreement = _agreement(db, agreement_id, viewer)
        audit.record(db, actor, "confidentiality_agreement", agreement_id, "view_document", at=now)
    return agreement


# --- reading (every read is logged) ------------------------------------------


def public_agreement(row, breaches):
    out = {k: v for k, v in dict(row).items() if k != "document_path"}
    out["liquidated_damages"] = money.to_yuan(out.pop("liquidated_damages_fen"))
    out["estimated_loss"] = money.to_yuan(out.pop("estimated_loss_fen"))
    out["damages_warning"] = bool(out["damages_warning"])
    out["breaches"] = [public_breach(b) for b in breaches]
    return out


def public_breach(row):
    return {**{k: v for k, v in dict(row).items() if k != "damages_claimed_fen"}, "damages_claimed": money.to_yuan(row["damages_claimed_fen"])}


def public_settlement(db, row):
    out = dict(row)
    out["tier_award"] = money.to_yuan(out.pop("tier_award_fen"))
    out["total"] = money.to_yuan(out.pop("total_fen"))
    tier = db["settlement_tier"].get(row["tier_id"]) if row["tier_id"] else None
    out["tier_name"] = tier["name"] if tier else None
    offer = db["settlement_offer"].get(row["offer_id"])
    out["offer"] = public_offer(offer)
    agreements = list(db.query("SELECT * FROM confidentiality_agreement WHERE settlement_id = ?", [row["id"]]))
    out["agreement"] = (
        public_agreement(agreements[0], db.query("SELECT * FROM agreement_breach WHERE agreement_id = ? ORDER BY occurred_on, id", [agreements[0]["id"]]))
        if agreements
        else None
    )
    out["differs_from_terms"] = _differs_now(db, row, db["complainant"].get(row["complainant_id"]), offer)
    out["needs_agreement"] = out["differs_from_terms"] and out["agreement"] is None
    return out


def get_settlement(db, settlement_id, caller):
    """One settlement record with its offer, agreement and breaches; the read is logged."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        row = _settlement(db, settlement_id, viewer)
        audit.record(db, actor, "settlement", settlement_id, "view", at=now)
    return public_settlement(db, row)


def for_complainant(db, complainant_id, caller):
    """A complainant's offers and settlements (newest first), the group's terms
    and tiers; the read is logged."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        person = scoped_row(db, complainant_id, viewer)
        audit.record(db, actor, "complainant", complainant_id, "view_settlement", at=now)
    offers = [public_offer(r) for r in db.query("SELECT * FROM settlement_offer WHERE complainant_id = ? ORDER BY id DESC", [complainant_id])]
    settlements = [public_settlement(db, r) for r in db.query("SELECT * FROM settlement WHERE complainant_id = ? ORDER BY id DESC", [complainant_id])]
    terms = _terms_of(db, person["group_id"])
    return {
        "views": views(db, complainant_id, [s["id"] for s in settlements]),
        "complainant_id": complainant_id,
        "group_id": person["group_id"],
        "terms": public_terms(terms),
        "standard": {k[:-4]: money.to_yuan(v) for k, v in standard_offer(terms, person).items()} if terms else None,
        "tiers": tiers(db, person["group_id"]) if person["group_id"] else [],
        "offers": offers,
        "settlements": settlements,
    }


def views(db, complainant_id, settlement_ids, limit=50):
    """Who read this complainant's settlement records, and when (newest first)."""
    marks = ",".join("?" * len(settlement_ids))
    other = f" OR (table_name = 'settlement' AND action = 'view' AND row_id IN ({marks}))" if settlement_ids else ""
    return [
        dict(r)
        for r in db.query(
            "SELECT at, username, action FROM audit_log WHERE ((table_name = 'complainant' AND row_id = ? AND action = 'view_settlement')"
            f"{other}) OR (table_name = 'confidentiality_agreement' AND action = 'view_document' AND row_id IN "
            "(SELECT a.id FROM confidentiality_agreement a JOIN settlement s ON s.id = a.settlement_id WHERE s.complainant_id = ?)) "
            "ORDER BY id DESC LIMIT ?",
            [complainant_id, *settlement_ids, complainant_id, limit],
        )
    ]


REGISTER_COLUMNS = (
    "settlement_id",
    "complainant_id",
    "name",
    "group",
    "province_code",
    "branch_code",
    "status",
    "accepted_on",
    "tier",
    "principal",
    "interest",
    "expenses",
    "expenses_evidence",
    "lawyer_fees",
    "indirect_loss",
    "tier_award",
    "total",
    "differs_from_terms",
    "override_reason",
    "finalised_at",
    "followup_due_at",
    "agreement_signed_on",
    "liquidated_damages",
    "damages_warning",
    "clause_version",
    "document_sha256",
    "witness_reference",
    "breaches",
)


def register(db, incident_id, caller):
    """Every settlement of an incident, one row each, for legal; the read is logged."""
    viewer, actor, now = caller.viewer, caller.actor, caller.now
    with write(db):
        audit.record(db, actor, "incident", incident_id, "view_settlements_register", at=now)
    rows = db.query(
        """
        SELECT s.id AS settlement_id, s.complainant_id, c.name, g.name AS "group", c.province_code, c.branch_code, s.status,
               s.accepted_on, t.name AS tier, o.principal_fen, o.interest_fen, o.expenses_fen, o.expenses_evidence,
               o.lawyer_fees_fen, o.indirect_loss_fen, s.tier_award_fen, s.total_fen, o.differs_from_terms, o.override_reason,
               s.finalised_at, s.followup_due_at, a.signed_on AS agreement_signed_on, a.liquidated_damages_fen,
               a.damages_warning, a.clause_version, a.document_sha256, a.witness_reference,
               (SELECT count(*) FROM agreement_breach b WHERE b.agreement_id = a.id) AS breaches
        FROM settlement s
        JOIN complainant c ON c.id = s.complainant_id
        JOIN settlement_offer o ON o.id = s.offer_id
        LEFT JOIN complainant_group g ON g.id = s.group_id
        LEFT JOIN settlement_tier t ON t.id = s.tier_id
        LEFT JOIN confidentiality_agreement a ON a.settlement_id = s.id
        WHERE s.incident_id = ?
        ORDER BY s.accepted_at, s.id
        """,
        [incident_id],
    )
    out = []
    for r in rows:
        r = dict(r)
        if not in_scope(viewer, r["province_code"], r["branch_code"]):
            continue
        for key in [k for k in r if k.endswith("_fen")]:
            r[key[:-4]] = money.to_yuan(r.pop(key))
        r["differs_from_terms"] = bool(r["differs_from_terms"])
        r["damages_warning"] = None if r["damages_warning"] is None else bool(r["damages_warning"])
        out.append({k: r.get(k) for k in REGISTER_COLUMNS})
    return out


# --- the board's tier panel (counts and days, never an amount) ---------------


def tier_summary(db, incident_id, scope_where, scope_params, now, settings):
    """Per group with tiers: accepted settlements in each tier (in the viewer's
    scope), and the current window with its days remaining."""
    today = local_date(now, settings)
    counts = {
        r["tier_id"]: r["n"]
        for r in db.query(
            "SELECT s.tier_id, count(*) AS n FROM settlement s JOIN complainant ON complainant.id = s.complainant_id "
            f"WHERE s.incident_id = ? AND s.status != 'withdrawn' AND s.tier_id IS NOT NULL AND {scope_where} GROUP BY s.tier_id",
            [incident_id, *scope_params],
        )
    }
    groups = []
    for g in db.query(
        "SELECT DISTINCT g.id, g.name FROM complainant_group g JOIN settlement_tier t ON t.group_id = g.id WHERE g.incident_id = ? ORDER BY g.id",
        [incident_id],
    ):
        windows = []
        current = None
        for t in db.query("SELECT id, name, starts_on, ends_on FROM settlement_tier WHERE group_id = ? ORDER BY starts_on", [g["id"]]):
            window = {"id": t["id"], "name": t["name"], "starts_on": t["starts_on"], "ends_on": t["ends_on"], "accepted": counts.get(t["id"], 0)}
            if date.fromisoformat(t["starts_on"]) <= today <= date.fromisoformat(t["ends_on"]):
                current = {"id": t["id"], "name": t["name"], "days_left": (date.fromisoformat(t["ends_on"]) - today).days + 1}
            windows.append(window)
        groups.append({"group_id": g["id"], "name": g["name"], "tiers": windows, "current": current})
    return groups
