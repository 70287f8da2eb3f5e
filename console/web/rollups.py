"""Daily roll-ups: the list with trends, a page per roll-up (print-ready), the
lead's text, approval and issue, corrections, and CSV / XLSX / PDF exports."""

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import groups, regions, rollup_exports, rollups
from ..auth import current_actor, current_viewer, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError
from ..incidents import get_incident
from ..live import publishing
from .downloads import attachment

bp = Blueprint("rollups", __name__)


def _names(db, incident_id):
    return {
        "group_names": groups.names(db, incident_id),
        "province_names": regions.province_names(db, get_locale()),
        "tz": current_app.config["TIMEZONE"],
    }


def trend(rows):
    """Points for the trend chart, oldest first: complainants, new, settled to date, escalated
    (scheduled roll-ups only: corrections and on-demand ones cover other periods)."""
    points = []
    for r in sorted(rows, key=lambda r: r["number"]):
        if r["corrects_id"] or r["prepared_by"] != "monitor":
            continue  # the trend is of the scheduled, comparable periods
        c = json.loads(r["content"])
        points.append(
            {
                "number": r["number"],
                "period_end": r["period_end"],
                "complainants": c["totals"]["complainants"],
                "new": c["new_in_period"],
                "settled": c["settled"]["to_date"],
                "escalated": c["totals"]["by_status"].get("escalated", 0),
            }
        )
    return points


@bp.get("/incidents/<int:incident_id>/rollups")
@requires("rollup.read")
def list_page(incident_id):
    db = get_db()
    incident = get_incident(db, incident_id)
    rows = rollups.list_rollups(db, incident_id)
    return render_template("rollups.html", incident=incident, rollups=rows, points=trend(rows))


@bp.post("/incidents/<int:incident_id>/rollups")
@requires("rollup.write")
def make_now(incident_id):
    db = get_db()
    now = utcnow()
    with publishing(db) as outbox:
        rollup_id = rollups.make(db, incident_id, now, now, current_app.config, current_user.row["username"], current_actor(), outbox=outbox)
    flash(_("Roll-up drafted: add your summary, then approve and issue it."))
    return redirect(url_for("rollups.page", rollup_id=rollup_id))


@bp.get("/rollups/<int:rollup_id>")
@requires("rollup.read")
def page(rollup_id, error=None, status=200):
    db = get_db()
    row = rollups.for_viewer(rollups.get(db, rollup_id), current_viewer(), current_app.config)
    incident = get_incident(db, row["incident_id"])
    table = rollup_exports.rows(row, **_names(db, row["incident_id"]))
    return render_template(
        "rollup.html",
        rollup=row,
        incident=incident,
        rows=table,
        sections=rollup_exports.sections(table),
        summary_sections=rollup_exports.SUMMARY_SECTIONS,
        amount_section=rollup_exports.AMOUNT_SECTION,
        shown=rollup_exports.shown,
        corrects=rollups.get(db, row["corrects_id"]) if row["corrects_id"] else None,
        corrections=rollups.corrections(db, rollup_id),
        error=error,
    ), status


@bp.post("/rollups/<int:rollup_id>/text")
@requires("rollup.write")
def edit_text(rollup_id):
    form = request.form
    try:
        rollups.edit_text(
            get_db(), rollup_id, form.get("summary", "")[:5000], form.get("outlook", "")[:5000], form.get("needs", "")[:5000], current_actor(), utcnow()
        )
    except ConsoleError as exc:
        return page(rollup_id, exc.message, exc.status)
    flash(_("Roll-up text saved."))
    return redirect(url_for("rollups.page", rollup_id=rollup_id))


@bp.post("/rollups/<int:rollup_id>/approve")
@requires("rollup.write")
def approve(rollup_id):
    try:
        rollups.approve(get_db(), rollup_id, current_actor(), utcnow())
    except ConsoleError as exc:
        return page(rollup_id, exc.message, exc.status)
    return redirect(url_for("rollups.page", rollup_id=rollup_id))


@bp.post("/rollups/<int:rollup_id>/issue")
@requires("rollup.write")
def issue(rollup_id):
    db = get_db()
    try:
        with publishing(db) as outbox:
            rollups.issue(db, rollup_id, current_actor(), utcnow(), outbox)
    except ConsoleError as exc:
        return page(rollup_id, exc.message, exc.status)
    flash(_("Roll-up issued: it is final."))
    return redirect(url_for("rollups.page", rollup_id=rollup_id))


@bp.post("/rollups/<int:rollup_id>/correct")
@requires("rollup.write")
def correct(rollup_id):
    db = get_db()
    row = rollups.get(db, rollup_id)
    now = utcnow()
    with publishing(db) as outbox:
        new_id = rollups.make(
            db, row["incident_id"], now, now, current_app.config, current_user.row["username"], current_actor(), corrects_id=rollup_id, outbox=outbox
        )
    flash(_("Correction drafted: it points at roll-up %(n)s.", n=row["number"]))
    return redirect(url_for("rollups.page", rollup_id=new_id))


def _download(rollup_id, kind):
    db = get_db()
    row = rollups.for_viewer(rollups.get(db, rollup_id), current_viewer(), current_app.config)
    names = _names(db, row["incident_id"])
    stem = f"rollup-{row['incident_id']}-{row['number']}"
    if kind == "csv":
        return attachment(rollup_exports.to_csv(row, **names), stem, kind)
    if kind == "xlsx":
        return attachment(rollup_exports.to_xlsx(row, **names), stem, kind)
    names.pop("tz")
    return attachment(rollup_exports.to_pdf(row, get_incident(db, row["incident_id"]), current_app.config, **names), stem, kind)


@bp.get("/rollups/<int:rollup_id>.csv")
@requires("rollup.read")
def export_csv(rollup_id):
    return _download(rollup_id, "csv")


@bp.get("/rollups/<int:rollup_id>.xlsx")
@requires("rollup.read")
def export_xlsx(rollup_id):
    return _download(rollup_id, "xlsx")


@bp.get("/rollups/<int:rollup_id>.pdf")
@requires("rollup.read")
def export_pdf(rollup_id):
    return _download(rollup_id, "pdf")
