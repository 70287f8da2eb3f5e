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

Access ends on open sockets too (issue 14). Each socket remembers what let it
in (its browser session's key hash, or its token's id), never a viewer fixed
at connect: every handler looks the session or token up again and takes the
role and scope from the database as they are now. When access ends, the
sockets go: the process that ended it (logout, the users page) drops its
own sockets of that session or user at once, and every process checks all
of its sockets every ``LIVE_ACCESS_CHECK_SECONDS`` against the database and
drops those whose session ended, went idle, or whose token was revoked or
expired. That check is what reaches the sockets of other instances and the
changes made by ``run.py`` (which has no socket server): the database is the
one place every process already shares, so this works with or without a
Redis message queue, and a process that missed a message cannot keep a
socket open. A dropped socket leaves its rooms at once, so it gets no
further frames; broadcasts are not checked per delivery (500 boards per
event), the drop is what stops them.
"""

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional

from flask import current_app, request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room  # its own: the message reaches the client

from . import board, events, live_queue, login_throttle, sessions, users
from .clock import utcnow
from .db import connect
from .errors import ConsoleError

log = logging.getLogger(__name__)
socketio = SocketIO()


@dataclass(frozen=True)
class SocketAccess:
    """What let a socket in: a browser session (its key's hash) or an API token (its id)."""

    user_id: int
    session_hash: Optional[str] = None
    token_id: Optional[int] = None


_sockets = {}  # socket sid -> SocketAccess, for the sockets of this process
_sockets_lock = threading.Lock()
_sweeper = {"started": False}
_emit_lock = threading.Lock()
_snapshots = {}  # (incident_id, room, board.visibility_key(viewer)) -> (seq, monotonic time, snapshot)
SNAPSHOT_MAX_AGE = 30.0


def init_app(app):
    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE") or None
    # live_queue's manager: boards resync when the queue comes back after an outage
    socketio.init_app(app, async_mode="threading", message_queue=queue, client_manager=live_queue.client_manager(queue))


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
    and the monitors all end here. Refused inside an open transaction: an
    event emitted before its change commits could show what then rolls back.
    """
    if outbox.pending and outbox.db.conn.in_transaction:
        raise RuntimeError("publish() inside an open transaction: commit first, then publish")
    with _emit_lock:  # one process emits its events in sequence order
        for room, name, payload in outbox.pending:
            try:
                socketio.emit(name, payload, to=room)
            except Exception:  # a dead message queue must not fail the request that already committed
                log.exception("could not emit %s to %s; clients will resync on the next event", name, room)
    outbox.pending = []


def _open_db():
    return connect(current_app.config["DATABASE"], current_app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _token_access(token):
    """(viewer, SocketAccess) of a valid token, or None. Like the API: an invalid token
    counts against the caller's address, and a locked address is refused before the lookup."""
    db = _open_db()
    try:
        row = login_throttle.token_user(db, token, request.remote_addr or "unknown", current_app.config, "socket.io connect")
        if row is None:
            return None
        return users.viewer_for(db, row), SocketAccess(user_id=row["id"], token_id=row["token_id"])
    except login_throttle.Locked:
        raise ConnectionRefusedError("too many invalid tokens or failed log-ins from this address: try again later") from None
    finally:
        db.close()


@socketio.on("connect")
def on_connect(auth=None):
    """Accept a browser by its session, another client by its API token."""
    found = None
    if current_user.is_authenticated:
        from .auth import SESSION_KEY

        found = current_user.viewer, SocketAccess(user_id=current_user.id, session_hash=sessions.digest(session[SESSION_KEY]))
    elif isinstance(auth, dict) and isinstance(auth.get("token"), str):
        found = _token_access(auth["token"])
    if found is None:
        raise ConnectionRefusedError("unauthorized: log in, or pass auth={'token': ...}")
    viewer, socket_access = found
    with _sockets_lock:
        _sockets[request.sid] = socket_access
    _start_sweeper(current_app._get_current_object())
    for room in events.alert_rooms_for(viewer):
        join_room(room)


@socketio.on("disconnect")
def on_disconnect(*_args):
    with _sockets_lock:
        _sockets.pop(request.sid, None)


def _current_viewer(db, sid):
    """The socket's viewer as the database has it now, or None when its access
    ended (then the socket is dropped). A browser session's use counts as activity."""
    with _sockets_lock:
        socket_access = _sockets.get(sid)
    if socket_access is None:
        return None
    row = None
    if socket_access.session_hash:
        if current_user.is_authenticated and current_user.id == socket_access.user_id:
            row = current_user.row  # the session was looked up (and touched) for this event
    else:
        row = _token_row(db, socket_access)
    if row is None:
        _drop(sid)
        return None
    return users.viewer_for(db, row)


def _token_row(db, socket_access):
    """The user row behind a socket's token, if the token still gives access."""
    if socket_access.token_id not in users.valid_tokens(db, [socket_access.token_id], utcnow()):
        return None
    return users.get_user(db, socket_access.user_id)


def _drop(sid):
    with _sockets_lock:
        _sockets.pop(sid, None)
    try:
        socketio.server.disconnect(sid, namespace="/")
    except Exception:  # already gone
        log.debug("socket %s was already gone", sid, exc_info=True)


def drop_sockets(user_id=None, session_hash=None, token_id=None):
    """Disconnect this process's sockets of a user, of one session, or of one
    token, at once; other processes drop theirs at their next check. Those of
    a user whose access (or part of it) was ended: the sockets still entitled
    (a token kept when only sessions ended) are left open."""
    if user_id is not None:
        db = _open_db()
        try:
            return check_sockets(db, utcnow(), current_app.config["SESSION_IDLE_MINUTES"], user_id=user_id)
        finally:
            db.close()
    with _sockets_lock:
        sids = [
            sid
            for sid, a in _sockets.items()
            if (session_hash is not None and a.session_hash == session_hash) or (token_id is not None and a.token_id == token_id)
        ]
    for sid in sids:
        _drop(sid)
    return len(sids)


def check_sockets(db, now, idle_minutes, user_id=None):
    """Drop every socket of this process (of one user, if given) whose session
    or token no longer gives access. Returns how many were dropped."""
    with _sockets_lock:
        current = {sid: a for sid, a in _sockets.items() if user_id is None or a.user_id == user_id}
    if not current:
        return 0
    open_sessions = sessions.valid_sessions(db, {a.session_hash for a in current.values() if a.session_hash}, now, idle_minutes)
    live_tokens = users.valid_tokens(db, {a.token_id for a in current.values() if a.token_id is not None}, now)
    ended = [
        sid
        for sid, a in current.items()
        if (a.session_hash and a.session_hash not in open_sessions) or (a.token_id is not None and a.token_id not in live_tokens)
    ]
    for sid in ended:
        _drop(sid)
    return len(ended)


def _start_sweeper(app):
    """Start this process's access check on its first socket (never in the app factory)."""
    with _sockets_lock:
        if _sweeper["started"]:
            return
        _sweeper["started"] = True
    socketio.start_background_task(_sweep, app)


def _sweep(app):
    interval = max(0.2, float(app.config["LIVE_ACCESS_CHECK_SECONDS"]))
    while True:
        socketio.sleep(interval)
        try:
            db = connect(app.config["DATABASE"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
            try:
                check_sockets(db, utcnow(), app.config["SESSION_IDLE_MINUTES"])
            finally:
                db.close()
        except Exception:  # one failed check must not stop the next
            log.exception("could not check open sockets' access; trying again in %s s", interval)


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


MAX_ID = 2**63 - 1


def _incident_id(data):
    """The incident id of a join_incident message, or None when it is malformed."""
    if not isinstance(data, dict):
        return None
    value = data.get("incident_id")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


@socketio.on("join_incident")
def on_join_incident(data=None):
    """Join the caller's room of an incident and answer with a fresh snapshot.

    The caller's access is looked up again (a socket whose session or token
    ended is dropped), and a malformed message gets an error answer, never a
    traceback."""
    incident_id = _incident_id(data)
    db = _open_db()
    try:
        viewer = _current_viewer(db, request.sid)
        if viewer is None:
            return {"error": "your access has ended: log in again"}
        if incident_id is None:
            return {"error": "join_incident needs {'incident_id': <number>}"}
        room = events.room_for(incident_id, viewer)
        try:
            board.get_incident(db, incident_id)
        except ConsoleError as exc:
            return {"error": exc.message}
        join_room(room)  # before the snapshot, so no event falls between the two
        return {"room": room, "snapshot": cached_snapshot(db, incident_id, viewer)}
    except Exception:
        log.exception("join_incident failed for %r", data)
        return {"error": "the board could not be loaded: try again"}
    finally:
        db.close()
