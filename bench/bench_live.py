"""Live board benchmark: one incident room, N socket clients, M changes through the API.

Acceptance text (issue): N socket clients (python-socketio's client) on one
incident room of a real server process; M changes posted through the API;
latency from the POST to each client's receipt, p50 / p95 / p99 at N = 50,
200, 500 and 1,000. In the same run, the same payload broadcast by a bare
python-socketio server to the same clients: report our p99 divided by the
bare p99. Targets: p99 under 200 ms at 500 clients; the ratio at most 1.3.

What it does:

1. Our server: a temporary database, a lead user and an API token made with
   ``python run.py --db TMP user add ...`` / ``token ...``; then a real server
   process, ``python run.py --db TMP --port P`` (Flask-SocketIO, threading
   mode: the Werkzeug threaded server with simple-websocket). Over HTTP it
   opens an incident and adds one complainant.
2. The bare server, another process (this file run with ``--bare-server``):
   a ``socketio.Server(async_mode="threading")`` wrapped in
   ``socketio.WSGIApp`` and served by ``werkzeug.serving.run_simple(...,
   threaded=True)``. That is exactly the HTTP/WebSocket stack
   ``socketio.run`` starts for our app in threading mode (Flask's
   ``app.run(threaded=True)`` is ``run_simple``; Flask-SocketIO's middleware
   is a ``socketio.WSGIApp``), minus Flask, Flask-SocketIO and all our code.
   Its connect handler accepts anyone, ``join_incident`` enters one room, and
   ``POST /emit`` does ``sio.emit(name, payload, to=room)`` with the JSON body
   as the payload. The payload is a copy of a real ``complainant_updated``
   payload of ours (read back from ``GET .../events``), with its own ``seq``,
   so it has the same size.
   (``--bare-kind flask-socketio`` swaps in a tiny Flask + Flask-SocketIO app
   with the same handlers, started by ``socketio.run``, to separate the cost
   of Flask-SocketIO from the cost of our code.)
3. For each N: K client processes (``--procs``, default 4, spawned with
   multiprocessing, separate from both servers) each hold N/K
   python-socketio clients on our server and N/K on the bare one, connected
   over websocket only (with the lead's token) and joined to the incident
   (ours: all in the team room; bare: its one room). So both servers see the
   same client processes, the same client library and the same N.
4. The driver then sends W warm-up changes (not measured) and M measured
   ones to each server, interleaved (ours, bare, bare, ours, ...), so that
   other work on the machine hits both alike. Ours:
   ``PATCH /api/v1/complainants/{id}`` with a new ``demands`` value each time
   (a change with no count delta still emits ``complainant_updated`` to the
   team room). Bare: ``POST /emit``. ``time.time()`` is taken just before
   each request is sent; each client takes ``time.time()`` when its handler
   runs and keeps the event's ``seq``; latency = receipt - send time of that
   seq (same machine, same clock). Change i is matched to the i-th
   ``complainant_updated`` of our complainant in the server's own event log
   (``GET .../events``), so an alert raised meanwhile by the scheduler's
   monitors (they run in the server process) cannot shift the matching. The
   next change waits until every client of that server has the previous one
   (or 5 s, or 1 s without any receipt) and at least ``--gap`` seconds, so
   each broadcast is measured on its own, with the other server idle.
5. Counts lost events (every connected client must receive every event)
   and client disconnects, and records, per server, its CPU time per
   broadcast (user/system), its threads, the POST round trip, the first and
   last receipt of each broadcast and (bare) how long ``emit()`` itself took,
   so the report shows where the time goes; also the median over broadcasts
   of each broadcast's own p99, which one stalled broadcast cannot move, and
   how much CPU the servers, the clients and other processes on the machine
   used meanwhile (/proc). Before any client connects, it times the same
   POSTs with nobody listening (the request cost without the fan-out).

Prints a table with PASS/MISS per target and writes bench/results/live.json.
Exits 0 whether or not targets are met (non-zero only if the run itself fails).

    python bench/bench_live.py [--clients 50,200,500,1000] [--changes 20]
                               [--warmup 2] [--procs 4] [--gap 0.25]
                               [--bare-kind python-socketio|flask-socketio]
                               [--scheduler on|off] [--timeout 840] [--keep]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import (  # noqa: E402
    finish,
    free_port,
    machine_cpu_s,
    pct,
    proc_cpu_s,
    raise_fd_limit,
    run_cli,
    stop_process,
    summary_ms,
    wait_http,
)

RESULTS = ROOT / "bench" / "results" / "live.json"

TARGET_P99_MS = 200.0
TARGET_AT_N = 500
TARGET_RATIO = 1.3
EVENT = "complainant_updated"
BARE_ROOM = "incident:1:team"
WAIT_ALL_S = 5.0  # per broadcast: how long to wait for every client before the next change
STALL_S = 1.0  # ... but stop waiting when no client has received anything for this long (a lost event)
IDLE_S = 0.1  # quiet time after the last receipt before the next change

_children = []  # every process this run started, for the watchdog and the final cleanup


# --- the bare server (this file run with --bare-server PORT) ---------------


def bare_server_main(port, kind):
    """A python-socketio server with nothing of ours; see the module docstring."""
    state = {"emits": 0}

    def emit_body(sio_emit, environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length))
        t0 = time.perf_counter()
        sio_emit(payload["name"], payload, to=BARE_ROOM)
        state["emits"] += 1
        return json.dumps({"emit_ms": (time.perf_counter() - t0) * 1000}).encode()

    if kind == "flask-socketio":
        from flask import Flask, request
        from flask_socketio import SocketIO, join_room

        app = Flask("bare")
        socketio = SocketIO(app, async_mode="threading")

        @socketio.on("connect")
        def on_connect(auth=None):
            return True

        @socketio.on("join_incident")
        def on_join(data=None):
            join_room(BARE_ROOM)
            return {"room": BARE_ROOM, "snapshot": {"seq": 0}}

        @app.post("/emit")
        def emit():
            out = emit_body(socketio.emit, request.environ)
            return app.response_class(out, mimetype="application/json")

        @app.get("/ping")
        def ping():
            return "ok"

        print(f"bare flask-socketio server on {port}", flush=True)
        socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)
        return

    import socketio
    from werkzeug.serving import run_simple

    sio = socketio.Server(async_mode="threading")

    @sio.event
    def connect(sid, environ, auth=None):
        return True

    @sio.event
    def join_incident(sid, data=None):
        sio.enter_room(sid, BARE_ROOM)
        return {"room": BARE_ROOM, "snapshot": {"seq": 0}}

    def http_app(environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method == "POST" and path == "/emit":
            out, status = emit_body(sio.emit, environ), "200 OK"
        elif path == "/ping":
            out, status = b"ok", "200 OK"
        else:
            out, status = b"not found", "404 Not Found"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
        return [out]

    # Werkzeug's request log stays on, as for our server (socketio.run ignores log_output in threading mode).
    print(f"bare python-socketio server on {port}", flush=True)
    run_simple("127.0.0.1", port, socketio.WSGIApp(sio, http_app), threaded=True, use_reloader=False, use_debugger=False)


# --- a client process ------------------------------------------------------


def _listen(sio, target, client, counter, receipts, samples, disconnects):
    """Note every event's arrival (target, client, seq, time.time()) and every disconnect."""

    def on_event(data):
        t = time.time()
        receipts.append((target, client, data.get("seq") if isinstance(data, dict) else None, t))
        samples.setdefault(target, data)
        with counter.get_lock():
            counter.value += 1

    sio.on(EVENT, on_event)
    sio.on("disconnect", lambda *a: disconnects.append((target, client, time.time(), str(a[0]) if a else "")))


def _joined(made, n_targets):
    """Per target server: clients connected, failures and the seqs they joined at.
    ``made``: (target, client or None, join seq, error) per client."""
    per_target = []
    for target in range(n_targets):
        mine = [m for m in made if m[0] == target]
        per_target.append(
            {
                "connected": sum(1 for m in mine if m[1] is not None),
                "failures": sum(1 for m in mine if m[3]),
                "errors": [m[3] for m in mine if m[3]][:5],
                "join_seqs": sorted({m[2] for m in mine if m[1] is not None}),
            }
        )
    return per_target


def _async_client_worker(targets, count, offset, concurrency, counters, conn):
    import asyncio

    import socketio

    receipts = []
    samples = {}
    disconnects = []

    async def run():
        gate = asyncio.Semaphore(concurrency)

        async def make(job):
            target, i = job
            url, token, incident_id = targets[target]
            sio = socketio.AsyncClient(reconnection=False)
            _listen(sio, target, offset + i, counters[target], receipts, samples, disconnects)
            async with gate:
                try:
                    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
                    answer = await sio.call("join_incident", {"incident_id": incident_id}, timeout=60)
                    if not isinstance(answer, dict) or "error" in answer:
                        raise RuntimeError(f"join_incident answered {answer!r}")
                    return target, sio, answer["snapshot"]["seq"], None
                except Exception as exc:  # report, do not die: the driver counts failures
                    return target, None, None, f"{type(exc).__name__}: {exc}"

        jobs = [(target, i) for i in range(count) for target in range(len(targets))]
        t0 = time.monotonic()
        made = await asyncio.gather(*(make(job) for job in jobs))
        conn.send({"targets": _joined(made, len(targets)), "connect_s": time.monotonic() - t0})

        def wait_collect():
            if conn.poll(900):
                conn.recv()

        await asyncio.get_running_loop().run_in_executor(None, wait_collect)  # the loop keeps receiving
        conn.send({"receipts": list(receipts), "samples": dict(samples), "disconnects": list(disconnects)})
        conn.close()
        os._exit(0)

    asyncio.run(run())


def client_worker(targets, count, offset, concurrency, counters, conn, kind="async"):
    """Hold ``count`` python-socketio clients on each target server (the same
    process holds both sets); report when all have joined; on "collect" send
    back every receipt: (target index, client index, seq, time.time()).

    ``kind`` "async": socketio.AsyncClient, the process's clients on one asyncio
    loop. "threads": socketio.Client, whose engine.io client starts a thread per
    received message; at hundreds of clients that costs the client processes
    more CPU than the servers use, on the same two cores, and the latency then
    measures the clients (see bench/README.md).
    """
    if kind == "async":
        return _async_client_worker(targets, count, offset, concurrency, counters, conn)
    threading.stack_size(1024 * 1024)
    from concurrent.futures import ThreadPoolExecutor

    import socketio

    receipts = []
    samples = {}
    disconnects = []

    def make(job):
        target, i = job
        url, token, incident_id = targets[target]
        sio = socketio.Client(reconnection=False)
        _listen(sio, target, offset + i, counters[target], receipts, samples, disconnects)
        try:
            sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
            answer = sio.call("join_incident", {"incident_id": incident_id}, timeout=60)
            if not isinstance(answer, dict) or "error" in answer:
                raise RuntimeError(f"join_incident answered {answer!r}")
            return target, sio, answer["snapshot"]["seq"], None
        except Exception as exc:  # report, do not die: the driver counts failures
            try:
                sio.disconnect()
            except Exception:
                pass
            return target, None, None, f"{type(exc).__name__}: {exc}"

    jobs = [(target, i) for i in range(count) for target in range(len(targets))]
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        made = list(pool.map(make, jobs))
    clients = [m[1] for m in made if m[1] is not None]  # kept referenced until the process exits
    conn.send({"targets": _joined(made, len(targets)), "connect_s": time.monotonic() - t0})

    if conn.poll(900):
        conn.recv()
    conn.send({"receipts": list(receipts), "samples": dict(samples), "disconnects": list(disconnects)})
    conn.close()
    del clients
    # Exit without a Socket.IO disconnect per client (a graceful one takes seconds per
    # hundred clients): the kernel closes every socket and the server sees them go.
    os._exit(0)


# --- helpers ---------------------------------------------------------------


class Http:
    """A keep-alive HTTP client (the same for both servers)."""

    def __init__(self, port, token=None):
        self.port = port
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn = None

    def request(self, method, path, body=None, expect=(200, 201)):
        """Returns (decoded body, time.time() just before sending, round trip seconds)."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.connect()
            try:
                sent_at = time.time()
                t0 = time.perf_counter()
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                rtt = time.perf_counter() - t0
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed an idle keep-alive connection: once more
                self.conn = None
                if attempt == 2:
                    raise
        if resp.status not in expect:
            raise RuntimeError(f"{method} {path} -> {resp.status}: {raw[:500]!r}")
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return (json.loads(raw) if raw else None), sent_at, rtt

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def start_process(cmd, env, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    _children.append(proc)
    return proc


def stop(proc):
    if proc is None:
        return
    if isinstance(proc, subprocess.Popen):
        stop_process(proc)
    else:  # a multiprocessing.Process
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def stop_all():
    for proc in reversed(_children):
        try:
            stop(proc)
        except Exception:
            pass


def proc_cpu_split(pid):
    """(user, system) CPU seconds of a process so far (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick
    except (OSError, IndexError, ValueError):
        return None


def self_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def proc_threads(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_threads_below(pid, limit, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = proc_threads(pid)
        if n is None or n <= limit:
            return n
        time.sleep(0.2)
    return proc_threads(pid)


def ms(x):
    return None if x is None else round(x * 1000, 2)


def quantiles_s(values):
    v = sorted(values)
    return {"first": round(v[0], 1), "median": round(v[len(v) // 2], 1), "last": round(v[-1], 1)} if v else None


# --- one phase: N clients on one server, W + M broadcasts ------------------


def run_phase(servers, posters, n, args):
    """N clients on each server (the same K client processes hold both sets);
    W + M changes to each, interleaved (ours, bare, bare, ours, ...), each
    broadcast alone. ``posters[s](i, base_seq)`` sends change i and returns
    (seq it will carry, sent_at, rtt_s, emit_ms or None)."""
    ctx = multiprocessing.get_context("spawn")
    threads_before = [proc_threads(s["proc"].pid) for s in servers]
    procs = max(1, min(args.procs, n))
    counters = [ctx.Value("q", 0) for _ in servers]
    targets = [(s["url"], s["token"], s["incident_id"]) for s in servers]
    workers = []
    sizes = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    offset = 0
    t_connect = time.monotonic()
    wall_connect = time.time()
    for size in sizes:
        parent_end, child_end = ctx.Pipe()
        p = ctx.Process(target=client_worker, args=(targets, size, offset, args.connect_concurrency, counters, child_end, args.client), daemon=True)
        p.start()
        child_end.close()
        _children.append(p)
        workers.append((p, parent_end))
        offset += size
    ready = []
    connect_timeout = 60 + len(servers) * n * 0.15
    for p, end in workers:
        left = max(1.0, connect_timeout - (time.monotonic() - t_connect))
        if not end.poll(left):
            raise RuntimeError(f"N={n}: a client process did not report within {connect_timeout:.0f}s")
        ready.append(end.recv())
    connect_s = time.monotonic() - t_connect
    conn_info = []
    for s, server in enumerate(servers):
        got = [r["targets"][s] for r in ready]
        info = {
            "connected": sum(g["connected"] for g in got),
            "failures": sum(g["failures"] for g in got),
            "errors": [e for g in got for e in g["errors"]][:5],
            "join_seqs": sorted({x for g in got for x in g["join_seqs"]}),
        }
        conn_info.append(info)
        print(
            f"  {server['name']:<5} N={n:<5} {info['connected']} connected and joined"
            + (f"; {info['failures']} FAILED: {info['errors'][:2]}" if info["failures"] else ""),
            flush=True,
        )
        if not info["connected"]:
            raise RuntimeError(f"{server['name']} N={n}: no client connected: {info['errors']}")
    print(f"  {sum(i['connected'] for i in conn_info)} clients in {procs} processes ready in {connect_s:.1f} s", flush=True)
    base_seqs = [(i["join_seqs"][-1] if i["join_seqs"] else 0) for i in conn_info]

    pids = [s["proc"].pid for s in servers]
    threads_connected = [proc_threads(pid) for pid in pids]
    time.sleep(0.5)  # let the joins' threads finish
    total = args.warmup + args.changes
    worker_pids = [p.pid for p, _ in workers]
    wall_broadcasts = time.time()
    mark0 = (time.monotonic(), os.getloadavg()[0], machine_cpu_s(), [proc_cpu_s(pid) for pid in pids], [proc_cpu_s(pid) for pid in worker_pids], self_cpu_s())
    posts = [[] for _ in servers]  # per server: (seq, sent_at, rtt_s, emit_ms, measured)
    cpu_s = [[0.0, 0.0] for _ in servers]  # per server: user, system
    for i in range(total):
        order = list(range(len(servers))) if i % 2 == 0 else list(reversed(range(len(servers))))
        for s in order:
            connected = conn_info[s]["connected"]
            before = counters[s].value
            cpu0 = proc_cpu_split(pids[s])
            t0 = time.monotonic()
            seq, sent_at, rtt, emit_ms = posters[s](i, base_seqs[s])
            posts[s].append((seq, sent_at, rtt, emit_ms, i >= args.warmup))
            deadline = t0 + WAIT_ALL_S
            last_value, last_change = before, time.monotonic()
            while time.monotonic() < deadline:
                value = counters[s].value
                if value >= before + connected:
                    break
                now = time.monotonic()
                if value != last_value:
                    last_value, last_change = value, now
                elif now - last_change > STALL_S and now - t0 > STALL_S:
                    break
                time.sleep(0.002)
            time.sleep(IDLE_S)
            while time.monotonic() - t0 < args.gap:
                time.sleep(0.005)
            cpu1 = proc_cpu_split(pids[s])
            if i >= args.warmup and cpu0 is not None and cpu1 is not None:
                cpu_s[s][0] += cpu1[0] - cpu0[0]
                cpu_s[s][1] += cpu1[1] - cpu0[1]
    time.sleep(0.3)  # stragglers
    threads_run = [proc_threads(pid) for pid in pids]
    mark1 = (time.monotonic(), os.getloadavg()[0], machine_cpu_s(), [proc_cpu_s(pid) for pid in pids], [proc_cpu_s(pid) for pid in worker_pids], self_cpu_s())
    machine = machine_share(mark0, mark1)

    receipts = []
    samples = {}
    disconnects = []
    t_collect = time.monotonic()
    for p, end in workers:
        end.send("collect")
    for p, end in workers:
        if not end.poll(60):
            raise RuntimeError(f"N={n}: a client process did not send its receipts")
        got = end.recv()
        receipts.extend(got["receipts"])
        for s, data in got["samples"].items():
            samples.setdefault(s, data)
        disconnects.extend(got["disconnects"])
    for p, end in workers:
        p.join(30)
        stop(p)
        end.close()

    t_cleanup = time.monotonic()
    results = []
    for s, server in enumerate(servers):
        # each connection's ping thread sleeps out its 25 s interval after a disconnect: wait only for the rest
        threads_after = wait_threads_below(pids[s], (threads_before[s] or 0) + n + 10, timeout=10)
        check, other_events = None, []
        if server.get("event_seqs"):
            # map change i to the i-th of our events in the server's own log, not to base + i + 1
            seqs, other_events = server["event_seqs"](server, base_seqs[s])
            if len(seqs) == len(posts[s]):
                posts[s] = [(seq, *rest) for seq, (_, *rest) in zip(seqs, posts[s])]
            else:
                check = f"{len(posts[s])} changes sent, the server logged {len(seqs)} {EVENT} events for them: {seqs[:5]}..."
        sent = {seq: (sent_at, rtt, emit_ms) for seq, sent_at, rtt, emit_ms, measured in posts[s] if measured}
        warm_seqs = {p[0] for p in posts[s] if not p[4]}
        per_event = {seq: [] for seq in sent}  # seq -> latencies of that broadcast
        seen = set()
        duplicates = unknown = warm_received = 0
        for target, client, seq, t in receipts:
            if target != s:
                continue
            if (client, seq) in seen:
                duplicates += 1
                continue
            seen.add((client, seq))
            if seq in per_event:
                per_event[seq].append(t - sent[seq][0])
            elif seq in warm_seqs:
                warm_received += 1
            else:
                unknown += 1
        connected = conn_info[s]["connected"]
        latencies = [x for v in per_event.values() for x in v]
        expected = connected * len(sent)
        emit_times = [v[2] for v in sent.values() if v[2] is not None]
        sample = samples.get(s)
        result = {
            "clients": n,
            "client_processes": procs,
            "connected": connected,
            "connect_failures": conn_info[s]["failures"],
            "connect_errors": conn_info[s]["errors"],
            "connect_seconds_both_servers": round(connect_s, 2),
            "events_measured": len(sent),
            "events_warmup": len(warm_seqs),
            "expected_receipts": expected,
            "received": len(latencies),
            "lost": expected - len(latencies),
            "lost_warmup": connected * len(warm_seqs) - warm_received,
            "duplicates": duplicates,
            "unexpected_seq": unknown,
            "client_disconnects_during_run": sum(1 for d in disconnects if d[0] == s),
            "client_disconnect_reasons": sorted({d[3] for d in disconnects if d[0] == s}),
            # when they dropped, in seconds after the first client started connecting (the broadcasts began at broadcasts_start_s)
            "client_disconnect_times_s": quantiles_s([d[2] - wall_connect for d in disconnects if d[0] == s]),
            "broadcasts_start_s": round(wall_broadcasts - wall_connect, 1),
            "latency": summary_ms(latencies),
            # robust to one stalled broadcast: the median over broadcasts of each one's p50/p99
            "median_broadcast_p50_ms": ms(statistics.median(pct(sorted(v), 50) for v in per_event.values() if v)) if latencies else None,
            "median_broadcast_p99_ms": ms(statistics.median(pct(sorted(v), 99) for v in per_event.values() if v)) if latencies else None,
            "per_broadcast": [
                {
                    "seq": seq,
                    "sent_at": round(sent[seq][0], 3),
                    "received": len(v),
                    "p50_ms": ms(pct(sorted(v), 50)),
                    "p99_ms": ms(pct(sorted(v), 99)),
                    "max_ms": ms(max(v)) if v else None,
                }
                for seq, v in sorted(per_event.items())
            ],
            "first_receipt": summary_ms([min(v) for v in per_event.values() if v]),
            "last_receipt": summary_ms([max(v) for v in per_event.values() if v]),
            "post_round_trip": summary_ms([v[1] for v in sent.values()]),
            "server_emit_call_ms_p50": round(statistics.median(emit_times), 2) if emit_times else None,
            "server_cpu_ms_per_broadcast": round(sum(cpu_s[s]) * 1000 / len(sent), 1) if sent else None,
            "server_cpu_user_sys_ms_per_broadcast": [round(x * 1000 / len(sent), 1) for x in cpu_s[s]] if sent else None,
            "server_threads": {
                "idle": server["idle_threads"],
                "before_connect": threads_before[s],
                "connected": threads_connected[s],
                "after_run": threads_run[s],
                "after_disconnect": threads_after,
            },
            "payload_bytes_received": len(json.dumps(sample, ensure_ascii=False).encode()) if sample else None,
            "seqs": sorted(sent),
            "server_events_check": check or "ok",
            "other_events_in_room": other_events,
        }
        lat = result["latency"]
        print(
            f"  {server['name']:<5} p50 {lat['p50_ms']} / p95 {lat['p95_ms']} / p99 {lat['p99_ms']} ms, lost {result['lost']}/{expected}, "
            f"POST rtt p50 {result['post_round_trip']['p50_ms']} ms, first/last receipt p50 {result['first_receipt']['p50_ms']}/"
            f"{result['last_receipt']['p50_ms']} ms, server CPU {result['server_cpu_ms_per_broadcast']} ms/broadcast"
            + (f"; SERVER EVENTS CHECK FAILED: {check}" if check else "")
            + (f"; other events in the room meanwhile: {other_events}" if other_events else ""),
            flush=True,
        )
        results.append(result)
    if machine.get("clients_cpu_s") is not None and receipts:
        # what one received event costs the client side (python-socketio client: a thread per message)
        machine["client_cpu_ms_per_receipt"] = round(machine["clients_cpu_s"] * 1000 / len(receipts), 3)
        machine["server_cpu_ms_per_recipient"] = round(machine["servers_cpu_s"] * 1000 / len(receipts), 3)
    machine["phase_seconds"] = {
        "connect": round(connect_s, 1),
        "broadcasts": machine["seconds"],
        "collect": round(t_cleanup - t_collect, 1),
        "cleanup": round(time.monotonic() - t_cleanup, 1),
    }
    print(f"  phase seconds: {machine['phase_seconds']}", flush=True)
    print(
        f"  machine: load {machine['loadavg_start']}->{machine['loadavg_end']}, busy {machine['busy_cores']} of {os.cpu_count()} cores: "
        f"servers {machine['servers_cores']}, clients {machine['clients_cores']}, other work {machine['other_cores']}",
        flush=True,
    )
    return results, machine


def machine_share(mark0, mark1):
    """Where the machine's CPU went between two marks, in cores (CPU seconds per second)."""
    wall = mark1[0] - mark0[0]

    def delta(a, b):
        return sum((y - x) for x, y in zip(a, b) if x is not None and y is not None)

    out = {"seconds": round(wall, 1), "loadavg_start": round(mark0[1], 2), "loadavg_end": round(mark1[1], 2)}
    if mark0[2] and mark1[2] and wall > 0:
        busy = mark1[2][0] - mark0[2][0]
        servers = delta(mark0[3], mark1[3])
        clients = delta(mark0[4], mark1[4])
        driver = mark1[5] - mark0[5]
        out.update(
            {
                "clients_cpu_s": round(clients, 2),
                "servers_cpu_s": round(servers, 2),
                "busy_cores": round(busy / wall, 2),
                "servers_cores": round(servers / wall, 2),
                "clients_cores": round(clients / wall, 2),
                "driver_cores": round(driver / wall, 2),
                "other_cores": round(max(0.0, busy - servers - clients - driver) / wall, 2),
            }
        )
    else:
        out.update({"busy_cores": None, "servers_cores": None, "clients_cores": None, "driver_cores": None, "other_cores": None})
    return out


# --- the two servers ------------------------------------------------------


def start_ours(workdir, env):
    db_path = Path(workdir) / "live.db"
    log_path = Path(workdir) / "ours.log"
    run_cli(env, "--db", str(db_path), "user", "add", "benchlead", "--role", "lead", "--password", "benchpass1")
    token = run_cli(env, "--db", str(db_path), "token", "benchlead").splitlines()[-1].strip()
    port = free_port()
    proc = start_process([sys.executable, str(ROOT / "run.py"), "--db", str(db_path), "--port", str(port)], env, log_path)
    wait_http(proc, port, "/api/v1/incidents", {"Authorization": f"Bearer {token}"}, log_path)
    http = Http(port, token)
    incident, _, _ = http.request(
        "POST", "/api/v1/incidents", {"title": "邮政渠道分红险集体投诉", "cause": "misselling", "product": "分红险", "severity": "severe"}
    )
    created, _, _ = http.request(
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        {
            "name": "张建国",
            "phone": "13812345678",
            "id_number": "130105195501011234",
            "province_code": "130000",
            "city_code": "130100",
            "demands": "本金+利息",
        },
    )
    return {
        "name": "ours",
        "proc": proc,
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "token": token,
        "incident_id": incident["id"],
        "complainant_id": created["ids"][0],
        "http": http,
        "log": str(log_path),
        "event_seqs": ours_event_seqs,
        "idle_threads": proc_threads(proc.pid),
    }


def start_bare(workdir, env, kind):
    log_path = Path(workdir) / "bare.log"
    port = free_port()
    proc = start_process([sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port), "--bare-kind", kind], env, log_path)
    wait_http(proc, port, "/ping", {}, log_path)
    return {
        "name": "bare",
        "kind": kind,
        "proc": proc,
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "token": "bare",
        "incident_id": 1,
        "http": Http(port),
        "log": str(log_path),
        "idle_threads": proc_threads(proc.pid),
    }


def ours_poster(server):
    cid = server["complainant_id"]
    changes = iter(range(10**9))

    def post(i, base_seq):
        # a field that is no count key, a new value every time (an unchanged value emits
        # nothing): complainant_updated to the team room, no count delta
        _, sent_at, rtt = server["http"].request("PATCH", f"/api/v1/complainants/{cid}", {"demands": f"本金+利息 #{next(changes):06d}"})
        return base_seq + i + 1, sent_at, rtt, None

    return post


def ours_event_seqs(server, base_seq):
    """The seqs of the room's complainant_updated events for our complainant after the
    join, oldest first, and the names of any other events (the scheduler's monitors run
    in the server process and may raise an alert into the same room)."""
    events, _, _ = server["http"].request("GET", f"/api/v1/incidents/{server['incident_id']}/events?since={base_seq}")
    ours = [e["seq"] for e in events["events"] if e["name"] == EVENT and (e.get("complainant") or {}).get("id") == server["complainant_id"]]
    others = [e["name"] for e in events["events"] if e["seq"] not in set(ours)]
    return ours, others


def bare_poster(server, payload):
    def post(i, base_seq):
        seq = base_seq + i + 1
        body = {**payload, "seq": seq, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        answer, sent_at, rtt = server["http"].request("POST", "/emit", body)
        return seq, sent_at, rtt, answer["emit_ms"]

    return post


def no_listener_round_trips(server, post, runs=20):
    rtts = []
    for i in range(runs):
        _, _, rtt, _ = post(i, 0)
        rtts.append(rtt)
    return summary_ms(rtts)


# --- report ---------------------------------------------------------------


def cell(x):
    return "-" if x is None else x


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def report(res):
    w = 112
    env = res["env"]
    print()
    print("=" * w)
    print(
        f"Live board benchmark: one incident room, {res['config']['changes']} measured changes "
        f"(+{res['config']['warmup']} warm-up) per N, clients in {res['config']['procs']} separate processes"
    )
    print(
        f"Python {env['python']}, python-socketio {env['python_socketio']}, python-engineio {env['python_engineio']}, "
        f"Flask-SocketIO {env['flask_socketio']}, Werkzeug {env['werkzeug']}, simple-websocket {env['simple_websocket']}"
    )
    print(f"{env['cpus']} CPU(s), {env['platform']}; bare server: {res['config']['bare_kind']}")
    load = env["loadavg_start"], env["loadavg_end"]
    other = max([r["machine"]["other_cores"] or 0 for r in res["rows"]] or [0])
    print(
        f"Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f} (our own threads count too); "
        f"other processes used up to {other} cores during the broadcasts"
        + ("  <- other work was running: figures are noisy, run again on a quiet machine" if other > 0.2 else "")
    )
    print(f"Our server: python run.py, scheduler {res['config']['scheduler']} (its monitors run in the server process)")
    nl = res["no_listeners"]
    print(f"POST round trip with no client connected, p50: ours (PATCH) {nl['ours']['p50_ms']} ms, bare (POST /emit) {nl['bare']['p50_ms']} ms")
    print("=" * w)
    head = (
        f"{'N':>6} | {'ours p50':>8} {'p95':>7} {'p99':>7} | {'bare p50':>8} {'p95':>7} {'p99':>7} | "
        f"{'ratio':>6} | {'lost ours/bare':>14} | {'p99<200@500':>11} {'ratio<=1.3':>10}"
    )
    print("Latency, POST sent -> client handler ran (ms, every client x every measured change)")
    print(head)
    print("-" * len(head))
    for row in res["rows"]:
        o, b = row["ours"]["latency"], row["bare"]["latency"] if row.get("bare") else {}
        lost = f"{row['ours']['lost']}/{row['bare']['lost'] if row.get('bare') else '-'}"
        t = row["targets"]
        print(
            f"{row['clients']:>6} | {cell(o['p50_ms']):>8} {cell(o['p95_ms']):>7} {cell(o['p99_ms']):>7} | "
            f"{cell(b.get('p50_ms')):>8} {cell(b.get('p95_ms')):>7} {cell(b.get('p99_ms')):>7} | "
            f"{cell(row['ratio_p99']):>6} | {lost:>14} | "
            f"{verdict(t['p99_under_200ms']):>11} {verdict(t['ratio_at_most_1_3']):>10}"
        )
    print()
    print("Robust to a stalled broadcast: median over the changes of each change's own p99 (ms)")
    for row in res["rows"]:
        print(
            f"  N={row['clients']:<5} ours {cell(row['ours']['median_broadcast_p99_ms']):>8}   "
            f"bare {cell(row['bare']['median_broadcast_p99_ms']):>8}   ratio {cell(row['ratio_median_broadcast_p99'])}"
        )
    print()
    print("Where the time goes (p50 over measured changes, ms): POST rtt = the change's HTTP round trip; first/last rx =")
    print("latency of the first/last client to receive it; CPU = server process CPU per broadcast (all threads); emit() =")
    print("the bare server's sio.emit call alone; drops = clients that lost their connection during the run")
    head2 = (
        f"{'N':>6} {'server':>6} | {'POST rtt':>8} {'first rx':>8} {'last rx':>8} {'spread':>7} | "
        f"{'CPU ms':>7} {'usr/sys':>11} {'emit() ms':>9} | {'threads idle/conn':>17} | {'connect s':>9} {'fails':>5} {'drops':>5}"
    )
    print(head2)
    print("-" * len(head2))
    for row in res["rows"]:
        for name in ("ours", "bare"):
            r = row.get(name)
            if not r:
                continue
            first, last = r["first_receipt"]["p50_ms"], r["last_receipt"]["p50_ms"]
            spread = round(last - first, 1) if first is not None and last is not None else None
            th = r["server_threads"]
            usr_sys = r["server_cpu_user_sys_ms_per_broadcast"]
            print(
                f"{row['clients']:>6} {name:>6} | {cell(r['post_round_trip']['p50_ms']):>8} {cell(first):>8} {cell(last):>8} {cell(spread):>7} | "
                f"{cell(r['server_cpu_ms_per_broadcast']):>7} {'/'.join(f'{x:g}' for x in usr_sys) if usr_sys else '-':>11} "
                f"{str(r['server_emit_call_ms_p50'] or '-'):>9} | "
                f"{str(th['idle']) + '/' + str(th['connected']):>17} | {r['connect_seconds_both_servers']:>9} {r['connect_failures']:>5} "
                f"{r['client_disconnects_during_run']:>5}"
            )
    print()
    print("The machine during each N's broadcasts (CPU in cores; 'other work' = processes this run did not start)")
    for row in res["rows"]:
        m = row["machine"]
        print(
            f"  N={row['clients']:<5} {m['seconds']:>6} s, load {m['loadavg_start']}->{m['loadavg_end']}, busy {m['busy_cores']}: "
            f"servers {m['servers_cores']}, clients {m['clients_cores']}, driver {m['driver_cores']}, other work {m['other_cores']}; "
            f"CPU per delivered event: server {m.get('server_cpu_ms_per_recipient')} ms, client {m.get('client_cpu_ms_per_receipt')} ms"
            + ("  <- noisy" if (m["other_cores"] or 0) > 0.2 else "")
        )
    print()
    print("Targets")
    for name, t in res["targets"].items():
        print(f"  {name:<44}{str(t['value']):>12}  target {t['target']:<10} {verdict(t['pass'])}")
    for row in res["rows"]:
        for name in ("ours", "bare"):
            if row[name]["server_events_check"] != "ok":
                print(f"  N={row['clients']} {name}: the server's events do not match the changes: {row[name]['server_events_check']}")
    if res.get("skipped"):
        print(f"  skipped (time budget): N = {', '.join(map(str, res['skipped']))}")
    print(f"Wall time {res['wall_seconds']} s; results in {RESULTS.relative_to(ROOT)}")
    print("=" * w)


# --- main -------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="50,200,500,1000", help="comma-separated N values (default 50,200,500,1000)")
    parser.add_argument(
        "--changes", type=int, default=40, help="measured changes per N and server (default 40: at N=50, 2,000 receipts, so p99 is not one slow change)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured changes first (default 2)")
    parser.add_argument("--procs", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--gap", type=float, default=0.25, help="minimum seconds between changes (default 0.25)")
    parser.add_argument("--connect-concurrency", type=int, default=8, help="concurrent connects per client process (default 8)")
    parser.add_argument(
        "--client",
        choices=["async", "threads"],
        default="async",
        help="python-socketio's AsyncClient (default) or its threaded Client, which spends a thread per message",
    )
    parser.add_argument("--bare-kind", choices=["python-socketio", "flask-socketio"], default="python-socketio")
    parser.add_argument("--timeout", type=float, default=840, help="hard limit for the whole run in seconds (default 840)")
    parser.add_argument("--scheduler", choices=["on", "off"], help="CONSOLE_SCHEDULER for our server (default: as configured, 'on')")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server logs)")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.bare_server:
        bare_server_main(args.bare_server, args.bare_kind)
        return 0

    ns = [int(x) for x in args.clients.split(",") if x.strip()]
    started = time.monotonic()

    def watchdog():
        print(f"\nbench_live: hard timeout of {args.timeout:.0f} s reached; stopping every process it started", file=sys.stderr, flush=True)
        stop_all()
        os._exit(3)

    timer = threading.Timer(args.timeout, watchdog)
    timer.daemon = True
    timer.start()

    fd = raise_fd_limit(2 * max(ns) + 1024)  # a client process may hold both servers' sockets
    if not fd["enough"]:
        print(f"warning: open-file limit {fd['soft']} is below the {fd['needed']} this run needs", file=sys.stderr)
    load_start = round(os.getloadavg()[0], 2)
    workdir = tempfile.mkdtemp(prefix="console-bench-live-")
    env = {**os.environ, "CONSOLE_SECRET_KEY": "bench-" + os.urandom(8).hex(), "PYTHONUNBUFFERED": "1"}
    env.pop("CONSOLE_DB", None)
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    env.pop("CONSOLE_SOCKETIO_MESSAGE_QUEUE", None)
    if args.scheduler:
        env["CONSOLE_SCHEDULER"] = args.scheduler
    ours = bare = None
    rows, skipped = [], []
    try:
        ours = start_ours(workdir, env)
        bare = start_bare(workdir, env, args.bare_kind)
        print(f"Our server pid {ours['proc'].pid} on {ours['url']}; bare server pid {bare['proc'].pid} on {bare['url']}", flush=True)
        post_ours = ours_poster(ours)

        # the request cost with nobody listening, and a real payload to copy
        no_listeners = {"ours": no_listener_round_trips(ours, post_ours)}
        events, _, _ = ours["http"].request("GET", f"/api/v1/incidents/{ours['incident_id']}/events?since=0")
        payload = [e for e in events["events"] if e["name"] == EVENT][-1]
        post_bare = bare_poster(bare, payload)
        no_listeners["bare"] = no_listener_round_trips(bare, post_bare)
        print(
            f"No listeners: PATCH p50 {no_listeners['ours']['p50_ms']} ms, bare POST p50 {no_listeners['bare']['p50_ms']} ms; "
            f"payload {len(json.dumps(payload, ensure_ascii=False).encode())} bytes",
            flush=True,
        )

        for n in ns:
            elapsed = time.monotonic() - started
            budget = 20 + n * 0.05 + 2 * (args.warmup + args.changes) * (args.gap + 0.25 + n / 2500)  # rough cost of one N, both servers
            if elapsed + budget > args.timeout * 0.9:
                print(f"Skipping N={n}: {elapsed:.0f} s used, not enough of the {args.timeout:.0f} s budget left", flush=True)
                skipped.append(n)
                continue
            print(f"N = {n}", flush=True)
            (ours_res, bare_res), machine = run_phase([ours, bare], [post_ours, post_bare], n, args)
            op99, bp99 = ours_res["latency"]["p99_ms"], bare_res["latency"]["p99_ms"]
            ratio = round(op99 / bp99, 3) if op99 is not None and bp99 else None
            om, bm = ours_res["median_broadcast_p99_ms"], bare_res["median_broadcast_p99_ms"]
            ratio_median = round(om / bm, 3) if om is not None and bm else None
            rows.append(
                {
                    "clients": n,
                    "ours": ours_res,
                    "bare": bare_res,
                    "ratio_p99": ratio,
                    "ratio_median_broadcast_p99": ratio_median,
                    "machine": machine,
                    "targets": {
                        "p99_under_200ms": (op99 is not None and op99 < TARGET_P99_MS and ours_res["lost"] == 0) if n == TARGET_AT_N else None,
                        "ratio_at_most_1_3": (ratio is not None and ratio <= TARGET_RATIO),
                    },
                }
            )
    finally:
        timer.cancel()
        for server in (ours, bare):
            if server:
                server["http"].close()
                stop(server["proc"])
        stop_all()

    from importlib.metadata import version

    at = next((r for r in rows if r["clients"] == TARGET_AT_N), None)
    targets = {}
    if at:
        targets[f"p99 at N={TARGET_AT_N} (ms)"] = {
            "value": at["ours"]["latency"]["p99_ms"],
            "target": f"< {TARGET_P99_MS:g}",
            "pass": at["targets"]["p99_under_200ms"],
        }
        targets[f"ratio ours/bare p99 at N={TARGET_AT_N}"] = {
            "value": at["ratio_p99"],
            "target": f"<= {TARGET_RATIO}",
            "pass": at["targets"]["ratio_at_most_1_3"],
        }
    for r in rows:
        if r["clients"] != TARGET_AT_N:
            targets[f"ratio ours/bare p99 at N={r['clients']}"] = {
                "value": r["ratio_p99"],
                "target": f"<= {TARGET_RATIO}",
                "pass": r["targets"]["ratio_at_most_1_3"],
            }
    lost_total = sum(r["ours"]["lost"] + r["bare"]["lost"] for r in rows)
    targets["lost events (ours + bare, all N)"] = {"value": lost_total, "target": "0", "pass": lost_total == 0}

    res = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "env": {
            "python": platform.python_version(),
            "python_socketio": version("python-socketio"),
            "python_engineio": version("python-engineio"),
            "flask_socketio": version("Flask-SocketIO"),
            "werkzeug": version("werkzeug"),
            "simple_websocket": version("simple-websocket"),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_start": load_start,
            "loadavg_end": round(os.getloadavg()[0], 2),
            "open_files": fd,
        },
        "config": {
            "clients": ns,
            "changes": args.changes,
            "warmup": args.warmup,
            "procs": args.procs,
            "client": args.client,
            "gap_s": args.gap,
            "connect_concurrency": args.connect_concurrency,
            "bare_kind": args.bare_kind,
            "scheduler": env.get("CONSOLE_SCHEDULER", "default (on)"),
            "change": "PATCH /api/v1/complainants/{id} {'demands': ...} -> complainant_updated to incident:<id>:team",
            "payload_bytes": len(json.dumps(payload, ensure_ascii=False).encode()),
            "payload": payload,
        },
        "no_listeners": no_listeners,
        "rows": rows,
        "skipped": skipped,
        "targets": targets,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    finish(RESULTS, res, report, workdir, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
