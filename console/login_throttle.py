"""Limits on guessing passwords: per user name and per client address.

Failed log-ins are rows in SQLite (``login_failure``), so the count holds
across server processes and restarts. ``LOGIN_MAX_FAILURES`` failures for a
user name within ``LOGIN_FAILURE_WINDOW_MINUTES`` lock that name for
``LOGIN_LOCKOUT_MINUTES``; ``LOGIN_MAX_FAILURES_PER_ADDRESS`` failures from
one address (log-ins and invalid API tokens) lock the address. While locked,
the password is not even checked, so guessing stops.

A name is locked whether or not such a user exists, and the answer is the
same in both cases: a locked-out reply never tells whether a user name is
real. A successful log-in clears the name's failures; the address's stay
(one valid account must not reset the counter of an address that guesses).
Each lockout is written to the audit log.
"""

import math
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _

from . import audit, storage, users
from .clock import from_iso, to_iso, utcnow
from .db import write
from .errors import ConsoleError

USERNAME = "username"
ADDRESS = "address"
MAX_KEY_CHARS = 200  # a user name longer than any real one is counted by its first 200 characters


class Locked(ConsoleError):
    """Too many failures: refused until ``until``, whatever the password or token."""

    status = 429

    def __init__(self, until, now):
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(_("Too many failed log-ins. Logging in is locked for %(minutes)s minutes; try again after that.", minutes=minutes))


@dataclass(frozen=True)
class Limits:
    max_failures: int
    max_failures_per_address: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings):
        return cls(
            max_failures=settings["LOGIN_MAX_FAILURES"],
            max_failures_per_address=settings["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            window=timedelta(minutes=settings["LOGIN_FAILURE_WINDOW_MINUTES"]),
            lockout=timedelta(minutes=settings["LOGIN_LOCKOUT_MINUTES"]),
        )


def now(settings):
    """The app's clock: CLOCK_FILE's time in drills and tests (as the monitors read it), else the real time."""
    return utcnow(settings)


def _key(text):
    return (text or "")[:MAX_KEY_CHARS]


def locked_until(db, username, address, now):
    """The latest time until which this user name or address is locked, or None if neither is."""
    keys = [(USERNAME, _key(username)), (ADDRESS, _key(address))] if username is not None else [(ADDRESS, _key(address))]
    found = []
    for kind, key in keys:
        row = db.execute("SELECT locked_until FROM login_lockout WHERE kind = ? AND key = ?", [kind, key]).fetchone()
        if row and row[0] > to_iso(now):
            found.append(from_iso(row[0]))
    return max(found) if found else None


def record_failure(db, username, address, now, limits, route="POST /login"):
    """Count one failed log-in (username None: an invalid API token, counted for the address only).

    Returns the time until which this attempt's name or address is now
    locked, or None. A lockout clears the failures that made it, so after it
    ends the count starts again from nothing.
    """
    try:
        return _record_failure(db, username, address, now, limits, route)
    except sqlite3.OperationalError as exc:
        # A full disk must not turn a refused log-in (401) into an error: the
        # failure goes uncounted and the refusal stands.
        if storage.storage_refusal(exc):
            return None
        raise


def _record_failure(db, username, address, now, limits, route):
    since = to_iso(now - limits.window)
    until = None
    with write(db):
        db.execute("DELETE FROM login_failure WHERE at <= ?", [since])
        db.execute("DELETE FROM login_lockout WHERE locked_until <= ?", [to_iso(now)])
        checks = [(ADDRESS, _key(address), limits.max_failures_per_address)]
        if username is not None:
            checks.insert(0, (USERNAME, _key(username), limits.max_failures))
        for kind, key, most in checks:
            db.execute("INSERT INTO login_failure (kind, key, at) VALUES (?, ?, ?)", [kind, key, to_iso(now)])
            failures = db.execute("SELECT count(*) FROM login_failure WHERE kind = ? AND key = ? AND at > ?", [kind, key, since]).fetchone()[0]
            if failures >= most:
                until = _lock(db, kind, key, failures, username, address, now, limits, route)
    return until


def _lock(db, kind, key, failures, username, address, now, limits, route):
    until = now + limits.lockout
    db.execute(
        "INSERT INTO login_lockout (kind, key, locked_at, locked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET locked_at = excluded.locked_at, locked_until = excluded.locked_until",
        [kind, key, to_iso(now), to_iso(until)],
    )
    db.execute("DELETE FROM login_failure WHERE kind = ? AND key = ?", [kind, key])
    user = db.execute("SELECT id FROM user WHERE username = ?", [key]).fetchone() if kind == USERNAME else None
    actor = audit.Actor(user_id=None, username=_key(username) if username is not None else "(api token)", route=route)
    audit.record(
        db,
        actor,
        "user" if kind == USERNAME else "login_address",
        user[0] if user else None,
        "lockout",
        after={kind: key, "failures": failures, "address": address, "locked_until": to_iso(until)},
        at=now,
    )
    return until


def record_success(db, username):
    """A right password: the user name's failures are forgotten (when the
    disk is full they stay, and the log-in goes ahead: it writes nothing else)."""
    try:
        with write(db):
            db.execute("DELETE FROM login_failure WHERE kind = ? AND key = ?", [USERNAME, _key(username)])
    except sqlite3.OperationalError as exc:
        if not storage.storage_refusal(exc):
            raise


def token_user(db, token, address, settings, route):
    """The user a bearer token belongs to, or None. A locked address is refused
    (Locked) before the token is looked up; an invalid token counts as a
    failure of the address. Used by the API and by Socket.IO connects alike."""
    moment = now(settings)
    until = locked_until(db, None, address, moment)
    if until is not None:
        raise Locked(until, moment)
    row = users.user_for_token(db, token)
    if row is None:
        record_failure(db, None, address, moment, Limits.from_settings(settings), route=route)
    return row
