"""Boards on two instances when Redis (the message queue between them) drops
out and comes back: they are told they may be behind, and within seconds of
Redis's return every board holds the database's state, with no further
change posted.

Real parts: two ``run.py`` processes on one SQLite file, a real
redis-server stopped and started again on the same port, and python-socketio
clients that follow docs/live-protocol.md as the board script does.
"""

import json
import shutil
import subprocess
import threading
import time
import urllib.request

from .servers import ConsoleServer, RedisServer, socket_client, wait_for_port


class ProtocolBoard:
    """A board as board.js keeps one: a snapshot, then its room's events in
    sequence; a gap or ``live_queue_restored`` means join again."""

    def __init__(self, url, token, incident_id, label):
        self.label, self.incident_id = label, incident_id
        self.lock = threading.Lock()
        self.counts, self.seq, self.room = {}, None, None
        self.queue_lost = 0
        self.rejoin = threading.Event()
        self.sio = socket_client(reconnection=False)
        self.sio.on("*", self._event)
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        self._join()
        self.stop = threading.Event()
        self.worker = threading.Thread(target=self._rejoin_when_asked, daemon=True)
        self.worker.start()

    def _join(self):
        answer = self.sio.call("join_incident", {"incident_id": self.incident_id}, timeout=10)
        snapshot = answer["snapshot"]
        with self.lock:
            self.room, self.seq = answer["room"], snapshot["seq"]
            self.counts = {(c["group_id"], c["province_code"], c["status"]): c["count"] for c in snapshot["counts"]}

    def _rejoin_when_asked(self):
        while not self.stop.is_set():
            if self.rejoin.wait(0.05):
                self.rejoin.clear()
                self._join()

    def _event(self, name, data):
        if name == "live_queue_lost":
            self.queue_lost += 1
            return
        if name == "live_queue_restored":
            self.rejoin.set()
            return
        with self.lock:
            if data.get("room") != self.room or data["seq"] <= self.seq:
                return
            if data["seq"] != self.seq + 1:
                self.rejoin.set()  # a gap: a fresh snapshot
                return
            for c in data.get("counts", []):
                k = (c["group_id"], c["province_code"], c["status"])
                self.counts[k] = self.counts.get(k, 0) + c["delta"]
                if self.counts[k] <= 0:
                    del self.counts[k]
            self.seq = data["seq"]

    def state(self):
        with self.lock:
            return self.seq, dict(self.counts)

    def close(self):
        self.stop.set()
        if self.sio.connected:
            self.sio.disconnect()


def call(url, token, method, path, body=None):
    request = urllib.request.Request(
        url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, json.loads(response.read())


def database_state(url, token, incident_id):
    """The board as the database holds it now, for that user (a fresh snapshot)."""
    _status, snapshot = call(url, token, "GET", f"/api/v1/incidents/{incident_id}/board")
    return snapshot["seq"], {(c["group_id"], c["province_code"], c["status"]): c["count"] for c in snapshot["counts"]}


def start_redis_on(port):
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process=process)
    return process


def test_boards_on_both_instances_catch_up_within_seconds_after_redis_returns(app, incident, tokens):
    redis = RedisServer()
    env = {"CONSOLE_SOCKETIO_MESSAGE_QUEUE": redis.url}
    a = ConsoleServer(app.config["DATABASE"], env=env).start()
    b = ConsoleServer(app.config["DATABASE"], env=env).start()
    boards = []
    restarted = None
    try:
        for server, name in ((a, "A"), (b, "B")):
            for user in ("team", "executive", "branch_hebei"):
                boards.append((ProtocolBoard(server.url, tokens[user], incident["id"], f"{name}:{user}"), server, user))
        # Both listeners are up: a change on A reaches a board on B, and one on B a board on A.
        for warm, (server, board) in enumerate(((a, boards[3][0]), (b, boards[0][0]))):
            before = board.state()[0]
            call(
                server.url,
                tokens["team"],
                "POST",
                f"/api/v1/incidents/{incident['id']}/complainants",  # two people: one phone would be one person
                {"name": "预热", "phone": f"1360000000{warm}", "province_code": "130000", "branch_code": "HB-SJZ-01", "city_code": "130100"},
            )
            deadline = time.monotonic() + 5
            while board.state()[0] == before and time.monotonic() < deadline:
                time.sleep(0.02)
            assert board.state()[0] > before, "the queue does not carry events between the instances"

        redis.stop()
        outage_started = time.monotonic()
        posted = 0
        while time.monotonic() - outage_started < 10:  # changes on both instances all through a 10 s outage
            server = (a, b)[posted % 2]
            status, _body = call(
                server.url,
                tokens["team"],
                "POST",
                f"/api/v1/incidents/{incident['id']}/complainants",
                [
                    {
                        "name": f"断线期间{posted}",
                        "phone": f"136{posted:08d}",
                        "province_code": "130000" if posted % 3 else "440000",
                        "branch_code": "HB-SJZ-02" if posted % 3 else "GD-GZ-01",
                        "city_code": "130100" if posted % 3 else "440100",
                    }
                ],
            )
            assert status == 201
            status, _body = call(
                server.url,
                tokens["team"],
                "POST",
                f"/api/v1/complainants/{incident['hebei_outlet_1']}/contacts",
                {"channel": "phone", "said": f"第{posted}次回访"},
            )
            assert status == 201
            posted += 1
            time.sleep(0.5)
        behind = [board.label for board, _s, _u in boards if board.queue_lost == 0]
        assert behind == [], f"boards never told they may be behind: {behind}"

        restarted = start_redis_on(redis.port)
        back = time.monotonic()
        expected = {user: database_state(a.url, tokens[user], incident["id"]) for user in ("team", "executive", "branch_hebei")}
        caught_up = {}
        while time.monotonic() - back < 5 and len(caught_up) < len(boards):
            for board, _server, user in boards:
                if board.label not in caught_up and board.state() == expected[user]:
                    caught_up[board.label] = time.monotonic() - back
            time.sleep(0.02)
        stale = {board.label: (board.state()[0], expected[user][0]) for board, _s, user in boards if board.label not in caught_up}
        assert stale == {}, f"boards still stale 5 s after Redis returned (board seq, database seq): {stale}"
        print(
            f"\nRedis down {back - outage_started:.1f} s, {posted * 2} changes posted on two instances; "
            f"all {len(boards)} boards at the database's state {max(caught_up.values()):.2f} s after it returned "
            f"(fastest {min(caught_up.values()):.2f} s)"
        )
    finally:
        for board, _s, _u in boards:
            board.close()
        a.stop()
        b.stop()
        if restarted is not None:
            restarted.terminate()
            restarted.wait(10)
