"""Backups taken while the console writes, restored, and scheduled.

Real parts only: a ``run.py`` server taking writes over HTTP from several
threads while ``run.py backup`` runs as another process; ``run.py restore``
into a new file; ``PRAGMA integrity_check`` and ``run.py audit verify`` on
the result. The scheduled backups run in two real ``run.py`` processes on a
controllable clock (CLOCK_FILE).
"""

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from console import backup, complainants, schemas
from console.access import SYSTEM
from console.caller import Caller
from console.clock import to_iso
from monitors.backup import MONITOR
from monitors.runner import period_start

from .conftest import NOW
from .servers import ROOT, ConsoleServer, monitor_finished, wait_until


def cli(*args, db_path):
    done = subprocess.run([sys.executable, "run.py", "--db", str(db_path), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def ids_in(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM complainant")}
    finally:
        conn.close()


def integrity(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def test_a_backup_taken_while_writers_run_restores_every_record_committed_before_it(app, db, incident, lead, ctx, server, http_api, tmp_path):
    # Some bulk first, so the copy is not trivially small (about 20,000 complainants).
    # (distinct phones: an arrival with a known phone is another complaint of that person, issue 17)
    for r in range(10):
        items = [
            schemas.ComplainantIn(name=f"客户{n}", phone=f"138{r:02d}{n:06d}", province_code="130000", city_code="130100", branch_code="HB-SJZ-01")
            for n in range(2000)
        ]
        complainants.create_complainants(db, incident["id"], items, Caller(SYSTEM, lead, NOW), app.config)

    committed = []  # (complainant ids, when the 201 came back), appended by the writers
    failures = []
    stop = threading.Event()

    def writer(n):
        k = 0
        while not stop.is_set():
            k += 1
            body = [
                {
                    "name": f"写入{n}-{k}-{i}",
                    "phone": f"139{n}{k % 100000:05d}{i:02d}",
                    "province_code": "440000",
                    "city_code": "440100",
                    "branch_code": "GD-GZ-01",
                }
                for i in range(3)
            ]
            sent = time.monotonic()
            response = http_api("team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json=body)
            if response.status_code != 201:
                failures.append(response.status_code)
                return
            committed.append((response.json["ids"], sent, time.monotonic()))

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for w in writers:
        w.start()
    try:
        wait_until(lambda: len(committed) >= 40, what="the writers to get going")
        began = time.monotonic()
        code, output = cli("backup", f"{tmp_path}/backups/", db_path=app.config["DATABASE"])  # a folder: a dated name inside
        ended = time.monotonic()
        time.sleep(0.5)
    finally:
        stop.set()
        for w in writers:
            w.join(20)
    assert failures == []
    assert code == 0, output
    written = re.search(r" to (\S+) \(", output).group(1)
    assert re.fullmatch(r".*/backups/console-\d{8}T\d{6}Z\.db", written), output

    before = {i for ids, _sent, done in committed if done < began for i in ids}
    during = [(sent, done) for ids, sent, done in committed if began <= done < ended]
    after = {i for ids, sent, _done in committed if sent > ended for i in ids}
    assert len(before) >= 120 and during and after
    # Writers were not held up by the backup: no write that overlapped it waited anywhere near the busy timeout.
    slowest = max(done - sent for sent, done in during)
    assert slowest < 2.0, slowest

    restored = tmp_path / "restored" / "console.db"
    code, output = cli("restore", written, db_path=restored)
    assert code == 0, output
    assert integrity(restored) == [("ok",)]
    held = ids_in(restored)
    assert before <= held, f"{len(before - held)} records committed before the backup are missing"
    assert not (after & held)  # a snapshot of the moment it began, not of the file as it went on changing
    assert len(held) >= 20000 + len(before)
    code, output = cli("audit", "verify", db_path=restored)
    assert code == 0, output
    print(
        f"\nbackup of {len(held)} complainants while 4 writers ran: {len(during)} writes committed during it, "
        f"slowest {slowest * 1000:.0f} ms; backup process {ended - began:.2f} s"
    )


def test_restore_keeps_the_database_it_replaces_and_refuses_a_damaged_backup(app, db, incident, api, tmp_path):
    live = app.config["DATABASE"]
    code, output = cli("backup", tmp_path / "copy.db", db_path=live)
    assert code == 0 and "integrity check ok" in output, output
    first = ids_in(live)
    assert (
        api(
            "team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "后来者", "phone": "13500009999", "province_code": "130000"}
        ).status_code
        == 201
    )
    newer = ids_in(live)
    assert newer > first

    damaged = tmp_path / "damaged.db"
    data = (tmp_path / "copy.db").read_bytes()
    damaged.write_bytes(data[:8192] + bytes(len(data) - 8192))  # the header survives, the pages are zeroed
    code, output = cli("restore", damaged, db_path=live)
    assert code == 2 and "integrity check" in output, output
    assert ids_in(live) == newer  # nothing replaced

    db.close()
    code, output = cli("restore", tmp_path / "copy.db", db_path=live)
    assert code == 0, output
    kept = re.search(r"is kept as (\S+)\.$", output, re.M).group(1)
    assert ids_in(live) == first
    assert ids_in(kept) == newer  # the restore can be undone
    assert cli("audit", "verify", db_path=live)[0] == 0


def test_a_backup_never_overwrites_its_database_and_names_a_missing_one(app, incident, tmp_path):
    live = app.config["DATABASE"]
    code, output = cli("backup", live, db_path=live)
    assert code == 2 and "cannot overwrite" in output
    code, output = cli("backup", tmp_path / "x.db", db_path=tmp_path / "missing.db")
    assert code == 2 and "No database file" in output
    assert not (tmp_path / "missing.db").exists()


def test_prune_keeps_the_newest_and_touches_nothing_else(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    names = [f"console-202611{d:02d}T100000Z.db" for d in (3, 1, 2, 5, 4)]
    for name in names + ["other-20261101T100000Z.db", "notes.txt", "console.db"]:
        (folder / name).write_text("x")
    removed = backup.prune(folder, 2, stem="console")
    assert sorted(p.name for p in removed) == ["console-20261101T100000Z.db", "console-20261102T100000Z.db", "console-20261103T100000Z.db"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "console-20261104T100000Z.db",
        "console-20261105T100000Z.db",
        "console.db",
        "notes.txt",
        "other-20261101T100000Z.db",
    ]
    assert backup.prune(folder, 0) == []


def test_prune_clears_the_temporary_file_of_a_backup_killed_mid_copy(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = folder / f".console-20261123T100000Z.db.{gone.stdout.strip()}.tmp"  # its process has exited
    running = folder / f".console-20261123T110000Z.db.{os.getpid()}.tmp"  # a copy still being written
    for path in (dead, running):
        path.write_text("half a copy")
    assert backup.prune(folder, 0) == [dead]
    assert sorted(p.name for p in folder.iterdir()) == [running.name]


@pytest.fixture
def clock(tmp_path):
    path = tmp_path / "now.txt"

    def set_to(moment):
        path.write_text(to_iso(moment))
        return moment

    set_to.path = path
    return set_to


def test_scheduled_backups_with_two_processes_once_per_interval_newest_kept(app, db, incident, clock, tmp_path):
    folder = tmp_path / "scheduled"
    env = {
        "CONSOLE_SCHEDULER": "on",
        "CONSOLE_CLOCK_FILE": str(clock.path),
        "CONSOLE_MONITOR_TICK_SECONDS": "1",
        "CONSOLE_BACKUP_EVERY_MINUTES": "60",
        "CONSOLE_BACKUP_FOLDER": str(folder),
        "CONSOLE_BACKUP_KEEP": "2",
    }
    start = datetime(2026, 11, 23, 10, 0, 30, tzinfo=timezone.utc)
    now = clock(start)
    a = ConsoleServer(app.config["DATABASE"], env=env).start()
    b = ConsoleServer(app.config["DATABASE"], env=env).start()
    try:
        for minutes, expected in [
            (0, ["20261123T100030Z"]),
            (30, ["20261123T100030Z"]),  # not due yet
            (61, ["20261123T100030Z", "20261123T110130Z"]),
            (125, ["20261123T110130Z", "20261123T120530Z"]),
        ]:  # the oldest pruned
            now = clock(start + timedelta(minutes=minutes))
            wait_until(lambda: monitor_finished(db, "backup", period_start(MONITOR, now)), what=f"the backup run at +{minutes} min")
            time.sleep(1.5)  # both schedulers tick again in the same period: still one run
            assert (
                db.execute("SELECT count(*) FROM monitor_run WHERE monitor = 'backup' AND period_start = ?", [to_iso(period_start(MONITOR, now))]).fetchone()[0]
                == 1
            )
            files = sorted(p.name for p in folder.iterdir())
            assert files == [f"console-{stamp}.db" for stamp in expected], files
        newest = folder / f"console-{expected[-1]}.db"
        assert integrity(newest) == [("ok",)]
        assert set(incident_ids(newest)) == {incident["id"]}
    finally:
        a.stop()
        b.stop()


def incident_ids(path):
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM incident")]
    finally:
        conn.close()


def test_scheduled_backups_are_off_by_default(app, db, incident, clock, tmp_path):
    now = clock(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))
    server = ConsoleServer(
        app.config["DATABASE"], env={"CONSOLE_SCHEDULER": "on", "CONSOLE_CLOCK_FILE": str(clock.path), "CONSOLE_MONITOR_TICK_SECONDS": "1"}
    ).start()
    try:
        wait_until(lambda: monitor_finished(db, "backup", period_start(MONITOR, now)), what="the backup run")
    finally:
        server.stop()
    result = db.execute("SELECT result FROM monitor_run WHERE monitor = 'backup'").fetchone()[0]
    assert result == '{"backup": "off"}'
