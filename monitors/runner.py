"""Running the monitors: a lease per monitor and period, and the scheduler.

Exactly once: before a run, a process inserts (monitor, period) into
``monitor_run``; only the process whose insert succeeds runs it. A run whose
holder died (same host, process gone) or that is older than
MONITOR_LEASE_SECONDS is taken over. Monitors decide from stored state and
their alerts have dedupe keys, so a taken-over run finishes the work without
repeating any of it. Several ``python run.py`` processes may run schedulers:
each monitor still runs once per period.
"""

import json
import logging
import os
import socket
from datetime import datetime, timedelta, timezone

from console.clock import from_iso, to_iso, utcnow
from console.db import connect, write
from console.events import Outbox

from . import MONITORS

log = logging.getLogger(__name__)
HOLDER = f"{socket.gethostname()}:{os.getpid()}"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def period_start(monitor, now):
    """The start of the period ``now`` falls in."""
    seconds = int(monitor.every.total_seconds())
    return EPOCH + timedelta(seconds=int((now - EPOCH).total_seconds()) // seconds * seconds)


def _holder_alive(holder):
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname():
        return True  # another machine: trust the lease timeout
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _take_lease(db, monitor, start, now, settings):
    """True if this process may run ``monitor`` for the period starting ``start``."""
    key = [monitor.id, to_iso(start)]
    with write(db):
        inserted = db.execute(
            "INSERT OR IGNORE INTO monitor_run (monitor, period_start, holder, started_at) VALUES (?, ?, ?, ?)",
            [*key, HOLDER, to_iso(now)],
        ).rowcount
        if inserted:
            return True
        holder, started_at, finished_at, failed_at = db.execute(
            "SELECT holder, started_at, finished_at, failed_at FROM monitor_run WHERE monitor = ? AND period_start = ?", key
        ).fetchone()
        if finished_at is not None:
            return False
        if failed_at is not None:
            # a failed run is tried again at the next tick, by whichever process gets there
            log.warning("monitor %s: trying the failed run of %s again", monitor.id, key[1])
            return (
                db.execute(
                    "UPDATE monitor_run SET holder = ?, started_at = ?, failed_at = NULL, error = NULL WHERE monitor = ? AND period_start = ? AND failed_at IS NOT NULL",
                    [HOLDER, to_iso(now), *key],
                ).rowcount
                == 1
            )
        if holder == HOLDER:
            return False
        stale = now - from_iso(started_at) > timedelta(seconds=settings["MONITOR_LEASE_SECONDS"])
        if stale or not _holder_alive(holder):
            log.warning("monitor %s: taking over the run of %s started by %s", monitor.id, key[1], holder)
            return (
                db.execute(
                    "UPDATE monitor_run SET holder = ?, started_at = ? WHERE monitor = ? AND period_start = ? AND holder = ? AND finished_at IS NULL",
                    [HOLDER, to_iso(now), *key, holder],
                ).rowcount
                == 1
            )
        return False


def run_monitor(monitor, settings, now, publish=None):
    """Run one monitor for the period ``now`` falls in, unless it ran or is running.

    Returns the monitor's summary, or None if another run has the period.
    ``publish`` emits the events the run recorded (console.live.publish).
    """
    db = connect(settings["DATABASE"], settings["SQLITE_BUSY_TIMEOUT_MS"])
    try:
        start = period_start(monitor, now)
        if not _take_lease(db, monitor, start, now, settings):
            return None
        outbox = Outbox(db)
        try:
            summary = monitor.run(db, now, settings, outbox)
        except Exception as exc:
            if db.conn.in_transaction:
                db.conn.rollback()
            _record_failed_run(db, monitor, start, now, settings, exc)
            raise
        finally:
            if publish is not None and outbox.pending:
                publish(outbox)  # what the items that succeeded committed
        with write(db):
            db.execute(
                "UPDATE monitor_run SET finished_at = ?, result = ?, failures = ? WHERE monitor = ? AND period_start = ?",
                [to_iso(now), json.dumps(summary, default=str), len(summary.get("failed") or []), monitor.id, to_iso(start)],
            )
        return summary
    finally:
        db.close()


def _record_failed_run(db, monitor, start, now, settings, exc):
    """The run is marked failed with its error (not left in flight), kept and alerted once."""
    from .base import describe, record_failure

    try:
        with write(db):
            db.execute(
                "UPDATE monitor_run SET failed_at = ?, error = ? WHERE monitor = ? AND period_start = ? AND holder = ?",
                [to_iso(now), describe(exc), monitor.id, to_iso(start), HOLDER],
            )
    except Exception:
        log.exception("monitor %s: could not mark the run of %s failed", monitor.id, to_iso(start))
    record_failure(db, monitor.id, "run", exc, now, settings)


def clock(settings):
    """Now, or the time in CLOCK_FILE (drills and tests)."""
    return utcnow(settings)


def tick(app, monitor):
    """One scheduled run: in the app's context (translations), errors logged, never raised."""
    from console.live import publish

    with app.app_context():
        try:
            run_monitor(monitor, app.config, clock(app.config), publish)
        except Exception:
            log.exception("monitor %s failed; it is tried again at the next tick", monitor.id)


def start_scheduler(app, monitors=MONITORS):
    """Start APScheduler with every monitor; run each once now to catch up. Called by run.py only."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    tz = app.config["TIMEZONE"]
    scheduler = BackgroundScheduler(timezone=tz)
    for monitor in monitors:
        seconds = app.config.get("MONITOR_TICK_SECONDS") or int(monitor.every.total_seconds())
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=seconds, timezone=tz),
            args=[app, monitor],
            id=monitor.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=monitor.misfire_grace_seconds,
            next_run_time=datetime.now(timezone.utc),  # catch up at start
        )
    scheduler.start()
    return scheduler
