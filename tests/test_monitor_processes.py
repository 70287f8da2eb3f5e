"""Monitors in real run.py processes on one database, on a controllable clock
(CLOCK_FILE): each monitor runs once per period whatever the number of
processes, and a process stopped in the middle of a run loses nothing and
repeats nothing when it comes back."""

import os
import signal
import socket
import time
from datetime import timedelta

import pytest

import monitors
from console.clock import from_iso, to_iso
from monitors.runner import period_start

from .servers import ConsoleServer, monitor_finished, wait_until

BRANCHES = {"HB-SJZ-01", "HB-SJZ-02", "GD-GZ-01"}  # the incident fixture's branches with open complainants


@pytest.fixture
def clock(tmp_path, db, incident):
    """A clock file the processes read; starts 71 minutes after activation (60 + 10 grace + 1)."""
    path = tmp_path / "now.txt"
    activated = from_iso(db["incident"].get(incident["id"])["activated_at"])

    def set_to(moment):
        path.write_text(to_iso(moment))
        return moment

    set_to(activated + timedelta(minutes=71))
    set_to.path = path
    set_to.activated = activated
    return set_to


def _env(clock):
    return {"CONSOLE_SCHEDULER": "on", "CONSOLE_CLOCK_FILE": str(clock.path), "CONSOLE_MONITOR_TICK_SECONDS": "1"}


def _missed_alerts(db, incident_id, level):
    return [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'missed_update' AND level = ? AND incident_id = ?", [level, incident_id])]


def test_two_processes_run_each_monitor_once_per_period(app, db, incident, clock):
    a = ConsoleServer(app.config["DATABASE"], env=_env(clock)).start()
    b = ConsoleServer(app.config["DATABASE"], env=_env(clock)).start()
    try:
        now = from_iso(clock.path.read_text())
        periods = []
        for step in range(3):
            if step:
                now = clock(now + timedelta(minutes=30))
            for monitor in monitors.MONITORS:
                start = period_start(monitor, now)
                wait_until(lambda: monitor_finished(db, monitor.id, start), what=f"{monitor.id} at {start}")
                periods.append((monitor.id, to_iso(start)))
            time.sleep(2.5)  # both schedulers tick at least twice more in the same period
            for monitor_id, start in periods:
                assert db.execute("SELECT count(*) FROM monitor_run WHERE monitor = ? AND period_start = ?", [monitor_id, start]).fetchone()[0] == 1
        holders = {r[0] for r in db.execute("SELECT DISTINCT holder FROM monitor_run").fetchall()}
        assert holders <= {f"{socket.gethostname()}:{a.process.pid}", f"{socket.gethostname()}:{b.process.pid}"}
        # 71 min, 101 min, 131 min after activation: one nudge per branch, then one second-level alert per branch.
        warnings = _missed_alerts(db, incident["id"], "warning")
        criticals = _missed_alerts(db, incident["id"], "critical")
        assert sorted(a["branch_code"] for a in warnings) == sorted(BRANCHES)
        assert sorted(a["branch_code"] for a in criticals) == sorted(BRANCHES)
    finally:
        a.stop()
        b.stop()


def test_a_run_interrupted_by_a_crash_is_finished_once_after_restart(app, db, incident, clock):
    """The state a process leaves when it dies mid-run: the lease taken, one of
    three alerts raised. The restarted process takes the lease over and raises
    only the two that are missing."""
    now = from_iso(clock.path.read_text())
    monitor = next(m for m in monitors.MONITORS if m.id == "missed_updates")
    start = period_start(monitor, now)
    dead_pid = 2**22 + 12345  # above pid_max on Linux: no such process
    db["monitor_run"].insert(
        {"monitor": "missed_updates", "period_start": to_iso(start), "holder": f"{socket.gethostname()}:{dead_pid}", "started_at": to_iso(now)}
    )
    with app.test_request_context():
        # what the dead process did before it died: the first branch's nudge
        from console.alerts import raise_alert
        from console.updates import reporting_status
        from monitors.missed_updates import run

        first = sorted(reporting_status(db, db["incident"].get(incident["id"]), now, app.config), key=lambda b: b["branch_code"])[0]
        raise_alert(
            db,
            key=f"missed_update:{incident['id']}:{first['branch_code']}:{first['clock_from']}:1",
            kind="missed_update",
            level="warning",
            message="nudge",
            now=now,
            audience={"team"},
            incident_id=incident["id"],
            branch_code=first["branch_code"],
            province_code=first["province_code"],
            settings=app.config,
        )
        db.conn.commit()
    assert len(_missed_alerts(db, incident["id"], "warning")) == 1

    server = ConsoleServer(app.config["DATABASE"], env=_env(clock)).start()
    try:
        wait_until(lambda: monitor_finished(db, "missed_updates", start), what="the taken-over run")
    finally:
        server.stop()
    holder = db.execute("SELECT holder FROM monitor_run WHERE monitor = 'missed_updates' AND period_start = ?", [to_iso(start)]).fetchone()[0]
    assert holder.endswith(f":{server_pid(holder)}") and str(dead_pid) not in holder
    warnings = _missed_alerts(db, incident["id"], "warning")
    assert sorted(a["branch_code"] for a in warnings) == sorted(BRANCHES)
    assert run is not None


def server_pid(holder):
    return holder.rpartition(":")[2]


def test_killed_during_its_first_runs_then_restarted_no_alert_twice_none_lost(app, db, incident, clock):
    """SIGKILL the process as soon as its monitors start, restart it: every
    expected alert exists exactly once."""
    first = ConsoleServer(app.config["DATABASE"], env=_env(clock)).start()
    wait_until(lambda: db.execute("SELECT count(*) FROM monitor_run").fetchone()[0] > 0, what="a monitor run to start")
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    second = ConsoleServer(app.config["DATABASE"], port=first.port, env=_env(clock)).start()
    try:
        now = from_iso(clock.path.read_text())
        for monitor in monitors.MONITORS:
            start = period_start(monitor, now)
            wait_until(lambda: monitor_finished(db, monitor.id, start), what=f"{monitor.id} finished after restart")
    finally:
        second.stop()
    keys = [r[0] for r in db.execute("SELECT dedupe_key FROM alert").fetchall()]
    assert len(keys) == len(set(keys))
    assert sorted(a["branch_code"] for a in _missed_alerts(db, incident["id"], "warning")) == sorted(BRANCHES)
