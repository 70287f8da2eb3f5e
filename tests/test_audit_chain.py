"""The audit log as a hash chain: rows edited, deleted or inserted with raw
sqlite3 behind the console's back are each named by ``python run.py audit
verify`` (a real process, exit code 1); an untouched log verifies clean (0),
also after many processes wrote to it at once."""

import multiprocessing
import sqlite3
import subprocess
import sys

import pytest

from console import audit, migrations
from console.db import connect, write

from .servers import ROOT

ACTOR = audit.Actor(user_id=None, username="tester", route="test")


def verify_cli(db_path, *extra):
    """``python run.py --db PATH audit verify [extra]``: (exit code, output)."""
    done = subprocess.run([sys.executable, "run.py", "--db", str(db_path), "audit", "verify", *extra], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def logged(app, db, incident, api):
    """A log written by the app itself: the incident fixture's API calls and a few more."""
    for status in ("contacted", "negotiating"):
        assert api("team", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"status": status}).status_code == 200
    assert api("legal", "POST", f"/api/v1/complainants/{incident['hebei_outlet_1']}/reveal").status_code == 200
    ids = [r[0] for r in db.execute("SELECT id FROM audit_log ORDER BY id")]
    assert len(ids) >= 8 and ids == list(range(1, len(ids) + 1))
    return ids


def raw(app):
    """A plain sqlite3 connection: someone with the file and no console."""
    return sqlite3.connect(app.config["DATABASE"], isolation_level=None)


def test_an_untouched_log_verifies_clean(app, logged):
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 0, output
    assert f"Audit log intact: {len(logged)} entries" in output


def test_each_entry_carries_the_hash_of_the_one_before(db, logged):
    rows = [dict(r) for r in db.query("SELECT * FROM audit_log ORDER BY id")]
    assert rows[0]["prev_hash"] == audit.GENESIS
    for before, entry in zip(rows, rows[1:]):
        assert entry["prev_hash"] == before["hash"]
        assert entry["hash"] == audit.entry_hash([entry[f] for f in audit.FIELDS], entry["prev_hash"])
    assert db.execute("SELECT last_id, hash FROM audit_head").fetchone() == (rows[-1]["id"], rows[-1]["hash"])


def test_an_edited_entry_is_named(app, logged):
    edited = logged[3]
    raw(app).execute("UPDATE audit_log SET username = 'someone-else' WHERE id = ?", [edited])
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1
    assert f"Entry {edited} was edited" in output
    assert "1 problem(s)" in output


def test_a_deleted_entry_is_named(app, logged):
    deleted = logged[2]
    raw(app).execute("DELETE FROM audit_log WHERE id = ?", [deleted])
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1
    assert f"Entry {deleted} was deleted: entry {deleted + 1} links to an entry that is gone" in output


def test_deleting_the_newest_entries_is_named(app, logged):
    raw(app).execute("DELETE FROM audit_log WHERE id >= ?", [logged[-2]])
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1
    assert f"Entries {logged[-2]}, {logged[-1]} were deleted" in output


def test_an_inserted_entry_is_named(app, logged):
    conn = raw(app)
    conn.execute(
        "INSERT INTO audit_log (at, user_id, username, route, table_name, row_id, action, after) "
        "VALUES ('2026-11-23T09:00:00+00:00', NULL, 'lead', 'POST /api/v1/incidents', 'incident', 1, 'approve', '{}')"
    )
    forged = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1
    assert f"Entry {forged} was inserted" in output


def test_an_inserted_entry_with_a_well_formed_hash_is_named(app, db, logged):
    """A forger who knows the scheme chains the row to the newest entry, but leaves the head alone."""
    last_id, last_hash = db.execute("SELECT last_id, hash FROM audit_head").fetchone()
    values = (last_id + 1, "2026-11-23T09:00:00+00:00", None, "lead", "cli", "incident", 1, "approve", None, None)
    raw(app).execute(
        "INSERT INTO audit_log (" + ", ".join(audit.FIELDS) + ", prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [*values, last_hash, audit.entry_hash(values, last_hash)],
    )
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1 and f"Entry {last_id + 1} was inserted" in output


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_link_to_the_next(app, db, logged):
    target = logged[4]
    row = next(db.query("SELECT * FROM audit_log WHERE id = ?", [target]))
    row["action"] = "reveal"
    digest = audit.entry_hash([row[f] for f in audit.FIELDS], row["prev_hash"])
    raw(app).execute("UPDATE audit_log SET action = 'reveal', hash = ? WHERE id = ?", [digest, target])
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1 and f"Entry {target + 1} does not follow entry {target}" in output


def test_edit_delete_and_insert_together_are_each_named_first_one_first(app, logged):
    conn = raw(app)
    conn.execute('UPDATE audit_log SET after = \'{"status": "settled"}\' WHERE id = ?', [logged[1]])
    conn.execute("DELETE FROM audit_log WHERE id = ?", [logged[4]])
    conn.execute("INSERT INTO audit_log (at, table_name, action) VALUES ('2026-11-23T09:00:00+00:00', 'complainant', 'delete')")
    forged = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    code, output = verify_cli(app.config["DATABASE"])
    assert code == 1
    lines = [line.strip() for line in output.splitlines()[1:]]
    assert lines == [
        f"edited: Entry {logged[1]} was edited: its content no longer matches its hash.",
        f"deleted: Entry {logged[4]} was deleted: entry {logged[5]} links to an entry that is gone.",
        f"inserted: Entry {forged} was inserted: it lies beyond the newest entry the log recorded ({logged[-1]}).",
    ], output


def test_the_console_keeps_writing_after_a_forged_row_and_verify_still_names_it(app, db, logged, lead, ctx):
    conn = raw(app)
    conn.execute("INSERT INTO audit_log (at, table_name, action) VALUES ('2026-11-23T09:00:00+00:00', 'complainant', 'delete')")
    forged = conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    written = audit.record(db, lead, "incident", 1, "update", after={"severity": "light"})
    assert written == forged + 1
    result = audit.verify(db)
    assert [(p.kind, p.ids) for p in result.problems] == [("inserted", (forged,))]
    assert result.last_id == written


def test_the_migration_chains_the_entries_written_before_it(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    migrations.migrations.apply(db, stop_before="m010_audit_chain")
    for n in range(5):
        db.execute(
            "INSERT INTO audit_log (at, username, route, table_name, row_id, action, after) VALUES (?, 'lead', 'cli', 'incident', ?, 'update', ?)",
            [f"2026-11-2{n}T10:00:00+00:00", n, '{"n": %d}' % n],
        )
    db.conn.commit()
    code, output = verify_cli(path)
    assert code == 2 and "m010_audit_chain" in output
    migrations.migrate(db)
    result = audit.verify(db)
    assert result.intact and result.entries == 5 and result.last_id == 5
    db.close()
    assert verify_cli(path)[0] == 0


def _write_entries(db_path, worker, count):
    db = connect(db_path)
    for n in range(count):
        with write(db):  # as the domain functions call it: inside their write transaction
            audit.record(db, audit.Actor(None, f"worker-{worker}", "test"), "complainant", n, "update", after={"n": n})
    for n in range(count):  # and outside any transaction: record opens its own
        audit.record(db, audit.Actor(None, f"worker-{worker}", "test"), "complainant", n, "reveal")
    db.close()


def test_many_processes_writing_at_once_keep_one_chain(app, db, logged):
    processes = [multiprocessing.get_context("spawn").Process(target=_write_entries, args=(app.config["DATABASE"], w, 50)) for w in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    prev_hashes = [r[0] for r in db.execute("SELECT prev_hash FROM audit_log")]
    assert len(prev_hashes) == len(logged) + 4 * 100
    assert len(set(prev_hashes)) == len(prev_hashes)  # no two entries chained to the same one: no fork
    assert verify_cli(app.config["DATABASE"])[0] == 0


def test_the_lead_sees_the_chain_verified_on_the_audit_page(app, login, logged):
    lead = login("lead")
    page = lead.get("/audit").data.decode()
    assert "Verify the hash chain" in page and "Hash chain intact" not in page
    page = lead.get("/audit?verify=1").data.decode()
    assert f"Hash chain intact: {len(logged)} entries" in page
    raw(app).execute("DELETE FROM audit_log WHERE id = ?", [logged[2]])
    page = lead.get("/audit?verify=1").data.decode()
    assert "Hash chain broken" in page and f"Entry {logged[2]} was deleted" in page


def test_a_rebuilt_chain_passes_alone_but_not_against_the_hash_a_backup_printed(app, db, logged, tmp_path):
    """The limit of a chain kept in the same file, and the outside anchor that covers it."""
    done = subprocess.run(
        [sys.executable, "run.py", "--db", app.config["DATABASE"], "backup", tmp_path / "before.db"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    expect = done.stdout.split("--expect ")[1].split()[0]
    assert expect.startswith(f"{logged[-1]}:")
    # Someone who knows the scheme edits entry 2 and recomputes every hash after it, and the head.
    db.execute("UPDATE audit_log SET username = 'nobody' WHERE id = ?", [logged[1]])
    with write(db):
        audit.chain_existing(db)
    assert verify_cli(app.config["DATABASE"])[0] == 0
    code, output = verify_cli(app.config["DATABASE"], "--expect", expect)
    assert code == 1 and f"rewritten: Entry {logged[-1]} no longer has the hash noted earlier" in output
    code, output = verify_cli(tmp_path / "before.db", "--expect", expect)
    assert code == 0 and f"Entry {logged[-1]} still has the hash noted earlier" in output
