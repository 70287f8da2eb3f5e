"""Incident list and incident page: aggregates only, so every role may see them
(branch contacts see the numbers of their own scope)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import groups, incidents, regions, schemas
from ..auth import current_actor, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..landing import active_incident_for
from ..live import publishing
from ..status import FUNNEL
from .forms import read_form

bp = Blueprint("incidents", __name__)


@bp.get("/")
@requires("incident.read")
def index():
    # a branch contact (on a phone, at the outlet) lands on the board of the active incident of their scope
    landing = active_incident_for(get_db(), current_viewer())
    if landing is not None:
        return redirect(url_for("board.team_board", incident_id=landing))
    return redirect(url_for("incidents.list_incidents"))


@bp.get("/incidents")
@requires("incident.read")
def list_incidents(form_errors=None, status=200):
    return render_template("incidents.html", incidents=incidents.list_incidents(get_db()), errors=form_errors or {}), status


@bp.post("/incidents")
@requires("incident.write")
def create_incident():
    data, errors = read_form(schemas.IncidentIn, request.form)
    if errors:
        return list_incidents(errors, 422)
    db = get_db()
    with publishing(db) as outbox:
        incident_id = incidents.create_incident(db, data, current_actor(), utcnow(), outbox, settings=current_app.config)
    flash(_("Incident opened."))
    return redirect(url_for("incidents.show_incident", incident_id=incident_id))


@bp.get("/incidents/<int:incident_id>")
@requires("incident.read")
def show_incident(incident_id, errors=None, status=200):
    db = get_db()
    incident = incidents.get_incident(db, incident_id)
    viewer = current_viewer()
    summary = incidents.summary(db, incident_id, viewer, utcnow())
    group_list = groups.for_viewer(db, viewer, groups.list_groups(db, incident_id))
    matrix = {}
    for row in summary["matrix"]:
        matrix.setdefault(row["group_id"], {}).setdefault(row["province_code"], 0)
        matrix[row["group_id"]][row["province_code"]] += row["count"]
    return (
        render_template(
            "incident.html",
            incident=incident,
            summary=summary,
            groups=group_list,
            group_names={g["id"]: g["name"] for g in group_list},
            matrix=matrix,
            provinces=sorted(summary["by_province"]),
            province_names=regions.province_names(db, get_locale()),
            funnel=FUNNEL,
            transitions=sorted(incidents.INCIDENT_TRANSITIONS[incident["status"]]),
            errors=errors or {},
            can_read_people=current_user.viewer.may("complainant.read"),
        ),
        status,
    )


@bp.post("/incidents/<int:incident_id>/edit")
@requires("incident.write")
def edit_incident(incident_id):
    data, errors = read_form(schemas.IncidentUpdate, request.form)
    if errors:
        return show_incident(incident_id, errors, 422)
    db = get_db()
    with publishing(db) as outbox:
        incidents.update_incident(db, incident_id, data, current_actor(), utcnow(), outbox)
    flash(_("Incident saved."))
    return redirect(url_for("incidents.show_incident", incident_id=incident_id))


@bp.post("/incidents/<int:incident_id>/status")
@requires("incident.status")
def change_incident_status(incident_id):
    data, errors = read_form(schemas.IncidentStatusChange, request.form)
    if errors:
        return show_incident(incident_id, errors, 422)
    db = get_db()
    with publishing(db) as outbox:
        incidents.change_status(
            db, incident_id, data.status, data.reason, current_actor(), utcnow(), outbox, settings=current_app.config, playbook_changes=data.playbook_changes
        )
    flash(_("Incident status changed."))
    return redirect(url_for("incidents.show_incident", incident_id=incident_id))


@bp.post("/incidents/<int:incident_id>/groups")
@requires("group.write")
def create_group(incident_id):
    data, errors = read_form(schemas.GroupIn, request.form)
    if errors:
        return show_incident(incident_id, errors, 422)
    db = get_db()
    with publishing(db) as outbox:
        groups.create_group(db, incident_id, data, current_actor(), utcnow(), current_app.config["MAX_REPRESENTATIVES"], outbox)
    flash(_("Group added."))
    return redirect(url_for("incidents.show_incident", incident_id=incident_id))


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@requires("group.write")
def edit_group(group_id):
    db = get_db()
    group = groups.get_group(db, group_id)
    errors = {}
    if request.method == "POST":
        data, errors = read_form(schemas.GroupUpdate, request.form)
        if not errors:
            with publishing(db) as outbox:
                groups.update_group(db, group_id, data, current_actor(), utcnow(), current_app.config["MAX_REPRESENTATIVES"], outbox)
            flash(_("Group saved."))
            return redirect(url_for("incidents.show_incident", incident_id=group["incident_id"]))
    members = groups.members(db, group_id)
    return render_template("group_edit.html", group=group, members=members, errors=errors), (422 if errors else 200)
