"""Settlements over JSON: group terms and tiers, offers, acceptance,
confidentiality agreements, breaches and the register. Crisis lead and legal
only (``settlement.*``); every read of a settlement record is logged."""

from flask import current_app

from .. import groups, schemas, settlements
from ..auth import current_actor, current_caller
from ..clock import utcnow
from ..db import get_db
from ..incidents import get_incident
from ..live import publishing
from . import operation


def _group(group_id, **_path):
    groups.get_group(get_db(), group_id)


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


def _agreements_folder():
    return current_app.config["DOCUMENT_FOLDER"] + "/agreements"


@operation(
    "/groups/<int:group_id>/terms",
    "GET",
    "settlement.read",
    "A group's standard terms and early-acceptance tiers",
    response=schemas.Terms,
    tag="settlements",
    visible=_group,
)
def get_terms(group_id):
    return settlements.read_terms(get_db(), group_id, current_actor(), utcnow())


@operation(
    "/groups/<int:group_id>/terms",
    "PUT",
    "settlement.write",
    "Set a group's standard terms (the default offer: one line per group)",
    body=schemas.GroupTermsIn,
    response=schemas.Terms,
    tag="settlements",
    visible=_group,
)
def set_terms(group_id, body):
    return settlements.set_terms(get_db(), group_id, body, current_actor(), utcnow())


@operation(
    "/groups/<int:group_id>/tiers",
    "PUT",
    "settlement.write",
    "Replace a group's early-acceptance tiers (fixed once one is used)",
    body=schemas.TiersIn,
    response=schemas.Terms,
    tag="settlements",
    visible=_group,
)
def set_tiers(group_id, body):
    return settlements.set_tiers(get_db(), group_id, body, current_actor(), utcnow())


@operation(
    "/complainants/<int:complainant_id>/settlement",
    "GET",
    "settlement.read",
    "A complainant's offers and settlements, with the group's terms and tiers (the read is logged)",
    response=schemas.ComplainantSettlement,
    tag="settlements",
)
def complainant_settlement(complainant_id):
    return settlements.for_complainant(get_db(), complainant_id, current_caller())


@operation(
    "/complainants/<int:complainant_id>/offers",
    "POST",
    "settlement.write",
    "Make an offer; omitted components come from the group's terms; above the cap needs the lead's override",
    body=schemas.OfferIn,
    status=201,
    response=schemas.Offer,
    tag="settlements",
)
def make_offer(complainant_id, body):
    db = get_db()
    with publishing(db) as outbox:
        return settlements.make_offer(db, complainant_id, body, current_caller(), outbox)


@operation(
    "/offers/<int:offer_id>/accept",
    "POST",
    "settlement.write",
    "The complainant accepted: record the settlement with today's tier award",
    status=201,
    response=schemas.Settlement,
    tag="settlements",
)
def accept_offer(offer_id):
    db = get_db()
    with publishing(db) as outbox:
        settlement_id = settlements.accept_offer(db, offer_id, current_caller(), current_app.config, outbox)
    return settlements.public_settlement(db, db["settlement"].get(settlement_id))


@operation("/offers/<int:offer_id>/decline", "POST", "settlement.write", "The complainant turned the offer down", response=schemas.Offer, tag="settlements")
def decline_offer(offer_id):
    db = get_db()
    with publishing(db) as outbox:
        return settlements.decline_offer(db, offer_id, current_caller(), outbox)


@operation(
    "/settlements/<int:settlement_id>",
    "GET",
    "settlement.read",
    "A settlement with its offer, agreement and breaches (the read is logged)",
    response=schemas.Settlement,
    tag="settlements",
)
def get_settlement(settlement_id):
    return settlements.get_settlement(get_db(), settlement_id, current_caller())


@operation(
    "/settlements/<int:settlement_id>/finalise",
    "POST",
    "settlement.write",
    "Sign off: the complainant becomes settled and the follow-up call is scheduled",
    response=schemas.Settlement,
    tag="settlements",
)
def finalise(settlement_id):
    db = get_db()
    with publishing(db) as outbox:
        settlements.finalise(db, settlement_id, current_caller(), current_app.config, outbox)
    return settlements.public_settlement(db, db["settlement"].get(settlement_id))


@operation(
    "/settlements/<int:settlement_id>/withdraw",
    "POST",
    "settlement.write",
    "The complainant went back on the acceptance before signing",
    response=schemas.Settlement,
    tag="settlements",
)
def withdraw(settlement_id):
    db = get_db()
    with publishing(db) as outbox:
        settlements.withdraw(db, settlement_id, current_caller(), outbox)
    return settlements.public_settlement(db, db["settlement"].get(settlement_id))


@operation(
    "/settlements/<int:settlement_id>/agreement",
    "POST",
    "settlement.write",
    "Keep the signed confidentiality agreement (document as base64; its SHA-256 is recorded)",
    body=schemas.AgreementIn,
    status=201,
    response=schemas.Settlement,
    tag="settlements",
)
def record_agreement(settlement_id, body):
    db = get_db()
    content = settlements.decode_document(body)
    settlements.record_agreement(db, settlement_id, body, content, current_caller(), current_app.config, _agreements_folder())
    return settlements.public_settlement(db, db["settlement"].get(settlement_id))


@operation(
    "/agreements/<int:agreement_id>/breaches",
    "POST",
    "settlement.write",
    "Record a breach of a confidentiality agreement",
    body=schemas.BreachIn,
    status=201,
    response=schemas.Breach,
    tag="settlements",
)
def record_breach(agreement_id, body):
    db = get_db()
    breach_id = settlements.record_breach(db, agreement_id, body, current_caller(), current_app.config)
    return settlements.public_breach(db["agreement_breach"].get(breach_id))


@operation(
    "/incidents/<int:incident_id>/settlements",
    "GET",
    "settlement.read",
    "The settlements register (the read is logged)",
    response=schemas.SettlementRegister,
    tag="settlements",
    visible=_incident,
)
def register(incident_id):
    return {"settlements": settlements.register(get_db(), incident_id, current_caller())}
