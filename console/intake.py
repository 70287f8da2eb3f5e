"""Ordinary complaints arriving from existing complaint systems, and the surge
rule that turns many of them into an incident.

The surge rule (per cause code; ``SURGE_RULES``, '*' for causes not listed),
evaluated for the cause and for the product, in each province and each branch:
  window   = complaints received in (now - window_minutes, now]
  baseline = complaints in the baseline_days whole (UTC) days before the window's
             day, per window length (read from the per-day counts)
  a surge when window >= threshold,
        or when window >= baseline_min and window >= baseline_factor x baseline.
A surge opens an incident in 'monitoring' with the complaints of the window as
its first complainants, or attaches them to the open incident with the same
cause (or product); it alerts the crisis team once per incident and place.
Complaints of that cause arriving later are attached on each run.
"""

from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _

from . import alerts, audit, catalogue, org, regions
from .access import SYSTEM
from .clock import from_iso, to_iso
from .complainants import create_complainants
from .db import write
from .errors import Conflict, Invalid
from .intake_amounts import amount_problems, amounts_in_fen, claimed_amounts
from .schemas import ComplainantIn

OPEN_INCIDENT = ("monitoring", "active")
_KIND = {"cause_code": "cause", "product": "product"}  # catalogue kind of each surge dimension
DIMENSIONS = ("cause_code", "product")
PLACES = ("province_code", "branch_code")
FIELDS = (
    "source", "external_id", "channel", "product", "cause_code", "province_code", "city_code", "branch_code",
    "customer_name", "customer_phone", "customer_id_number", "text", "received_at",
)


def add_complaints(db, items, actor, now):
    """Store validated schemas.ComplaintIn items, all or none; returns their ids.

    A complaint already received from the same source with the same
    external_id is refused (409), naming it, so a resend adds nothing.
    """
    refs = regions.lookup_tables(db)
    problems = []
    for index, item in enumerate(items):
        prefix = f"{index}." if len(items) > 1 else ""
        problems += amount_problems(item, prefix)
        if item.province_code not in refs["provinces"]:
            problems.append({"field": prefix + "province_code", "message": "is not a province code in GB/T 2260"})
        if item.city_code and refs["cities"].get(item.city_code) != item.province_code:
            problems.append({"field": prefix + "city_code", "message": f"is not a city of province {item.province_code}"})
        if item.branch_code and (item.branch_code not in refs["branches"] or refs["branches"][item.branch_code][1] != item.province_code):
            problems.append({"field": prefix + "branch_code", "message": f"is not a known branch of province {item.province_code}"})
    closed = org.inactive_outlets(db)
    problems += [{"field": (f"{index}." if len(items) > 1 else "") + "branch_code", "message": f"outlet {item.branch_code} is closed (deactivated)"}
                 for index, item in enumerate(items) if item.branch_code in closed]
    keys = [(i.source, i.external_id) for i in items if i.external_id]
    if len(set(keys)) != len(keys):
        problems.append({"field": "external_id", "message": "the same (source, external_id) appears twice in this request"})
    if problems:
        raise Invalid(_("Nothing was added: %(n)s problem(s) found.", n=len(problems)), details=problems)
    stamp = to_iso(now)
    rows = []
    for item in items:
        row = item.model_dump()
        row.update(amounts_in_fen(row))
        row["received_at"] = to_iso(item.received_at or now)
        row["created_at"] = stamp
        rows.append(row)
    with write(db):
        for source, external_id in keys:
            if db["intake_complaint"].count_where("source = ? AND external_id = ?", [source, external_id]):
                raise Conflict(_("Complaint %(id)s from %(source)s was already received; nothing was added.", id=external_id, source=source or "-"))
        start = db.execute("SELECT coalesce(max(id), 0) + 1 FROM intake_complaint").fetchone()[0]
        for offset, row in enumerate(rows):
            row["id"] = start + offset
        db["intake_complaint"].insert_all(rows, batch_size=1000)
        _count_daily(db, rows)
        audit.record(db, actor, "intake_complaint", start, "bulk_create", after={"ids": [start, start + len(rows) - 1], "count": len(rows)}, at=now)
    return [r["id"] for r in rows]


def _count_daily(db, rows):
    """Add new complaints to the per-day counts the baseline reads."""
    counts = Counter()
    for row in rows:
        day = row["received_at"][:10]
        for dimension in DIMENSIONS:
            for place in PLACES:
                if row[place]:
                    counts[(day, dimension, row[dimension], place, row[place])] += 1
    db.conn.executemany(
        "INSERT INTO intake_daily (day, dimension, value, place, code, count) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (day, dimension, value, place, code) DO UPDATE SET count = count + excluded.count",
        [(*key, n) for key, n in counts.items()],
    )


def _rule(settings, cause):
    rules = settings["SURGE_RULES"]
    return {**rules["*"], **rules.get(cause, {})}


def detect_surges(db, now, settings):
    """Every (dimension, value, place kind, place) surging now, with its window and baseline counts."""
    rules = {cause: _rule(settings, cause) for cause in settings["SURGE_RULES"]}
    windows = sorted({r["window_minutes"] for r in rules.values()})
    surges = []
    for window_minutes in windows:
        start = now - timedelta(minutes=window_minutes)
        for dimension in DIMENSIONS:
            for place in PLACES:
                window_counts = {
                    (r[0], r[1]): r[2]
                    for r in db.execute(
                        f"SELECT {dimension}, {place}, count(*) FROM intake_complaint INDEXED BY intake_{'cause' if dimension == 'cause_code' else 'product'}_window "
                        f"WHERE received_at > ? AND received_at <= ? AND {place} IS NOT NULL GROUP BY {dimension}, {place}",
                        [to_iso(start), to_iso(now)],
                    ).fetchall()
                }
                if not window_counts:
                    continue
                baselines = {}  # baseline_days -> {(value, code): count}

                def baseline_counts(days):
                    if days not in baselines:
                        baselines[days] = {
                            (r[0], r[1]): r[2]
                            for r in db.execute(
                                "SELECT value, code, sum(count) FROM intake_daily WHERE day >= ? AND day < ? AND dimension = ? AND place = ? GROUP BY value, code",
                                [(start - timedelta(days=days)).date().isoformat(), start.date().isoformat(), dimension, place],
                            ).fetchall()
                        }
                    return baselines[days]

                for (value, code), count in window_counts.items():
                    rule = _rule(settings, value if dimension == "cause_code" else "*")
                    if rule["window_minutes"] != window_minutes:
                        continue
                    windows_in_baseline = rule["baseline_days"] * 1440 / window_minutes
                    baseline = baseline_counts(rule["baseline_days"]).get((value, code), 0) / windows_in_baseline
                    by_count = count >= rule["threshold"]
                    by_baseline = count >= rule["baseline_min"] and count >= rule["baseline_factor"] * max(baseline, 1 / windows_in_baseline)
                    if by_count or by_baseline:
                        surges.append({
                            "dimension": dimension, "value": value, "place": place, "code": code, "count": count,
                            "baseline": round(baseline, 3), "window_minutes": window_minutes,
                            "reason": "threshold" if by_count else "baseline",
                        })
    return surges


def _open_incident(db, dimension, value):
    column = "cause" if dimension == "cause_code" else "product"
    rows = list(db.query(
        f"SELECT * FROM incident WHERE {column} = ? AND intake_dimension = ? AND status IN ('monitoring', 'active') ORDER BY id LIMIT 1",
        [value, dimension],
    ))
    return dict(rows[0]) if rows else None


def _attach(db, incident, where, params, actor, now, settings, outbox):
    """Make complainants of the unattached complaints matching ``where``; returns how many."""
    complaints = [dict(r) for r in db.query(f"SELECT * FROM intake_complaint WHERE incident_id IS NULL AND {where} ORDER BY id", params)]
    if not complaints:
        return 0
    items = [
        ComplainantIn(
            name=c["customer_name"][:100], phone=c["customer_phone"], id_number=c["customer_id_number"],
            province_code=c["province_code"], city_code=c["city_code"], branch_code=c["branch_code"],
            demands=c["text"][:5000], received_at=c["received_at"], **claimed_amounts(c),
        )
        for c in complaints
    ]
    ids = create_complainants(db, incident["id"], items, SYSTEM, actor, now, settings, outbox)
    db.conn.executemany(
        "UPDATE intake_complaint SET incident_id = ?, complainant_id = ? WHERE id = ?",
        [(incident["id"], complainant_id, c["id"]) for complainant_id, c in zip(ids, complaints)],
    )
    return len(ids)


def run_surge_rule(db, now, settings, actor, outbox=None):
    """One run of the surge monitor: attach new complaints to open incidents of
    their cause, detect surges, open incidents for them, alert. Returns a summary."""
    summary = {"surges": 0, "opened": [], "attached": 0}
    with write(db):
        # 1. complaints of a cause (or product) that already has an open incident join it
        for incident in [dict(r) for r in db.query("SELECT * FROM incident WHERE status IN ('monitoring', 'active')")]:
            dimension = incident["intake_dimension"]
            value = incident["cause"] if dimension == "cause_code" else incident["product"]
            window = _rule(settings, value if dimension == "cause_code" else "*")["window_minutes"]
            since = to_iso(min(now, from_iso(incident["opened_at"])) - timedelta(minutes=window))
            summary["attached"] += _attach(db, incident, f"{dimension} = ? AND received_at > ?", [value, since], actor, now, settings, outbox)
        # 2. new surges
        for surge in detect_surges(db, now, settings):
            summary["surges"] += 1
            window_start = to_iso(now - timedelta(minutes=surge["window_minutes"]))
            incident = _open_incident(db, surge["dimension"], surge["value"])
            unattached = db.execute(
                f"SELECT count(*) FROM intake_complaint WHERE {surge['dimension']} = ? AND incident_id IS NULL AND {surge['place']} = ? AND received_at > ?",
                [surge["value"], surge["code"], window_start],
            ).fetchone()[0]
            if incident is None and unattached == 0:
                continue  # these complaints already belong to an incident (a surge of their cause, say)
            place_name = org.place_name(db, surge["code"])
            if incident is None:
                products = Counter(r["product"] for r in db.query(
                    f"SELECT product FROM intake_complaint WHERE {surge['dimension']} = ? AND received_at > ?",
                    [surge["value"], to_iso(now - timedelta(minutes=surge["window_minutes"]))]))
                causes = Counter(r["cause_code"] for r in db.query(
                    f"SELECT cause_code FROM intake_complaint WHERE {surge['dimension']} = ? AND received_at > ?",
                    [surge["value"], to_iso(now - timedelta(minutes=surge["window_minutes"]))]))
                row = {
                    "title": _("Surge: %(value)s in %(place)s", value=catalogue.name_of(db, _KIND[surge["dimension"]], surge["value"]), place=place_name),
                    "cause": surge["value"] if surge["dimension"] == "cause_code" else causes.most_common(1)[0][0],
                    "product": surge["value"] if surge["dimension"] == "product" else products.most_common(1)[0][0],
                    "severity": "medium", "status": "monitoring", "playbook": settings["DEFAULT_PLAYBOOK"],
                    "opened_at": to_iso(now), "closed_at": None, "created_by": None, "updated_at": to_iso(now),
                    "intake_dimension": surge["dimension"],
                }
                incident_id = db["incident"].insert(row).last_pk
                audit.record(db, actor, "incident", incident_id, "create", after={**row, "surge": surge}, at=now)
                incident = {**row, "id": incident_id}
                summary["opened"].append(incident_id)
            summary["attached"] += _attach(
                db, incident, f"{surge['dimension']} = ? AND {surge['place']} = ? AND received_at > ?",
                [surge["value"], surge["code"], window_start], actor, now, settings, outbox)
            alerts.raise_alert(
                db, key=f"surge:{incident['id']}:{surge['dimension']}:{surge['value']}:{surge['place']}:{surge['code']}",
                kind="surge", level="critical",
                message=_("Surge: %(n)s complaints about %(value)s in %(place)s within %(h)s h (baseline %(b)s). Incident %(id)s is waiting for a crisis lead to activate or dismiss it.",
                          n=surge["count"], value=catalogue.name_of(db, _KIND[surge["dimension"]], surge["value"]), place=place_name, h=round(surge["window_minutes"] / 60, 1), b=surge["baseline"], id=incident["id"]),
                now=now, audience={"lead", "team"}, incident_id=incident["id"],
                province_code=db["branch"].get(surge["code"])["province_code"] if surge["place"] == "branch_code" else surge["code"],
                branch_code=surge["code"] if surge["place"] == "branch_code" else None,
                data={"surge": surge}, outbox=outbox, settings=settings)
    return summary
