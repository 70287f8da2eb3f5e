"""A restore that cannot destroy: only a complete backup of this console is
put back, the undo copy is never overwritten, and what killed backups leave
behind is cleared by the next backup, the CLI's or the scheduled one.

Real parts: ``run.py backup`` / ``run.py restore`` as processes on a real
SQLite file; the scheduled backup is the backup monitor's own run function
on the app's settings.
"""

import hashlib
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

from console import backup
from console.events import Outbox
from monitors import backup as backup_monitor

from .test_backup import cli, ids_in


def digest(path):
    """The database's bytes, with its -wal (a change could land in either)."""
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        try:
            with open(f"{path}{suffix}", "rb") as f:
                h.update(f.read())
        except FileNotFoundError:
            h.update(b"-")
    return h.hexdigest()


def fresh_backup(live, tmp_path):
    code, output = cli("backup", tmp_path / "good.db", db_path=live)
    assert code == 0, output
    return tmp_path / "good.db"


def test_restore_refuses_an_empty_a_truncated_and_a_foreign_file_and_leaves_the_database_byte_identical(app, db, incident, tmp_path):
    live = app.config["DATABASE"]
    good = fresh_backup(live, tmp_path)
    data = good.read_bytes()
    empty = tmp_path / ".console-20261123T100000Z.db.4242.tmp"  # what a killed backup left: 0 bytes
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[: len(data) // 2 // 4096 * 4096])  # cut at a page boundary, as a copy killed midway
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [("x" * 500,) for _ in range(400)])  # well above the minimum size
    conn.commit()
    conn.close()
    db.close()
    before = digest(live)
    expected = {
        empty: "less than the",
        truncated: "cut short",
        foreign: "no migrations table",
    }
    for path, why in expected.items():
        code, output = cli("restore", path, db_path=live)
        assert code == 2, output
        assert f"Refused to restore {path}:" in output and why in output and "not touched" in output, output
        assert digest(live) == before, f"{path.name} changed the database"
    assert not list(tmp_path.glob("console.db.before-restore-*"))  # nothing to undo: nothing was done
    assert cli("audit", "verify", db_path=live)[0] == 0


def test_restore_refuses_a_backup_whose_audit_head_does_not_match(app, db, incident, tmp_path):
    live = app.config["DATABASE"]
    good = fresh_backup(live, tmp_path)
    conn = sqlite3.connect(good)
    conn.execute("UPDATE audit_head SET last_id = last_id + 5")
    conn.commit()
    conn.close()
    db.close()
    before = digest(live)
    code, output = cli("restore", good, db_path=live)
    assert code == 2 and "audit head" in output, output
    assert digest(live) == before


def test_two_restores_in_one_second_keep_two_copies(app, db, incident, api, tmp_path):
    live = app.config["DATABASE"]
    good = fresh_backup(live, tmp_path)
    first = ids_in(live)
    assert (
        api(
            "team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "后来者", "phone": "13500009999", "province_code": "130000"}
        ).status_code
        == 201
    )
    newer = ids_in(live)
    db.close()
    moment = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)  # the very same instant, twice
    kept_one = backup.restore(good, live, now=moment)
    kept_two = backup.restore(good, live, now=moment)
    assert kept_one != kept_two and kept_one.is_file() and kept_two.is_file()
    assert ids_in(kept_one) == newer  # the first undo survives the second restore
    assert ids_in(kept_two) == first
    # and through the CLI, back to back
    outputs = [cli("restore", good, db_path=live) for _ in range(2)]
    kept = [re.search(r"is kept as (\S+)\.$", out, re.M).group(1) for code, out in outputs]
    assert all(code == 0 for code, _out in outputs) and kept[0] != kept[1]
    assert len(list(tmp_path.glob("console.db.before-restore-*.db"))) == 4


def dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def leave_a_killed_backup(folder):
    """What a backup killed mid-copy leaves: its hidden temporary file and SQLite's journal beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".console-20261123T100000Z.db.{dead_pid()}.tmp"
    temporary.write_bytes(b"")
    (folder / f"{temporary.name}-journal").write_bytes(b"\0" * 512)
    return {temporary.name, f"{temporary.name}-journal"}


def test_a_killed_backup_leaves_nothing_after_the_next_cli_backup(app, db, incident, tmp_path):
    folder = tmp_path / "backups"
    leftovers = leave_a_killed_backup(folder)
    assert leftovers <= {p.name for p in folder.iterdir()}
    code, output = cli("backup", f"{folder}/", db_path=app.config["DATABASE"])
    assert code == 0, output
    names = [p.name for p in folder.iterdir()]
    assert len(names) == 1 and re.fullmatch(r"console-\d{8}T\d{6}Z\.db", names[0]), names


def test_a_killed_backup_leaves_nothing_after_the_next_scheduled_backup(app, db, incident, tmp_path):
    folder = tmp_path / "scheduled"
    leave_a_killed_backup(folder)
    settings = dict(app.config, BACKUP_EVERY_MINUTES=60, BACKUP_FOLDER=str(folder), BACKUP_KEEP=5)
    settings = type(app.config)(app.config.root_path, settings)
    result = backup_monitor.run(db, datetime(2026, 11, 23, 10, 0, 30, tzinfo=timezone.utc), settings, Outbox(db))
    assert result["backup"].endswith("console-20261123T100030Z.db"), result
    assert [p.name for p in folder.iterdir()] == ["console-20261123T100030Z.db"]
