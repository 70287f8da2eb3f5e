"""Branch hourly updates (form, timeline, who has reported), alerts, and the
CSV import of ordinary complaints from existing complaint systems."""

import json
import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import alerts, branch_requests, forecast, import_formats, intake, intake_formats, masking, regions, schemas, updates
from ..auth import current_actor, current_caller, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError
from ..figures import RESPONDING_INCIDENT_STATUSES
from ..incidents import get_incident
from ..live import publishing
from .downloads import attachment
from .forms import PERSONAL_NUMBER_WARNING, read_form

bp = Blueprint("reports", __name__)

BOOLEAN_FIELDS = ("banners", "media_present", "police_present", "outlet_closed")


def _branches_for_form(db):
    viewer = current_viewer()
    rows = regions.branches(db, viewer.scope_code if viewer.scope_kind == "province" else None)
    return [b for b in rows if viewer.scope_kind != "branch" or b["code"] == viewer.scope_code]


@bp.route("/incidents/<int:incident_id>/updates/new", methods=["GET", "POST"])
@requires("update.write")
def new_update(incident_id):
    db = get_db()
    incident = get_incident(db, incident_id)
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        for flag in BOOLEAN_FIELDS:
            form[flag] = "true" if flag in request.form else "false"
        data, errors = read_form(schemas.HourlyUpdateIn, _MultiDict(form))
        if not errors:
            try:
                with publishing(db) as outbox:
                    stored, replayed = updates.post_update_once(
                        db,
                        incident_id,
                        data,
                        current_caller(),
                        current_app.config,
                        outbox,
                        key=request.headers.get("Idempotency-Key") or request.form.get("idempotency_key") or None,
                        route=request.path,
                        body=json.dumps(request.form.to_dict(flat=False), sort_keys=True).encode(),
                    )
            except ConsoleError as exc:
                errors = {p["field"]: p["message"] for p in exc.details or []} or {"": exc.message}
            else:
                flash(_("Update posted.") if not replayed else _("This update was already posted."))
                if masking.composer_warnings(data.model_dump(), masking.UPDATE_TEXT_FIELDS):
                    flash(PERSONAL_NUMBER_WARNING(), "warning")
                return redirect(url_for("reports.branch_timeline", incident_id=incident_id, branch_code=stored["branch_code"]))
    return (
        render_template(
            "update_form.html", incident=incident, branches=_branches_for_form(db), errors=errors, form=request.form, idempotency_key=secrets.token_hex(16)
        ),
        422 if errors else 200,
    )


class _MultiDict(dict):
    """read_form wants .get and .getlist; the update form has no list fields."""

    def getlist(self, name):
        return [self[name]] if name in self else []


@bp.get("/incidents/<int:incident_id>/reports")
@requires("incident.read")
def branch_reports(incident_id):
    db = get_db()
    incident = get_incident(db, incident_id)
    viewer = current_viewer()
    status = updates.reporting_status(db, incident, utcnow(), current_app.config, viewer) if incident["status"] in RESPONDING_INCIDENT_STATUSES else []
    latest = {u["branch_code"]: u for u in updates.latest_by_branch(db, incident_id, viewer)}
    return render_template("reports.html", incident=incident, status=status, latest=latest, province_names=regions.province_names(db, get_locale()))


@bp.get("/incidents/<int:incident_id>/branches/<branch_code>")
@requires("incident.read")
def branch_timeline(incident_id, branch_code):
    db = get_db()
    incident = get_incident(db, incident_id)
    branch, rows = updates.timeline(db, incident_id, branch_code, current_viewer())
    return render_template("timeline.html", incident=incident, branch=branch, updates=rows)


@bp.post("/updates/<int:update_id>/handled")
@requires("request.handle")
def request_handled(update_id):
    """Mark a branch's request handled, then back to the board where it was (its panel)."""
    db = get_db()
    try:
        with publishing(db) as outbox:
            row = branch_requests.mark_handled(db, update_id, current_caller(), outbox)
    except ConsoleError as exc:
        if exc.status == 404:
            raise
        flash(exc.message)
        incident_id = request.form.get("incident_id", type=int)
        return redirect(url_for("board.team_board", incident_id=incident_id, _anchor="requests") if incident_id else url_for("incidents.list_incidents"))
    flash(_("Request marked handled."))
    return redirect(url_for("board.team_board", incident_id=row["incident_id"], _anchor="requests"))


@bp.get("/alerts")
@requires("incident.read")
def alert_list():
    rows = alerts.list_alerts(get_db(), current_viewer(), request.args.get("incident_id", type=int), limit=200)
    for row in rows:
        row["complainant_ids"] = json.loads(row["data"]).get("complainant_ids", [])
    return render_template("alerts.html", alerts=rows, levels=alerts.level_labels())


@bp.post("/alerts/<int:alert_id>/ack")
@requires("alert.ack")
def acknowledge(alert_id):
    alerts.acknowledge(get_db(), alert_id, current_caller())
    flash(_("Alert acknowledged."))
    return redirect(request.referrer or url_for("reports.alert_list"))


@bp.route("/complaints/import", methods=["GET", "POST"])
@requires("intake.write")
def import_complaints():
    """Ordinary complaints from a CSV export: all rows or none, every problem listed."""
    if request.method == "GET":
        return render_template("complaints_import.html", report=None, columns=INTAKE_COLUMNS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("complaints_import.html", report=None, columns=INTAKE_COLUMNS, error=_("Choose a CSV or Excel file.")), 400
    try:
        raw = upload.read()
        report = intake_formats.check(import_formats.upload_text(upload.filename, raw), current_app.config["TIMEZONE"], current_app.config["MAX_BULK"])
        if report["ok"]:
            ids = intake.add_complaints(get_db(), report["items"], current_actor(), utcnow(), current_app.config)
            flash(_("%(n)s complaints received.", n=len(ids)))
            return redirect(url_for("reports.import_complaints"))
    except ConsoleError as exc:
        return render_template("complaints_import.html", report=None, columns=INTAKE_COLUMNS, error=exc.message, details=exc.details), exc.status
    return render_template("complaints_import.html", report=report, columns=INTAKE_COLUMNS), 422


@bp.get("/complaints/import/template.<any(csv, xlsx):kind>")
@requires("intake.write")
def complaints_template(kind):
    """The intake file to fill: header and an example row; the XLSX lists the allowed values too."""
    content = intake_formats.template_csv() if kind == "csv" else intake_formats.template_xlsx(get_db())
    return attachment(content, "complaints-template", kind)


INTAKE_COLUMNS = intake_formats.COLUMNS


@bp.get("/monitors")
@requires("monitor.read")
def monitor_health():
    from monitors import MONITORS

    from ..monitor_health import health

    states = {"ok": _("running normally"), "failed": _("failed"), "running": _("running now"), "never": _("not run yet")}
    return render_template(
        "monitors.html", health=health(get_db(), MONITORS, utcnow()), monitor_states=states, cause_forecasts=forecast.cause_outlooks(get_db(), utcnow())
    )


@bp.post("/monitors/quarantine/<int:complaint_id>/release")
@requires("monitor.write")
def release_complaint(complaint_id):
    intake.release(get_db(), complaint_id, current_actor(), utcnow())
    flash(_("The complaint is back in line: the surge monitor tries it again at its next run."))
    return redirect(url_for("reports.monitor_health"))
