"""What a monitor is, and how it walks its items.

A monitor handles each incident (or each intake cause) in its own write
transaction and its own try (``each``): the rows to walk are read in full
first, so no cursor is open while it writes, and one item that fails is
rolled back, logged, kept in ``monitor_failure`` and alerted once to the
crisis lead, while the loop goes on. The item is tried again next period,
since monitors decide from stored state.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask_babel import gettext as _

from console.alerts import raise_alert
from console.clock import to_iso
from console.db import write

log = logging.getLogger("monitors")


@dataclass(frozen=True)
class Monitor:
    id: str
    every: timedelta
    run: Callable  # run(db, now, settings, outbox) -> dict
    description: str

    @property
    def misfire_grace_seconds(self):
        """A run may start late by up to one period; later ones are skipped (the next run catches up)."""
        return int(self.every.total_seconds())


def each(db, monitor_id, items, handle, now, settings, outbox, subject=lambda item: f"incident:{item['id']}"):
    """Call ``handle(item)`` for each item, each in its own write transaction and try.

    ``items`` is a list (read it in full before: never a live cursor).
    Returns (results of the items handled, subjects of the items that failed).
    """
    results, failed = [], []
    for item in items:
        written = len(outbox.pending) if outbox is not None else 0
        try:
            with write(db):
                results.append(handle(item))
        except Exception as exc:  # one item's failure must not cost the others their minute
            if outbox is not None:
                del outbox.pending[written:]  # its events were rolled back with it
            name = subject(item)
            log.exception("monitor %s: %s failed; the others go on, it is tried again next period", monitor_id, name)
            failed.append(name)
            record_failure(db, monitor_id, name, exc, now, settings, outbox, incident_id=item.get("id") if name.startswith("incident:") else None)
    return results, failed


def describe(exc):
    return f"{type(exc).__name__}: {exc}"[:1000]


def record_failure(db, monitor_id, subject, exc, now, settings, outbox=None, incident_id=None):
    """Keep a failure for the monitor health page and tell the crisis lead, once per monitor, subject and error."""
    error = describe(exc)
    try:
        with write(db):
            db.execute("INSERT INTO monitor_failure (monitor, subject, error, at) VALUES (?, ?, ?, ?)", [monitor_id, subject, error, to_iso(now)])
            digest = hashlib.sha1(f"{monitor_id}|{subject}|{type(exc).__name__}".encode()).hexdigest()[:16]
            raise_alert(
                db,
                key=f"monitor_failed:{monitor_id}:{subject}:{digest}",
                kind="monitor_failed",
                level="critical",
                message=_(
                    "The %(monitor)s monitor could not handle %(subject)s; it tries again every period. See the monitor health page.",
                    monitor=monitor_id,
                    subject=subject,
                ),
                now=now,
                audience={"lead"},
                incident_id=incident_id,
                data={"monitor": monitor_id, "subject": subject, "error": error},
                outbox=outbox,
                settings=settings,
            )
    except Exception:
        log.exception("monitor %s: could not record the failure of %s", monitor_id, subject)
