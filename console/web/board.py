"""The live board pages: the crisis-team board and the wall board for executives.

Both load a snapshot over Socket.IO and apply the events of their room.
"""

import csv

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import alerts, events, org, regions, vocabulary
from ..auth import requires
from ..db import get_db
from ..i18n import language_code
from ..incidents import get_incident
from ..migrations import DATA
from ..status import FUNNEL

bp = Blueprint("board", __name__)

SIDE_STATES = ["withdrawn", "unreachable", "escalated"]


def _province_grid():
    with open(DATA / "province_grid.csv", newline="", encoding="utf-8") as f:
        return [{"code": r["code"], "row": int(r["row"]), "col": int(r["col"])} for r in csv.DictReader(f)]


def _page(template, incident_id):
    db = get_db()
    incident = get_incident(db, incident_id)
    config = {
        "incident_id": incident_id,
        "aggregate_only": current_user.role == "executive",
        "drill_url": url_for("complainants.list_complainants", incident_id=incident_id) if current_user.viewer.may("complainant.read") else None,
        "complainant_url": url_for("complainants.show_complainant", complainant_id=0).rsplit("/0", 1)[0]
        if current_user.viewer.may("complainant.read")
        else None,
        "events": sorted(events.EVENTS),
        "funnel": FUNNEL,
        "side_states": SIDE_STATES,
        "statuses": {k: str(v) for k, v in vocabulary.COMPLAINANT_STATUSES.items()},
        "colours": vocabulary.STATUS_COLOURS,
        "timezone": current_app.config["TIMEZONE"],
        "channels": {k: str(v) for k, v in vocabulary.ESCALATION_CHANNELS.items()},
        "incident_statuses": {k: str(v) for k, v in vocabulary.INCIDENT_STATUSES.items()},
        "provinces": regions.province_names(db, get_locale()),
        "places": org.names(db, get_locale()),  # outlet and unit names for codes (console/org.py)
        "grid": _province_grid(),
        "locale": language_code(),
        # outlets by name, not code (the overdue lists)
        "branch_names": {b["code"]: b["name"] for b in regions.branches(db)},
        "moods": {k: str(v) for k, v in vocabulary.MOODS.items()},
        "alert_levels": alerts.level_labels(),
        "rollup_statuses": {k: str(v) for k, v in vocabulary.ROLLUP_STATUSES.items()},
        # a branch contact's own outlet first; the requests panel's button for the crisis team
        "scope_kind": current_user.viewer.scope_kind,
        "scope_code": current_user.viewer.scope_code,
        "handle_url": url_for("reports.request_handled", update_id=0) if current_user.viewer.may("request.handle") else None,
        "csrf_token": generate_csrf() if current_user.viewer.may("request.handle") else None,
        "update_url": url_for("reports.new_update", incident_id=incident_id) if current_user.viewer.may("update.write") else None,
    }
    return render_template(template, incident=incident, board=config)


@bp.get("/incidents/<int:incident_id>/board")
@requires("incident.read")
def team_board(incident_id):
    if current_user.role == "executive":
        return redirect(url_for("board.wall_board", incident_id=incident_id))
    return _page("board.html", incident_id)


@bp.get("/incidents/<int:incident_id>/wall")
@requires("incident.read")
def wall_board(incident_id):
    return _page("wall.html", incident_id)
