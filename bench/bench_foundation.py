"""Foundation benchmark: 100,000 complainants through the API, then the list and the counts.

Acceptance text (issue): create an incident of 100,000 complainants through
the API's bulk path, then time the bulk import, a filtered and paged
complainant list, and the counts by group x region x status. In the same run,
time a bare sqlite-utils insert_all of the same rows and a bare GROUP BY over
them, and report each of ours as a ratio to it. Targets: import >= 40,000
complainants/s through the API; the filtered list under 20 ms; the counts
under 50 ms.

What it does:

1. Creates a temporary database, a lead user and an API token with
   ``python run.py --db TMP user add ...`` / ``token ...``, then starts a real
   server (``python run.py --db TMP --port PORT``) on a free loopback port.
2. Over HTTP (keep-alive, bearer token): opens an incident, adds 4 groups,
   then POSTs 100,000 complainants as JSON arrays of MAX_BULK (10,000). The
   bodies are serialised before the clock starts; the clock runs from the
   first POST to the last response.
3. Times GET .../complainants with group/province/status filters, page 3 of
   50 (50 runs), and GET .../counts (20 runs), over HTTP.
4. Times the same list and counts in-process: once straight through the
   domain functions (console.complainants.list_complainants,
   console.incidents.counts: SQL plus row conversion), and once through
   Flask's test client (the whole view, without TCP), so HTTP overhead shows.
5. Baselines in the same run: a bare sqlite-utils ``insert_all`` of the same
   100,000 rows into a fresh file, and a bare GROUP BY over them with a
   covering index. Ours are reported as ratios to these. A third figure, the
   same rows by executemany straight into our own complainant table (same
   schema, six indexes, WAL), shows what SQLite alone costs for our table.

Prints a table with PASS/MISS per target and writes bench/results/foundation.json.
Exits 0 whether or not targets are met (non-zero only if the run itself fails).

    python bench/bench_foundation.py [--rows 100000] [--batch 10000] [--keep]
"""

import argparse
import csv
import http.client
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "foundation.json"
sys.path.insert(0, str(ROOT))

from bench.serving import free_port, proc_cpu_s, run_cli, stop_process, wait_http  # noqa: E402

TARGET_IMPORT_PER_S = 40_000
TARGET_LIST_MS = 20.0
TARGET_COUNTS_MS = 50.0

PROVINCES = ["110000", "130000", "320000", "330000", "370000", "410000", "440000", "510000", "420000", "430000"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕"
FLAGS = ["vip", "journalist", "lawyer", "official", "vulnerable", "organiser", "sales_agent", "repeat"]
TEMPERAMENTS = ["negotiator", "grumbler", "harasser", "rational"]
MOTIVES = ["solve_problem", "gain", "publicity"]
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


# --- data ------------------------------------------------------------------


def _cities():
    by_province = {}
    with open(ROOT / "console" / "data" / "cities.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_province.setdefault(row["province_code"], []).append(row["code"])
    return by_province


def _id_number(rng, province):
    birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(0, 60 * 365))
    body = province[:4] + f"{rng.randrange(1, 30):02d}" + birth.strftime("%Y%m%d") + f"{rng.randrange(0, 1000):03d}"
    check = ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]
    return body + check


def make_complainants(n, group_ids, seed=20261123):
    """n deterministic complainant dicts, as the API takes them."""
    rng = random.Random(seed)
    cities = _cities()
    base = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    items = []
    for i in range(n):
        province = PROVINCES[i % len(PROVINCES)]
        item = {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
            "phone": "1" + rng.choice("3456789") + f"{rng.randrange(0, 10**9):09d}",
            "id_number": _id_number(rng, province),
            "province_code": province,
            "group_id": group_ids[(i // len(PROVINCES)) % len(group_ids)],
            "principal": f"{rng.randrange(10_000, 5_000_000)}.{rng.randrange(0, 100):02d}",
        }
        if cities.get(province) and rng.random() < 0.7:
            item["city_code"] = rng.choice(cities[province])
        if rng.random() < 0.08:
            item["flags"] = rng.sample(FLAGS, rng.choice((1, 1, 2)))
        if rng.random() < 0.5:
            item["temperament"] = rng.choice(TEMPERAMENTS)
            item["motive"] = rng.choice(MOTIVES)
        if rng.random() < 0.3:
            item["interest_claimed"] = f"{rng.randrange(0, 200_000)}.00"
            item["demands"] = "全额退还本金及利息"
        if rng.random() < 0.4:
            item["next_contact_due_at"] = (base + timedelta(hours=rng.randrange(1, 240))).isoformat()
        items.append(item)
    return items


def bare_rows(items, incident_id):
    """The same complainants as complainant-table rows, for the bare baseline."""
    stamp = "2026-11-23T07:00:00+00:00"
    due = "2026-12-08T07:00:00+00:00"
    rows = []
    for i, item in enumerate(items, 1):
        rows.append(
            {
                "id": i,
                "incident_id": incident_id,
                "group_id": item["group_id"],
                "name": item["name"],
                "phone": item["phone"],
                "id_number": item["id_number"],
                "province_code": item["province_code"],
                "city_code": item.get("city_code"),
                "branch_code": None,
                "status": "new",
                "escalation_channel": None,
                "temperament": item.get("temperament"),
                "motive": item.get("motive"),
                "flags": json.dumps(item.get("flags", [])),
                "principal_fen": int(item["principal"].replace(".", "")),
                "interest_claimed_fen": int(item.get("interest_claimed", "0.00").replace(".", "")),
                "expenses_claimed_fen": 0,
                "demands": item.get("demands", ""),
                "handler_id": None,
                "received_at": stamp,
                "decision_due_at": due,
                "extension_level": 0,
                "next_contact_due_at": item.get("next_contact_due_at"),
                "first_contact_at": None,
                "settled_at": None,
                "created_at": stamp,
                "updated_at": stamp,
                "version": 1,
            }
        )
    return rows


# --- measuring -------------------------------------------------------------


def ms_stats(samples_s):
    ms = sorted(s * 1000 for s in samples_s)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return {"median_ms": round(statistics.median(ms), 3), "p95_ms": round(p95, 3), "min_ms": round(ms[0], 3), "max_ms": round(ms[-1], 3), "runs": len(ms)}


def timed(fn, runs, warmup=2):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


class Client:
    """A keep-alive JSON client with a bearer token."""

    def __init__(self, port, token):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method, path, body=None, expect=(200, 201)):
        headers = dict(self.headers)
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: reconnect once
                self.conn.close()
                if attempt == 2:
                    raise
        if resp.status not in expect:
            raise RuntimeError(f"{method} {path} -> {resp.status}: {data[:500]!r}")
        if resp.getheader("Connection", "").lower() == "close" or resp.version == 10:
            self.conn.close()
        return json.loads(data) if data else None

    def close(self):
        self.conn.close()


# --- the phases ------------------------------------------------------------


def api_phase(client, items, batch, max_bulk, server_pid):
    """Incident, groups, bulk import, list and counts over HTTP."""
    incident = client.request(
        "POST", "/api/v1/incidents", {"title": "Bench: wealth product default", "cause": "Product default", "product": "Bench WMP 2026", "severity": "severe"}
    )
    incident_id = incident["id"]
    group_ids = []
    for name in ("Beijing investors", "Hebei investors", "Elderly savers", "Online buyers"):
        group_ids.append(client.request("POST", f"/api/v1/incidents/{incident_id}/groups", {"name": name})["id"])
    # the items were generated with placeholder group ids 1..4; map to the real ones
    for item in items:
        item["group_id"] = group_ids[item["group_id"] - 1]
    size = min(batch, max_bulk)
    bodies = [json.dumps(items[i : i + size], ensure_ascii=False).encode() for i in range(0, len(items), size)]
    path = f"/api/v1/incidents/{incident_id}/complainants"

    per_call = []
    cpu0 = proc_cpu_s(server_pid)
    t0 = time.perf_counter()
    added = 0
    for body in bodies:
        c0 = time.perf_counter()
        added += client.request("POST", path, body, expect=(201,))["count"]
        per_call.append(time.perf_counter() - c0)
    elapsed = time.perf_counter() - t0
    cpu1 = proc_cpu_s(server_pid)
    server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    if added != len(items):
        raise RuntimeError(f"added {added} complainants, expected {len(items)}")
    imported = {
        "complainants": added,
        "calls": len(bodies),
        "batch": size,
        "body_mb_total": round(sum(len(b) for b in bodies) / 1e6, 2),
        "seconds": round(elapsed, 3),
        "per_s": round(added / elapsed),
        "per_call_ms": [round(s * 1000, 1) for s in per_call],
        # CPU the server process spent on the import: unlike wall time, hardly
        # affected by other work on the machine
        "server_cpu_seconds": None if server_cpu is None else round(server_cpu, 3),
        "per_server_cpu_s": None if not server_cpu else round(added / server_cpu),
    }

    filters = [(g, p) for g in group_ids for p in PROVINCES]
    random.Random(7).shuffle(filters)
    list_paths = [f"{path}?group_id={g}&province_code={p}&status=new&page=3&per_page=50" for g, p in filters]
    first = client.request("GET", list_paths[0])
    expected_total = first["total"]
    cursor = iter(list_paths * 5)
    list_http = timed(lambda: client.request("GET", next(cursor)), 50)

    counts_path = f"/api/v1/incidents/{incident_id}/counts"
    counts_body = client.request("GET", counts_path)
    counts_http = timed(lambda: client.request("GET", counts_path), 20)
    return {
        "incident_id": incident_id,
        "group_ids": group_ids,
        "import": imported,
        "list_sample": {"path": list_paths[0], "total": expected_total, "returned": len(first["complainants"])},
        "list_http": ms_stats(list_http),
        "counts_rows": len(counts_body["counts"]),
        "counts_total": sum(r["count"] for r in counts_body["counts"]),
        "counts_http": ms_stats(counts_http),
        "filters": filters,
    }


def in_process_phase(db_path, incident_id, filters, token):
    """The same list and counts without HTTP: domain functions, then Flask's test client."""
    from console import complainants, create_app, incidents
    from console.access import SYSTEM
    from console.clock import utcnow
    from console.db import connect
    from console.schemas import ComplainantQuery

    app = create_app({"DATABASE": str(db_path), "SECRET_KEY": "bench", "TESTING": True})
    db = connect(db_path)
    out = {}
    try:
        queries = [ComplainantQuery(group_id=g, province_code=p, status="new", page=3, per_page=50) for g, p in filters]
        cursor = iter(queries * 5)
        with app.app_context():
            out["list_domain"] = ms_stats(timed(lambda: complainants.list_complainants(db, incident_id, SYSTEM, next(cursor), utcnow()), 50))
            out["counts_domain"] = ms_stats(timed(lambda: incidents.counts(db, incident_id, SYSTEM), 20))

            # the SQL the domain runs, and SQLite's plan for it
            statements = []
            db.conn.set_trace_callback(statements.append)
            complainants.list_complainants(db, incident_id, SYSTEM, queries[0], utcnow())
            incidents.counts(db, incident_id, SYSTEM)
            db.conn.set_trace_callback(None)
            plans = {}
            for sql in statements:
                if sql.lstrip().upper().startswith("SELECT") and "complainant" in sql and "FROM incident" not in sql:
                    plans[sql] = [r[3] for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql)]
            out["query_plans"] = plans

        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        base = f"/api/v1/incidents/{incident_id}"
        paths = [f"{base}/complainants?group_id={g}&province_code={p}&status=new&page=3&per_page=50" for g, p in filters]
        cursor = iter(paths * 5)

        def get(path):
            resp = client.get(path, headers=headers)
            if resp.status_code != 200:
                raise RuntimeError(f"test client GET {path} -> {resp.status_code}: {resp.data[:300]!r}")

        out["list_flask"] = ms_stats(timed(lambda: get(next(cursor)), 50))
        out["counts_flask"] = ms_stats(timed(lambda: get(f"{base}/counts"), 20))
    finally:
        db.close()
    return out


def sqlite_floor(workdir, rows, batch):
    """The same rows straight into our own complainant table (same schema, indexes and
    connection settings as the app), by executemany in transactions of ``batch``: what
    SQLite alone costs, with no validation, audit or HTTP."""
    from console import complainants, migrations
    from console.db import connect

    db = connect(Path(workdir) / "floor.db")
    try:
        migrations.migrate(db)
        incident_id = rows[0]["incident_id"]
        db.execute(
            "INSERT INTO incident (id, title, cause, product, severity, status, opened_at, updated_at) VALUES (?, 'b', 'b', 'b', 'severe', 'active', 'x', 'x')",
            [incident_id],
        )
        for group_id in sorted({r["group_id"] for r in rows}):
            db.execute("INSERT INTO complainant_group (id, incident_id, name, created_at) VALUES (?, ?, ?, 'x')", [group_id, incident_id, f"g{group_id}"])
        db.conn.commit()
        names = [c.strip() for c in complainants.COLUMNS.split(",")]
        defaults = {"severity": "severe"}  # the bench incident's severity, which an import row without one takes
        tuples = [tuple(r.get(n, defaults.get(n)) for n in names) for r in rows]
        t0 = time.perf_counter()
        for i in range(0, len(tuples), batch):
            db.conn.execute("BEGIN IMMEDIATE")
            db.conn.executemany(complainants._INSERT, tuples[i : i + batch])
            db.conn.execute("COMMIT")
        elapsed = time.perf_counter() - t0
    finally:
        db.close()
    return {"rows": len(tuples), "batch": batch, "seconds": round(elapsed, 3), "per_s": round(len(tuples) / elapsed)}


def baseline_phase(workdir, rows, incident_id, batch):
    """Bare sqlite-utils insert_all of the same rows, and a bare GROUP BY with a covering index."""
    import sqlite_utils

    floor = sqlite_floor(workdir, [{**r, "incident_id": incident_id} for r in rows], batch)
    path = Path(workdir) / "bare.db"
    db = sqlite_utils.Database(path)
    t0 = time.perf_counter()
    db["t"].insert_all(rows)
    insert_s = time.perf_counter() - t0
    db.execute("CREATE INDEX t_counts ON t (incident_id, group_id, province_code, status)")
    sql = "SELECT group_id, province_code, status, count(*) FROM t WHERE incident_id = ? GROUP BY 1, 2, 3"
    plan = [r[3] for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql, [incident_id])]
    result = db.execute(sql, [incident_id]).fetchall()
    group_by = timed(lambda: db.execute(sql, [incident_id]).fetchall(), 20)
    db.close()
    return {
        "insert_all": {"rows": len(rows), "seconds": round(insert_s, 3), "per_s": round(len(rows) / insert_s)},
        "group_by": {**ms_stats(group_by), "sql": sql, "plan": plan, "result_rows": len(result)},
        "executemany_our_table": floor,
    }


# --- report ----------------------------------------------------------------


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(res):
    imp = res["api"]["import"]
    base = res["baseline"]
    inproc = res["in_process"]
    lh, ch = res["api"]["list_http"], res["api"]["counts_http"]
    targets = {
        "import": {"value": imp["per_s"], "unit": "complainants/s", "target": f">= {TARGET_IMPORT_PER_S:,}", "pass": imp["per_s"] >= TARGET_IMPORT_PER_S},
        "list": {"value": lh["median_ms"], "unit": "ms (HTTP median)", "target": f"< {TARGET_LIST_MS:g} ms", "pass": lh["median_ms"] < TARGET_LIST_MS},
        "counts": {"value": ch["median_ms"], "unit": "ms (HTTP median)", "target": f"< {TARGET_COUNTS_MS:g} ms", "pass": ch["median_ms"] < TARGET_COUNTS_MS},
    }
    ratios = {
        "import_vs_bare_insert_all": round(imp["per_s"] / base["insert_all"]["per_s"], 3),
        "import_vs_executemany_our_table": round(imp["per_s"] / base["executemany_our_table"]["per_s"], 3),
        "counts_http_vs_bare_group_by": round(ch["median_ms"] / base["group_by"]["median_ms"], 3),
        "counts_domain_vs_bare_group_by": round(inproc["counts_domain"]["median_ms"] / base["group_by"]["median_ms"], 3),
        "list_http_vs_target": round(lh["median_ms"] / TARGET_LIST_MS, 3),
        "list_domain_vs_target": round(inproc["list_domain"]["median_ms"] / TARGET_LIST_MS, 3),
    }
    res["targets"], res["ratios"] = targets, ratios

    w = 78
    print()
    print("=" * w)
    print(f"Foundation benchmark: {imp['complainants']:,} complainants, {imp['calls']} calls of {imp['batch']:,}")
    print(f"Python {res['env']['python']}, SQLite {res['env']['sqlite']}, {res['env']['cpus']} CPU(s), {res['env']['platform']}")
    load = res["env"]["loadavg_start"], res["env"]["loadavg_end"]
    print(
        f"Load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}"
        + ("  <- other work was running: figures are noisy, run again on a quiet machine" if max(load) > 1.0 else "")
    )
    print("=" * w)
    print("Import")
    print(f"  {'API bulk path (first POST to last reply)':<42}{imp['per_s']:>12,} /s  {imp['seconds']:>8.2f} s")
    if imp["per_server_cpu_s"]:
        print(f"  {'same, by server CPU time (noise-resistant)':<42}{imp['per_server_cpu_s']:>12,} /s  {imp['server_cpu_seconds']:>8.2f} s CPU")
    print(f"  {'bare sqlite-utils insert_all':<42}{base['insert_all']['per_s']:>12,} /s  {base['insert_all']['seconds']:>8.2f} s")
    print(f"  {'ratio ours / bare insert_all':<42}{ratios['import_vs_bare_insert_all']:>12.3f}")
    fl = base["executemany_our_table"]
    print(f"  {'executemany into our table (6 indexes)':<42}{fl['per_s']:>12,} /s  {fl['seconds']:>8.2f} s")
    print(f"  {'ratio ours / that (SQLite share of ours)':<42}{ratios['import_vs_executemany_our_table']:>12.3f}")
    print(f"  {'per call (ms)':<42}{', '.join(f'{x:.0f}' for x in imp['per_call_ms'])}")
    print()
    print(f"{'Latency (ms)':<44}{'median':>10}{'p95':>10}{'min':>8}{'runs':>6}")
    rows = [
        ("filtered list, HTTP round trip", lh),
        ("filtered list, Flask test client", inproc["list_flask"]),
        ("filtered list, domain (SQL + rows)", inproc["list_domain"]),
        ("counts, HTTP round trip", ch),
        ("counts, Flask test client", inproc["counts_flask"]),
        ("counts, domain (SQL)", inproc["counts_domain"]),
        ("bare GROUP BY, covering index", base["group_by"]),
    ]
    for label, s in rows:
        print(f"  {label:<42}{s['median_ms']:>10.2f}{s['p95_ms']:>10.2f}{s['min_ms']:>8.2f}{s['runs']:>6}")
    print(f"  {'ratio counts HTTP / bare GROUP BY':<42}{ratios['counts_http_vs_bare_group_by']:>10.2f}")
    print(f"  {'ratio counts domain / bare GROUP BY':<42}{ratios['counts_domain_vs_bare_group_by']:>10.2f}")
    print(
        f"  list sample: {res['api']['list_sample']['total']} match, page 3 returned {res['api']['list_sample']['returned']}; "
        f"counts: {res['api']['counts_rows']} rows totalling {res['api']['counts_total']:,}"
    )
    print("  (HTTP times include the loopback round trip, auth, validation and JSON; domain times are SQL plus row conversion.)")
    print()
    print(f"{'Targets':<44}{'ours':>14}{'target':>14}{'':>6}")
    for name, t in targets.items():
        value = f"{t['value']:,}" if isinstance(t["value"], int) else f"{t['value']:.2f} ms"
        print(f"  {name:<42}{value:>14}{t['target']:>14}  {verdict(t['pass'])}")
    print("=" * w)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="complainants to import (default 100,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="complainants per POST (at most MAX_BULK, 10,000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, server log)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    workdir = tempfile.mkdtemp(prefix="console-bench-")
    db_path = Path(workdir) / "bench.db"
    log_path = Path(workdir) / "server.log"
    env = {**os.environ, "CONSOLE_SECRET_KEY": "bench-" + os.urandom(8).hex(), "PYTHONUNBUFFERED": "1"}
    env.pop("CONSOLE_DB", None)
    proc = None
    log = None
    try:
        from console import settings

        max_bulk = int(env.get("CONSOLE_MAX_BULK", settings.DEFAULTS["MAX_BULK"]))
        print(f"Generating {args.rows:,} complainants ...", flush=True)
        items = make_complainants(args.rows, group_ids=[1, 2, 3, 4])

        run_cli(env, "--db", str(db_path), "user", "add", "bench", "--role", "lead", "--password", "benchpass1")
        token = run_cli(env, "--db", str(db_path), "token", "bench").splitlines()[-1].strip()
        port = free_port()
        log = open(log_path, "w")
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "--db", str(db_path), "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_http(proc, port, "/api/v1/incidents", {"Authorization": f"Bearer {token}"}, log_path)
        print(f"Server pid {proc.pid} on 127.0.0.1:{port}; importing ...", flush=True)

        client = Client(port, token)
        try:
            api = api_phase(client, items, args.batch, max_bulk, proc.pid)
        finally:
            client.close()
        print(f"Imported {api['import']['complainants']:,} in {api['import']['seconds']:.2f} s; timing in-process ...", flush=True)
        in_process = in_process_phase(db_path, api["incident_id"], api.pop("filters"), token)
        stop_process(proc)
        proc = None

        print("Baselines ...", flush=True)
        baseline = baseline_phase(workdir, bare_rows(items, api["incident_id"]), api["incident_id"], min(args.batch, max_bulk))

        res = {
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "env": {
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "loadavg_start": load_start,
                "loadavg_end": round(os.getloadavg()[0], 2),
            },
            "api": api,
            "in_process": in_process,
            "baseline": baseline,
            "wall_seconds": round(time.perf_counter() - started, 1),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        report(res)
        RESULTS.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"Results written to {RESULTS.relative_to(ROOT)}  (whole run {res['wall_seconds']:.1f} s)")
        return 0
    except Exception:
        if log_path.exists():
            print("--- server log (tail) ---", file=sys.stderr)
            print(log_path.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop_process(proc)
        if log:
            log.close()
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
