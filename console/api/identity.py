"""One person across every channel: their complaints, their history, possible
matches, and merges by the team (issue 17)."""

from flask import current_app

from .. import complaints, merges, schemas
from ..auth import current_caller, current_viewer
from ..db import get_db
from ..live import publishing
from . import operation
from .complainants import complainant_visible


@operation(
    "/complainants/<int:complainant_id>/complaints",
    "GET",
    "complainant.read",
    "A complainant's complaints, newest first",
    response=schemas.PersonComplaintList,
    tag="identity",
    visible=complainant_visible,
)
def list_person_complaints(complainant_id):
    return {"complaints": complaints.list_complaints(get_db(), complainant_id, current_viewer())}


@operation(
    "/complainants/<int:complainant_id>/complaints",
    "POST",
    "complainant.write",
    "Record another complaint of this person (a repeat, a transfer from 12378 or 12315)",
    body=schemas.ArrivalIn,
    response=schemas.PersonComplaint,
    status=201,
    tag="identity",
    visible=complainant_visible,
)
def add_person_complaint(complainant_id, body):
    """A transfer carries the transferring body's reference and reply deadline;
    the person's decision deadline becomes the earliest of their complaints'
    and is never put back."""
    db = get_db()
    with publishing(db) as outbox:
        return complaints.add_complaint(db, complainant_id, body, current_caller(), current_app.config, outbox)


@operation(
    "/complainants/<int:complainant_id>/history",
    "GET",
    "complainant.read",
    "Every complaint, contact, promise and offer of this person, newest first, with complaints by channel",
    response=schemas.History,
    tag="identity",
    visible=complainant_visible,
)
def person_history(complainant_id):
    return complaints.history(get_db(), complainant_id, current_viewer())


@operation(
    "/complainants/<int:complainant_id>/matches",
    "GET",
    "complainant.read",
    "Other incidents knowing this person, possible matches in this incident, and merges into this complainant",
    response=schemas.Matches,
    tag="identity",
    visible=complainant_visible,
)
def person_matches(complainant_id):
    return merges.matches(get_db(), complainant_id, current_viewer())


@operation(
    "/complainants/<int:complainant_id>/merge",
    "POST",
    "complainant.merge",
    "Merge another complainant of the same incident into this one (audited; undo with POST /merges/{merge_id}/undo)",
    body=schemas.MergeIn,
    response=schemas.Merge,
    status=201,
    tag="identity",
    visible=complainant_visible,
)
def merge_complainant(complainant_id, body):
    db = get_db()
    with publishing(db) as outbox:
        return merges.merge(db, complainant_id, body.other_id, body.reason, current_caller(), current_app.config, outbox)


@operation(
    "/complainants/<int:complainant_id>/not-same",
    "POST",
    "complainant.merge",
    "Mark a possible match as a different person (it is no longer suggested)",
    body=schemas.NotSameIn,
    response=schemas.Matches,
    tag="identity",
    visible=complainant_visible,
)
def mark_not_same(complainant_id, body):
    db = get_db()
    merges.not_same(db, complainant_id, body.other_id, current_caller())
    return merges.matches(db, complainant_id, current_viewer())


@operation(
    "/merges/<int:merge_id>/undo",
    "POST",
    "complainant.merge",
    "Undo a merge: both complainants as they were, with what each had",
    response=schemas.Merge,
    tag="identity",
)
def undo_merge(merge_id):
    db = get_db()
    with publishing(db) as outbox:
        return merges.unmerge(db, merge_id, current_caller(), outbox)
