"""Incidents and complainant groups over JSON."""

from flask import current_app

from .. import groups, incidents, schemas
from ..auth import current_actor, current_viewer
from ..clock import utcnow
from ..db import get_db
from ..live import publishing
from . import operation


def _incident(incident_id, **_path):
    incidents.get_incident(get_db(), incident_id)


def _group(group_id):
    groups.get_group(get_db(), group_id)


@operation("/incidents", "GET", "incident.read", "List incidents", response=schemas.IncidentList, tag="incidents")
def list_incidents():
    return {"incidents": incidents.list_incidents(get_db())}


@operation("/incidents", "POST", "incident.write", "Open an incident", body=schemas.IncidentIn, response=schemas.Incident, status=201, tag="incidents")
def create_incident(body):
    db = get_db()
    with publishing(db) as outbox:
        incident_id = incidents.create_incident(db, body, current_actor(), utcnow(), outbox, settings=current_app.config)
    return incidents.get_incident(db, incident_id)


@operation("/incidents/<int:incident_id>", "GET", "incident.read", "Read an incident", response=schemas.Incident, tag="incidents", visible=_incident)
def get_incident(incident_id):
    return incidents.get_incident(get_db(), incident_id)


@operation(
    "/incidents/<int:incident_id>",
    "PATCH",
    "incident.write",
    "Edit an incident",
    body=schemas.IncidentUpdate,
    response=schemas.Incident,
    tag="incidents",
    visible=_incident,
)
def update_incident(incident_id, body):
    db = get_db()
    with publishing(db) as outbox:
        return incidents.update_incident(db, incident_id, body, current_actor(), utcnow(), outbox)


@operation(
    "/incidents/<int:incident_id>/status",
    "POST",
    "incident.status",
    "Activate, stand down, dismiss or close an incident",
    body=schemas.IncidentStatusChange,
    response=schemas.Incident,
    tag="incidents",
    visible=_incident,
)
def change_incident_status(incident_id, body):
    db = get_db()
    with publishing(db) as outbox:
        incident = incidents.change_status(
            db, incident_id, body.status, body.reason, current_actor(), utcnow(), outbox, settings=current_app.config, playbook_changes=body.playbook_changes
        )
    return incident


@operation(
    "/incidents/<int:incident_id>/counts",
    "GET",
    "incident.read",
    "Complainants counted by group, province and status (inside the caller's scope)",
    response=schemas.Counts,
    tag="incidents",
    visible=_incident,
)
def incident_counts(incident_id):
    db = get_db()
    incidents.get_incident(db, incident_id)
    return {"counts": incidents.counts(db, incident_id, current_viewer())}


@operation(
    "/incidents/<int:incident_id>/groups",
    "GET",
    "incident.read",
    "List an incident's complainant groups",
    response=schemas.GroupList,
    tag="groups",
    visible=_incident,
)
def list_groups(incident_id):
    db = get_db()
    return {"groups": groups.for_viewer(db, current_viewer(), groups.list_groups(db, incident_id))}


@operation(
    "/incidents/<int:incident_id>/groups",
    "POST",
    "group.write",
    "Add a complainant group",
    body=schemas.GroupIn,
    response=schemas.Group,
    status=201,
    tag="groups",
    visible=_incident,
)
def create_group(incident_id, body):
    db = get_db()
    with publishing(db) as outbox:
        group_id = groups.create_group(db, incident_id, body, current_actor(), utcnow(), current_app.config["MAX_REPRESENTATIVES"], outbox)
    return groups.get_group(db, group_id)


@operation("/groups/<int:group_id>", "GET", "incident.read", "Read a complainant group", response=schemas.Group, tag="groups", visible=_group)
def get_group(group_id):
    db = get_db()
    return groups.for_viewer(db, current_viewer(), [groups.get_group(db, group_id)])[0]


@operation(
    "/groups/<int:group_id>",
    "PATCH",
    "group.write",
    "Edit a group: name, handling line, representatives (at most 5)",
    body=schemas.GroupUpdate,
    response=schemas.Group,
    tag="groups",
    visible=_group,
)
def update_group(group_id, body):
    db = get_db()
    with publishing(db) as outbox:
        return groups.update_group(db, group_id, body, current_actor(), utcnow(), current_app.config["MAX_REPRESENTATIVES"], outbox)
