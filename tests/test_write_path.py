"""One write path: events are published only after their transaction commits,
and a read snapshot sees one committed state."""

import pytest

from console import events
from console.clock import from_iso
from console.db import connect, read_snapshot, write
from console.live import publish


def test_publish_is_refused_inside_an_open_transaction(app, db):
    outbox = events.Outbox(db)
    with pytest.raises(RuntimeError, match="inside an open transaction"):
        with write(db):
            incident = (
                db["incident"]
                .insert(
                    {
                        "title": "t",
                        "cause": "c",
                        "product": "p",
                        "severity": "light",
                        "status": "active",
                        "opened_at": "2026-11-23T01:00:00+00:00",
                        "updated_at": "2026-11-23T01:00:00+00:00",
                    }
                )
                .last_pk
            )
            outbox.record_everywhere(incident, "incident_updated", from_iso("2026-11-23T01:00:00+00:00"), {"incident": {"id": incident}})
            publish(outbox)  # before the commit: refused, and the write rolls back with the error
    assert db["incident"].count == 0
    assert db["live_event"].count == 0


def test_a_read_snapshot_does_not_see_a_commit_made_during_it(app, db):
    other = connect(app.config["DATABASE"])
    try:
        with read_snapshot(db):
            before = db.execute("SELECT count(*) FROM province").fetchone()[0]
            with write(other):
                other.execute("DELETE FROM city WHERE province_code = '130000'")
                other.execute("DELETE FROM province WHERE code = '130000'")
            during = db.execute("SELECT count(*) FROM province").fetchone()[0]
        after = db.execute("SELECT count(*) FROM province").fetchone()[0]
    finally:
        other.close()
    assert before == during == after + 1
