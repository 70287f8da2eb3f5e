"""Benchmark: one daily roll-up over 100,000 complainants and 10,000 hourly
updates (target under 2 s).

    python bench/bench_rollup.py [--complainants 100000] [--updates 10000]
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console import create_app, regions  # noqa: E402
from console.clock import to_iso  # noqa: E402
from console.db import connect  # noqa: E402
from console.rollups import compute  # noqa: E402

PROVINCES = [("130000", "130100"), ("320000", "320100"), ("330000", "330100"), ("370000", "370100"), ("410000", "410100"), ("440000", "440100")]
STATUSES = ["new", "contacted", "negotiating", "offer_made", "accepted", "settled", "closed", "withdrawn", "unreachable", "escalated"]


def build(path, complainants, updates):
    app = create_app({"DATABASE": str(path), "SECRET_KEY": "bench"})
    db = connect(path)
    rng = random.Random(3)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    opened = now - timedelta(days=10)
    with db.atomic():
        branches = []
        for province, city in PROVINCES:
            for n in range(5):
                code = f"B{province[:2]}-{n}"
                regions.add_branch(db, code, f"网点{code}", city)
                branches.append((code, province))
        incident_id = (
            db["incident"]
            .insert(
                {
                    "title": "压测事件",
                    "cause": "bench",
                    "product": "bench",
                    "severity": "severe",
                    "status": "active",
                    "playbook": None,
                    "opened_at": to_iso(opened),
                    "activated_at": to_iso(opened),
                    "updated_at": to_iso(now),
                }
            )
            .last_pk
        )
        groups = [
            db["complainant_group"].insert({"incident_id": incident_id, "name": f"组{g}", "handling_line": "", "created_at": to_iso(opened)}).last_pk
            for g in range(6)
        ]
        rows = []
        for i in range(complainants):
            branch, province = rng.choice(branches)
            status = rng.choice(STATUSES)
            received = opened + timedelta(seconds=rng.randrange(10 * 86400))
            contacted = received + timedelta(hours=rng.random() * 48) if status != "new" else None
            settled = received + timedelta(days=rng.random() * 9) if status in ("settled", "closed") else None
            rows.append(
                {
                    "incident_id": incident_id,
                    "group_id": rng.choice(groups),
                    "name": "客户",
                    "phone": "13800000000",
                    "province_code": province,
                    "branch_code": branch,
                    "status": status,
                    "escalation_channel": rng.choice(["regulator", "media", "court", "petition"]) if status == "escalated" else None,
                    "flags": "[]",
                    "principal_fen": rng.randrange(1_000_000, 50_000_000),
                    "interest_claimed_fen": rng.randrange(0, 3_000_000),
                    "expenses_claimed_fen": 0,
                    "demands": "",
                    "received_at": to_iso(received),
                    "decision_due_at": to_iso(received + timedelta(days=15)),
                    "next_contact_due_at": to_iso(now + timedelta(hours=rng.randrange(-48, 48))),
                    "first_contact_at": to_iso(contacted),
                    "settled_at": to_iso(settled),
                    "created_at": to_iso(received),
                    "updated_at": to_iso(now),
                    "version": 1,
                }
            )
        db["complainant"].insert_all(rows, batch_size=5000)
        db["hourly_update"].insert_all(
            (
                {
                    "incident_id": incident_id,
                    "branch_code": b,
                    "province_code": p,
                    "user_id": None,
                    "posted_at": to_iso(opened + timedelta(seconds=rng.randrange(10 * 86400))),
                    "people_on_site": rng.randrange(0, 40),
                    "new_complainants": 0,
                    "settled_since": 0,
                    "mood": "calm",
                    "banners": 0,
                    "media_present": 0,
                    "police_present": 0,
                    "outlet_closed": 0,
                    "actions_taken": "",
                    "needs": "",
                    "notes": "",
                }
                for b, p in (rng.choice(branches) for _ in range(updates))
            ),
            batch_size=5000,
        )
    return app, db, incident_id, now


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--complainants", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        t0 = time.perf_counter()
        app, db, incident_id, now = build(Path(workdir) / "rollup.db", args.complainants, args.updates)
        load = time.perf_counter() - t0
        timings = []
        content = None
        with app.app_context():
            for _ in range(5):
                t = time.perf_counter()
                content = compute(db, incident_id, now - timedelta(days=1), now, now)
                json.dumps(content, ensure_ascii=False, sort_keys=True)
                timings.append((time.perf_counter() - t) * 1000)
        result = {
            "complainants": args.complainants,
            "updates": args.updates,
            "load_seconds": round(load, 1),
            "rollup_ms_median": round(statistics.median(timings), 1),
            "rollup_ms_max": round(max(timings), 1),
            "target_ms": 2000,
            "totals": content["totals"]["complainants"],
        }
    print(
        f"roll-up over {args.complainants:,} complainants and {args.updates:,} hourly updates: median {result['rollup_ms_median']} ms "
        f"(max {result['rollup_ms_max']} ms); target < 2000 ms: {'PASS' if result['rollup_ms_median'] < 2000 else 'MISS'}"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "rollup.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
