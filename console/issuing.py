"""Issuing documents: build from the live data, keep exactly as issued, and
record what went to which outside party."""

from flask_babel import gettext as _

from . import audit, disclosure, documents, referrals, schemas
from .db import write
from .incidents import get_incident

AGGREGATE = "aggregate"  # the rendering executives download (console/disclosure.py)


def audience_for(viewer):
    """The rendering of issued documents ``viewer`` downloads: None for the copy
    issued (lead, team, legal), 'aggregate' (small cells suppressed) for executives."""
    return AGGREGATE if disclosure.amounts_suppressed_for(viewer) else None


KINDS = {
    # kind: (party, filename, content type)
    "regulator_report": ("regulator", "regulator-report.pdf", "application/pdf"),
    "consumer_association_packet": ("consumer_association", "consumer-association-packet.zip", "application/zip"),
    "media_statement": ("media", "media-statement.pdf", "application/pdf"),
    # internal: the team's own plan, sent to no outside party (no referral)
    "early_warning_plan": (None, "early-warning-plan.pdf", "application/pdf"),
}


def _build(db, incident_id, data, now, settings, suppressed=False):
    # the form's fields, or the settings an administrator keeps for them (reporting unit, signing officer, contact)
    if data.reporting_unit.strip():
        settings = {**settings, "ORGANISATION_NAME": data.reporting_unit.strip()}
    data = data.model_copy(
        update={
            "signing_officer": data.signing_officer.strip() or settings.get("SIGNING_OFFICER") or "",
            "contact_person": data.contact_person.strip() or settings.get("CONTACT_PERSON") or "",
            "contact_phone": data.contact_phone.strip() or settings.get("CONTACT_PHONE") or "",
        }
    )
    if data.kind == "regulator_report":
        return documents.regulator_report(db, incident_id, now, settings, data.signing_officer, data.contact_person, data.contact_phone, suppressed=suppressed)
    if data.kind == "early_warning_plan":
        from .warning_plan import early_warning_plan

        return early_warning_plan(db, incident_id, now, settings, suppressed=suppressed)
    if data.kind == "consumer_association_packet":
        return documents.consumer_association_packet(db, incident_id, now, settings, data.contact_person, data.contact_phone, suppressed=suppressed)
    return documents.media_statement(db, incident_id, now, settings)  # no figures in it


def issue(db, incident_id, data, actor, now, settings, outbox=None):
    """Build, keep and send a document (schemas.DocumentIssue); returns (document id, referral id).

    The referral to the party is recorded with it, its acknowledgement due
    after REFERRAL_ACK_HOURS; an internal document (the early-warning plan)
    has no party and no referral (None).
    """
    incident = get_incident(db, incident_id)
    party, filename, content_type = KINDS[data.kind]
    content = _build(db, incident_id, data, now, settings)
    # what executives download: the same document at the same moment, small cells suppressed
    aggregate = _build(db, incident_id, data, now, settings, suppressed=True)
    titles = {
        "regulator_report": _("Report to the regulator: %(title)s", title=incident["title"]),
        "consumer_association_packet": _("Consumer association packet: %(title)s", title=incident["title"]),
        "media_statement": _("Media holding statement: %(title)s", title=incident["title"]),
        "early_warning_plan": _("Early-warning plan: %(title)s", title=incident["title"]),
    }
    with write(db):
        document_id = documents.store_issued(
            db, incident_id, data.kind, titles[data.kind], data.recipient, filename, content_type, content, actor.user_id, now, settings["DOCUMENT_FOLDER"]
        )
        documents.store_rendering(db, document_id, AGGREGATE, aggregate, disclosure.min_people(settings), settings["DOCUMENT_FOLDER"])
        audit.record(db, actor, "issued_document", document_id, "issue", after={"kind": data.kind, "recipient": data.recipient}, at=now)
        if party is None:
            return document_id, None
        referral_id = referrals.record_referral(
            db,
            incident_id,
            schemas.ReferralIn(party=party, recipient=data.recipient, what_sent=titles[data.kind], task_id=data.task_id),
            actor,
            now,
            settings,
            outbox,
            document_id=document_id,
            task_id=data.task_id,
        )
    return document_id, referral_id


def post_incident_review(db, incident_id, playbook_changes, actor, now, settings):
    """The review made when an incident stands down, kept like any issued document."""
    incident = get_incident(db, incident_id)
    content = documents.incident_review(db, incident_id, now, settings, playbook_changes or "")
    aggregate = documents.incident_review(db, incident_id, now, settings, playbook_changes or "", suppressed=True)
    with write(db):
        document_id = documents.store_issued(
            db,
            incident_id,
            "review",
            _("Post-incident review: %(title)s", title=incident["title"]),
            _("internal"),
            "post-incident-review.pdf",
            "application/pdf",
            content,
            actor.user_id,
            now,
            settings["DOCUMENT_FOLDER"],
        )
        documents.store_rendering(db, document_id, AGGREGATE, aggregate, disclosure.min_people(settings), settings["DOCUMENT_FOLDER"])
        audit.record(db, actor, "issued_document", document_id, "issue", after={"kind": "review"}, at=now)
    return document_id


def list_documents(db, incident_id):
    return [dict(r) for r in db.query("SELECT * FROM issued_document WHERE incident_id = ? ORDER BY id DESC", [incident_id])]
