"""Browser sessions as server-side records, so that they can end.

Flask's session cookie is signed, not stored: before issue 14 a cookie saved
before logging out still worked for 31 days. Now a log-in makes a row in
``user_session`` and puts a random key in the cookie; only the key's SHA-256
is stored. Every request (and every Socket.IO handler) looks the key up: a
session that was ended (logout, deactivation, password or role change; see
``users.end_access``) or that has not been used for ``SESSION_IDLE_MINUTES``
gives no user, so pages redirect to the log-in and the API answers 401.
``last_seen_at`` is written at most once a minute per session, so a page
view is not a write; idle expiry is therefore exact to a minute.
"""

import hashlib
import secrets
from datetime import timedelta

from .clock import from_iso, to_iso
from .db import write

TOUCH_SECONDS = 60


def digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def start(db, user_id, address, now):
    """A new session for a user who has just logged in; returns the key for the cookie."""
    key = secrets.token_urlsafe(32)
    with write(db):
        db.execute(
            "INSERT INTO user_session (user_id, key_sha256, created_at, last_seen_at, address) VALUES (?, ?, ?, ?, ?)",
            [user_id, digest(key), to_iso(now), to_iso(now), (address or "")[:100]],
        )
        db.execute("UPDATE user SET last_login_at = ? WHERE id = ?", [to_iso(now), user_id])
    return key


def end(db, key, reason, now):
    """End one session (logging out). Returns whether it was still open."""
    with write(db):
        return (
            db.execute(
                "UPDATE user_session SET ended_at = ?, ended_reason = ? WHERE key_sha256 = ? AND ended_at IS NULL",
                [to_iso(now), reason, digest(key)],
            ).rowcount
            > 0
        )


def _idle_limit(now, idle_minutes):
    return to_iso(now - timedelta(minutes=idle_minutes))


def user_for_session(db, key, user_id, now, idle_minutes, touch=True):
    """The active user row of an open session, or ``(None, reason)``.

    Returns ``(row, None)`` when the session is open, its user active and
    the same as ``user_id``; otherwise ``(None, why)`` with why one of
    'missing', 'ended', 'idle'. An idle session is marked ended here.
    """
    if not key or not isinstance(key, str):
        return None, "missing"
    rows = list(
        db.query(
            "SELECT user.*, user_session.id AS session_id, user_session.last_seen_at AS session_last_seen_at, "
            "user_session.ended_at AS session_ended_at, user_session.user_id AS session_user_id "
            "FROM user_session JOIN user ON user.id = user_session.user_id WHERE user_session.key_sha256 = ?",
            [digest(key)],
        )
    )
    if not rows or rows[0]["session_user_id"] != user_id:
        return None, "missing"
    row = rows[0]
    if row["session_ended_at"] or not row["active"]:
        return None, "ended"
    last_seen = row["session_last_seen_at"]
    if last_seen <= _idle_limit(now, idle_minutes):
        with write(db):
            db.execute(
                "UPDATE user_session SET ended_at = ?, ended_reason = 'idle' WHERE id = ? AND ended_at IS NULL",
                [to_iso(now), row["session_id"]],
            )
        return None, "idle"
    if touch and (now - from_iso(last_seen)).total_seconds() >= TOUCH_SECONDS:
        from .storage import bookkeeping

        bookkeeping(db, "UPDATE user_session SET last_seen_at = ? WHERE id = ? AND ended_at IS NULL", [to_iso(now), row["session_id"]])
    for name in ("session_id", "session_last_seen_at", "session_ended_at", "session_user_id"):
        row.pop(name)
    return row, None


def valid_sessions(db, key_hashes, now, idle_minutes):
    """Which of these session key hashes are still open, used within the idle time, of an active user."""
    hashes = list(key_hashes)
    if not hashes:
        return set()
    marks = ",".join("?" * len(hashes))
    rows = db.execute(
        f"SELECT user_session.key_sha256 FROM user_session JOIN user ON user.id = user_session.user_id "
        f"WHERE user_session.key_sha256 IN ({marks}) AND user_session.ended_at IS NULL "
        "AND user_session.last_seen_at > ? AND user.active = 1",
        [*hashes, _idle_limit(now, idle_minutes)],
    ).fetchall()
    return {r[0] for r in rows}


def open_sessions(db, user_id, now, idle_minutes):
    """How many sessions of a user are open and not idle."""
    return db.execute(
        "SELECT count(*) FROM user_session WHERE user_id = ? AND ended_at IS NULL AND last_seen_at > ?",
        [user_id, _idle_limit(now, idle_minutes)],
    ).fetchone()[0]
