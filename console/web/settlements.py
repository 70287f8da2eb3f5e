"""Settlement pages for the crisis lead and legal: a complainant's offers,
settlement and agreement; a group's terms and tiers; the register."""

import base64

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from .. import export_labels, groups, schemas, settlements, tables
from ..auth import current_actor, current_caller, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError
from ..incidents import get_incident
from ..live import publishing
from .downloads import attachment
from .forms import read_form

bp = Blueprint("settlements", __name__)


@bp.get("/complainants/<int:complainant_id>/settlement")
@requires("settlement.read")
def complainant_page(complainant_id, errors=None, status=200):
    db = get_db()
    record = settlements.for_complainant(db, complainant_id, current_caller())
    person = db["complainant"].get(complainant_id)
    return render_template(
        "settlement.html",
        person=person,
        incident=get_incident(db, person["incident_id"]),
        record=record,
        group=groups.get_group(db, person["group_id"]) if person["group_id"] else None,
        errors=errors or {},
        form=request.form,
        warn_pct=current_app.config["LIQUIDATED_DAMAGES_WARN_PCT"],
    ), status


def _back(complainant_id):
    return redirect(url_for("settlements.complainant_page", complainant_id=complainant_id))


def _refused(complainant_id, prefix, exc):
    errors = {f"{prefix}.{d['field']}": d["message"] for d in (exc.details or []) if isinstance(d, dict) and "field" in d}
    errors[prefix] = exc.message
    return complainant_page(complainant_id, errors, exc.status)


def _write(complainant_id, prefix, done, write):
    """Run one settlement step (``write(db, outbox)``) and publish it; back to the
    page with a flash, or the page again with the refusal under ``prefix``."""
    db = get_db()
    try:
        with publishing(db) as outbox:
            write(db, outbox)
    except ConsoleError as exc:
        return _refused(complainant_id, prefix, exc)
    flash(done)
    return _back(complainant_id)


@bp.post("/complainants/<int:complainant_id>/offers")
@requires("settlement.write")
def make_offer(complainant_id):
    data, errors = read_form(schemas.OfferIn, request.form)
    if errors:
        return complainant_page(complainant_id, {f"offer.{k}": v for k, v in errors.items()} | {"offer": _("Check the offer.")}, 422)
    return _write(complainant_id, "offer", _("Offer recorded."), lambda db, outbox: settlements.make_offer(db, complainant_id, data, current_caller(), outbox))


def _offer_complainant(offer_id):
    return settlements.get_offer(get_db(), offer_id)["complainant_id"]


@bp.post("/offers/<int:offer_id>/accept")
@requires("settlement.write")
def accept_offer(offer_id):
    return _write(
        _offer_complainant(offer_id),
        "settlement",
        _("Acceptance recorded."),
        lambda db, outbox: settlements.accept_offer(db, offer_id, current_caller(), current_app.config, outbox),
    )


@bp.post("/offers/<int:offer_id>/decline")
@requires("settlement.write")
def decline_offer(offer_id):
    return _write(
        _offer_complainant(offer_id),
        "settlement",
        _("Offer marked as turned down."),
        lambda db, outbox: settlements.decline_offer(db, offer_id, current_caller(), outbox),
    )


def _settlement_complainant(settlement_id):
    return settlements.settlement_complainant(get_db(), settlement_id, current_viewer())


@bp.post("/settlements/<int:settlement_id>/<any(finalise, withdraw):step>")
@requires("settlement.write")
def settlement_step(settlement_id, step):
    complainant_id = _settlement_complainant(settlement_id)
    if step == "finalise":
        return _write(
            complainant_id,
            "settlement",
            _("Settlement signed off: the complainant is settled and the follow-up call is scheduled."),
            lambda db, outbox: settlements.finalise(db, settlement_id, current_caller(), current_app.config, outbox),
        )
    return _write(
        complainant_id,
        "settlement",
        _("Acceptance withdrawn: talks resume."),
        lambda db, outbox: settlements.withdraw(db, settlement_id, current_caller(), outbox),
    )


@bp.post("/settlements/<int:settlement_id>/agreement")
@requires("settlement.write")
def record_agreement(settlement_id):
    complainant_id = _settlement_complainant(settlement_id)
    upload = request.files.get("document")
    content = upload.read() if upload else b""
    form = request.form.copy()
    form["document_name"] = upload.filename if upload and upload.filename else ""
    form["document_base64"] = base64.b64encode(content).decode() if content else ""
    data, errors = read_form(schemas.AgreementIn, form)
    if errors:
        if "document_name" in errors or "document_base64" in errors:
            errors["document"] = _("Choose the signed agreement to upload (PDF, PNG or JPEG).")
        return complainant_page(complainant_id, {f"agreement.{k}": v for k, v in errors.items()} | {"agreement": _("Check the agreement.")}, 422)
    folder = current_app.config["DOCUMENT_FOLDER"] + "/agreements"
    return _write(
        complainant_id,
        "agreement",
        _("Confidentiality agreement kept with its signed document."),
        lambda db, _outbox: settlements.record_agreement(db, settlement_id, data, content, current_caller(), current_app.config, folder),
    )


@bp.post("/agreements/<int:agreement_id>/breaches")
@requires("settlement.write")
def record_breach(agreement_id):
    db = get_db()
    complainant_id = settlements.agreement_complainant(db, agreement_id, current_viewer())
    data, errors = read_form(schemas.BreachIn, request.form)
    if errors:
        return complainant_page(complainant_id, {f"breach.{k}": v for k, v in errors.items()} | {"breach": _("Check the breach record.")}, 422)
    return _write(
        complainant_id,
        "breach",
        _("Breach recorded."),
        lambda db, _outbox: settlements.record_breach(db, agreement_id, data, current_caller(), current_app.config),
    )


@bp.get("/agreements/<int:agreement_id>/document")
@requires("settlement.read")
def agreement_document(agreement_id):
    row = settlements.agreement_document(get_db(), agreement_id, current_caller())
    return send_file(row["document_path"], mimetype=row["content_type"], download_name=row["document_name"], as_attachment=True)


# --- group terms and tiers --------------------------------------------------------


@bp.get("/groups/<int:group_id>/terms")
@requires("settlement.read")
def terms_page(group_id, errors=None, status=200):
    db = get_db()
    group = groups.get_group(db, group_id)
    return render_template(
        "group_terms.html",
        group=group,
        incident=get_incident(db, group["incident_id"]),
        record=settlements.read_terms(db, group_id, current_actor(), utcnow()),
        errors=errors or {},
        form=request.form,
    ), status


@bp.post("/groups/<int:group_id>/terms")
@requires("settlement.write")
def set_terms(group_id):
    form = request.form.copy()
    form["pays_expenses"] = "true" if request.form.get("pays_expenses") else "false"
    data, errors = read_form(schemas.GroupTermsIn, form)
    if errors:
        return terms_page(group_id, {f"terms.{k}": v for k, v in errors.items()}, 422)
    settlements.set_terms(get_db(), group_id, data, current_actor(), utcnow())
    flash(_("Standard terms saved."))
    return redirect(url_for("settlements.terms_page", group_id=group_id))


TIER_ROWS = 5


@bp.post("/groups/<int:group_id>/tiers")
@requires("settlement.write")
def set_tiers(group_id):
    tiers, errors = [], {}
    for index in range(TIER_ROWS):
        row = {k: request.form.get(f"{k}_{index}", "") for k in ("name", "starts_on", "ends_on", "award")}
        if not any(v.strip() for v in row.values()):
            continue
        tier, problems = read_form(schemas.TierIn, row)
        if problems:
            errors.update({f"tiers.{index}.{k}": v for k, v in problems.items()})
        else:
            tiers.append(tier)
    if errors:
        return terms_page(group_id, errors | {"tiers": _("Check the tiers.")}, 422)
    try:
        settlements.set_tiers(get_db(), group_id, schemas.TiersIn(tiers=tiers), current_actor(), utcnow())
    except ConsoleError as exc:
        return terms_page(group_id, {"tiers": exc.message} | {d["field"]: d["message"] for d in (exc.details or []) if isinstance(d, dict)}, exc.status)
    flash(_("Tiers saved."))
    return redirect(url_for("settlements.terms_page", group_id=group_id))


# --- the register ---------------------------------------------------------------------


@bp.get("/incidents/<int:incident_id>/settlements")
@requires("settlement.read")
def register_page(incident_id):
    db = get_db()
    incident = get_incident(db, incident_id)
    rows = settlements.register(db, incident_id, current_caller())
    return render_template("settlements.html", incident=incident, rows=rows, groups=groups.list_groups(db, incident_id))


@bp.get("/incidents/<int:incident_id>/settlements.<any(csv, xlsx):kind>")
@requires("settlement.read")
def register_export(incident_id, kind):
    db = get_db()
    get_incident(db, incident_id)
    rows = settlements.register(db, incident_id, current_caller())
    header, values = export_labels.settlement_register(settlements.REGISTER_COLUMNS, rows)
    content = tables.to_csv(header, values) if kind == "csv" else tables.to_xlsx("settlements", header, values)
    return attachment(content, f"settlements-incident-{incident_id}", kind)
