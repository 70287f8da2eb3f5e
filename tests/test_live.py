"""The live board: what each role's socket receives, frame by frame, and the
refusals, in-process (Flask-SocketIO's test client: an event published by a
request is in the client's queue when the request returns, so "nothing else
arrived" is checked at once, not after a wait); reconnect across a restart of
a real run.py, and two processes sharing rooms through a real Redis."""

import json
import threading
import time

import pytest
import socketio

from console import live
from console.access import SYSTEM
from console.audit import Actor
from console.caller import Caller
from console.clock import utcnow
from console.complainants import update_complainant
from console.events import Outbox
from console.schemas import ComplainantUpdate

from .servers import ConsoleServer, RedisServer, socket_client


class Listener:
    """A python-socketio client that keeps every frame it receives."""

    def __init__(self, url, token=None, reconnection=False):
        self.frames = []
        self.lock = threading.Lock()
        self.sio = socket_client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=0.5)
        self.sio.on("*", self._frame)
        self.url = url
        self.token = token

    def connect(self):
        self.sio.connect(self.url, auth={"token": self.token} if self.token else None, transports=["websocket"], wait_timeout=10)
        return self

    def _frame(self, event, data):
        with self.lock:
            self.frames.append((event, data))

    def join(self, incident_id):
        answer = self.sio.call("join_incident", {"incident_id": incident_id}, timeout=10)
        with self.lock:
            self.frames.append(("join_incident:ack", answer))
        return answer

    def events(self):
        with self.lock:
            return [data for event, data in self.frames if event != "join_incident:ack"]

    def wait_for(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.events()):
                return self.events()
            time.sleep(0.02)
        raise AssertionError(f"not received within {timeout}s; got {self.events()}")

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


class Board:
    """A board in this process (Flask-SocketIO's test client) that keeps every frame."""

    def __init__(self, app, token):
        self.client = live.socketio.test_client(app, auth={"token": token})
        self.frames = []

    def join(self, incident_id):
        answer = self.client.emit("join_incident", {"incident_id": incident_id}, callback=True)
        self.frames.append(("join_incident:ack", answer))
        return answer

    def events(self):
        self.frames += [(m["name"], m["args"][0] if m["args"] else None) for m in self.client.get_received()]
        return [data for event, data in self.frames if event != "join_incident:ack"]

    def close(self):
        if self.client.is_connected():
            self.client.disconnect()


@pytest.fixture
def listeners(app, tokens, incident):
    made = {}

    def listen(username):
        board = Board(app, tokens[username])
        assert board.client.is_connected(), username
        board.join(incident["id"])
        made[username] = board
        return board

    yield listen
    for board in made.values():
        board.close()


def _changes(api, incident):
    # each call must succeed, or the test would wait for events that never come
    """Changes in Hebei (two outlets) and in Guangdong, through the server's API."""
    api("team", "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_1']}", json={"status": "contacted"})
    api("team", "POST", f"/api/v1/complainants/{incident['hebei_outlet_2']}/contacts", json={"channel": "phone", "said": "答复口径已告知"})
    api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json=[
            {
                "name": "赵丽华",
                "phone": "13600001111",
                "id_number": "130107198001011111",
                "province_code": "130000",
                "branch_code": "HB-SJZ-02",
                "city_code": "130100",
            },
            {
                "name": "黄伟",
                "phone": "13600002222",
                "id_number": "440104198001012222",
                "province_code": "440000",
                "branch_code": "GD-GZ-01",
                "city_code": "440100",
            },
        ],
    )
    api("team", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"status": "escalated", "escalation_channel": "media"})


PEOPLE_AFTER = ["张建国", "李秀英", "陈志明", "赵丽华", "黄伟"]


def _frame_text(listener):
    return json.dumps(listener.frames, ensure_ascii=False)


def test_connect_without_login_or_with_a_bad_token_is_refused(app, accounts):
    for auth in (None, {"token": "not-a-token"}):
        assert not live.socketio.test_client(app, auth=auth).is_connected()


def test_join_answers_a_snapshot_of_the_callers_scope(listeners, incident):
    lead = listeners("lead")
    hebei = listeners("branch_hebei")
    lead_snapshot = lead.frames[0][1]["snapshot"]
    hebei_snapshot = hebei.frames[0][1]["snapshot"]
    assert lead_snapshot["room"] == f"incident:{incident['id']}:team"
    assert sum(c["count"] for c in lead_snapshot["counts"]) == 3
    assert hebei_snapshot["room"] == f"incident:{incident['id']}:province:130000"
    assert {c["province_code"] for c in hebei_snapshot["counts"]} == {"130000"}
    unknown = lead.join(999999)
    assert list(unknown) == ["error"] and "999999" in unknown["error"]
    assert "error" in lead.join("x")


def test_each_role_receives_only_what_it_may(listeners, api, incident):
    lead, team, legal = listeners("lead"), listeners("team"), listeners("legal")
    executive = listeners("executive")
    hebei, guangdong, outlet = listeners("branch_hebei"), listeners("branch_guangdong"), listeners("branch_outlet")
    _changes(api, incident)
    everything = lead.events()
    assert [e["name"] for e in everything] == ["complainant_updated", "contact_logged", "complainants_added", "complainant_updated"]
    for listener in (team, legal):
        assert listener.events() == everything

    # A branch contact never receives another region's events.
    guangdong_events = guangdong.events()  # everything published is already here
    assert len(guangdong_events) == 2
    for event in guangdong_events:
        assert {c["province_code"] for c in event["counts"]} <= {"440000"}
        assert event.get("complainant", {}).get("province_code", "440000") == "440000"
    assert not any(name in _frame_text(guangdong) for name in ["张建国", "李秀英", "赵丽华"])

    hebei_events = hebei.events()
    assert len(hebei_events) == 3
    assert all({c["province_code"] for c in e["counts"]} <= {"130000"} for e in hebei_events)
    assert not any(name in _frame_text(hebei) for name in ["陈志明", "黄伟"])

    outlet_events = outlet.events()
    assert len(outlet_events) == 1  # only HB-SJZ-01's complainant changed at that outlet
    assert outlet_events[0]["complainant"]["id"] == incident["hebei_outlet_1"]
    assert "李秀英" not in _frame_text(outlet) and "赵丽华" not in _frame_text(outlet)

    # Each room's sequence has no gaps.
    for listener in (lead, executive, hebei, guangdong, outlet):
        start = listener.frames[0][1]["snapshot"]["seq"]
        seqs = [e["seq"] for e in listener.events()]
        assert seqs == list(range(start + 1, start + 1 + len(seqs)))

    # An executive never receives a name, a phone or an ID number, masked or not.
    exec_events = executive.events()
    assert len(exec_events) == 4
    assert all("complainant" not in e for e in exec_events)
    text = _frame_text(executive)
    for fragment in PEOPLE_AFTER + ["13812345678", "138****5678", "5678", "130105195501011234", "1234", "13600001111"]:
        assert fragment not in text, fragment
    snapshot = executive.frames[0][1]["snapshot"]
    assert snapshot["aggregate_only"] is True
    assert "items" not in snapshot["overdue_contact"]


def test_deltas_applied_to_the_snapshot_equal_a_fresh_snapshot(listeners, api, incident):
    lead = listeners("lead")
    start = lead.frames[0][1]["snapshot"]
    _changes(api, incident)
    received = lead.events()
    assert len(received) == 4
    counts = {(c["group_id"], c["province_code"], c["status"]): c["count"] for c in start["counts"]}
    for event in received:
        for c in event["counts"]:
            key = (c["group_id"], c["province_code"], c["status"])
            counts[key] = counts.get(key, 0) + c["delta"]
    counts = {k: v for k, v in counts.items() if v}
    fresh = lead.join(incident["id"])["snapshot"]
    assert counts == {(c["group_id"], c["province_code"], c["status"]): c["count"] for c in fresh["counts"]}
    assert fresh["seq"] == received[-1]["seq"]


def test_client_resyncs_after_the_server_restarts(app, db, server, tokens, incident):
    listener = Listener(server.url, tokens["lead"], reconnection=True)
    joined = []
    listener.sio.on("connect", lambda: joined.append(listener.sio.call("join_incident", {"incident_id": incident["id"]}, timeout=10)))
    listener.connect()
    deadline = time.monotonic() + 5
    while not joined and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sum(c["count"] for c in joined[0]["snapshot"]["counts"]) == 3
    before_seq = joined[0]["snapshot"]["seq"]

    server.stop()
    # While the server is down, a change lands in the database (as a monitor in
    # another process would write it): its event is written but nobody emits it.
    outbox = Outbox(db)
    with app.test_request_context():
        update_complainant(
            db, incident["guangdong"], ComplainantUpdate(status="contacted"), Caller(SYSTEM, Actor(None, "test", "test"), utcnow()), outbox, settings=app.config
        )
    server.start()

    deadline = time.monotonic() + 15
    while len(joined) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    listener.close()
    assert len(joined) >= 2, "the client did not reconnect and join again"
    fresh = joined[-1]["snapshot"]
    assert fresh["seq"] == before_seq + 1
    statuses = {c["status"]: c["count"] for c in fresh["counts"] if c["province_code"] == "440000"}
    assert statuses == {"contacted": 1}


def test_two_processes_share_one_board_through_redis(app, incident, tokens, api):
    redis = RedisServer()
    env = {"CONSOLE_SOCKETIO_MESSAGE_QUEUE": redis.url}
    a = ConsoleServer(app.config["DATABASE"], env=env).start()
    b = ConsoleServer(app.config["DATABASE"], env=env).start()
    listener = Listener(b.url, tokens["executive"])
    try:
        listener.connect()
        listener.join(incident["id"])
        time.sleep(0.3)  # let B's queue listener subscribe
        import urllib.request

        request = urllib.request.Request(
            f"{a.url}/api/v1/complainants/{incident['guangdong']}",
            data=json.dumps({"status": "contacted"}).encode(),
            method="PATCH",
            headers={"Authorization": f"Bearer {tokens['team']}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        received = listener.wait_for(lambda e: len(e) >= 1, timeout=5)
        assert received[0]["name"] == "complainant_updated"
        assert {(c["status"], c["delta"]) for c in received[0]["counts"]} == {("new", -1), ("contacted", 1)}
    finally:
        listener.close()
        a.stop()
        b.stop()
        redis.stop()


def test_invalid_tokens_on_the_socket_lock_the_address_like_the_api(app, tokens, db):
    """Guessing tokens over Socket.IO counts against the address as on the API:
    after LOGIN_MAX_FAILURES_PER_ADDRESS (20) even a valid token is refused,
    and a real client is told why."""
    loopback = app.test_client()
    loopback.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # the address the real client below comes from

    def connect(token):
        return live.socketio.test_client(app, auth={"token": token}, flask_test_client=loopback)

    for attempt in range(20):
        assert not connect(f"guess-{attempt}").is_connected()
    assert [tuple(r) for r in db.execute("SELECT kind, key FROM login_lockout")] == [("address", "127.0.0.1")]
    assert not connect(tokens["lead"]).is_connected()
    server = ConsoleServer(app.config["DATABASE"]).start()  # the same address (loopback), locked in the database
    try:
        refused, reasons = socket_client(reconnection=False), []
        refused.on("connect_error", lambda data=None: reasons.append(str(data)))
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(server.url, auth={"token": tokens["lead"]}, transports=["websocket"], wait_timeout=5)
    finally:
        server.stop()
    assert any("try again later" in r for r in reasons), reasons
