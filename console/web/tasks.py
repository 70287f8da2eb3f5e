"""The playbook page: tasks by stream, referrals, documents, the agreed line."""

import io

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from .. import desk, documents, issuing, masking, referrals, schemas, tasks, users
from ..auth import current_actor, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError, pydantic_details, summary
from ..i18n import language_code
from ..incidents import get_incident
from ..live import publishing
from .forms import PERSONAL_NUMBER_WARNING, read_form

bp = Blueprint("tasks", __name__)


def _back(incident_id, anchor=None):
    """Back to the playbook page, at the place the action was taken (its anchor)."""
    return redirect(url_for("tasks.playbook_page", incident_id=incident_id, _anchor=anchor))


@bp.get("/incidents/<int:incident_id>/playbook")
@requires("incident.read")
def playbook_page(incident_id, errors=None, status=200):
    db = get_db()
    incident = get_incident(db, incident_id)
    task_list = tasks.for_viewer(db, current_viewer(), tasks.list_tasks(db, incident_id))
    for task in task_list:
        task["attachments"] = tasks.attachments(db, task["id"])
        task["blocked_by"] = tasks.blocking(db, task) if task["status"] == "open" else []
    from .. import playbooks

    book = playbooks.get(incident["playbook"]) if incident["playbook"] else None
    zh = language_code() == "zh_CN"
    stream_names = {k: (v.zh if zh else v.en) for k, v in book.streams.items()} if book else {}
    filters = {k: request.args.get(k, "") for k in ("stream", "status", "owner")}
    now = utcnow()
    arranged = desk.arrange_tasks(task_list, now, filters["stream"] or None, filters["status"] or None, filters["owner"] or None)
    return render_template(
        "playbook.html",
        incident=incident,
        tasks=task_list,
        book=book,
        now=now,
        desk=arranged,
        filters=filters,
        stream_names=stream_names,
        referrals=[masking.referral_for(current_viewer(), r) for r in referrals.list_referrals(db, incident_id)],
        documents=issuing.list_documents(db, incident_id),
        lines=referrals.lines(db, incident_id),
        errors=errors or {},
        users=users.active_users(db),
    ), status


def _task_incident(task_id):
    return tasks.get_task(get_db(), task_id)["incident_id"]


@bp.post("/tasks/<int:task_id>")
@requires("task.write")
def update_task(task_id):
    form = request.form.to_dict()
    raw = {}
    if "owner_user_id" in form:
        raw["owner_user_id"] = form["owner_user_id"] or None
    if "notes" in form:
        raw["notes"] = form["notes"]
    if "checklist_present" in form:
        raw["checklist_done"] = request.form.getlist("checklist_done")
    try:
        data = schemas.TaskUpdate.model_validate(raw)
    except ValidationError as exc:
        return playbook_page(_task_incident(task_id), {f"task.{task_id}": summary(pydantic_details(exc))}, 422)
    db = get_db()
    with publishing(db) as outbox:
        task = tasks.update(db, task_id, data, current_actor(), utcnow(), outbox)
    flash(_("Task saved."))
    if masking.composer_warnings(raw, masking.TASK_TEXT_FIELDS):
        flash(PERSONAL_NUMBER_WARNING(), "warning")
    return _back(task["incident_id"], f"task-{task_id}")


@bp.post("/tasks/<int:task_id>/complete")
@requires("task.write")
def complete_task(task_id):
    db = get_db()
    incident_id = _task_incident(task_id)
    try:
        with publishing(db) as outbox:
            tasks.complete(db, task_id, current_actor(), utcnow(), outbox)
    except ConsoleError as exc:
        return playbook_page(incident_id, {f"task.{task_id}": exc.message}, exc.status)
    flash(_("Task completed."))
    return _back(incident_id, f"task-{task_id}")


@bp.post("/tasks/<int:task_id>/attachments")
@requires("task.write")
def attach(task_id):
    upload = request.files.get("file")
    incident_id = _task_incident(task_id)
    if upload is None or not upload.filename:
        return playbook_page(incident_id, {f"task.{task_id}": _("Choose a file to attach.")}, 400)
    try:
        tasks.attach(get_db(), task_id, upload.filename, upload.read(), current_actor(), utcnow(), current_app.config["DOCUMENT_FOLDER"] + "/attachments")
    except ConsoleError as exc:
        return playbook_page(incident_id, {f"task.{task_id}": exc.message}, exc.status)
    flash(_("File attached."))
    return _back(incident_id, f"task-{task_id}")


@bp.get("/attachments/<int:attachment_id>")
@requires("task.write")
def download_attachment(attachment_id):
    attachment = tasks.get_attachment(get_db(), attachment_id)
    return send_file(attachment["stored_path"], download_name=attachment["filename"], as_attachment=True)


@bp.post("/incidents/<int:incident_id>/referrals")
@requires("referral.write")
def record_referral(incident_id):
    data, errors = read_form(schemas.ReferralIn, request.form)
    if errors:
        return playbook_page(incident_id, {f"referral.{k}": v for k, v in errors.items()}, 422)
    db = get_db()
    with publishing(db) as outbox:
        referrals.record_referral(db, incident_id, data, current_actor(), utcnow(), current_app.config, outbox, task_id=data.task_id)
    flash(_("Referral recorded."))
    return _back(incident_id, "referrals")


@bp.post("/referrals/<int:referral_id>/ack")
@requires("referral.write")
def acknowledge_referral(referral_id):
    db = get_db()
    with publishing(db) as outbox:
        row = referrals.acknowledge(db, referral_id, request.form.get("acknowledged_by_name", ""), current_actor(), utcnow(), outbox)
    flash(_("Acknowledgement recorded."))
    return _back(row["incident_id"], "referrals")


@bp.post("/incidents/<int:incident_id>/documents")
@requires("document.issue")
def issue_document(incident_id):
    data, errors = read_form(schemas.DocumentIssue, request.form)
    if not errors:
        db = get_db()
        try:
            with publishing(db) as outbox:
                issuing.issue(db, incident_id, data, current_actor(), utcnow(), current_app.config, outbox)
        except ConsoleError as exc:
            errors = {"document": exc.message}
    if errors:
        return playbook_page(incident_id, {f"document.{k}" if not k.startswith("document") else k: v for k, v in errors.items()}, 422)
    flash(_("Document issued and kept as issued."))
    return _back(incident_id, "documents")


@bp.get("/documents/<int:document_id>")
@requires("document.read")
def download_document(document_id):
    row, content = documents.read_issued(get_db(), document_id, current_app.config["DOCUMENT_FOLDER"], issuing.audience_for(current_viewer()))
    return send_file(io.BytesIO(content), mimetype=row["content_type"], download_name=row["filename"], as_attachment=True)


@bp.post("/incidents/<int:incident_id>/agreed-lines")
@requires("line.draft")
def draft_line(incident_id):
    try:
        referrals.draft_line(get_db(), incident_id, request.form.get("text", ""), current_actor(), utcnow())
    except ConsoleError as exc:
        return playbook_page(incident_id, {"line": exc.message}, exc.status)
    flash(_("Draft saved: legal must approve it before it is used."))
    return _back(incident_id, "agreed-line")


@bp.post("/agreed-lines/<int:line_id>/approve")
@requires("line.approve")
def approve_line(line_id):
    row = referrals.approve_line(get_db(), line_id, current_actor(), utcnow())
    flash(_("Agreed line approved."))
    return _back(row["incident_id"], "agreed-line")
