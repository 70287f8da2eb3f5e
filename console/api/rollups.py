"""Daily roll-ups over JSON."""

from flask import current_app
from flask_login import current_user

from .. import rollups, schemas
from ..auth import current_actor, current_viewer
from ..clock import utcnow
from ..db import get_db
from ..incidents import get_incident
from ..live import publishing
from . import operation


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


def _rollup(rollup_id, **_path):
    rollups.get(get_db(), rollup_id)


@operation(
    "/incidents/<int:incident_id>/rollups",
    "GET",
    "rollup.read",
    "The incident's roll-ups, newest first (without their numbers)",
    response=schemas.RollupList,
    tag="rollups",
    visible=_incident,
)
def list_rollups(incident_id):
    return {"rollups": [rollups.public(r, with_content=False) for r in rollups.list_rollups(get_db(), incident_id)]}


@operation(
    "/incidents/<int:incident_id>/rollups",
    "POST",
    "rollup.write",
    "Make a roll-up now (a draft, numbers as of now)",
    status=201,
    response=schemas.Rollup,
    tag="rollups",
    visible=_incident,
)
def make_rollup(incident_id):
    db = get_db()
    now = utcnow()
    with publishing(db) as outbox:
        rollup_id = rollups.make(db, incident_id, now, now, current_app.config, current_user.row["username"], current_actor(), outbox=outbox)
    return rollups.public(rollups.get(db, rollup_id))


@operation(
    "/rollups/<int:rollup_id>", "GET", "rollup.read", "A roll-up with the numbers it was made with", response=schemas.Rollup, tag="rollups", visible=_rollup
)
def get_rollup(rollup_id):
    return rollups.public(rollups.for_viewer(rollups.get(get_db(), rollup_id), current_viewer(), current_app.config))


@operation(
    "/rollups/<int:rollup_id>",
    "PATCH",
    "rollup.write",
    "The lead's summary, outlook and needs (drafts only)",
    body=schemas.RollupText,
    response=schemas.Rollup,
    tag="rollups",
    visible=_rollup,
)
def edit_rollup(rollup_id, body):
    return rollups.public(rollups.edit_text(get_db(), rollup_id, body.summary, body.outlook, body.needs, current_actor(), utcnow()))


@operation(
    "/rollups/<int:rollup_id>/approve", "POST", "rollup.write", "The crisis lead approves a draft", response=schemas.Rollup, tag="rollups", visible=_rollup
)
def approve_rollup(rollup_id):
    return rollups.public(rollups.approve(get_db(), rollup_id, current_actor(), utcnow()))


@operation(
    "/rollups/<int:rollup_id>/issue",
    "POST",
    "rollup.write",
    "Issue an approved roll-up: final from then on",
    response=schemas.Rollup,
    tag="rollups",
    visible=_rollup,
)
def issue_rollup(rollup_id):
    db = get_db()
    with publishing(db) as outbox:
        return rollups.public(rollups.issue(db, rollup_id, current_actor(), utcnow(), outbox))


@operation(
    "/rollups/<int:rollup_id>/corrections",
    "POST",
    "rollup.write",
    "A correction: a new roll-up of the same period pointing at this one",
    body=schemas.RollupCorrection,
    status=201,
    response=schemas.Rollup,
    tag="rollups",
    visible=_rollup,
)
def correct_rollup(rollup_id, body):
    db = get_db()
    row = rollups.get(db, rollup_id)
    now = utcnow()
    with publishing(db) as outbox:
        new_id = rollups.make(
            db, row["incident_id"], now, now, current_app.config, current_user.row["username"], current_actor(), corrects_id=rollup_id, outbox=outbox
        )
        rollups.edit_text(db, new_id, body.reason, "", "", current_actor(), now)
    return rollups.public(rollups.get(db, new_id))
