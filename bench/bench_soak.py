"""Load and soak: branch contacts posting hourly updates while boards watch, for minutes.

Acceptance text (issue "Operations"): on one machine over loopback, 200
concurrent branch posters and 500 board watchers for 5 minutes. Count every
update: none lost, none twice, zero 'database is locked', POST p95 under
150 ms, board p99 under 500 ms, resident memory growth under 10 % from
minute 1 to minute 5.

What it does:

1. Seed, in a temporary folder: a real SQLite file with one branch contact
   per branch (role ``branch``, scoped to that one outlet, an API token
   each), crisis-team and executive accounts for the watchers, and a lead.
   A real server is started on it (``python run.py``, or with ``--server
   gunicorn`` the production recipe ``gunicorn -w 1 --threads N
   console.wsgi:app``), scheduler on as in production. Over HTTP the lead
   opens an active incident (the mass_complaint playbook) and adds
   ``--complainants-per-branch`` complainants in every branch. With
   ``--instances N`` it starts N such servers on the one database, each with
   ``CONSOLE_SOCKETIO_MESSAGE_QUEUE`` pointing at a redis-server it starts,
   the scheduler on in the first only (README "Production"); watchers and
   posters are spread over them as nginx's ``ip_hash`` would.
2. Watchers: ``--watchers`` python-socketio clients (websocket transport), in
   ``--watcher-procs`` processes, half with crisis-team tokens (room
   ``incident:<id>:team``), half executives (``incident:<id>:exec``), each
   joined to the incident board. Each records every event it receives with
   ``time.time()``; ``update_posted`` carries the update's id.
3. Posters: ``--posters`` threads (in ``--poster-procs`` processes), one per
   branch, each with its own token. Poster i posts its branch's update at
   ``start + phase_i + k * interval`` for k = 0, 1, ... until the end, with
   the phases spread evenly over one interval: a steady offered rate of
   posters / interval updates per second (see bench/README.md for why 60 s).
   Every post has a new ``Idempotency-Key`` (also written into ``notes``, so
   the database can be counted by key). Every 10th post is sent a second
   time with the same key after the answer (a retry after a lost answer);
   every 20th is sent twice at once on two connections (a double submit).
   Each POST uses a new connection, as a browser that posted an hour ago
   would.
4. During the run the server's VmRSS, threads and CPU are sampled every few
   seconds; a mark is taken at the end of each period (a minute, or a fifth
   of a run shorter than 5 minutes).
5. At the end: the posters' records, every watcher's receipts, the
   database (hourly_update and idempotency_key counted by key) and the
   server log are compared.

Measured: POST latency (send to answer) per period and overall, of the
writes (answers with ``replayed: false``) and of the replays; board latency
= a watcher's receipt of ``update_posted`` minus the moment that update's
POST was sent (the branch contact pressing "send"), per period and overall,
over every watcher x every update; also the same from the POST's answer.
Counted: updates acknowledged, stored, lost (acknowledged, not stored),
twice (a key stored more than once), stored but never acknowledged;
replays answered with the first answer; double submits with exactly one
writer; every non-2xx answer and connection error; 'database is locked' in
answers and in the server log; tracebacks in the log; board deliveries
expected / received / lost / duplicated; gaps in each watcher's room
sequence; watcher disconnects. Memory: VmRSS at the end of the first period
and at the end of the run; growth in %.

Prints a table with PASS/MISS per target, writes bench/results/soak.json,
and exits 1 when a target is missed (2 when the run itself failed).

    python bench/bench_soak.py [--minutes 5] [--posters 200] [--watchers 500]
                               [--interval 60] [--server run|gunicorn] [--instances 1]
    python bench/bench_soak.py --minutes 0.5 --posters 20 --watchers 50   # smoke
"""

import argparse
import csv
import http.client
import json
import multiprocessing
import os
import platform
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import (  # noqa: E402
    child_pids,
    finish,
    machine_cpu_s,
    proc_cpu_s,
    proc_status,
    raise_fd_limit,
    start_console,
    start_redis,
    stop_process,
    summary_ms,
    wait_http,
)
from bench.soak_monitors import Busy, crowded_update  # noqa: E402
from bench.soak_monitors import targets as monitor_targets  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "soak.json"
EVENT = "update_posted"
TARGET_POST_P95_MS = 150.0
TARGET_BOARD_P99_MS = 500.0
TARGET_RSS_GROWTH_PCT = 10.0
RESEND_EVERY = 10  # every 10th post is sent again with the same key after its answer
TWIN_EVERY = 20  # every 20th is sent twice at once
DRAIN_S = 5.0  # after the last answer, time for the last events to arrive
WATCHER_ROLES = ("team", "executive")

_children = []


# --- seed ---------------------------------------------------------------------


def seed(db_path, posters, watcher_accounts):
    """Schema, branches, one scoped branch contact per branch, watcher accounts, tokens."""
    from console import create_app, regions, users
    from console.db import connect

    create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench"})  # creates the schema
    with open(ROOT / "console" / "data" / "cities.csv", newline="", encoding="utf-8") as f:
        cities = [(row["code"], row["province_code"]) for row in csv.DictReader(f)]
    db = connect(db_path)
    cheap = "pbkdf2:sha256:1000"  # fast to make; tokens, not passwords, are used here
    try:
        branches = []
        with db.atomic():
            for i in range(posters):
                city, province = cities[i % len(cities)]
                code = f"SOAK-{i:04d}"
                regions.add_branch(db, code, f"压测网点{i:04d}", city)
                branches.append({"code": code, "province_code": province, "city_code": city})
        for b in branches:
            name = f"soak-{b['code'].lower()}"
            users.add_user(db, name, "branch", "benchpass1", scope_code=b["code"], hash_method=cheap)
            b["token"] = users.issue_token(db, name)
        watch = {role: [] for role in WATCHER_ROLES}
        for role in WATCHER_ROLES:
            for i in range(watcher_accounts):
                name = f"soak-{role}-{i:02d}"
                users.add_user(db, name, role, "benchpass1", hash_method=cheap)
                watch[role].append(users.issue_token(db, name))
        users.add_user(db, "soak-lead", "lead", "benchpass1", hash_method=cheap)
        lead = users.issue_token(db, "soak-lead")
    finally:
        db.close()
    return {"branches": branches, "watch": watch, "lead": lead}


def request(port, method, path, token, body=None, key=None, timeout=60):
    """One request on a new connection: (status or None, parsed body or error text, sent_at, answered_at)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent_at = time.time()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        answered_at = time.time()
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}", sent_at, time.time()
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw[:500].decode(errors="replace")
    return resp.status, parsed, sent_at, answered_at


def open_incident(port, lead, branches, per_branch):
    status, incident, _, _ = request(
        port,
        "POST",
        "/api/v1/incidents",
        lead,
        {
            "title": "压测：邮政渠道分红险集体投诉",
            "cause": "misselling",
            "product": "分红险",
            "severity": "severe",
            "status": "active",
        },
    )
    if status != 201:
        raise RuntimeError(f"opening the incident answered {status}: {incident}")
    rng = random.Random(5)
    people = []
    for b in branches:
        for _ in range(per_branch):
            people.append(
                {
                    "name": rng.choice("王李张刘陈杨赵黄周吴") + rng.choice("伟芳娜秀敏静丽强磊军"),
                    "phone": "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}",
                    "province_code": b["province_code"],
                    "city_code": b["city_code"],
                    "branch_code": b["code"],
                    "principal": f"{rng.randrange(10_000, 500_000)}.00",
                }
            )
    if people:
        status, created, _, _ = request(port, "POST", f"/api/v1/incidents/{incident['id']}/complainants", lead, people, timeout=300)
        if status != 201:
            raise RuntimeError(f"adding complainants answered {status}: {str(created)[:500]}")
    return incident["id"], len(people)


# --- a watcher process ----------------------------------------------------------


def watcher_worker(jobs, incident_id, concurrency, client_kind, conn):
    """Hold python-socketio clients joined to the incident; report when all have
    joined; on "collect" send back every receipt. jobs: (watcher index, role, token, server url).

    client_kind "async": socketio.AsyncClient, all of the process's clients on one
    asyncio loop (a task per message). "threads": socketio.Client, whose engine.io
    client starts a thread per received message: at 500 watchers x 3 updates/s
    that costs the clients more CPU than the server uses, on the same two cores.
    """
    receipts = []  # (watcher, update id, room, seq, time.time())
    others = []  # (watcher, event name, room, seq): alerts, tasks ... in the same rooms
    disconnects = []

    def handlers(sio, index):
        def on_update(data):
            t = time.time()
            receipts.append((index, (data.get("update") or {}).get("id"), data.get("room"), data.get("seq"), t))

        def on_other(name, data=None):
            data = data if isinstance(data, dict) else {}
            others.append((index, name, data.get("room"), data.get("seq")))

        sio.on(EVENT, on_update)
        sio.on("*", on_other)
        sio.on("disconnect", lambda *a: disconnects.append((index, time.time(), str(a[0]) if a else "")))

    def joined_info(index, role, answer):
        if not isinstance(answer, dict) or "error" in answer:
            raise RuntimeError(f"join_incident answered {answer!r}")
        return {"watcher": index, "role": role, "room": answer["room"], "seq": answer["snapshot"]["seq"]}

    def report_and_wait(made):
        conn.send({"joined": [m[1] for m in made if m[1]], "errors": [m[2] for m in made if m[2]]})
        if conn.poll(24 * 3600):
            conn.recv()

    def send_receipts():
        conn.send({"receipts": list(receipts), "others": list(others), "disconnects": list(disconnects)})
        conn.close()

    import socketio

    if client_kind == "threads":
        threading.stack_size(1024 * 1024)
        from concurrent.futures import ThreadPoolExecutor

        def make(job):
            index, role, token, url = job
            sio = socketio.Client(reconnection=False)
            handlers(sio, index)
            try:
                sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
                return sio, joined_info(index, role, sio.call("join_incident", {"incident_id": incident_id}, timeout=120)), None
            except Exception as exc:
                return None, None, f"{type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(concurrency) as pool:
            made = list(pool.map(make, jobs))
        report_and_wait(made)
        send_receipts()
        os._exit(0)  # no graceful disconnect per client: the kernel closes the sockets

    import asyncio

    async def run():
        gate = asyncio.Semaphore(concurrency)

        async def make(job):
            index, role, token, url = job
            sio = socketio.AsyncClient(reconnection=False)
            handlers(sio, index)
            async with gate:
                try:
                    await sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
                    answer = await sio.call("join_incident", {"incident_id": incident_id}, timeout=120)
                    return sio, joined_info(index, role, answer), None
                except Exception as exc:
                    return None, None, f"{type(exc).__name__}: {exc}"

        made = await asyncio.gather(*(make(job) for job in jobs))
        # wait for "collect" in a thread; the loop goes on receiving meanwhile
        await asyncio.get_running_loop().run_in_executor(None, report_and_wait, made)
        send_receipts()
        os._exit(0)

    asyncio.run(run())


# --- a poster process -------------------------------------------------------------


def post_kind(poster, k):
    """first only, a resend after the answer, or a double submit (deterministic, spread over posters)."""
    n = poster + k
    if n % TWIN_EVERY == 0:
        return "twin"
    if n % RESEND_EVERY == 5:
        return "resend"
    return "single"


def poster_worker(incident_id, jobs, start_at, interval, end_at, conn, busy=True):
    """One thread per poster; each posts on its own schedule until ``end_at``; sends back
    every POST as a record. jobs: (poster index, branch code, token, phase seconds, server port)."""
    threading.stack_size(1024 * 1024)
    path = f"/api/v1/incidents/{incident_id}/updates"
    records = []
    lock = threading.Lock()

    def one(poster, k, key, attempt, port, token, body, out):
        status, answer, sent_at, answered_at = request(port, "POST", path, token, body, key=key)
        record = {"poster": poster, "k": k, "key": key, "attempt": attempt, "sent_at": sent_at, "answered_at": answered_at, "status": status}
        if status == 201 and isinstance(answer, dict):
            record["id"] = answer.get("id")
            record["replayed"] = answer.get("replayed")
        else:
            record["error"] = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)[:500]
        out.append(record)

    def run(job):
        poster, branch, token, phase, port = job
        rng = random.Random(poster)
        mine = []
        k = 0
        while True:
            at = start_at + phase + k * interval
            if at >= end_at:
                break
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            key = f"soak-{poster:04d}-{k:05d}"
            fields = {
                "people_on_site": rng.randrange(0, 3),  # below GROUP_VISIT_PEOPLE: a quiet outlet, no alerts
                "new_complainants": rng.randrange(0, 3),
                "settled_since": rng.randrange(0, 2),
                "mood": rng.choice(["calm", "calm", "tense"]),
                "actions_taken": "逐一登记，专人解释",
                "needs": "",
                "notes": key,
            }
            if busy and rng.random() < 0.15:
                fields.update(crowded_update(rng))  # a group at the counter: the crowd rule answers it
            body = json.dumps(fields, ensure_ascii=False).encode()
            kind = post_kind(poster, k)
            if kind == "twin":
                twins = [threading.Thread(target=one, args=(poster, k, key, f"twin{j}", port, token, body, mine)) for j in (1, 2)]
                for t in twins:
                    t.start()
                for t in twins:
                    t.join()
            else:
                one(poster, k, key, "first", port, token, body, mine)
                if kind == "resend":
                    one(poster, k, key, "resend", port, token, body, mine)
            k += 1
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.send(records)
    conn.close()


# --- analysis ---------------------------------------------------------------------


def analyse(posts, joined, receipts, others, stored_rows, idem_rows, log_text, start_at, period_s, periods):
    """Every count and latency of the run; see the module docstring."""

    def period_of(t):
        # a post scheduled just before the end but sent after it counts in the last period
        return min(periods - 1, max(0, int((t - start_at) // period_s)))

    by_key = {}
    for p in posts:
        by_key.setdefault(p["key"], []).append(p)
    acknowledged = {}  # key -> the write's record (replayed false)
    writers_per_key = {}
    for key, records in by_key.items():
        writers = [r for r in records if r["status"] == 201 and r.get("replayed") is False]
        writers_per_key[key] = len(writers)
        if writers:
            acknowledged[key] = writers[0]
    replays = [r for r in posts if r["status"] == 201 and r.get("replayed") is True]
    replay_same_id = sum(1 for r in replays if r["key"] in acknowledged and acknowledged[r["key"]]["id"] == r["id"])
    twins = {k: rs for k, rs in by_key.items() if any(r["attempt"].startswith("twin") for r in rs)}
    twins_one_writer = sum(1 for k in twins if writers_per_key[k] == 1)
    resends = [r for r in posts if r["attempt"] == "resend"]
    non_2xx = [r for r in posts if r["status"] is None or not 200 <= r["status"] < 300]
    locked_answers = sum(1 for r in non_2xx if "database is locked" in (r.get("error") or "").lower())

    stored = {}  # key -> [ids]
    for notes, update_id in stored_rows:
        stored.setdefault(notes, []).append(update_id)
    sent_keys = set(by_key)
    lost = sorted(k for k in acknowledged if k not in stored)
    twice = sorted(k for k, ids in stored.items() if len(ids) > 1)
    wrong_id = sorted(k for k, rec in acknowledged.items() if k in stored and rec["id"] not in stored[k])
    unacknowledged = sorted(k for k in stored if k not in acknowledged)
    stray = sorted(k for k in stored if k not in sent_keys)
    idem = {}
    for key, n in idem_rows:
        idem[key] = n
    idem_missing = sorted(k for k in acknowledged if idem.get(k) != 1)

    # board: every joined watcher should get every acknowledged update once
    sent_by_id = {rec["id"]: rec for rec in acknowledged.values()}
    watchers = {j["watcher"]: j for j in joined}
    seen = set()
    duplicates = unknown = 0
    latencies = []  # (period, from send, from answer)
    for watcher, update_id, room, seq, t in receipts:
        if (watcher, update_id) in seen:
            duplicates += 1
            continue
        seen.add((watcher, update_id))
        rec = sent_by_id.get(update_id)
        if rec is None:
            unknown += 1
            continue
        latencies.append((period_of(rec["sent_at"]), t - rec["sent_at"], t - rec["answered_at"]))
    expected = len(watchers) * len(sent_by_id)
    received = len(latencies)

    # each watcher's incident room: gap-free from its join seq
    seqs = {}
    for watcher, _update_id, room, seq, _t in receipts:
        seqs.setdefault((watcher, room), []).append(seq)
    for watcher, _name, room, seq in others:
        if room and seq is not None:
            seqs.setdefault((watcher, room), []).append(seq)
    gaps = 0
    watchers_with_gaps = set()
    for j in joined:
        got = sorted(set(seqs.get((j["watcher"], j["room"]), [])))
        if got:
            want = list(range(j["seq"] + 1, got[-1] + 1))
            missing = len(want) - len([s for s in got if s > j["seq"]])
            if missing:
                gaps += missing
                watchers_with_gaps.add(j["watcher"])

    per_period = []
    for i in range(periods):
        writes = [r["answered_at"] - r["sent_at"] for r in acknowledged.values() if period_of(r["sent_at"]) == i]
        reps = [r["answered_at"] - r["sent_at"] for r in replays if period_of(r["sent_at"]) == i]
        board = [x[1] for x in latencies if x[0] == i]
        per_period.append({"period": i + 1, "writes": summary_ms(writes), "replays": summary_ms(reps), "board": summary_ms(board)})

    log_lower = log_text.lower()
    other_names = {}
    for _w, name, _room, _seq in others:
        other_names[name] = other_names.get(name, 0) + 1
    return {
        "posts": {
            "requests": len(posts),
            "keys": len(by_key),
            "acknowledged_writes": len(acknowledged),
            "resends": len(resends),
            "resends_replayed": sum(1 for r in resends if r.get("replayed") is True),
            "replays": len(replays),
            "replays_with_the_first_id": replay_same_id,
            "double_submits": len(twins),
            "double_submits_with_one_writer": twins_one_writer,
            "keys_with_two_writers": sum(1 for n in writers_per_key.values() if n > 1),
            "non_2xx": len(non_2xx),
            "non_2xx_by_status": _count_by(non_2xx, lambda r: str(r["status"])),
            "non_2xx_first": [{k: r.get(k) for k in ("key", "attempt", "status", "error")} for r in non_2xx[:10]],
            "database_is_locked_in_answers": locked_answers,
            "write_latency": summary_ms([r["answered_at"] - r["sent_at"] for r in acknowledged.values()]),
            "replay_latency": summary_ms([r["answered_at"] - r["sent_at"] for r in replays]),
            "all_latency": summary_ms([r["answered_at"] - r["sent_at"] for r in posts if r["status"] == 201]),
        },
        "database": {
            "stored_updates": len(stored_rows),
            "stored_keys": len(stored),
            "lost": len(lost),
            "lost_first": lost[:10],
            "twice": len(twice),
            "twice_first": twice[:10],
            "wrong_id": len(wrong_id),
            "stored_not_acknowledged": len(unacknowledged),
            "stored_not_acknowledged_first": unacknowledged[:10],
            "stored_never_sent": len(stray),
            "idempotency_rows_not_one": len(idem_missing),
        },
        "board": {
            "watchers_joined": len(watchers),
            "updates": len(sent_by_id),
            "expected": expected,
            "received": received,
            "lost": expected - received,
            "duplicates": duplicates,
            "unknown_update_ids": unknown,
            "latency_from_send": summary_ms([x[1] for x in latencies]),
            "latency_from_answer": summary_ms([x[2] for x in latencies]),
            "room_seq_gaps": gaps,
            "watchers_with_gaps": len(watchers_with_gaps),
            "other_events": other_names,
        },
        "log": {
            "database_is_locked": log_lower.count("database is locked"),
            "tracebacks": log_text.count("Traceback (most recent call last)"),
            "http_5xx_lines": sum(1 for line in log_text.splitlines() if '" 5' in line and "HTTP/1." in line),
        },
        "per_period": per_period,
    }


def _count_by(rows, key):
    out = {}
    for r in rows:
        out[key(r)] = out.get(key(r), 0) + 1
    return out


# --- report ------------------------------------------------------------------------


def cell(x):
    return "-" if x is None else x


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(res):
    w = 108
    c, a, env = res["config"], res["analysis"], res["env"]
    print()
    print("=" * w)
    print(
        f"Soak: {c['posters']} branch posters (one post each every {c['interval_s']:g} s: {c['offered_updates_per_s']} updates/s offered, "
        f"+ every {RESEND_EVERY}th resent, every {TWIN_EVERY}th sent twice at once)"
    )
    print(
        f"      {c['watchers']} board watchers ({', '.join(f'{n} {r}' for r, n in c['watchers_by_role'].items())}) in {c['watcher_procs']} processes ({c['watcher_client']} client); "
        f"{c['minutes']:g} min on {c['instances']} x {c['server']}{' --threads ' + str(c['gunicorn_threads']) if c['gunicorn_threads'] else ''} (scheduler {c['scheduler']}{' in the first' if c['instances'] > 1 else ''}); {c['complainants']} complainants in {c['posters']} branches"
    )
    print(
        f"Python {env['python']}, {env['cpus']} CPUs; load average {env['loadavg_start']} at start, {env['loadavg_end']} at end; "
        f"other processes used {res['machine'].get('other_cores')} cores during the run"
        + ("  <- other work was running: figures are noisy" if (res["machine"].get("other_cores") or 0) > 0.2 else "")
    )
    print("=" * w)
    unit = "min" if res["period_s"] == 60 else f"{res['period_s']:g}s"
    print(
        f"{'period':>7} | {'writes':>6} {'POST p50':>8} {'p95':>7} {'p99':>7} | {'replays':>7} {'p95':>6} | "
        f"{'board p50':>9} {'p95':>7} {'p99':>7} | {'RSS MiB':>7} {'threads':>7} {'CPU':>5}"
    )
    print("-" * w)
    for row, mark in zip(a["per_period"], res["marks"]):
        wr, rp, bd = row["writes"], row["replays"], row["board"]
        print(
            f"{str(row['period']) + ' ' + unit:>7} | {wr['n']:>6} {cell(wr['p50_ms']):>8} {cell(wr['p95_ms']):>7} {cell(wr['p99_ms']):>7} | "
            f"{rp['n']:>7} {cell(rp['p95_ms']):>6} | {cell(bd['p50_ms']):>9} {cell(bd['p95_ms']):>7} {cell(bd['p99_ms']):>7} | "
            f"{cell(mark.get('rss_mib')):>7} {cell(mark.get('threads')):>7} {cell(mark.get('server_cores')):>5}"
        )
    p, b = a["posts"], a["board"]
    print("-" * w)
    wl, bl = p["write_latency"], b["latency_from_send"]
    print(
        f"{'all':>7} | {wl['n']:>6} {cell(wl['p50_ms']):>8} {cell(wl['p95_ms']):>7} {cell(wl['p99_ms']):>7} | "
        f"{p['replay_latency']['n']:>7} {cell(p['replay_latency']['p95_ms']):>6} | {cell(bl['p50_ms']):>9} {cell(bl['p95_ms']):>7} {cell(bl['p99_ms']):>7} |"
    )
    print(
        "POST = send to answer of the posts that wrote (replayed: false); board = POST sent -> watcher received update_posted; "
        f"from the answer instead: p99 {b['latency_from_answer']['p99_ms']} ms"
    )
    d, lg = a["database"], a["log"]
    print()
    print(
        f"Posts: {p['requests']} requests for {p['keys']} keys; {p['acknowledged_writes']} writes acknowledged; "
        f"{p['resends_replayed']}/{p['resends']} resends and {p['double_submits_with_one_writer']}/{p['double_submits']} double submits "
        f"answered once ({p['replays_with_the_first_id']}/{p['replays']} replays carry the first id); "
        f"non-2xx {p['non_2xx']} {p['non_2xx_by_status'] or ''}"
    )
    print(
        f"Database: {d['stored_updates']} updates stored for {d['stored_keys']} keys; lost {d['lost']}, twice {d['twice']}, "
        f"stored but not acknowledged {d['stored_not_acknowledged']}, wrong id {d['wrong_id']}, idempotency rows not one {d['idempotency_rows_not_one']}"
    )
    print(
        f"Boards: {b['watchers_joined']} watchers x {b['updates']} updates = {b['expected']} deliveries expected, {b['received']} received, "
        f"lost {b['lost']}, duplicated {b['duplicates']}, room sequence gaps {b['room_seq_gaps']}, disconnects {res['watcher_disconnects']}; "
        f"other events {b['other_events'] or 'none'}"
    )
    print(
        f"'database is locked': {p['database_is_locked_in_answers']} in answers, {lg['database_is_locked']} in the server log; "
        f"tracebacks in the log {lg['tracebacks']}"
    )
    m = res["memory"]
    print(
        f"Memory (VmRSS of {'pid' if len(res['server_pids']) == 1 else 'the sum of pids'} {', '.join(map(str, res['server_pids']))}): {m['first_mark_mib']} MiB at the end of period 1, {m['last_mark_mib']} MiB at the end: "
        f"growth {m['growth_pct']} %; peak (VmHWM) {m['hwm_mib']} MiB; {m['after_connect_mib']} MiB when every watcher had joined"
    )
    print()
    print("Targets")
    for name, t in res["targets"].items():
        print(f"  {name:<46}{str(t['value']):>12}  target {t['target']:<8} {verdict(t['pass'])}")
    print(f"Wall time {res['wall_seconds']} s; results in {RESULTS.relative_to(ROOT)}")
    print("=" * w)


# --- main --------------------------------------------------------------------------


def stop_all():
    for proc in reversed(_children):
        try:
            if isinstance(proc, multiprocessing.process.BaseProcess):
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)
                    if proc.is_alive():
                        proc.kill()
            else:
                stop_process(proc)
        except Exception:
            pass


def spread(items, n):
    """Split a list into n nearly equal consecutive parts."""
    n = max(1, min(n, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the measured run (default 5)")
    parser.add_argument("--posters", type=int, default=200, help="branch contacts posting, one branch each (default 200)")
    parser.add_argument("--watchers", type=int, default=500, help="board sockets (default 500)")
    parser.add_argument("--interval", type=float, help="seconds between one poster's updates (default 60; a fifth of the run when it is shorter than 5 min)")
    parser.add_argument("--server", choices=["run", "gunicorn"], default="run", help="python run.py (default) or gunicorn with console.wsgi")
    parser.add_argument(
        "--instances", type=int, default=1, help="server processes on the one database, sharing rooms through a redis-server this starts (default 1)"
    )
    parser.add_argument("--threads", type=int, help="gunicorn --threads per instance (default: its watchers + 100, as README 'Production')")
    parser.add_argument("--scheduler", choices=["on", "off"], default="on", help="run the monitors in the server (default on, as in production)")
    parser.add_argument(
        "--busy-monitors",
        choices=["on", "off"],
        default="on",
        help="keep the crowd rule and the tasks monitor busy: crowds at counters, outlets crossing the closed-4-h line, settlements (default on)",
    )
    parser.add_argument("--crossings", type=int, help="outlets crossing the closed-4-h line during the run (default: two a minute, at least 3)")
    parser.add_argument("--settlements", type=int, default=20, help="complainants the lead settles during the run (default 20)")
    parser.add_argument("--watcher-procs", type=int, default=4, help="processes holding the watchers (default 4)")
    parser.add_argument(
        "--watcher-client",
        choices=["async", "threads"],
        default="async",
        help="python-socketio's asyncio client (default) or its threaded one (a thread per message: costly)",
    )
    parser.add_argument("--poster-procs", type=int, default=2, help="processes holding the posters (default 2)")
    parser.add_argument("--complainants-per-branch", type=int, default=5)
    parser.add_argument("--watcher-accounts", type=int, default=10, help="accounts per watcher role; watchers share them (default 10)")
    parser.add_argument("--connect-concurrency", type=int, default=8, help="concurrent connects per watcher process (default 8)")
    parser.add_argument("--timeout", type=float, help="hard limit for the whole run in seconds (default: the run + 10 min)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server log)")
    args = parser.parse_args(argv)

    duration = args.minutes * 60
    interval = args.interval or (60.0 if duration >= 300 else duration / 5)
    period_s = 60.0 if duration >= 300 else duration / 5
    periods = max(1, round(duration / period_s))
    started = time.monotonic()
    timeout = args.timeout or duration + 600

    def watchdog():
        print(f"\nbench_soak: hard timeout of {timeout:.0f} s reached; stopping every process it started", file=sys.stderr, flush=True)
        stop_all()
        os._exit(2)

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()

    fd = raise_fd_limit(2 * args.watchers + 4 * args.posters + 1024)
    load_start = round(os.getloadavg()[0], 2)
    workdir = tempfile.mkdtemp(prefix="console-bench-soak-")
    db_path = Path(workdir) / "soak.db"
    log_path = Path(workdir) / "server.log"
    env = {**os.environ, "CONSOLE_SECRET_KEY": "bench-" + os.urandom(8).hex(), "PYTHONUNBUFFERED": "1", "CONSOLE_SCHEDULER": args.scheduler}
    for name in ("CONSOLE_DB", "CONSOLE_DATABASE", "CONSOLE_SOCKETIO_MESSAGE_QUEUE", "CONSOLE_CLOCK_FILE"):
        env.pop(name, None)
    ctx = multiprocessing.get_context("spawn")
    servers = []
    try:
        print(f"Seeding {args.posters} branches and contacts, {2 * args.watcher_accounts} watcher accounts ...", flush=True)
        seeded = seed(db_path, args.posters, args.watcher_accounts)
        if args.instances > 1:
            redis_proc, redis_url = start_redis(Path(workdir) / "redis.log")
            _children.append(redis_proc)
            env["CONSOLE_SOCKETIO_MESSAGE_QUEUE"] = redis_url
        for n in range(args.instances):
            # README "Production": the scheduler on in one instance, off in the others
            instance_env = {**env, "CONSOLE_SCHEDULER": args.scheduler if n == 0 else "off"}
            log_path = Path(workdir) / f"server-{n + 1}.log"
            # README "Production": a thread per watching browser, plus 100 for the requests in flight
            threads = args.threads or -(-args.watchers // args.instances) + 100
            proc, port, pid = start_console(db_path, instance_env, log_path, args.server, threads=threads)
            _children.append(proc)
            servers.append({"proc": proc, "port": port, "pid": pid, "log": log_path, "url": f"http://127.0.0.1:{port}", "threads": threads})
        for server in servers:
            wait_http(server["proc"], server["port"], "/api/v1/incidents", {"Authorization": f"Bearer {seeded['lead']}"}, server["log"])
            server["pid"] = server["pid"] if args.server == "run" else (child_pids(server["proc"].pid) or [server["pid"]])[0]
        incident_id, complainants = open_incident(servers[0]["port"], seeded["lead"], seeded["branches"], args.complainants_per_branch)
        pids = [server["pid"] for server in servers]
        print(
            f"Server pid(s) {pids} ({args.server}) on {', '.join(sv['url'] for sv in servers)}; incident {incident_id} with {complainants} complainants",
            flush=True,
        )

        # watchers, spread over the instances as ip_hash would
        jobs = []
        for i in range(args.watchers):
            role = WATCHER_ROLES[i % 2]
            tokens = seeded["watch"][role]
            jobs.append((i, role, tokens[(i // 2) % len(tokens)], servers[(i // 2) % len(servers)]["url"]))
        watcher_procs = []
        t_connect = time.monotonic()
        for part in spread(jobs, args.watcher_procs):
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(target=watcher_worker, args=(part, incident_id, args.connect_concurrency, args.watcher_client, child_end), daemon=True)
            p.start()
            child_end.close()
            _children.append(p)
            watcher_procs.append((p, parent_end))
        joined, join_errors = [], []
        for p, end in watcher_procs:
            if not end.poll(120 + args.watchers * 0.2):
                raise RuntimeError("a watcher process did not report that its clients joined")
            got = end.recv()
            joined.extend(got["joined"])
            join_errors.extend(got["errors"])
        print(
            f"{len(joined)} watchers joined in {time.monotonic() - t_connect:.1f} s"
            + (f"; {len(join_errors)} FAILED: {join_errors[:2]}" if join_errors else ""),
            flush=True,
        )
        if not joined:
            raise RuntimeError(f"no watcher could join: {join_errors[:3]}")
        time.sleep(1.0)
        after_connect = sum(proc_status(pid).get("VmRSS", 0) for pid in pids)

        busy = None
        if args.busy_monitors == "on":
            if args.scheduler != "on":
                raise RuntimeError("--busy-monitors on needs --scheduler on: the monitors are what it measures")
            busy = Busy(
                request,
                servers[0]["port"],
                seeded["lead"],
                seeded["branches"],
                incident_id,
                0,
                0,
                args.crossings or max(3, int(2 * args.minutes)),
                args.settlements,
            )
            busy.prepare()
            print(f"Busy monitors: {len(busy.crossing_incidents)} outlets to cross the closed-4-h line, {len(busy.to_settle)} settlements", flush=True)

        # posters
        start_at = time.time() + 3.0
        end_at = start_at + duration
        if busy is not None:
            busy.start_at, busy.end_at = start_at, end_at
            busy.start()
        posters = [(i, b["code"], b["token"], interval * i / max(1, args.posters), servers[i % len(servers)]["port"]) for i, b in enumerate(seeded["branches"])]
        poster_procs = []
        for part in spread(posters, args.poster_procs):
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(target=poster_worker, args=(incident_id, part, start_at, interval, end_at, child_end, args.busy_monitors == "on"), daemon=True)
            p.start()
            child_end.close()
            _children.append(p)
            poster_procs.append((p, parent_end))
        offered = round(args.posters / interval, 2)
        print(f"{args.posters} posters, one update each every {interval:g} s ({offered} updates/s offered), for {duration:g} s ...", flush=True)

        def servers_cpu():
            values = [proc_cpu_s(pid) for pid in pids]
            return None if None in values else sum(values)

        # samples while it runs
        while time.time() < start_at:
            time.sleep(0.05)
        samples = []
        marks = []
        sample_every = min(10.0, period_s / 2)
        cpu0, machine0, t0 = servers_cpu(), machine_cpu_s(), time.monotonic()
        kids0 = sum(proc_cpu_s(p.pid) or 0 for p, _ in watcher_procs + poster_procs)
        last_cpu, last_t = cpu0, t0
        mark_cpu = (cpu0, t0)
        next_mark = start_at + period_s
        next_sample = start_at + sample_every
        while True:
            now = time.time()
            if now >= next_sample or now >= next_mark:
                statuses = [proc_status(pid) for pid in pids]
                cpu, mono = servers_cpu(), time.monotonic()
                cores = round((cpu - last_cpu) / (mono - last_t), 2) if cpu is not None and last_cpu is not None and mono > last_t else None
                rss = None if any("VmRSS" not in st for st in statuses) else sum(st["VmRSS"] for st in statuses)
                sample = {
                    "t_s": round(now - start_at, 1),
                    "rss_kib": rss,
                    "rss_kib_each": [st.get("VmRSS") for st in statuses],
                    "hwm_kib": sum(st.get("VmHWM", 0) for st in statuses),
                    "threads": sum(st.get("Threads", 0) for st in statuses),
                    "server_cores": cores,
                }
                samples.append(sample)
                if now >= next_sample:
                    next_sample += sample_every
                if now >= next_mark - 0.01:
                    # the servers' CPU over this period, in cores
                    period_cores = (
                        round((cpu - mark_cpu[0]) / (mono - mark_cpu[1]), 2) if cpu is not None and mark_cpu[0] is not None and mono > mark_cpu[1] else None
                    )
                    marks.append({**sample, "rss_mib": round(rss / 1024, 1) if rss else None, "server_cores": period_cores})
                    mark_cpu = (cpu, mono)
                    next_mark += period_s
                last_cpu, last_t = cpu, mono
                if len(marks) >= periods:
                    break
                print(f"  t={sample['t_s']:>6} s  RSS {round((rss or 0) / 1024, 1)} MiB  threads {sample['threads']}  server {cores} cores", flush=True)
            for server in servers:
                if server["proc"].poll() is not None:
                    raise RuntimeError(f"the server on port {server['port']} exited with {server['proc'].returncode}")
            time.sleep(0.05)
        machine1, t1 = machine_cpu_s(), time.monotonic()
        cpu1 = servers_cpu()
        kids1 = sum(proc_cpu_s(p.pid) or 0 for p, _ in watcher_procs + poster_procs)

        posts = []
        for p, end in poster_procs:
            if not end.poll(180):
                raise RuntimeError("a poster process did not send its records")
            posts.extend(end.recv())
            p.join(10)
        if busy is not None:
            busy.join(120)
            # the last crossing's monitor run: at most one period after it
            last = max((c["crosses_at"] for c in busy.crossings), default=0)
            while time.time() < last + 60 + 5:
                time.sleep(0.5)
        time.sleep(DRAIN_S)
        receipts, others, disconnects = [], [], []
        for p, end in watcher_procs:
            end.send("collect")
        for p, end in watcher_procs:
            if not end.poll(120):
                raise RuntimeError("a watcher process did not send its receipts")
            got = end.recv()
            receipts.extend(got["receipts"])
            others.extend(got["others"])
            disconnects.extend(got["disconnects"])
            p.join(10)
        for server in servers:
            stop_process(server["proc"])

        from console.db import connect

        db = connect(db_path)
        try:
            stored_rows = db.execute("SELECT notes, id FROM hourly_update WHERE incident_id = ?", [incident_id]).fetchall()
            idem_rows = db.execute("SELECT key, count(*) FROM idempotency_key WHERE key LIKE 'soak-%' GROUP BY key").fetchall()
            monitors = busy.judge(db, datetime.fromtimestamp(start_at - 60, timezone.utc).isoformat(timespec="seconds")) if busy is not None else None
        finally:
            db.close()
        log_text = "\n".join(Path(server["log"]).read_text(errors="replace") for server in servers)
        analysis = analyse(posts, joined, receipts, others, stored_rows, idem_rows, log_text, start_at, period_s, periods)
    except BaseException:
        stop_all()
        print(f"bench_soak: the run failed; files kept in {workdir}", file=sys.stderr)
        raise
    finally:
        timer.cancel()
        stop_all()

    # memory and machine
    first = marks[0] if marks else {}
    last = marks[-1] if marks else {}
    growth = None
    if first.get("rss_kib") and last.get("rss_kib"):
        growth = round((last["rss_kib"] - first["rss_kib"]) * 100 / first["rss_kib"], 2)
    busy = (machine1[0] - machine0[0]) if machine0 and machine1 else None
    wall = t1 - t0
    server_cpu = (cpu1 - cpu0) if cpu1 is not None and cpu0 is not None else 0
    machine = {
        "seconds": round(wall, 1),
        "busy_cores": round(busy / wall, 2) if busy is not None else None,
        "server_cores": round(server_cpu / wall, 2),
        "clients_cores": round((kids1 - kids0) / wall, 2),
        "other_cores": round(max(0.0, busy - server_cpu - (kids1 - kids0)) / wall, 2) if busy is not None else None,
    }
    a = analysis
    b, p, d = a["board"], a["posts"], a["database"]
    locked = p["database_is_locked_in_answers"] + a["log"]["database_is_locked"]
    targets = {
        "POST p95 of the writes (ms)": {
            "value": p["write_latency"]["p95_ms"],
            "target": f"< {TARGET_POST_P95_MS:g}",
            "pass": p["write_latency"]["p95_ms"] is not None and p["write_latency"]["p95_ms"] < TARGET_POST_P95_MS,
        },
        "board p99, POST sent -> watcher (ms)": {
            "value": b["latency_from_send"]["p99_ms"],
            "target": f"< {TARGET_BOARD_P99_MS:g}",
            "pass": b["latency_from_send"]["p99_ms"] is not None and b["latency_from_send"]["p99_ms"] < TARGET_BOARD_P99_MS,
        },
        "updates lost (acknowledged, not stored)": {"value": d["lost"], "target": "0", "pass": d["lost"] == 0},
        "updates stored twice (by key)": {
            "value": d["twice"],
            "target": "0",
            "pass": d["twice"] == 0 and d["wrong_id"] == 0 and p["keys_with_two_writers"] == 0,
        },
        "stored but never acknowledged": {"value": d["stored_not_acknowledged"], "target": "0", "pass": d["stored_not_acknowledged"] == 0},
        "retries answered with the first answer": {
            "value": f"{p['replays_with_the_first_id']}/{p['replays']}",
            "target": "all",
            "pass": p["replays_with_the_first_id"] == p["replays"] == p["resends"] + p["double_submits"],
        },
        "non-2xx answers and connection errors": {"value": p["non_2xx"], "target": "0", "pass": p["non_2xx"] == 0},
        "'database is locked' (answers + server log)": {"value": locked, "target": "0", "pass": locked == 0},
        "board deliveries lost / duplicated": {
            "value": f"{b['lost']}/{b['duplicates']}",
            "target": "0/0",
            "pass": b["lost"] == 0 and b["duplicates"] == 0 and b["room_seq_gaps"] == 0,
        },
        "watchers joined / disconnected": {
            "value": f"{b['watchers_joined']}/{len(disconnects)}",
            "target": f"{args.watchers}/0",
            "pass": b["watchers_joined"] == args.watchers and not disconnects,
        },
        "RSS growth, end of period 1 -> end (%)": {
            "value": growth,
            "target": f"< {TARGET_RSS_GROWTH_PCT:g}",
            "pass": growth is not None and growth < TARGET_RSS_GROWTH_PCT,
        },
    }
    if monitors is not None:
        targets.update(monitor_targets(monitors))
    from importlib.metadata import version

    res = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "env": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "flask_socketio": version("Flask-SocketIO"),
            "python_socketio": version("python-socketio"),
            "gunicorn": version("gunicorn") if args.server == "gunicorn" else None,
            "loadavg_start": load_start,
            "loadavg_end": round(os.getloadavg()[0], 2),
            "open_files": fd,
        },
        "config": {
            "minutes": args.minutes,
            "posters": args.posters,
            "watchers": args.watchers,
            "watchers_by_role": {r: sum(1 for j in jobs if j[1] == r) for r in WATCHER_ROLES},
            "interval_s": interval,
            "offered_updates_per_s": offered,
            "resend_every": RESEND_EVERY,
            "double_submit_every": TWIN_EVERY,
            "server": args.server,
            "instances": args.instances,
            "gunicorn_threads": servers[0]["threads"] if args.server == "gunicorn" else None,
            "scheduler": args.scheduler,
            "watcher_procs": args.watcher_procs,
            "watcher_client": args.watcher_client,
            "poster_procs": args.poster_procs,
            "complainants": complainants,
            "period_s": period_s,
        },
        "server_pids": pids,
        "period_s": period_s,
        "marks": marks,
        "samples": samples,
        "memory": {
            "after_connect_mib": round(after_connect / 1024, 1),
            "first_mark_mib": first.get("rss_mib"),
            "last_mark_mib": last.get("rss_mib"),
            "growth_pct": growth,
            "hwm_mib": round(max((s.get("hwm_kib") or 0) for s in samples) / 1024, 1) if samples else None,
        },
        "machine": machine,
        "watcher_disconnects": len(disconnects),
        "watcher_join_errors": join_errors[:10],
        "analysis": analysis,
        "monitors": monitors,
        "targets": targets,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    finish(RESULTS, res, report, workdir, args.keep)
    return 0 if all(t["pass"] for t in targets.values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        import traceback

        traceback.print_exc()
        sys.exit(2)  # the run itself failed: no verdict on the targets
