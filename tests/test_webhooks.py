"""The outgoing webhook (console/webhooks.py, monitors/webhooks.py): a real
HTTP receiver on 127.0.0.1, signatures recomputed here with hmac, retries
with backoff driven by explicit ``now`` values."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console import create_app, updates, webhooks
from console.access import Viewer
from console.alerts import raise_alert
from console.audit import Actor
from console.caller import Caller
from console.clock import to_iso
from console.db import write
from console.schemas import HourlyUpdateIn
from monitors import webhooks as webhook_monitor
from monitors.runner import run_monitor

SECRET = "webhook-secret-测试"
T = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


class Receiver:
    """A local HTTP server that records every POST and answers with scripted statuses."""

    def __init__(self):
        self.requests = []
        self.script = []  # statuses to answer with, in order; 200 once it runs out
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body, "status": status})
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"no")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/console"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def app(tmp_path, receiver):
    """The conftest app, with the webhook pointed at the local receiver."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "console.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_BACKOFF_SECONDS": 30,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app


def expected_signature(timestamp, body):
    return "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def deliveries(db):
    return [dict(r) for r in db.query("SELECT * FROM webhook_delivery ORDER BY id")]


def attempts(db, delivery_id):
    return [dict(r) for r in db.query("SELECT * FROM webhook_attempt WHERE delivery_id = ? ORDER BY id", [delivery_id])]


def group_visit(app, db, accounts, incident_id, at, settings=None):
    """A branch reports 3 people at ``at``: the crowd rule raises a group-visit alert."""
    viewer = Viewer(id=accounts["branch_outlet"], username="branch_outlet", role="branch", scope_kind="branch", scope_code="HB-SJZ-01")
    actor = Actor(user_id=accounts["branch_outlet"], username="branch_outlet", route="test")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        updates.post_update(db, incident_id, HourlyUpdateIn(people_on_site=3, mood="tense"), Caller(viewer, actor, at), settings or app.config)
    [alert] = [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'group_visit' ORDER BY id DESC LIMIT 1")]
    return alert


def test_an_alert_is_queued_for_the_webhook_only_when_a_url_is_set(app, db, accounts):
    with write(db):
        raise_alert(db, key="no-url", kind="test", level="info", message="m", now=T, audience={"team"}, settings={**app.config, "WEBHOOK_URL": None})
    assert deliveries(db) == []
    # the settings are required: a caller cannot switch the webhook off by leaving them out
    with pytest.raises(TypeError), write(db):
        raise_alert(db, key="no-settings", kind="test", level="info", message="m", now=T, audience={"team"})
    assert db["alert"].count_where("dedupe_key = 'no-settings'") == 0
    with write(db):
        alert_id = raise_alert(db, key="with-url", kind="test", level="info", message="m", now=T, audience={"team"}, settings=app.config)
    [delivery] = deliveries(db)
    assert delivery["alert_id"] == alert_id
    assert delivery["url"] == app.config["WEBHOOK_URL"]
    assert delivery["next_attempt_at"] == to_iso(T)
    assert delivery["attempts"] == 0 and delivery["delivered_at"] is None
    # raising the same alert again queues nothing more
    with write(db):
        assert raise_alert(db, key="with-url", kind="test", level="info", message="m", now=T, audience={"team"}, settings=app.config) is None
    assert len(deliveries(db)) == 1


def test_an_app_without_a_webhook_url_queues_nothing(tmp_path, accounts, incident, db):
    """The rule run with a plain app's settings (no WEBHOOK_URL) raises the alert but queues no delivery."""
    plain = create_app({"TESTING": True, "DATABASE": str(tmp_path / "console.db"), "SECRET_KEY": "test"})
    assert plain.config["WEBHOOK_URL"] is None
    alert = group_visit(plain, db, accounts, incident["id"], T, settings=plain.config)
    assert alert["kind"] == "group_visit"
    assert deliveries(db) == []


def test_a_delivery_is_signed_and_carries_the_alert(app, db, accounts, incident, receiver):
    alert = group_visit(app, db, accounts, incident["id"], T)
    [delivery] = deliveries(db)
    assert delivery["alert_id"] == alert["id"]

    now = T + 5 * SECOND
    assert webhooks.deliver_due(db, now, app.config) == (1, 0)
    [request] = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/console"
    assert headers["X-Console-Delivery"] == str(delivery["id"])
    timestamp = headers["X-Console-Timestamp"]
    assert timestamp == str(int(now.timestamp()))
    assert headers["X-Console-Signature"] == expected_signature(timestamp, request["body"])
    assert headers["Content-Type"].startswith("application/json")
    # a changed body or another secret would not match
    assert expected_signature(timestamp, request["body"] + b" ") != headers["X-Console-Signature"]
    assert "sha256=" + hmac.new(b"other", timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest() != headers["X-Console-Signature"]

    body = json.loads(request["body"])
    assert body["id"] == alert["id"]
    assert body["kind"] == "group_visit"
    assert body["level"] == alert["level"] == "warning"
    assert body["message"] == alert["message"]
    assert body["incident_id"] == incident["id"]
    assert body["branch_code"] == "HB-SJZ-01"
    assert body["province_code"] == "130000"
    assert body["raised_at"] == to_iso(T)
    assert body["audience"] == json.loads(alert["audience"])
    assert body["data"] == {"people_on_site": 3, "managers": []}  # the outlet's managers (none in this directory)
    # no personal data in it
    for person in incident["people"]:
        assert person["phone"] not in request["body"].decode()
        assert person["name"] not in request["body"].decode()

    [row] = deliveries(db)
    assert row["delivered_at"] == to_iso(now)
    assert row["attempts"] == 1
    [attempt] = attempts(db, row["id"])
    assert attempt["status"] == 200 and attempt["at"] == to_iso(now) and attempt["error"] is None
    # delivered once: later runs send nothing
    assert webhooks.deliver_due(db, now + timedelta(hours=1), app.config) == (0, 0)
    assert len(receiver.requests) == 1


def test_a_delivery_is_not_sent_before_it_is_due(app, db, accounts, incident, receiver):
    group_visit(app, db, accounts, incident["id"], T)
    assert webhooks.deliver_due(db, T - SECOND, app.config) == (0, 0)
    assert receiver.requests == []
    assert webhooks.deliver_due(db, T, app.config) == (1, 0)
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_with_backoff_and_delivered_once(app, db, accounts, incident, receiver):
    receiver.script = [500, 500]  # then 200
    group_visit(app, db, accounts, incident["id"], T)
    [delivery] = deliveries(db)

    assert webhooks.deliver_due(db, T, app.config) == (0, 1)
    row = deliveries(db)[0]
    assert row["attempts"] == 1
    assert row["next_attempt_at"] == to_iso(T + 30 * SECOND)
    assert row["last_error"] == "HTTP 500"
    assert row["delivered_at"] is None and row["failed_at"] is None

    assert webhooks.deliver_due(db, T + 29 * SECOND, app.config) == (0, 0)
    assert len(receiver.requests) == 1

    assert webhooks.deliver_due(db, T + 30 * SECOND, app.config) == (0, 1)
    row = deliveries(db)[0]
    assert row["attempts"] == 2
    assert row["next_attempt_at"] == to_iso(T + 90 * SECOND)  # 60 s after the second failure

    assert webhooks.deliver_due(db, T + 89 * SECOND, app.config) == (0, 0)
    assert webhooks.deliver_due(db, T + 90 * SECOND, app.config) == (1, 0)
    row = deliveries(db)[0]
    assert row["attempts"] == 3
    assert row["delivered_at"] == to_iso(T + 90 * SECOND)
    assert row["failed_at"] is None

    logged = attempts(db, delivery["id"])
    assert [(a["at"], a["status"]) for a in logged] == [(to_iso(T), 500), (to_iso(T + 30 * SECOND), 500), (to_iso(T + 90 * SECOND), 200)]
    assert [a["error"] for a in logged] == ["HTTP 500", "HTTP 500", None]

    # every attempt is the same delivery with the same body; each is signed for its own timestamp
    assert [r["status"] for r in receiver.requests] == [500, 500, 200]
    assert {r["headers"]["X-Console-Delivery"] for r in receiver.requests} == {str(delivery["id"])}
    assert {r["body"] for r in receiver.requests} == {delivery["body"].encode()}
    for r in receiver.requests:
        assert r["headers"]["X-Console-Signature"] == expected_signature(r["headers"]["X-Console-Timestamp"], r["body"])

    for later in (T + 3 * 60 * SECOND, T + timedelta(days=1)):
        assert webhooks.deliver_due(db, later, app.config) == (0, 0)
    assert len(receiver.requests) == 3


def test_a_delivery_is_marked_failed_after_the_last_attempt(app, db, accounts, incident, receiver):
    settings = {**app.config, "WEBHOOK_MAX_ATTEMPTS": 3}
    receiver.script = [500] * 10
    group_visit(app, db, accounts, incident["id"], T)
    [delivery] = deliveries(db)
    for at in (T, T + 30 * SECOND, T + 90 * SECOND):
        assert webhooks.deliver_due(db, at, settings) == (0, 1)
    row = deliveries(db)[0]
    assert row["attempts"] == 3
    assert row["failed_at"] == to_iso(T + 90 * SECOND)
    assert row["delivered_at"] is None
    assert row["last_error"] == "HTTP 500"
    assert len(attempts(db, delivery["id"])) == 3
    assert webhooks.deliver_due(db, T + timedelta(days=1), settings) == (0, 0)
    assert len(receiver.requests) == 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_receiver_backs_off_doubling_and_gives_up_after_max_attempts(app, db):
    url = f"http://127.0.0.1:{free_port()}/nobody"
    settings = {**app.config, "WEBHOOK_URL": url}
    assert settings["WEBHOOK_MAX_ATTEMPTS"] == 8
    with write(db):
        raise_alert(db, key="unreachable", kind="test", level="critical", message="m", now=T, audience={"lead"}, settings=settings)
    at = T
    times = []
    for attempt in range(1, 9):
        assert webhooks.deliver_due(db, at - SECOND, settings) == (0, 0)  # not due a second early
        assert webhooks.deliver_due(db, at, settings) == (0, 1)
        times.append(at)
        row = deliveries(db)[0]
        assert row["attempts"] == attempt
        if attempt < 8:
            wait = 30 * 2 ** (attempt - 1)
            assert row["next_attempt_at"] == to_iso(at + wait * SECOND)
            assert row["failed_at"] is None
            at += wait * SECOND
    row = deliveries(db)[0]
    assert row["failed_at"] == to_iso(times[-1])
    assert row["last_error"]
    logged = attempts(db, row["id"])
    assert [a["at"] for a in logged] == [to_iso(t) for t in times]
    assert all(a["status"] is None and a["error"] for a in logged)
    assert webhooks.deliver_due(db, at + timedelta(days=30), settings) == (0, 0)


def test_the_webhook_monitor_delivers_once_per_period(app, db, accounts, incident, receiver):
    group_visit(app, db, accounts, incident["id"], T)
    with app.app_context():
        assert run_monitor(webhook_monitor.MONITOR, app.config, T) == {"delivered": 1, "failed_attempts": 0}
        assert run_monitor(webhook_monitor.MONITOR, app.config, T) is None
        assert run_monitor(webhook_monitor.MONITOR, app.config, T + 15 * SECOND) == {"delivered": 0, "failed_attempts": 0}
    assert len(receiver.requests) == 1
    assert deliveries(db)[0]["delivered_at"] == to_iso(T)


def test_an_update_posted_through_the_api_reaches_the_webhook(app, api, db, incident, receiver):
    response = api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": 20, "mood": "hostile"})
    assert response.status_code == 201, response.json
    [delivery] = deliveries(db)
    alert = db["alert"].get(delivery["alert_id"])
    assert alert["kind"] == "major_in_person"
    # deliver at the wall-clock time the delivery became due
    from console.clock import from_iso

    due = from_iso(delivery["next_attempt_at"])
    assert webhooks.deliver_due(db, due, app.config) == (1, 0)
    [request] = receiver.requests
    assert json.loads(request["body"])["kind"] == "major_in_person"
    assert request["headers"]["X-Console-Signature"] == expected_signature(request["headers"]["X-Console-Timestamp"], request["body"])
