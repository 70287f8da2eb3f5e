"""A full or read-only disk: every write is refused with 503 and a message a
person understands, nothing half-written, logged once a minute, and one
alert when space returns.

SQLite reports a full disk (or a database grown to ``max_page_count``) as
``OperationalError: database or disk is full`` (SQLITE_FULL) and a
read-only file or file system as ``attempt to write a readonly database``
(SQLITE_READONLY); files written beside the database (documents) fail with
``OSError`` ENOSPC, EDQUOT or EROFS. ``db.write`` rolls the transaction back
before the error leaves it, so the change is either whole or absent; the
app's error handlers (``init_app``) turn the error into the 503.

While the disk is full every write request fails, hundreds a minute during a
crisis: the first is logged with its traceback, later ones once a minute as
a count. The first write that succeeds afterwards ends the episode: it is
logged, and one alert ("storage space is back") is raised for the lead and
the team, keyed by when the episode began, so it is raised once (once per
server process: each keeps its own view of the episode).
"""

import errno
import logging
import sqlite3
import threading
from datetime import timedelta

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _

from .clock import to_iso, utcnow
from .errors import ConsoleError

log = logging.getLogger("console.storage")

LOG_EVERY = timedelta(minutes=1)
SQLITE_FULL, SQLITE_READONLY = 13, 8
FULL_MESSAGES = ("database or disk is full", "attempt to write a readonly database")
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class StorageFull(ConsoleError):
    """The change could not be stored: the disk is full or read-only."""

    status = 503

    def __init__(self):
        super().__init__(_("storage is full: the change was not saved"))


def bookkeeping(db, sql, params):
    """A write that only keeps a record of use (a token's or a session's last
    use): done when it can be, skipped when the disk is full, so reads and
    refusals still answer as they should."""
    from .db import write

    try:
        with write(db):
            db.execute(sql, params)
    except Exception as exc:
        if not is_storage_full(exc):
            raise


def is_storage_full(exc):
    """Whether an exception says the disk (or the database file) takes no more writes."""
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (SQLITE_FULL, SQLITE_READONLY):
            return True
        return any(text in str(exc) for text in FULL_MESSAGES)
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS
    return False


class StorageWatch:
    """One process's view of a full-disk episode: when it began, when it was
    last logged and how many refusals since; ``now`` is passed in."""

    def __init__(self):
        self.lock = threading.Lock()
        self.full_since = None
        self.last_logged = None
        self.refused_since_log = 0

    def refused(self, now):
        """A write was refused. Returns (log it now?, refusals since the last log line)."""
        with self.lock:
            if self.full_since is None:
                self.full_since = now
            self.refused_since_log += 1
            if self.last_logged is None or now - self.last_logged >= LOG_EVERY:
                self.last_logged, count, self.refused_since_log = now, self.refused_since_log, 0
                return True, count
            return False, self.refused_since_log

    def wrote(self):
        """A write succeeded. Returns when the episode it ends began, or None if there was none."""
        with self.lock:
            began, self.full_since, self.last_logged, self.refused_since_log = self.full_since, None, None, 0
            return began


def refuse(exc, now=None):
    """Note one refused write (logging at most once a minute); returns the StorageFull to answer with."""
    watch = current_app.extensions["console_storage_watch"]
    log_it, count = watch.refused(now or utcnow())
    if log_it:
        if count == 1:
            log.error("storage is full or read-only: writes are refused with 503 (%s)", exc, exc_info=exc)
        else:
            log.error("storage is still full or read-only: %s writes refused in the last minute (%s)", count, exc)
    return StorageFull()


def space_returned(db, began, now, settings):
    """Raise the one alert that storage takes writes again after being full since ``began``."""
    from . import alerts
    from .db import write

    with write(db):
        return alerts.raise_alert(
            db,
            key=f"storage_returned:{to_iso(began)}",
            kind="storage_returned",
            level="warning",
            message=_(
                "Storage space is back: changes are saved again. Writes were refused from %(began)s (UTC) until %(now)s (UTC).",
                began=to_iso(began),
                now=to_iso(now),
            ),
            now=now,
            audience={"lead", "team"},
            settings=settings,
        )


def _answer(refusal):
    if request.path.startswith("/api/"):
        return jsonify(error=refusal.message, details=None), refusal.status
    return render_template("error.html", code=refusal.status, message=refusal.message), refusal.status


def init_app(app):
    """Answer a full or read-only disk with 503 everywhere, and notice when it ends."""
    app.extensions["console_storage_watch"] = StorageWatch()

    def storage_error(exc):
        if not is_storage_full(exc):
            raise exc  # any other database or file error stays a 500, logged as one
        return _answer(refuse(exc))

    app.register_error_handler(sqlite3.OperationalError, storage_error)
    app.register_error_handler(OSError, storage_error)

    @app.after_request
    def notice_space_returned(response):
        watch = app.extensions["console_storage_watch"]
        if watch.full_since is None or request.method not in WRITE_METHODS or response.status_code >= 400:
            return response
        began = watch.wrote()
        if began is not None:
            now = utcnow()
            log.warning("storage takes writes again (full or read-only since %s)", to_iso(began))
            try:
                from .db import get_db

                space_returned(get_db(), began, now, app.config)
            except Exception as exc:  # the write succeeded; the alert must not turn it into an error
                if is_storage_full(exc):
                    watch.refused(now)
                log.exception("could not raise the storage alert")
        return response


def storage_refusal(exc):
    """For code that must go on when a write fails for lack of space (counting a
    failed log-in): log it as a refused write and return True, or False for
    any other error (the caller re-raises)."""
    if not is_storage_full(exc):
        return False
    refuse(exc)
    return True
