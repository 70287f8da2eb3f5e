"""Pages for going live: the organisation directory, users in bulk, the cause
catalogue, and complainants changed in bulk. Each import is: upload, preview
with a per-row report, confirm (the file is checked again), all or nothing.

The checked file waits in the instance folder until the same user confirms it.
"""

import os
import re
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import bulk_update, catalogue, incidents, org, tabular, user_import
from ..auth import current_actor, current_caller, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError, Invalid
from ..live import publishing
from .downloads import attachment

bp = Blueprint("golive", __name__)


def _pending_path(kind, token, ext=None):
    if not re.fullmatch(r"[0-9a-f]{32}", token):
        abort(404)
    folder = os.path.join(current_app.instance_path, "imports")
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f"{current_user.id}-{kind}-{token}")
    if ext is None:
        for candidate in (".csv", ".xlsx"):
            if os.path.exists(stem + candidate):
                return stem + candidate
        return stem + ".csv"
    return stem + ext


def _keep(kind, filename, content):
    token = secrets.token_hex(16)
    ext = ".xlsx" if content.startswith(b"PK") else ".csv"
    with open(_pending_path(kind, token, ext), "wb") as f:
        f.write(content)
    return token


def _take(kind, token):
    path = _pending_path(kind, token)
    if not os.path.exists(path):
        raise Invalid(_("This import was already done or has expired; upload the file again."))
    with open(path, "rb") as f:
        return path, f.read()


def _upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Choose a CSV or Excel (.xlsx) file."))
    return upload.filename, upload.read()


def _page(template_kind, *, title, check, confirm_endpoint, back, allowed, template_endpoint, view_args=None, extra=None):
    """The upload / preview page shared by every import."""
    view_args = view_args or {}
    context = dict(
        title=title,
        allowed=allowed,
        report=None,
        token=None,
        error=None,
        back=back,
        confirm_url=None,
        upload_url=url_for(request.endpoint, **view_args),
        template_urls=[(k.upper(), url_for(template_endpoint, kind=k, **view_args)) for k in ("csv", "xlsx")],
        **(extra or {}),
    )
    if request.method == "GET":
        return render_template("bulk_import.html", **context)
    try:
        filename, content = _upload()
        header, rows = tabular.read_table(filename, content)
        report = check(header, rows)
    except ConsoleError as exc:
        context["error"] = exc.message
        return render_template("bulk_import.html", **context), exc.status
    report["columns"] = header
    context["report"] = report
    if report["ok"]:
        context["token"] = token = _keep(template_kind, filename, content)
        context["confirm_url"] = url_for(confirm_endpoint, token=token, **view_args)
    return render_template("bulk_import.html", **context), (200 if report["ok"] else 422)


def _template(columns, rows, allowed, stem, kind):
    if kind == "xlsx":
        return attachment(tabular.template_xlsx(columns, rows, allowed), stem, "xlsx")
    return attachment(tabular.template_csv(columns, rows, allowed).encode("utf-8"), stem, "csv")


# --- the directory ---------------------------------------------------------


@bp.route("/admin/org")
@requires("org.read")
def directory():
    db = get_db()
    return render_template("directory.html", units=org.directory(db), may_write=current_user.viewer.may("org.write"))


@bp.route("/admin/org/import", methods=["GET", "POST"])
@requires("org.write")
def org_import():
    db = get_db()
    return _page(
        "org",
        title=_("Import the organisation directory"),
        check=lambda h, r: org.check(db, h, r),
        confirm_endpoint="golive.org_confirm",
        back=url_for("golive.directory"),
        allowed=org.allowed_values(db),
        template_endpoint="golive.org_template",
    )


@bp.post("/admin/org/import/<token>")
@requires("org.write")
def org_confirm(token):
    db = get_db()
    path, content = _take("org", token)
    counts = org.import_file(db, path, content, current_actor(), utcnow())["counts"]
    os.remove(path)
    flash(
        _(
            "Directory imported: %(new)s new, %(changed)s changed, %(same)s unchanged.",
            new=counts.get("new", 0),
            changed=counts.get("changed", 0),
            same=counts.get("unchanged", 0),
        )
    )
    return redirect(url_for("golive.directory"))


@bp.route("/admin/org/template.<any(csv, xlsx):kind>")
@requires("org.read")
def org_template(kind):
    return _template(org.COLUMNS, org.template_rows(), org.allowed_values(get_db()), "directory-template", kind)


@bp.post("/admin/org/outlets/<branch_code>/active")
@requires("org.write")
def outlet_active(branch_code):
    active = request.form.get("active") == "1"
    row = org.set_outlet_active(get_db(), branch_code, active, current_actor(), utcnow())
    flash(_("%(name)s is open again.", name=row["name"]) if active else _("%(name)s is closed (deactivated); its history is kept.", name=row["name"]))
    return redirect(url_for("golive.directory"))


# --- users ----------------------------------------------------------------


@bp.route("/admin/users/import", methods=["GET", "POST"])
@requires("user.import")
def users_import():
    db = get_db()
    return _page(
        "users",
        title=_("Import users"),
        check=lambda h, r: user_import.check(db, h, r),
        confirm_endpoint="golive.users_confirm",
        back=url_for("incidents.index"),
        allowed=user_import.allowed_values(),
        template_endpoint="golive.users_template",
    )


@bp.post("/admin/users/import/<token>")
@requires("user.import")
def users_confirm(token):
    db = get_db()
    path, content = _take("users", token)
    report, made = user_import.import_file(db, path, content, current_actor(), utcnow())
    os.remove(path)
    # Random passwords are shown this once (only their hashes are kept).
    return render_template("users_imported.html", made=made, count=len(made))


@bp.route("/admin/users/import/template.<any(csv, xlsx):kind>")
@requires("user.import")
def users_template(kind):
    return _template(user_import.COLUMNS, user_import.template_rows(), user_import.allowed_values(), "users-template", kind)


# --- causes and products ---------------------------------------------------


@bp.route("/admin/catalogue")
@requires("catalogue.write")
def catalogue_page():
    settings = current_app.config
    return render_template(
        "catalogue.html", entries=catalogue.entries(get_db(), settings), default_rule=catalogue.default_rule(settings), fields=list(catalogue.RULE_FIELDS)
    )


@bp.post("/admin/catalogue/entry")
@requires("catalogue.write")
def catalogue_save():
    form = request.form
    data = {"name": form.get("name", "")}
    data.update({f: form.get(f, "").strip() or None for f in catalogue.RULE_FIELDS})
    data["severity"] = form.get("severity", "").strip() or None
    try:
        catalogue.save_entry(get_db(), form.get("kind", ""), form.get("code", "").strip(), data, current_actor(), utcnow())
    except Invalid as exc:
        settings = current_app.config
        return render_template(
            "catalogue.html",
            entries=catalogue.entries(get_db(), settings),
            default_rule=catalogue.default_rule(settings),
            fields=list(catalogue.RULE_FIELDS),
            error=exc.message,
            details=exc.details,
        ), 422
    flash(_("Saved."))
    return redirect(url_for("golive.catalogue_page"))


@bp.route("/admin/catalogue/import", methods=["GET", "POST"])
@requires("catalogue.write")
def catalogue_import():
    db = get_db()
    return _page(
        "catalogue",
        title=_("Import causes and products"),
        check=lambda h, r: catalogue.check(db, h, r),
        confirm_endpoint="golive.catalogue_confirm",
        back=url_for("golive.catalogue_page"),
        allowed=catalogue.allowed_values(current_app.config),
        template_endpoint="golive.catalogue_template",
    )


@bp.post("/admin/catalogue/import/<token>")
@requires("catalogue.write")
def catalogue_confirm(token):
    db = get_db()
    path, content = _take("catalogue", token)
    catalogue.import_file(db, path, content, current_actor(), utcnow())
    os.remove(path)
    flash(_("Causes and products imported."))
    return redirect(url_for("golive.catalogue_page"))


@bp.route("/admin/catalogue/template.<any(csv, xlsx):kind>")
@requires("catalogue.write")
def catalogue_template(kind):
    settings = current_app.config
    return _template(catalogue.COLUMNS, catalogue.template_rows(settings), catalogue.allowed_values(settings), "catalogue-template", kind)


# --- complainants in bulk --------------------------------------------------


@bp.route("/incidents/<int:incident_id>/complainants/bulk-update", methods=["GET", "POST"])
@requires("complainant.write")
def bulk_page(incident_id):
    db = get_db()
    incident = incidents.get_incident(db, incident_id)

    def check(header, rows):
        # The preview runs every check of the real update and keeps nothing.
        content = _table_bytes(header, rows)
        return bulk_update.import_file(db, incident_id, "preview.csv", content, current_caller(), dry_run=True, settings=current_app.config)

    return _page(
        "bulk",
        title=_("Update complainants in bulk") + " · " + incident["title"],
        check=check,
        confirm_endpoint="golive.bulk_confirm",
        back=url_for("complainants.list_complainants", incident_id=incident_id),
        allowed=bulk_update.allowed_values(),
        template_endpoint="golive.bulk_template",
        view_args={"incident_id": incident_id},
    )


def _table_bytes(header, rows):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for _line, cells in rows:
        writer.writerow(cells)
    return out.getvalue().encode("utf-8")


@bp.post("/incidents/<int:incident_id>/complainants/bulk-update/<token>")
@requires("complainant.write")
def bulk_confirm(incident_id, token):
    db = get_db()
    incidents.get_incident(db, incident_id)
    path, content = _take("bulk", token)
    with publishing(db) as outbox:
        report = bulk_update.import_file(db, incident_id, path, content, current_caller(), outbox, settings=current_app.config)
    if "error" in report:
        raise report["error"]
    os.remove(path)
    flash(_("%(n)s complainants changed.", n=report["total"]))
    return redirect(url_for("complainants.list_complainants", incident_id=incident_id))


@bp.route("/incidents/<int:incident_id>/complainants/bulk-update/template.<any(csv, xlsx):kind>")
@requires("complainant.write")
def bulk_template(incident_id, kind):
    incidents.get_incident(get_db(), incident_id)
    return _template(bulk_update.COLUMNS, bulk_update.template_rows(), bulk_update.allowed_values(), "bulk-update-template", kind)
