"""Keeping the crowd rule and the tasks monitor busy during bench_soak.py
(issue "Monitors that never skip a minute").

While the posters and watchers run, two threads of the crisis lead work the
console over HTTP:

- the crosser: ``crossings`` small incidents, each with one outlet whose update
  says it has been closed for a little under OUTLET_CLOSED_HOURS_ONE hours. Its
  4 h line is crossed ``lead`` seconds after the post, with no new update, so
  only the crowd monitor can see it: the mass-incident alert must be raised by
  the first monitor run at or after the crossing, within one monitor period
  (60 s), every time.
- the settler: complainants of the main incident settled one after another
  (terms, offer, acceptance, sign-off), so the tasks monitor has a follow-up
  call to make for each.

The posters themselves send some updates with 3 to 8 people on site (group
visits), which the crowd rule answers as they are posted.

At the end ``judge`` reads the database: every monitor run finished (none
failed, none left in flight, no item failure), each crossing alerted in time,
each settlement's follow-up task made.
"""

import random
import threading
import time
from datetime import datetime, timezone

CLOSED_HOURS = 4  # OUTLET_CLOSED_HOURS_ONE's default
PERIOD_S = 60  # the crowd monitor's period
SLACK_S = 5  # a scheduler tick may start a little late
TERMS = {"principal_pct": 100, "interest_pct": 50, "pays_expenses": True, "text": "退还全部本金，利息按诉求的一半补偿。"}


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def crowded_update(rng):
    """What a poster sends now and then: a group at the counter (3 to 8 people), once in a while with a banner."""
    return {"people_on_site": rng.randrange(3, 9), "mood": "tense", "banners": rng.random() < 0.05}


class Busy:
    def __init__(self, request, port, lead, branches, incident_id, start_at, end_at, crossings, settlements):
        self.request, self.port, self.lead = request, port, lead
        self.branches, self.incident_id = branches, incident_id
        self.start_at, self.end_at = start_at, end_at
        self.crossings_wanted, self.settlements_wanted = crossings, settlements
        self.crossings = []  # {"incident_id", "posted_at", "crosses_at"}
        self.settled = []  # complainant ids
        self.errors = []
        self.threads = []

    # --- set up before the run: the crossing incidents and a group with terms ---

    def prepare(self):
        self.crossing_incidents = []
        for n in range(self.crossings_wanted):
            branch = self.branches[n % len(self.branches)]
            status, incident, _, _ = self.request(
                self.port,
                "POST",
                "/api/v1/incidents",
                self.lead,
                {"title": f"压测：网点停业 {n + 1}", "cause": f"soak-closure-{n}", "product": "分红险", "severity": "medium", "status": "active"},
            )
            if status != 201:
                raise RuntimeError(f"opening a crossing incident answered {status}: {incident}")
            status, made, _, _ = self.request(
                self.port,
                "POST",
                f"/api/v1/incidents/{incident['id']}/complainants",
                self.lead,
                [
                    {
                        "name": "周某",
                        "phone": f"139{n:08d}",
                        "province_code": branch["province_code"],
                        "city_code": branch["city_code"],
                        "branch_code": branch["code"],
                    }
                ],
            )
            if status != 201:
                raise RuntimeError(f"adding to a crossing incident answered {status}: {made}")
            self.crossing_incidents.append((incident["id"], branch["code"]))
        status, group, _, _ = self.request(
            self.port, "POST", f"/api/v1/incidents/{self.incident_id}/groups", self.lead, {"name": "压测和解组", "handling_line": "统一口径"}
        )
        if status != 201:
            raise RuntimeError(f"making the settlement group answered {status}: {group}")
        status, terms, _, _ = self.request(self.port, "PUT", f"/api/v1/groups/{group['id']}/terms", self.lead, TERMS)
        if status != 200:
            raise RuntimeError(f"setting the terms answered {status}: {terms}")
        self.group_id = group["id"]
        status, page, _, _ = self.request(self.port, "GET", f"/api/v1/incidents/{self.incident_id}/complainants?per_page={self.settlements_wanted}", self.lead)
        if status != 200:
            raise RuntimeError(f"listing complainants answered {status}: {page}")
        self.to_settle = [c["id"] for c in page["complainants"]]

    # --- during the run ---

    def start(self):
        for target in (self._cross, self._settle):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self, timeout):
        for thread in self.threads:
            thread.join(timeout)

    def _wait_until(self, t):
        delay = t - time.time()
        if delay > 0:
            time.sleep(delay)

    def _cross(self):
        rng = random.Random(11)
        # crossings spread over the run, each at least two monitor periods before its end
        span = max(1.0, self.end_at - self.start_at - 2 * PERIOD_S - 50)
        for n, (incident_id, branch) in enumerate(self.crossing_incidents):
            self._wait_until(self.start_at + span * n / max(1, len(self.crossing_incidents)))
            lead_s = rng.uniform(5, 50)
            crosses_at = time.time() + lead_s
            closed_since = crosses_at - CLOSED_HOURS * 3600
            # the server reads whole seconds: the line is crossed at the first whole second after
            closed_since = int(closed_since) + 1
            crosses_at = closed_since + CLOSED_HOURS * 3600
            status, answer, sent, _ = self.request(
                self.port,
                "POST",
                f"/api/v1/incidents/{incident_id}/updates",
                self.lead,
                {
                    "branch_code": branch,
                    "people_on_site": 0,
                    "mood": "calm",
                    "outlet_closed": True,
                    "closed_since": iso(closed_since),
                    "notes": "网点因聚集暂停营业",
                },
            )
            if status != 201:
                self.errors.append(f"crossing update for incident {incident_id} answered {status}: {answer}")
                continue
            self.crossings.append({"incident_id": incident_id, "posted_at": sent, "crosses_at": crosses_at})

    def _settle(self):
        gap = max(1.0, (self.end_at - self.start_at - 2 * PERIOD_S) / max(1, len(self.to_settle)))
        for n, complainant_id in enumerate(self.to_settle):
            self._wait_until(self.start_at + gap * n)
            steps = [("PATCH", f"/api/v1/complainants/{complainant_id}", {"group_id": self.group_id}, 200)]
            steps += [("PATCH", f"/api/v1/complainants/{complainant_id}", {"status": s}, 200) for s in ("contacted", "negotiating")]
            ok = True
            for method, path, body, expected in steps:
                status, answer, _, _ = self.request(self.port, method, path, self.lead, body)
                if status != expected:
                    self.errors.append(f"{method} {path} answered {status}: {answer}")
                    ok = False
                    break
            if not ok:
                continue
            status, offer, _, _ = self.request(self.port, "POST", f"/api/v1/complainants/{complainant_id}/offers", self.lead, {})
            if status != 201:
                self.errors.append(f"offer for {complainant_id} answered {status}: {offer}")
                continue
            status, settlement, _, _ = self.request(self.port, "POST", f"/api/v1/offers/{offer['id']}/accept", self.lead, None)
            if status != 201:
                self.errors.append(f"acceptance for {complainant_id} answered {status}: {settlement}")
                continue
            status, final, _, _ = self.request(self.port, "POST", f"/api/v1/settlements/{settlement['id']}/finalise", self.lead, None)
            if status != 200:
                self.errors.append(f"sign-off for {complainant_id} answered {status}: {final}")
                continue
            self.settled.append(complainant_id)

    # --- after the run ---

    def judge(self, db, started_iso):
        """What the database says about the monitors during the run."""
        runs = db.execute(
            "SELECT monitor, count(*), sum(finished_at IS NULL), sum(failed_at IS NOT NULL), sum(failures) FROM monitor_run "
            "WHERE started_at >= ? GROUP BY monitor",
            [started_iso],
        ).fetchall()
        by_monitor = {m: {"runs": n, "unfinished": u or 0, "failed": f or 0, "item_failures": i or 0} for m, n, u, f, i in runs}
        item_failures = db.execute("SELECT monitor, subject, error FROM monitor_failure").fetchall()
        latencies, missed = [], []
        for crossing in self.crossings:
            row = db.execute("SELECT raised_at FROM alert WHERE kind = 'mass_incident' AND incident_id = ?", [crossing["incident_id"]]).fetchone()
            if row is None:
                missed.append(crossing["incident_id"])
                continue
            raised = datetime.fromisoformat(row[0]).timestamp()
            latencies.append(round(raised - crossing["crosses_at"], 1))
        followups = (
            db.execute("SELECT count(*) FROM task WHERE incident_id = ? AND trigger = 'settlement'", [self.incident_id]).fetchone()[0] if self.settled else 0
        )
        group_visits = db.execute(
            "SELECT count(*) FROM alert WHERE kind IN ('group_visit', 'major_in_person') AND incident_id = ?", [self.incident_id]
        ).fetchone()[0]
        early = [x for x in latencies if x < 0]
        late = [x for x in latencies if x > PERIOD_S + SLACK_S]
        return {
            "monitor_runs": by_monitor,
            "failed_runs": sum(v["failed"] for v in by_monitor.values()),
            "unfinished_runs": sum(v["unfinished"] for v in by_monitor.values()),
            "item_failures": [list(r) for r in item_failures[:10]],
            "item_failure_count": len(item_failures),
            "crossings": len(self.crossings),
            "crossings_alerted": len(latencies),
            "crossings_missed": missed,
            "crossing_latency_s": {
                "min": min(latencies, default=None),
                "max": max(latencies, default=None),
                "median": sorted(latencies)[len(latencies) // 2] if latencies else None,
            },
            "crossings_early": len(early),
            "crossings_late": len(late),
            "settled": len(self.settled),
            "settlement_followup_tasks": followups,
            "group_visit_alerts": group_visits,
            "errors": self.errors[:10],
            "error_count": len(self.errors),
        }


def targets(judged):
    late = judged["crossings_late"] + judged["crossings_early"] + len(judged["crossings_missed"])
    return {
        "monitor runs failed / left in flight / item failures": {
            "value": f"{judged['failed_runs']}/{judged['unfinished_runs']}/{judged['item_failure_count']}",
            "target": "0/0/0",
            "pass": judged["failed_runs"] == 0 and judged["unfinished_runs"] == 0 and judged["item_failure_count"] == 0,
        },
        "crowd rule fires within one period of the crossing (s)": {
            "value": f"{judged['crossings_alerted']}/{judged['crossings']} in time, max {judged['crossing_latency_s']['max']}",
            "target": f"all, <= {PERIOD_S + SLACK_S}",
            "pass": judged["crossings"] > 0 and late == 0,
        },
        "settlement follow-ups made by the tasks monitor": {
            "value": f"{judged['settlement_followup_tasks']}/{judged['settled']}",
            "target": "all",
            "pass": judged["settled"] > 0 and judged["settlement_followup_tasks"] >= judged["settled"] and judged["error_count"] == 0,
        },
    }
