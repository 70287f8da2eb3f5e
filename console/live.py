"""The Socket.IO server the live board runs on, and ``publish``.

Pinned to threading mode with simple-websocket: the maintainer's advice for
new projects; eventlet (which the server would pick silently if present) is
not a dependency. With ``SOCKETIO_MESSAGE_QUEUE`` set (a redis:// URL) several
server processes, and monitors in other processes, share one set of rooms.

Protocol (see docs/live-protocol.md):
- connect with the session cookie, or ``auth={"token": ...}``; refused otherwise;
- emit ``join_incident`` ``{"incident_id": N}``; the ack is
  ``{"room": ..., "snapshot": {...}}`` or ``{"error": ...}``; the server picks
  the room from the caller's role and scope;
- events then arrive with ``seq``; a gap means: join again for a fresh snapshot.
"""

import contextlib
import logging
import threading
import time

from flask import current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room  # its own: the message reaches the client

from . import board, events, login_throttle, users
from .clock import utcnow
from .db import connect
from .errors import ConsoleError

log = logging.getLogger(__name__)
socketio = SocketIO()

_viewers = {}  # socket sid -> access.Viewer
_emit_lock = threading.Lock()
_snapshots = {}  # (incident_id, room, board.visibility_key(viewer)) -> (seq, monotonic time, snapshot)
SNAPSHOT_MAX_AGE = 30.0


def init_app(app):
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE") or None
    socketio.init_app(app, async_mode="threading", message_queue=queue)


@contextlib.contextmanager
def publishing(db):
    """``with publishing(db) as outbox: domain_write(..., outbox=outbox)``: publish
    what the write recorded once it has committed; nothing if it raised."""
    outbox = events.Outbox(db)
    yield outbox
    publish(outbox)


def publish(outbox):
    """Emit what an outbox recorded. Call after the transaction committed.

    The one way anything reaches a board: web forms, the API, the CSV import
    and the monitors all end here.
    """
    with _emit_lock:  # one process emits its events in sequence order
        for room, name, payload in outbox.pending:
            try:
                socketio.emit(name, payload, to=room)
            except Exception:  # a dead message queue must not fail the request that already committed
                log.exception("could not emit %s to %s; clients will resync on the next event", name, room)
    outbox.pending = []


def _open_db():
    return connect(current_app.config["DATABASE"], current_app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _token_viewer(token):
    """The token's viewer, or None. Like the API: an invalid token counts against
    the caller's address, and a locked address is refused before the lookup."""
    db = _open_db()
    try:
        row = login_throttle.token_user(db, token, request.remote_addr or "unknown", current_app.config, "socket.io connect")
        return users.viewer_for(db, row) if row else None
    except login_throttle.Locked:
        raise ConnectionRefusedError("too many invalid tokens or failed log-ins from this address: try again later") from None
    finally:
        db.close()


@socketio.on("connect")
def on_connect(auth=None):
    """Accept a browser by its session, another client by its API token."""
    viewer = None
    if current_user.is_authenticated:
        viewer = current_user.viewer
    elif isinstance(auth, dict) and isinstance(auth.get("token"), str):
        viewer = _token_viewer(auth["token"])
    if viewer is None:
        raise ConnectionRefusedError("unauthorized: log in, or pass auth={'token': ...}")
    _viewers[request.sid] = viewer
    for room in events.alert_rooms_for(viewer):
        join_room(room)


@socketio.on("disconnect")
def on_disconnect(*_args):
    _viewers.pop(request.sid, None)


def cached_snapshot(db, incident_id, viewer):
    """A board snapshot; rebuilt when the room has moved on or it is 30 s old.

    Cached per room *and* per everything that changes what a viewer may see
    (role, scope): viewers who share a room (lead, team, legal) see different
    alerts, amounts and free text."""
    room = events.room_for(incident_id, viewer)
    key = (incident_id, room, board.visibility_key(viewer))
    seq = events.room_seq(db, room)
    hit = _snapshots.get(key)
    if hit and hit[0] == seq and time.monotonic() - hit[1] < SNAPSHOT_MAX_AGE:
        return hit[2]
    snap = board.snapshot(db, incident_id, viewer, utcnow(), current_app.config)
    _snapshots[key] = (snap["seq"], time.monotonic(), snap)
    return snap


@socketio.on("join_incident")
def on_join_incident(data=None):
    """Join the caller's room of an incident and answer with a fresh snapshot."""
    viewer = _viewers.get(request.sid)
    if viewer is None:
        return {"error": "not connected"}
    try:
        incident_id = int((data or {}).get("incident_id"))
    except (TypeError, ValueError):
        return {"error": "join_incident needs {'incident_id': <number>}"}
    db = _open_db()
    try:
        room = events.room_for(incident_id, viewer)
        try:
            board.get_incident(db, incident_id)
        except ConsoleError as exc:
            return {"error": exc.message}
        join_room(room)  # before the snapshot, so no event falls between the two
        return {"room": room, "snapshot": cached_snapshot(db, incident_id, viewer)}
    finally:
        db.close()
