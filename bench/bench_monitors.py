"""Benchmarks for the monitors' issue:

1. one surge-monitor run over 1,000,000 intake complaints (target < 200 ms);
2. 200 concurrent posters x 50 hourly updates over HTTP to a real run.py, each
   post sent twice with the same Idempotency-Key: exactly 10,000 stored.

    python bench/bench_monitors.py [--complaints 1000000] [--posters 200] [--updates 50]
"""

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console import create_app  # noqa: E402
from console.audit import Actor  # noqa: E402
from console.clock import to_iso  # noqa: E402
from console.db import connect  # noqa: E402
from console.intake import add_complaints, detect_surges, run_surge_rule  # noqa: E402
from console.schemas import ComplaintIn  # noqa: E402
from tests.servers import ConsoleServer  # noqa: E402

PROVINCES = ["110000", "130000", "320000", "330000", "370000", "410000", "440000", "510000", "420000", "430000"]
CAUSES = [f"cause-{i:02d}" for i in range(40)]
SURGE = 300
PRODUCTS = [f"product-{i:02d}" for i in range(15)]


def bench_surge(n, workdir):
    path = Path(workdir) / "surge.db"
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "bench"})
    db = connect(path)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    rng = random.Random(7)
    t0 = time.perf_counter()

    def rows():
        # A year of complaints, about n/365 a day, long-tailed over causes, products and
        # provinces (a few common, most rare) ...
        cause_weights = [1 / (i + 1) for i in range(len(CAUSES))]
        product_weights = [1 / (i + 1) for i in range(len(PRODUCTS))]
        for i in range(n - SURGE):
            received = now - timedelta(seconds=rng.randrange(365 * 86400))
            yield _row(received, rng.choices(PRODUCTS, product_weights)[0], rng.choices(CAUSES, cause_weights)[0], rng.choice(PROVINCES))
        # ... and one surge: SURGE complaints of a rare cause in one province in the last six hours.
        for i in range(SURGE):
            yield _row(now - timedelta(seconds=rng.randrange(6 * 3600)), "product-03", "cause-37", "130000")

    def _row(received, product, cause, province):
        return {
            "source": "bench",
            "external_id": None,
            "channel": "hotline",
            "product": product,
            "cause_code": cause,
            "province_code": province,
            "city_code": None,
            "branch_code": None,
            "customer_name": "客户",
            "customer_phone": "13800000000",
            "customer_id_number": None,
            "text": "",
            "received_at": received,
            "severity": None,
        }

    # through the intake path, so the per-day counts are kept as in production
    batch = []
    for row in rows():
        batch.append(ComplaintIn.model_construct(**row))
        if len(batch) == 10000:
            add_complaints(db, batch, Actor(None, "bench", "bench"), now, app.config)
            batch = []
    if batch:
        add_complaints(db, batch, Actor(None, "bench", "bench"), now, app.config)
    load = time.perf_counter() - t0
    settings = dict(app.config)
    detect = []
    for _ in range(7):
        t = time.perf_counter()
        detect_surges(db, now, settings)
        detect.append((time.perf_counter() - t) * 1000)
    full = []
    actor = Actor(None, "bench", "bench")
    with app.app_context():
        t = time.perf_counter()
        first = run_surge_rule(db, now, settings, actor)  # opens the incident, makes SURGE complainants
        first_ms = (time.perf_counter() - t) * 1000
        for minute in range(1, 8):
            t = time.perf_counter()
            run_surge_rule(db, now + timedelta(minutes=minute), settings, actor)
            full.append((time.perf_counter() - t) * 1000)
    db.close()
    return {
        "complaints": n,
        "load_seconds": round(load, 1),
        "detect_ms_median": round(statistics.median(detect), 1),
        "first_run_ms": round(first_ms, 1),
        "first_run": first,
        "run_ms_median": round(statistics.median(full), 1),
        "run_ms_max": round(max(full), 1),
        "target_ms": 200,
    }


def bench_idempotency(posters, per_poster, workdir):
    path = Path(workdir) / "updates.db"
    create_app({"DATABASE": str(path), "SECRET_KEY": "bench"})  # creates the schema
    db = connect(path)
    from console import regions, users

    regions.add_branch(db, "BENCH-01", "压测网点", "130100")
    users.add_user(db, "bench", "team", "benchpass1", hash_method="pbkdf2:sha256:1000")
    token = users.issue_token(db, "bench")
    incident_id = (
        db["incident"]
        .insert(
            {
                "title": "bench",
                "cause": "bench",
                "product": "bench",
                "severity": "medium",
                "status": "active",
                "opened_at": to_iso(datetime.now(timezone.utc)),
                "updated_at": to_iso(datetime.now(timezone.utc)),
            }
        )
        .last_pk
    )
    db.close()
    server = ConsoleServer(path).start()
    errors = []
    replays = [0]
    lock = threading.Lock()

    def poster(index):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for j in range(per_poster):
            body = json.dumps({"branch_code": "BENCH-01", "people_on_site": j, "mood": "calm", "notes": f"poster {index} update {j}"})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": f"p{index}-u{j}"}
            for attempt in range(2):  # the retry a flaky network causes
                try:
                    conn.request("POST", f"/api/v1/incidents/{incident_id}/updates", body=body, headers=headers)
                    response = conn.getresponse()
                    payload = response.read()
                except OSError as exc:
                    with lock:
                        errors.append(("connection", repr(exc)))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                    continue
                if response.status != 201:
                    with lock:
                        errors.append((response.status, payload[:200]))
                elif json.loads(payload)["replayed"]:
                    with lock:
                        replays[0] += 1
        conn.close()

    threads = [threading.Thread(target=poster, args=(i,)) for i in range(posters)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    server.stop()
    db = connect(path)
    stored = db["hourly_update"].count
    distinct = db.execute("SELECT count(DISTINCT notes) FROM hourly_update").fetchone()[0]
    db.close()
    return {
        "posters": posters,
        "updates_each": per_poster,
        "requests": posters * per_poster * 2,
        "stored": stored,
        "distinct": distinct,
        "replayed": replays[0],
        "errors": len(errors),
        "first_errors": [str(e) for e in errors[:3]],
        "seconds": round(elapsed, 1),
        "requests_per_second": round(posters * per_poster * 2 / elapsed),
        "exactly_once": stored == distinct == posters * per_poster and not errors,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-surge", action="store_true")
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--posters", type=int, default=200)
    parser.add_argument("--updates", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        surge = bench_surge(args.complaints, workdir) if not args.skip_surge else None
        if surge:
            print(
                f"surge monitor over {surge['complaints']:,} complaints (loaded in {surge['load_seconds']} s): detect {surge['detect_ms_median']} ms; "
                f"first run (opens the incident, {surge['first_run']['attached']} complainants) {surge['first_run_ms']} ms; "
                f"steady run median {surge['run_ms_median']} ms (max {surge['run_ms_max']} ms); target < 200 ms: "
                f"{'PASS' if surge['run_ms_median'] < 200 else 'MISS'}",
                flush=True,
            )
        updates = bench_idempotency(args.posters, args.updates, workdir)
        print(
            f"hourly updates: {updates['posters']} posters x {updates['updates_each']}, each sent twice with one key: "
            f"{updates['stored']:,} stored, {updates['replayed']:,} replays answered, {updates['errors']} errors, "
            f"{updates['requests_per_second']} requests/s; exactly once: {'PASS' if updates['exactly_once'] else 'FAIL'}",
            flush=True,
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "monitors.json").write_text(json.dumps({"surge": surge, "idempotency": updates}, indent=2))


if __name__ == "__main__":
    main()
