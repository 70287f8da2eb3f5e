"""A full disk: every write answers 503 with a message in the user's
language, nothing is half-written, a bad token is still 401, the refusals
are logged once a minute, and when space returns writes work again and one
alert says so.

Real parts: the database lives on a small tmpfs mounted for the test and
filled to the last byte with a file; SQLite then fails for real (its WAL
cannot grow: SQLITE_FULL). Freeing the file gives the space back.
"""

import logging
import os
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from console import create_app
from console.storage import LOG_EVERY, StorageWatch, is_storage_full

from .conftest import bearer, row_counts

EN = "storage is full: the change was not saved"
ZH = "存储空间已满：更改未保存"


@pytest.fixture
def disk(tmp_path):
    """A 16 MB tmpfs of its own: mounted as root, or through sudo without a password."""
    mount = tmp_path / "disk"
    mount.mkdir()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    done = subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", "size=16m,mode=1777", "tmpfs", str(mount)], capture_output=True, text=True)
    assert done.returncode == 0, f"this test mounts a small tmpfs to fill (root, or sudo without a password): {done.stderr}"
    yield mount
    subprocess.run([*sudo, "umount", "-l", str(mount)], check=True)


@pytest.fixture
def app(tmp_path, disk):
    """The app of conftest, with its database on the small disk."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(disk / "console.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "DEFAULT_LOCALE": "en",
            "DOCUMENT_FOLDER": str(tmp_path / "documents"),
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app


def fill(disk):
    """Fill the disk to the brim with one file; returns it (delete it to free the space)."""
    ballast = disk / "ballast"
    with open(ballast, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == 28, exc  # ENOSPC
    return ballast


def test_a_full_disk_refuses_every_write_with_503_then_writes_resume_and_one_alert_says_so(app, db, incident, api, tokens, login, disk, caplog):
    team_session = login("team")
    someone = incident["hebei_outlet_1"]
    # The WAL is emptied first, so every write has to grow a file, as on a disk that filled up over time.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = row_counts(db)
    ballast = fill(disk)
    caplog.set_level(logging.ERROR, logger="console.storage")

    writes = [
        ("team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", {"name": "新投诉人", "phone": "13500001111", "province_code": "130000"}),
        ("team", "PATCH", f"/api/v1/complainants/{someone}", {"status": "contacted"}),
        ("team", "POST", f"/api/v1/complainants/{someone}/contacts", {"channel": "phone", "said": "已致电说明处理进度"}),
        ("lead", "POST", "/api/v1/incidents", {"title": "第二起事件", "cause": "misselling", "product": "分红险", "severity": "light"}),
    ]
    for who, method, url, body in writes:
        refused = api(who, method, url, json=body)
        assert refused.status_code == 503, (url, refused.status_code, refused.data[:300])
        assert refused.json == {"error": EN, "details": None}
    chinese = api(
        "team", "POST", f"/api/v1/complainants/{someone}/contacts", json={"channel": "phone", "said": "再次致电"}, headers={"Accept-Language": "zh-CN"}
    )
    assert chinese.status_code == 503 and chinese.json["error"] == ZH
    page = team_session.post(f"/complainants/{someone}/contacts", data={"channel": "phone", "said": "面谈"}, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 503 and ZH in page.get_data(as_text=True)
    page = team_session.post(f"/complainants/{someone}/contacts", data={"channel": "phone", "said": "面谈"}, headers={"Accept-Language": "en"})
    assert page.status_code == 503 and EN in page.get_data(as_text=True)
    # A bad token is still refused as one: counting the failure is a write, and it cannot be stored.
    bad = app.test_client().get(f"/api/v1/incidents/{incident['id']}", headers=bearer("not-a-token"))
    assert bad.status_code == 401, bad.data[:300]
    wrong = app.test_client().post("/login", data={"username": "team", "password": "wrong"})
    assert wrong.status_code == 401
    # Reading still works.
    assert api("team", "GET", f"/api/v1/complainants/{someone}").status_code == 200

    storage_lines = [r for r in caplog.records if r.name == "console.storage"]
    assert len(storage_lines) == 1, [r.getMessage() for r in storage_lines]  # eight refusals, one line within the minute

    ballast.unlink()  # space returns
    assert row_counts(db) == before  # nothing half-written
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    created = api(
        "team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "新投诉人", "phone": "13500001111", "province_code": "130000"}
    )
    assert created.status_code == 201, created.json
    assert api("team", "PATCH", f"/api/v1/complainants/{someone}", json={"status": "contacted"}).status_code == 200
    alerts = list(db.query("SELECT kind, level, audience, message FROM alert WHERE kind = 'storage_returned'"))
    assert len(alerts) == 1, alerts  # one alert for the episode, not one per write after it
    assert "Storage space is back" in alerts[0]["message"]


def test_refusals_are_logged_once_a_minute_and_a_write_ends_the_episode():
    watch = StorageWatch()
    start = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    logged = [watch.refused(start + timedelta(seconds=s))[0] for s in range(0, 150, 5)]
    # at 0 s, 60 s and 120 s: three lines in two and a half minutes of refusals every 5 s
    assert [s for s, line in zip(range(0, 150, 5), logged) if line] == [0, 60, 120]
    assert watch.refused(start + timedelta(seconds=180)) == (True, 6)  # the line counts the refusals it stands for: 125 s to 145 s and this one
    assert watch.wrote() == start
    assert watch.wrote() is None  # the next write has no episode to end
    assert LOG_EVERY == timedelta(minutes=1)


@pytest.mark.parametrize(
    "exc, full",
    [
        (sqlite3.OperationalError("database or disk is full"), True),
        (sqlite3.OperationalError("attempt to write a readonly database"), True),
        (sqlite3.OperationalError("database is locked"), False),
        (OSError(28, "No space left on device"), True),
        (OSError(30, "Read-only file system"), True),
        (OSError(32, "Broken pipe"), False),
    ],
)
def test_what_counts_as_storage_full(exc, full):
    assert is_storage_full(exc) is full


def test_the_openapi_document_declares_the_503_on_every_write(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert ("503" in operation["responses"]) == (method != "get"), (method, path)
