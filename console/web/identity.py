"""A complainant's history across channels, possible matches and merges, on
the complainant page (templates/_complainant_history.html)."""

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from .. import complainants, complaints, merges, schemas
from ..auth import current_caller, current_viewer, requires
from ..db import get_db
from ..errors import ConsoleError
from ..live import publishing
from .forms import read_form

bp = Blueprint("identity", __name__)


@bp.app_template_global()
def person_identity(complainant_id):
    """What the complainant page shows of a person across channels: their
    history (newest first, complaints by channel), other incidents knowing
    them, possible matches, and merges into them."""
    db = get_db()
    viewer = current_viewer()
    channel = request.args.get("channel") or None
    story = complaints.history(db, complainant_id, viewer)
    entries = story["entries"]
    if channel:
        entries = [e for e in entries if (e["channel"] or "unknown") == channel]
    return {**merges.matches(db, complainant_id, viewer), "history": entries, "by_channel": story["by_channel"], "channel": channel}


def _back(complainant_id, message=None, error=False):
    if message:
        flash(message, "error" if error else "message")
    return redirect(url_for("complainants.show_complainant", complainant_id=complainant_id) + "#history")


def _problem(exc):
    details = exc.details if isinstance(exc.details, list) else []
    return "; ".join(f"{p['field']}: {p['message']}" for p in details) or exc.message


def _read(complainant_id, schema):
    """A complainant page action's form: 404 outside the viewer's scope, then
    (data, None), or (None, the page again with what is wrong)."""
    complainants.get_complainant(get_db(), complainant_id, current_viewer())
    data, errors = read_form(schema, request.form)
    if errors:
        return None, _back(complainant_id, "; ".join(f"{k}: {v}" for k, v in errors.items()), error=True)
    return data, None


@bp.post("/complainants/<int:complainant_id>/complaints")
@requires("complainant.write")
def add_complaint(complainant_id):
    data, refused = _read(complainant_id, schemas.ArrivalIn)
    if refused:
        return refused
    db = get_db()
    try:
        with publishing(db) as outbox:
            complaints.add_complaint(db, complainant_id, data, current_caller(), current_app.config, outbox)
    except ConsoleError as exc:
        if exc.status == 404:
            raise
        return _back(complainant_id, _problem(exc), error=True)
    return _back(complainant_id, _("Complaint recorded."))


@bp.post("/complainants/<int:complainant_id>/merge")
@requires("complainant.merge")
def merge(complainant_id):
    data, refused = _read(complainant_id, schemas.MergeIn)
    if refused:
        return refused
    db = get_db()
    try:
        with publishing(db) as outbox:
            merges.merge(db, complainant_id, data.other_id, data.reason, current_caller(), current_app.config, outbox)
    except ConsoleError as exc:
        return _back(complainant_id, _problem(exc), error=True)
    return _back(complainant_id, _("Merged: every complaint, contact and deadline of complainant %(id)s is now here.", id=data.other_id))


@bp.post("/complainants/<int:complainant_id>/not-same")
@requires("complainant.merge")
def not_same(complainant_id):
    data, refused = _read(complainant_id, schemas.NotSameIn)
    if refused:
        return refused
    try:
        merges.not_same(get_db(), complainant_id, data.other_id, current_caller())
    except ConsoleError as exc:
        return _back(complainant_id, _problem(exc), error=True)
    return _back(complainant_id, _("Marked as a different person."))


@bp.post("/merges/<int:merge_id>/undo")
@requires("complainant.merge")
def undo(merge_id):
    db = get_db()
    with publishing(db) as outbox:
        record = merges.unmerge(db, merge_id, current_caller(), outbox)
    return _back(record["kept_id"], _("Merge undone: both complainants are as they were."))
