"""Real processes for tests: the console served by run.py, and redis-server."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=20.0, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class ConsoleServer:
    """``python run.py`` on a database file and a port, as an operator would start it."""

    def __init__(self, db_path, port=None, env=None):
        self.db_path = str(db_path)
        self.port = port or free_port()
        # Monitors stay off unless a test turns them on: their alerts would be extra events.
        self.env = {**os.environ, "CONSOLE_SECRET_KEY": "test-secret", "CONSOLE_SCHEDULER": "off", **(env or {})}
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        # Output goes to a file beside the database: a pipe nobody reads fills
        # up and blocks the server's logging, and with it every request.
        self.log_path = f"{self.db_path}.{self.port}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "run.py", "--db", self.db_path, "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, process=self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n--- server output ---\n{open(self.log_path, errors='replace').read()[-3000:]}") from None
        return self

    def output(self):
        return open(self.log_path, errors="replace").read()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class RedisServer:
    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: the README's test command installs it (apt-get install redis-server)")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def socket_client(**options):
    """A Socket.IO client for a test: its handshake waits up to 30 s (engine.io's
    5 s default is too short for a server on a loaded two-core machine)."""
    import socketio

    return socketio.Client(request_timeout=30, **options)


def wait_until(predicate, timeout=20.0, what="condition"):
    """Poll a condition a real process will make true (a monitor tick), up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def monitor_finished(db, monitor_id, start):
    """Whether the monitor's run for the period starting at ``start`` has finished."""
    from console.clock import to_iso

    row = db.execute("SELECT finished_at FROM monitor_run WHERE monitor = ? AND period_start = ?", [monitor_id, to_iso(start)]).fetchone()
    return row is not None and row[0] is not None
