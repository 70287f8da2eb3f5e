"""Complainant list, page, forms, contact log, reveal and deadline extension."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import ValidationError

from .. import complainants, contacts, groups, incidents, regions, schemas, users
from ..auth import current_actor, current_caller, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import Invalid
from ..live import publishing
from ..status import ALLOWED
from .forms import read_form

bp = Blueprint("complainants", __name__)


OVERDUE_CHOICES = {
    "first_response": _l("No first response in time"),
    "resolution": _l("Past the resolution time"),
    "supervisor": _l("Severe: supervisor not told"),
    "decision": _l("Decision deadline overdue"),
    "contact": _l("Promised contact overdue"),
}


def _choices(db, incident_id):
    viewer = current_viewer()
    province_rows = regions.provinces(db)
    if viewer.scope_kind == "province":
        province_rows = [p for p in province_rows if p["code"] == viewer.scope_code]
    name_col = "name_zh" if get_locale().language == "zh" else "name_en"
    return {
        "groups": groups.list_groups(db, incident_id),
        "provinces": [(p["code"], p[name_col]) for p in province_rows],
        "cities": regions.cities(db),
        "branches": [b for b in regions.branches(db) if viewer.scope_kind != "branch" or b["code"] == viewer.scope_code],
        "province_names": regions.province_names(db, get_locale()),
        "handlers": users.active_users(db, roles=("lead", "team", "branch")),
    }


@bp.get("/incidents/<int:incident_id>/complainants")
@requires("complainant.read")
def list_complainants(incident_id):
    db = get_db()
    incident = incidents.get_incident(db, incident_id)
    try:
        query = schemas.ComplainantQuery.model_validate({"per_page": current_app.config["PAGE_SIZE"], **{k: v for k, v in request.args.items() if v != ""}})
    except ValidationError:
        raise Invalid(_("One of the filters has a value this list does not know.")) from None
    rows, total = complainants.list_complainants(db, incident_id, current_viewer(), query, utcnow(), current_actor())
    pages = max(1, -(-total // query.per_page))
    return render_template(
        "complainants.html",
        incident=incident,
        rows=rows,
        total=total,
        query=query,
        pages=pages,
        overdue_choices=OVERDUE_CHOICES.items(),
        **_choices(db, incident_id),
    )


@bp.route("/incidents/<int:incident_id>/complainants/new", methods=["GET", "POST"])
@requires("complainant.write")
def new_complainant(incident_id):
    db = get_db()
    incident = incidents.get_incident(db, incident_id)
    errors = {}
    if request.method == "POST":
        data, errors = read_form(schemas.ComplainantIn, request.form)
        if not errors:
            try:
                with publishing(db) as outbox:
                    (new_id,) = complainants.create_complainants(db, incident_id, [data], current_caller(), current_app.config, outbox)
            except Invalid as exc:
                errors = {p["field"]: p["message"] for p in exc.details or []} or {"": exc.message}
            else:
                flash(_("Complainant added."))
                return redirect(url_for("complainants.show_complainant", complainant_id=new_id))
    return (
        render_template("complainant_form.html", incident=incident, complainant=None, form=request.form, errors=errors, **_choices(db, incident_id)),
        422 if errors else 200,
    )


@bp.get("/complainants/<int:complainant_id>")
@requires("complainant.read")
def show_complainant(complainant_id, errors=None, status=200, revealed=None):
    db = get_db()
    person = complainants.get_complainant(db, complainant_id, current_viewer())
    return (
        render_template(
            "complainant.html",
            person=person,
            incident=incidents.get_incident(db, person["incident_id"]),
            contact_log=contacts.list_contacts(db, complainant_id, current_viewer()),
            extensions=complainants.extensions(db, complainant_id),
            next_statuses=sorted(ALLOWED[person["status"]] | ({"escalated"} if person["status"] == "escalated" else set())),
            revealed=revealed,
            errors=errors or {},
            may_write=current_user.viewer.may("complainant.write"),
            **_choices(db, person["incident_id"]),
        ),
        status,
    )


@bp.route("/complainants/<int:complainant_id>/edit", methods=["GET", "POST"])
@requires("complainant.write")
def edit_complainant(complainant_id):
    db = get_db()
    person = complainants.get_complainant(db, complainant_id, current_viewer())
    errors = {}
    if request.method == "POST":
        data, errors = read_form(schemas.ComplainantUpdate, request.form)
        if not errors:
            try:
                with publishing(db) as outbox:
                    complainants.update_complainant(db, complainant_id, data, current_caller(), outbox, settings=current_app.config)
            except Invalid as exc:
                errors = {p["field"]: p["message"] for p in exc.details or []} or {"": exc.message}
            else:
                flash(_("Complainant saved."))
                return redirect(url_for("complainants.show_complainant", complainant_id=complainant_id))
    return (
        render_template(
            "complainant_form.html",
            incident=incidents.get_incident(db, person["incident_id"]),
            complainant=person,
            form=request.form if request.method == "POST" else None,
            errors=errors,
            **_choices(db, person["incident_id"]),
        ),
        422 if errors else 200,
    )


@bp.post("/complainants/<int:complainant_id>/status")
@requires("complainant.write")
def change_status(complainant_id):
    data, errors = read_form(schemas.ComplainantUpdate, request.form, only={"status", "escalation_channel", "version"})
    if not errors:
        try:
            db = get_db()
            with publishing(db) as outbox:
                complainants.update_complainant(db, complainant_id, data, current_caller(), outbox, settings=current_app.config)
        except Invalid as exc:
            errors = {"status": exc.message}
    if errors:
        return show_complainant(complainant_id, errors, 422)
    flash(_("Status changed."))
    return redirect(url_for("complainants.show_complainant", complainant_id=complainant_id))


@bp.post("/complainants/<int:complainant_id>/contacts")
@requires("contact.write")
def add_contact(complainant_id):
    data, errors = read_form(schemas.ContactIn, request.form)
    if errors:
        return show_complainant(complainant_id, {f"contact.{k}": v for k, v in errors.items()}, 422)
    db = get_db()
    try:
        with publishing(db) as outbox:
            contacts.add_contact(db, complainant_id, data, current_caller(), outbox, settings=current_app.config)
    except Invalid as exc:
        problems = {f"contact.{p['field']}": p["message"] for p in exc.details or []} or {"contact.contacted_at": exc.message}
        return show_complainant(complainant_id, problems, 422)
    flash(_("Contact logged."))
    return redirect(url_for("complainants.show_complainant", complainant_id=complainant_id))


@bp.post("/complainants/<int:complainant_id>/extensions")
@requires("complainant.extend")
def extend_deadline(complainant_id):
    data, errors = read_form(schemas.ExtensionIn, request.form)
    if not errors:
        try:
            db = get_db()
            with publishing(db) as outbox:
                complainants.extend_deadline(db, complainant_id, data, current_caller(), current_app.config, outbox)
        except Invalid as exc:
            errors = {"level": exc.message}
    if errors:
        return show_complainant(complainant_id, {f"extension.{k}": v for k, v in errors.items()}, 422)
    flash(_("Decision deadline extended."))
    return redirect(url_for("complainants.show_complainant", complainant_id=complainant_id))


@bp.post("/complainants/<int:complainant_id>/reveal")
@requires("complainant.reveal")
def reveal(complainant_id):
    revealed = complainants.reveal(get_db(), complainant_id, current_caller())
    return show_complainant(complainant_id, revealed=revealed)
