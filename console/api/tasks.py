"""Playbook tasks, referrals to outside parties, issued documents and the agreed line over JSON."""

from flask import current_app

from .. import issuing, masking, referrals, schemas, tasks
from ..auth import current_actor, current_viewer
from ..clock import utcnow
from ..db import get_db
from ..incidents import get_incident
from ..live import publishing
from . import operation


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


def _task(task_id, **_path):
    tasks.get_task(get_db(), task_id)


@operation(
    "/incidents/<int:incident_id>/tasks",
    "GET",
    "incident.read",
    "The incident's playbook tasks, open first by due time",
    response=schemas.TaskList,
    tag="tasks",
    visible=_incident,
)
def list_tasks(incident_id):
    db = get_db()
    return {"tasks": tasks.for_viewer(db, current_viewer(), tasks.list_tasks(db, incident_id))}


@operation(
    "/tasks/<int:task_id>",
    "PATCH",
    "task.write",
    "Name a task's owner, write notes, tick checklist items",
    body=schemas.TaskUpdate,
    response=schemas.UpdatedTask,
    tag="tasks",
    visible=_task,
)
def update_task(task_id, body):
    db = get_db()
    with publishing(db) as outbox:
        task = tasks.update(db, task_id, body, current_actor(), utcnow(), outbox)
    return {**task, "personal_data_fields": masking.composer_warnings(body.model_dump(exclude_unset=True), masking.TASK_TEXT_FIELDS)}


@operation(
    "/tasks/<int:task_id>/complete",
    "POST",
    "task.write",
    "Complete a task (refused while a task it depends on is open)",
    response=schemas.Task,
    tag="tasks",
    visible=_task,
)
def complete_task(task_id):
    db = get_db()
    with publishing(db) as outbox:
        return tasks.complete(db, task_id, current_actor(), utcnow(), outbox)


@operation(
    "/incidents/<int:incident_id>/referrals",
    "GET",
    "incident.read",
    "What was sent to outside parties, and their acknowledgements",
    response=schemas.ReferralList,
    tag="referrals",
    visible=_incident,
)
def list_referrals(incident_id):
    viewer = current_viewer()
    return {"referrals": [masking.referral_for(viewer, r) for r in referrals.list_referrals(get_db(), incident_id)]}


@operation(
    "/incidents/<int:incident_id>/referrals",
    "POST",
    "referral.write",
    "Record something sent to an outside party",
    body=schemas.ReferralIn,
    status=201,
    response=schemas.Referral,
    tag="referrals",
    visible=_incident,
)
def create_referral(incident_id, body):
    db = get_db()
    with publishing(db) as outbox:
        referral_id = referrals.record_referral(db, incident_id, body, current_actor(), utcnow(), current_app.config, outbox, task_id=body.task_id)
    return dict(db["referral"].get(referral_id))


@operation(
    "/referrals/<int:referral_id>/ack",
    "POST",
    "referral.write",
    "Record who at the other side confirmed receipt",
    body=schemas.AcknowledgementIn,
    response=schemas.Referral,
    tag="referrals",
)
def acknowledge_referral(referral_id, body):
    db = get_db()
    with publishing(db) as outbox:
        return referrals.acknowledge(db, referral_id, body.acknowledged_by_name, current_actor(), utcnow(), outbox)


@operation(
    "/incidents/<int:incident_id>/documents",
    "GET",
    "document.read",
    "Documents issued for the incident",
    response=schemas.DocumentList,
    tag="documents",
    visible=_incident,
)
def list_documents(incident_id):
    return {"documents": [{k: v for k, v in d.items() if k != "stored_path"} for d in issuing.list_documents(get_db(), incident_id)]}


@operation(
    "/incidents/<int:incident_id>/documents",
    "POST",
    "document.issue",
    "Issue a document built from the live data (kept as issued)",
    body=schemas.DocumentIssue,
    status=201,
    response=schemas.DocumentIssued,
    tag="documents",
    visible=_incident,
)
def issue_document(incident_id, body):
    db = get_db()
    with publishing(db) as outbox:
        document_id, referral_id = issuing.issue(db, incident_id, body, current_actor(), utcnow(), current_app.config, outbox)
    return {"document_id": document_id, "referral_id": referral_id}


@operation(
    "/incidents/<int:incident_id>/agreed-lines",
    "POST",
    "line.draft",
    "Draft the one agreed line (used only once legal approves it)",
    body=schemas.AgreedLineIn,
    status=201,
    response=schemas.NewId,
    tag="media",
    visible=_incident,
)
def draft_line(incident_id, body):
    return {"id": referrals.draft_line(get_db(), incident_id, body.text, current_actor(), utcnow())}


@operation("/agreed-lines/<int:line_id>/approve", "POST", "line.approve", "Legal approves the agreed line", response=schemas.AgreedLine, tag="media")
def approve_line(line_id):
    return referrals.approve_line(get_db(), line_id, current_actor(), utcnow())
