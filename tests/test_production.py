"""The production recipe of README "Production", for real: gunicorn with one
threaded worker serving ``console.wsgi:app`` on a temporary database; a board
over the WebSocket transport sees a change made through the API; the worker
runs the monitors when the scheduler is on; two instances share the boards'
rooms through Redis and still run each monitor once per period."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

import monitors

from .servers import ROOT, RedisServer, free_port, socket_client, wait_for_port, wait_until


class Gunicorn:
    """``gunicorn -w 1 --threads N console.wsgi:app`` as README "Production" starts it."""

    def __init__(self, db_path, env=None, threads=40):
        self.port = free_port()
        self.db_path = str(db_path)
        self.threads = threads
        self.env = {**os.environ, "CONSOLE_DB": self.db_path, "CONSOLE_SECRET_KEY": "test-secret", "CONSOLE_SCHEDULER": "off", **(env or {})}
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log_path = f"{self.db_path}.gunicorn.{self.port}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    "1",
                    "--threads",
                    str(self.threads),
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "--no-control-socket",
                    "--graceful-timeout",
                    "5",
                    "console.wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, timeout=30, process=self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- gunicorn output ---\n{self.output()[-3000:]}") from None
        return self

    def output(self):
        return open(self.log_path, errors="replace").read()

    def worker_pids(self):
        """The worker processes (children of the gunicorn master)."""
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.process.pid:
                    children.append(int(entry))
        return children

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def gunicorns(app):
    started = []

    def start(**env):
        server = Gunicorn(app.config["DATABASE"], env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Board:
    """A python-socketio client on the WebSocket transport only, joined to an incident."""

    def __init__(self, url, token, incident_id):
        self.events = []
        self.lock = threading.Lock()
        self.sio = socket_client(reconnection=False)
        self.sio.on("*", self._event)
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        self.joined = self.sio.call("join_incident", {"incident_id": incident_id}, timeout=10)

    def _event(self, name, data):
        with self.lock:
            self.events.append((name, data))

    def wait_for(self, name, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [data for event, data in self.events if event == name and predicate(data)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {name} within {timeout}s; received {[e for e, _ in self.events]}")

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


def call(server, token, method, path, body=None):
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_gunicorn_serves_the_api_and_the_board_over_websocket(gunicorns, tokens, incident):
    server = gunicorns()
    assert "Using worker: gthread" in server.output()
    team = Board(server.url, tokens["team"], incident["id"])
    executive = Board(server.url, tokens["executive"], incident["id"])
    try:
        assert team.sio.transport() == "websocket"
        assert team.joined["room"] == f"incident:{incident['id']}:team"
        assert executive.joined["room"] == f"incident:{incident['id']}:exec"
        seq = team.joined["snapshot"]["seq"]

        status, body = call(server, tokens["team"], "PATCH", f"/api/v1/complainants/{incident['guangdong']}", {"status": "contacted"})
        assert status == 200 and body["status"] == "contacted"

        event = team.wait_for("complainant_updated", lambda e: e["complainant"]["id"] == incident["guangdong"])
        assert event["seq"] == seq + 1 and event["complainant"]["status"] == "contacted"
        aggregate = executive.wait_for("complainant_updated", lambda e: True)
        assert "complainant" not in aggregate
        assert {(c["status"], c["delta"]) for c in aggregate["counts"]} == {("new", -1), ("contacted", 1)}
    finally:
        team.close()
        executive.close()
    assert "Traceback" not in server.output()


def test_the_worker_runs_the_monitors_when_the_scheduler_is_on(gunicorns, db, incident):
    server = gunicorns(CONSOLE_SCHEDULER="on")
    wait_until(lambda: db.execute("SELECT count(*) FROM monitor_run WHERE finished_at IS NOT NULL").fetchone()[0] >= 3, what="the worker's first monitor runs")
    workers = server.worker_pids()
    assert len(workers) == 1
    holders = {r[0] for r in db.execute("SELECT DISTINCT holder FROM monitor_run")}
    assert holders == {f"{socket.gethostname()}:{workers[0]}"}  # the worker, not the master


def test_two_instances_share_the_rooms_through_redis(gunicorns, db, tokens, incident):
    redis = RedisServer()
    try:
        env = {"CONSOLE_SOCKETIO_MESSAGE_QUEUE": redis.url, "CONSOLE_SCHEDULER": "on"}
        a, b = gunicorns(**env), gunicorns(**env)
        board = Board(a.url, tokens["lead"], incident["id"])
        try:
            status, _ = call(b, tokens["team"], "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_1']}", {"status": "contacted"})
            assert status == 200
            event = board.wait_for("complainant_updated", lambda e: e["complainant"]["id"] == incident["hebei_outlet_1"])
            assert event["complainant"]["status"] == "contacted"
        finally:
            board.close()
        # Both workers run schedulers: every monitor ran for the current period, each by one of the two workers.
        everyone = {m.id for m in monitors.MONITORS}
        wait_until(
            lambda: {r[0] for r in db.execute("SELECT monitor FROM monitor_run WHERE finished_at IS NOT NULL")} == everyone, what="every monitor's first run"
        )
        holders = {r[0] for r in db.execute("SELECT DISTINCT holder FROM monitor_run")}
        assert holders <= {f"{socket.gethostname()}:{pid}" for pid in a.worker_pids() + b.worker_pids()}
    finally:
        redis.stop()
