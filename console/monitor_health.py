"""How the scheduled monitors are doing, for the crisis lead: each monitor's
last run and last success, its failures, and the intake complaints set aside
(quarantined) because they could no longer be attached."""

from datetime import timedelta

from .clock import to_iso
from .intake import quarantined
from .vocabulary import MONITOR_NAMES


def health(db, monitors, now, window=timedelta(hours=24)):
    """One row per declared monitor, plus the quarantined intake complaints."""
    since = to_iso(now - window)
    rows = []
    for monitor in monitors:
        last = db.execute(
            "SELECT period_start, started_at, finished_at, failed_at, error, failures, holder FROM monitor_run "
            "WHERE monitor = ? ORDER BY period_start DESC LIMIT 1",
            [monitor.id],
        ).fetchone()
        last_success = db.execute(
            "SELECT max(finished_at) FROM monitor_run WHERE monitor = ? AND finished_at IS NOT NULL AND failures = 0", [monitor.id]
        ).fetchone()[0]
        failed_runs = db.execute(
            "SELECT count(*) FROM monitor_run WHERE monitor = ? AND (failed_at IS NOT NULL OR failures > 0) AND period_start >= ?", [monitor.id, since]
        ).fetchone()[0]
        failures = [
            dict(r)
            for r in db.query("SELECT subject, error, at FROM monitor_failure WHERE monitor = ? AND at >= ? ORDER BY id DESC LIMIT 20", [monitor.id, since])
        ]
        state = "never"
        if last is not None:
            state = "ok" if last[2] and not last[5] else "failed" if last[3] or last[5] else "running"
        rows.append(
            {
                "id": monitor.id,
                "name": str(MONITOR_NAMES.get(monitor.id, monitor.id)),
                "description": str(monitor.description),
                "every_seconds": int(monitor.every.total_seconds()),
                "state": state,
                "last_period": last[0] if last else None,
                "last_started_at": last[1] if last else None,
                "last_finished_at": last[2] if last else None,
                "last_error": last[4] if last else None,
                "last_success_at": last_success,
                "failed_runs_24h": failed_runs,
                "failures_24h": failures,
            }
        )
    return {"monitors": rows, "quarantined": quarantined(db), "as_of": to_iso(now)}
