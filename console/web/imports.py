"""CSV import of complainants: upload, preview with a per-row report, confirm.

A file with any bad row writes nothing. The checked file waits in the instance
folder until the same user confirms it; it is checked again on confirm.
"""

import os
import re
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import csv_import, import_formats, incidents
from ..auth import current_caller, current_viewer, requires
from ..db import get_db
from ..errors import Invalid
from ..live import publishing
from .downloads import attachment

bp = Blueprint("imports", __name__)


def _pending_path(token):
    if not re.fullmatch(r"[0-9a-f]{32}", token):
        abort(404)
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{current_user.id}-{token}.csv")


def _check(db, incident_id, text):
    return csv_import.check(db, incident_id, text, current_viewer(), current_app.config["TIMEZONE"], current_app.config["MAX_BULK"])


@bp.route("/incidents/<int:incident_id>/import", methods=["GET", "POST"])
@requires("complainant.write")
def upload(incident_id):
    db = get_db()
    incident = incidents.get_incident(db, incident_id)
    if request.method == "GET":
        return render_template("import.html", incident=incident, report=None, token=None, columns=csv_import.COLUMNS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template(
            "import.html", incident=incident, report=None, token=None, columns=csv_import.COLUMNS, error=_("Choose a CSV or Excel file.")
        ), 400
    try:
        raw = upload.read()
        text = import_formats.upload_text(upload.filename, raw)
        report = _check(db, incident_id, text)
    except Invalid as exc:
        return render_template("import.html", incident=incident, report=None, token=None, columns=csv_import.COLUMNS, error=exc.message), 422
    token = None
    if report["ok"]:
        token = secrets.token_hex(16)
        with open(_pending_path(token), "w", encoding="utf-8") as f:
            f.write(text)
    return render_template("import.html", incident=incident, report=report, token=token, columns=csv_import.COLUMNS), (200 if report["ok"] else 422)


@bp.get("/incidents/<int:incident_id>/import/template.<any(csv, xlsx):kind>")
@requires("complainant.write")
def template(incident_id, kind):
    """The file to fill: the header row and an example; the XLSX lists the allowed values too."""
    db = get_db()
    incidents.get_incident(db, incident_id)
    content = import_formats.template_csv(csv_import.COLUMNS) if kind == "csv" else import_formats.template_xlsx(db, csv_import.COLUMNS)
    return attachment(content, "complainants-template", kind)


@bp.post("/incidents/<int:incident_id>/import/<token>")
@requires("complainant.write")
def confirm(incident_id, token):
    db = get_db()
    incidents.get_incident(db, incident_id)
    path = _pending_path(token)
    if not os.path.exists(path):
        raise Invalid(_("This import was already done or has expired; upload the file again."))
    with open(path, encoding="utf-8") as f:
        report = _check(db, incident_id, f.read())
    with publishing(db) as outbox:
        ids = csv_import.commit(db, incident_id, report, current_caller(), current_app.config, outbox)
    os.remove(path)
    flash(_("%(n)s complainants imported.", n=len(ids)))
    return redirect(url_for("complainants.list_complainants", incident_id=incident_id))
