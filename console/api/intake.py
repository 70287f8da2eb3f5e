"""Complaint intake, branch hourly updates and alerts over JSON."""

from flask import current_app, request
from flask_babel import gettext as _

from .. import alerts, idempotency, intake, masking, schemas, updates
from ..auth import current_actor, current_caller, current_viewer
from ..clock import utcnow
from ..db import get_db
from ..errors import Invalid
from ..incidents import get_incident
from ..live import publishing
from . import OneOrMany, operation


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


@operation(
    "/complaints",
    "POST",
    "intake.write",
    "Receive ordinary complaints from an existing complaint system (one object or an array)",
    body=OneOrMany(schemas.ComplaintIn),
    response=schemas.Created,
    status=201,
    tag="intake",
)
def receive_complaints(body):
    """The surge monitor reads these; see README 'The surge rule'."""
    items = body if isinstance(body, list) else [body]
    limit = current_app.config["MAX_BULK"]
    if not items or len(items) > limit:
        raise Invalid(_("Send between 1 and %(limit)s complaints in one call; %(n)s were sent.", limit=limit, n=len(items)))
    ids = intake.add_complaints(get_db(), items, current_actor(), utcnow(), current_app.config)
    return {"ids": ids, "count": len(ids)}


@operation(
    "/incidents/<int:incident_id>/updates",
    "POST",
    "update.write",
    "Post a branch's hourly update (send an Idempotency-Key header to make retries safe)",
    body=schemas.HourlyUpdateIn,
    status=201,
    response=schemas.PostedUpdate,
    tag="updates",
    visible=_incident,
    headers={
        "Idempotency-Key": (
            {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
            "Any printable text; a retry with the same key and body gets the first answer and stores nothing.",
        )
    },
)
def post_update(incident_id, body):
    """A retry with the same Idempotency-Key returns the first answer and stores nothing."""
    db = get_db()
    with publishing(db) as outbox:
        response, replayed = updates.post_update_once(
            db,
            incident_id,
            body,
            current_caller(),
            current_app.config,
            outbox,
            key=request.headers.get("Idempotency-Key"),
            route=request.path,
            body=request.get_data(),
        )
    # the composer is told when their text holds a phone or ID number (others read it masked)
    return {**response, "replayed": replayed, "personal_data_fields": masking.composer_warnings(body.model_dump(), masking.UPDATE_TEXT_FIELDS)}


@operation(
    "/incidents/<int:incident_id>/updates",
    "GET",
    "incident.read",
    "Each branch's latest update (inside the caller's scope)",
    response=schemas.LatestUpdates,
    tag="updates",
    visible=_incident,
)
def latest_updates(incident_id):
    viewer = current_viewer()
    return {
        "updates": [masking.update_for(viewer, updates.public_update(r, r["branch_name"])) for r in updates.latest_by_branch(get_db(), incident_id, viewer)]
    }


@operation(
    "/incidents/<int:incident_id>/branches/<branch_code>/updates",
    "GET",
    "incident.read",
    "A branch's update timeline, newest first",
    response=schemas.BranchTimeline,
    tag="updates",
    visible=_incident,
)
def branch_timeline(incident_id, branch_code):
    branch, rows = updates.timeline(get_db(), incident_id, branch_code, current_viewer())
    return {"branch": branch, "updates": rows}


@operation("/alerts", "GET", "incident.read", "Alerts the caller may see, newest first", query=schemas.AlertsQuery, response=schemas.AlertList, tag="alerts")
def list_alerts(query):
    rows = alerts.list_alerts(get_db(), current_viewer(), query.incident_id, query.per_page + 1, query.before_id, query.kind)
    more = len(rows) > query.per_page
    rows = rows[: query.per_page]
    return {"alerts": rows, "next_before_id": rows[-1]["id"] if more else None}


@operation("/alerts/<int:alert_id>/ack", "POST", "alert.ack", "Acknowledge an alert", response=schemas.Alert, tag="alerts")
def acknowledge_alert(alert_id):
    return alerts.acknowledge(get_db(), alert_id, current_caller())


@operation(
    "/monitors",
    "GET",
    "monitor.read",
    "Each monitor's last run, last success and failures, and the quarantined intake complaints",
    response=schemas.MonitorHealth,
    tag="monitors",
)
def monitor_health():
    from monitors import MONITORS

    from ..monitor_health import health

    return health(get_db(), MONITORS, utcnow())


@operation(
    "/complaints/<int:complaint_id>/release",
    "POST",
    "monitor.write",
    "Put a quarantined intake complaint back in line, after its branch, city or number was fixed",
    response=schemas.MonitorHealth,
    tag="monitors",
)
def release_complaint(complaint_id):
    from monitors import MONITORS

    from ..monitor_health import health

    intake.release(get_db(), complaint_id, current_actor(), utcnow())
    return health(get_db(), MONITORS, utcnow())
