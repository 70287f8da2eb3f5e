"""The production recipe against slow clients: Debian's nginx, configured
with README "Production"'s block (read from the README itself, so the two
cannot drift), in front of gunicorn. While 300 idle connections and 100
connections trickling their headers are open, API answers through nginx stay
under a second and every board connects over Socket.IO; nginx drops the
slow clients by its client_header_timeout.

Everything runs on loopback; nginx runs as a child process (not a daemon,
not the system service) with its own prefix, config, pid and logs under the
test's temporary folder. Every loop is bounded.
"""

import os
import select
import shutil
import socket
import statistics
import subprocess
import textwrap
import threading
import time
import urllib.request

import pytest

from .servers import ROOT, free_port, socket_client, wait_for_port
from .test_production import Gunicorn

IDLE, SLOW = 300, 100
THREADS = 50  # the fault drill's gunicorn: alone, 300 idle connections held its API for 29 s


def readme_nginx_block():
    """The upstream and server blocks of README "Production", as written there."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("    upstream console {")
    server = lines.index("    server {", start)
    end = lines.index("    }", server)
    return textwrap.dedent("\n".join(lines[start : end + 1]))


def nginx_config(prefix, port, upstream_port):
    """README's block on a loopback port without TLS, inside the few lines nginx needs to run as a child."""
    block = readme_nginx_block()
    assert "client_header_timeout" in block and "keepalive_timeout" in block and "send_timeout" in block and "client_body_timeout" in block
    block = block.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    block = block.replace("server 127.0.0.1:5000;", f"server 127.0.0.1:{upstream_port};")
    return f"""
worker_processes 1;
worker_rlimit_nofile 8192;
user root;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{textwrap.indent(block, "    ")}
}}
"""


@pytest.fixture
def nginx(tmp_path, app):
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        pytest.fail("nginx is not installed: scripts/test installs Debian's package (apt-get install nginx)")
    upstream = Gunicorn(app.config["DATABASE"], env={"CONSOLE_TRUSTED_PROXIES": "1"}, threads=THREADS).start()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    (prefix / "nginx.conf").write_text(nginx_config(prefix, port, upstream.port))
    log = open(prefix / "stdout.log", "wb")
    process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process=process)
    except (RuntimeError, TimeoutError) as exc:
        upstream.stop()
        raise RuntimeError(f"{exc}\n{(prefix / 'error.log').read_text(errors='replace') if (prefix / 'error.log').exists() else ''}") from None
    process.url = f"http://127.0.0.1:{port}"
    process.port = port
    process.prefix = prefix
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    upstream.stop()


def api_answer_seconds(url, token, incident_id):
    started = time.monotonic()
    request = urllib.request.Request(f"{url}/api/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        response.read()
    return time.monotonic() - started


def board_connect_seconds(url, token, incident_id):
    """A Socket.IO board through nginx (WebSocket), joined to the incident; returns how long it took."""
    started = time.monotonic()
    client = socket_client(reconnection=False)
    try:
        client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        answer = client.call("join_incident", {"incident_id": incident_id}, timeout=10)
        assert answer["room"] == f"incident:{incident_id}:team"
        return time.monotonic() - started
    finally:
        client.disconnect()


class SlowClients:
    """Connections that send their request one header byte a second, and note when nginx drops each."""

    def __init__(self, port, count):
        self.sockets = []
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /api/v1/incidents HTTP/1.1\r\nHost: console\r\n")
            s.setblocking(False)
            self.sockets.append(s)
        self.opened = time.monotonic()
        self.dropped = {}  # socket index -> seconds after opening
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        deadline = self.opened + 60
        while not self.stop.is_set() and time.monotonic() < deadline and len(self.dropped) < len(self.sockets):
            for i, s in enumerate(self.sockets):
                if i in self.dropped:
                    continue
                readable, _w, _x = select.select([s], [], [], 0)
                try:
                    if readable:
                        s.recv(4096)  # a 408, or the close
                        raise ConnectionError
                    s.send(b"X")
                except (ConnectionError, OSError):
                    self.dropped[i] = time.monotonic() - self.opened
            self.stop.wait(1.0)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for s in self.sockets:
            s.close()


def test_nginx_absorbs_idle_and_slow_header_clients(nginx, tokens, incident):
    url, token, incident_id = nginx.url, tokens["team"], incident["id"]
    quiet = [api_answer_seconds(url, token, incident_id) for _ in range(5)]

    idle = [socket.create_connection(("127.0.0.1", nginx.port), timeout=5) for _ in range(IDLE)]
    slow = SlowClients(nginx.port, SLOW)
    try:
        time.sleep(0.5)
        loaded, boards = [], []
        for n in range(20):
            loaded.append(api_answer_seconds(url, token, incident_id))
            if n % 4 == 0:
                boards.append(board_connect_seconds(url, token, incident_id))
            time.sleep(0.2)
        # the slow ones are still trickling (and the idle ones open) while all that was answered
        assert len(slow.dropped) < SLOW, "nginx dropped the slow clients before the measurement ended"
        deadline = time.monotonic() + 20  # client_header_timeout is 10 s
        while len(slow.dropped) < SLOW and time.monotonic() < deadline:
            time.sleep(0.2)
        dropped = sorted(slow.dropped.values())
        after = [api_answer_seconds(url, token, incident_id) for _ in range(5)]
    finally:
        slow.close()
        for s in idle:
            s.close()

    print(
        f"\nnginx in front of gunicorn -w 1 --threads {THREADS}, {IDLE} idle + {SLOW} slow-header connections open:"
        f"\n  API answer: median {statistics.median(loaded) * 1000:.0f} ms, slowest {max(loaded) * 1000:.0f} ms over {len(loaded)}"
        f" (quiet: median {statistics.median(quiet) * 1000:.0f} ms)"
        f"\n  boards (Socket.IO over WebSocket through nginx): {len(boards)}/{len(boards)} connected and joined,"
        f" slowest {max(boards) * 1000:.0f} ms"
        f"\n  slow-header clients dropped by nginx: {len(dropped)}/{SLOW}, after {dropped[0]:.1f}–{dropped[-1]:.1f} s"
        f"\n  API after they were dropped: slowest {max(after) * 1000:.0f} ms"
    )
    assert max(loaded) < 1.0, loaded
    assert len(boards) == 5 and max(boards) < 2.0, boards
    assert len(dropped) == SLOW and dropped[-1] < 15, dropped  # client_header_timeout 10 s
    assert max(after) < 1.0
