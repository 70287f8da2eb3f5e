"""The live board over JSON: a snapshot, and the events since a sequence number."""

from flask import current_app

from .. import board, events, masking, schemas
from ..auth import current_viewer
from ..clock import utcnow
from ..db import get_db
from ..incidents import get_incident
from . import operation


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


@operation(
    "/incidents/<int:incident_id>/board",
    "GET",
    "incident.read",
    "The board snapshot for the caller's room, with its sequence number",
    response=schemas.Board,
    tag="board",
    visible=_incident,
)
def board_snapshot(incident_id):
    """Executives get aggregates only; branch contacts the numbers of their scope."""
    return board.snapshot(get_db(), incident_id, current_viewer(), utcnow(), current_app.config)


@operation(
    "/incidents/<int:incident_id>/events",
    "GET",
    "incident.read",
    "Events of the caller's room after ?since=N (oldest first, at most 500)",
    query=schemas.EventsQuery,
    response=schemas.Events,
    tag="board",
    visible=_incident,
)
def board_events(incident_id, query):
    db = get_db()
    room = events.room_for(incident_id, current_viewer())
    found = [masking.feed_item_for(current_viewer(), e) for e in events.events_since(db, room, query.since, 500)]
    if current_viewer().role == "executive":
        found = [{k: v for k, v in e.items() if k != "complainant"} for e in found]
    return {"room": room, "seq": events.room_seq(db, room), "events": found}
