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
from pydantic import ValidationError

from . import alerts, audit, catalogue, org, regions
from .access import SYSTEM
from .caller import Caller
from .clock import from_iso, to_iso
from .complainants import check_received_at, create_complainants, place_problems
from .complaints import TRANSFER_BODIES, intake_channel
from .db import write
from .errors import Conflict, Invalid, NotFound, pydantic_details
from .figures import OPEN_INCIDENT_STATUSES, incident_status_sql
from .intake_amounts import amount_problems, amounts_in_fen, claimed_amounts
from .schemas import ComplainantIn

_KIND = {"cause_code": "cause", "product": "product"}  # catalogue kind of each surge dimension
DIMENSIONS = ("cause_code", "product")
PLACES = ("province_code", "branch_code")
FIELDS = (
    "source",
    "external_id",
    "channel",
    "product",
    "cause_code",
    "province_code",
    "city_code",
    "branch_code",
    "customer_name",
    "customer_phone",
    "customer_id_number",
    "text",
    "received_at",
)


def add_complaints(db, items, actor, now, settings):
    """Store validated schemas.ComplaintIn items, all or none; returns their ids.

    A complaint already received from the same source with the same
    external_id is refused (409), naming it, so a resend adds nothing.
    """
    refs = regions.lookup_tables(db)
    problems = []
    checked = set()  # places repeat in a batch: a good combination is checked once
    for index, item in enumerate(items):
        prefix = f"{index}." if len(items) > 1 else ""
        problems += amount_problems(item, prefix)
        place = (item.province_code, item.city_code, item.branch_code)
        if place not in checked:
            found = place_problems(refs, *place, prefix)
            problems += [{"field": f, "message": m} for f, m in found]
            if not found:
                checked.add(place)
        problems += check_received_at(item.received_at, now, settings, prefix + "received_at")
    closed = org.inactive_outlets(db)
    problems += [
        {"field": (f"{index}." if len(items) > 1 else "") + "branch_code", "message": f"outlet {item.branch_code} is closed (deactivated)"}
        for index, item in enumerate(items)
        if item.branch_code in closed
    ]
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
                        surges.append(
                            {
                                "dimension": dimension,
                                "value": value,
                                "place": place,
                                "code": code,
                                "count": count,
                                "baseline": round(baseline, 3),
                                "window_minutes": window_minutes,
                                "reason": "threshold" if by_count else "baseline",
                            }
                        )
    return surges


def _open_incident(db, dimension, value):
    column = "cause" if dimension == "cause_code" else "product"
    rows = list(
        db.query(
            f"SELECT * FROM incident WHERE {column} = ? AND intake_dimension = ? AND {incident_status_sql(OPEN_INCIDENT_STATUSES)} ORDER BY id LIMIT 1",
            [value, dimension],
        )
    )
    return dict(rows[0]) if rows else None


def _attach(db, incident, where, params, actor, now, settings, outbox):
    """Make complainants of the unattached complaints matching ``where``; returns how many."""
    good, items = _screen(db, where, params, actor, now, settings)
    if not items:
        return 0
    ids = create_complainants(db, incident["id"], items, Caller(SYSTEM, actor, now), settings, outbox, transfer_details=False)
    db.conn.executemany(
        "UPDATE intake_complaint SET incident_id = ?, complainant_id = ? WHERE id = ?",
        [(incident["id"], complainant_id, c["id"]) for complainant_id, c in zip(ids, good)],
    )
    return len(ids)


def _screen(db, where, params, actor, now, settings):
    """The unattached complaints matching ``where`` that can become complainants,
    with their ComplainantIn items; the others are quarantined on the way.

    A complaint that can no longer become a complainant (its branch was
    closed or moved, its number fails today's checks) is kept, marked with the
    reason and listed for the crisis lead, instead of failing the run for every
    other complaint.
    """
    complaints = [
        dict(r) for r in db.query(f"SELECT * FROM intake_complaint WHERE incident_id IS NULL AND quarantined_at IS NULL AND {where} ORDER BY id", params)
    ]
    tables = regions.lookup_tables(db) if complaints else None
    closed = org.inactive_outlets(db) if complaints else set()
    cause_severity = {}  # a complaint without a severity takes its cause's (the catalogue), else the incident's
    good, items = [], []
    for c in complaints:
        if c["severity"] is None and c["cause_code"] not in cause_severity:
            cause_severity[c["cause_code"]] = catalogue.default_severity(db, c["cause_code"])
        try:
            item = ComplainantIn(
                name=c["customer_name"][:100],
                phone=c["customer_phone"],
                id_number=c["customer_id_number"],
                province_code=c["province_code"],
                city_code=c["city_code"],
                branch_code=c["branch_code"],
                demands=c["text"][:5000],
                received_at=c["received_at"],
                severity=c["severity"] or cause_severity.get(c["cause_code"]),
                **claimed_amounts(c),
                channel=intake_channel(c["channel"]),
                reference=f"{c['source'] or 'intake'}:{c['external_id']}"[:100] if c["external_id"] else None,
                transfer_reference=c["external_id"][:100] if c["external_id"] and intake_channel(c["channel"]) in TRANSFER_BODIES else None,
            )
            problems = [f"{field} {message}" for field, message in place_problems(tables, item.province_code, item.city_code, item.branch_code)]
            if item.branch_code in closed:
                problems.append(f"branch_code {item.branch_code} is closed (deactivated)")
        except ValidationError as exc:
            problems = [f"{p['field']} {p['message']}" for p in pydantic_details(exc)]
        if problems:
            _quarantine(db, c, "; ".join(problems), actor, now, settings)
            continue
        good.append(c)
        items.append(item)
    return good, items


def _quarantine(db, complaint, reason, actor, now, settings):
    db.execute("UPDATE intake_complaint SET quarantined_at = ?, quarantine_reason = ? WHERE id = ?", [to_iso(now), reason[:1000], complaint["id"]])
    audit.record(db, actor, "intake_complaint", complaint["id"], "quarantine", after={"reason": reason[:1000]}, at=now)
    alerts.raise_alert(  # once a day per cause: the lead looks at the monitor health page
        db,
        key=f"quarantine:{complaint['cause_code']}:{to_iso(now)[:10]}",
        kind="intake_quarantined",
        level="warning",
        message=_(
            "Intake complaints about %(cause)s could not be attached to an incident and were set aside: see the monitor health page.",
            cause=catalogue.name_of(db, "cause", complaint["cause_code"]),
        ),
        now=now,
        audience={"lead", "team"},
        province_code=complaint["province_code"],
        data={"cause_code": complaint["cause_code"], "first_id": complaint["id"]},
        settings=settings,
    )


def quarantined(db, limit=500):
    """Intake complaints set aside for the crisis lead to fix, newest first."""
    return [
        dict(r)
        for r in db.query(
            "SELECT id, source, external_id, channel, product, cause_code, province_code, city_code, branch_code, received_at, "
            "quarantined_at, quarantine_reason FROM intake_complaint WHERE quarantined_at IS NOT NULL AND incident_id IS NULL "
            "ORDER BY quarantined_at DESC, id DESC LIMIT ?",
            [limit],
        )
    ]


def release(db, complaint_id, actor, now):
    """Put a quarantined complaint back in line (after its branch or city was fixed)."""
    with write(db):
        row = db.execute("SELECT quarantined_at FROM intake_complaint WHERE id = ?", [complaint_id]).fetchone()
        if row is None or row[0] is None:
            raise NotFound(_("No quarantined complaint %(id)s.", id=complaint_id))
        db.execute("UPDATE intake_complaint SET quarantined_at = NULL, quarantine_reason = NULL WHERE id = ?", [complaint_id])
        audit.record(db, actor, "intake_complaint", complaint_id, "release", at=now)


def run_surge_rule(db, now, settings, actor, outbox=None, each=None):
    """One run of the surge monitor: attach new complaints to open incidents of
    their cause, detect surges, open incidents for them, alert. Returns a summary.

    Each open incident and each surge is handled in its own transaction by
    ``each`` (monitors.base.each: one failure is logged and alerted, the
    others go on); without it, each in its own transaction, failures raised.
    """
    if each is None:

        def each(items, handle, subject):
            out = []
            for item in items:
                with write(db):
                    out.append(handle(item))
            return out, []

    summary = {"surges": 0, "opened": [], "attached": 0, "failed": []}

    # 1. complaints of a cause (or product) that already has an open incident join it
    def attach_to(incident):
        dimension = incident["intake_dimension"]
        value = incident["cause"] if dimension == "cause_code" else incident["product"]
        window = _rule(settings, value if dimension == "cause_code" else "*")["window_minutes"]
        since = to_iso(min(now, from_iso(incident["opened_at"])) - timedelta(minutes=window))
        return _attach(db, incident, f"{dimension} = ? AND received_at > ?", [value, since], actor, now, settings, outbox)

    incidents = [dict(r) for r in db.query(f"SELECT * FROM incident WHERE {incident_status_sql(OPEN_INCIDENT_STATUSES)} AND intake_dimension IS NOT NULL")]
    attached, failed = each(incidents, attach_to, lambda incident: f"incident:{incident['id']}")
    summary["attached"] += sum(attached)
    summary["failed"] += failed

    # 2. new surges, each in its own transaction
    def open_or_feed(surge):
        return _surge(db, surge, now, settings, actor, outbox)

    results, failed = each(detect_surges(db, now, settings), open_or_feed, lambda surge: f"{surge['dimension']}:{surge['value']}:{surge['code']}")
    for opened, count in results:
        summary["surges"] += 1
        summary["attached"] += count
        if opened is not None:
            summary["opened"].append(opened)
    summary["failed"] += failed
    return summary


def _surge(db, surge, now, settings, actor, outbox):
    """Open an incident for one surge, or feed the open one; returns (id opened or None, complainants attached)."""
    window_start = to_iso(now - timedelta(minutes=surge["window_minutes"]))
    incident = _open_incident(db, surge["dimension"], surge["value"])
    where = f"{surge['dimension']} = ? AND {surge['place']} = ? AND received_at > ?"
    params = [surge["value"], surge["code"], window_start]
    if incident is None and not _screen(db, where, params, actor, now, settings)[1]:
        return None, 0  # these complaints already belong to an incident (a surge of their cause, say), or went to quarantine
    place_name = org.place_name(db, surge["code"])
    value_name = catalogue.name_of(db, _KIND[surge["dimension"]], surge["value"])
    opened = None
    if incident is None:
        products = Counter(
            r["product"]
            for r in db.query(f"SELECT product FROM intake_complaint WHERE {surge['dimension']} = ? AND received_at > ?", [surge["value"], window_start])
        )
        causes = Counter(
            r["cause_code"]
            for r in db.query(f"SELECT cause_code FROM intake_complaint WHERE {surge['dimension']} = ? AND received_at > ?", [surge["value"], window_start])
        )
        row = {
            "title": _("Surge: %(value)s in %(place)s", value=value_name, place=place_name),
            "cause": surge["value"] if surge["dimension"] == "cause_code" else causes.most_common(1)[0][0],
            "product": surge["value"] if surge["dimension"] == "product" else products.most_common(1)[0][0],
            "severity": "medium",
            "status": "monitoring",
            "playbook": settings["DEFAULT_PLAYBOOK"],
            "opened_at": to_iso(now),
            "closed_at": None,
            "created_by": None,
            "updated_at": to_iso(now),
            "intake_dimension": surge["dimension"],
        }
        incident_id = db["incident"].insert(row).last_pk
        audit.record(db, actor, "incident", incident_id, "create", after={**row, "surge": surge}, at=now)
        incident = {**row, "id": incident_id}
        opened = incident_id
    count = _attach(db, incident, where, params, actor, now, settings, outbox)
    branch = db["branch"].get(surge["code"]) if surge["place"] == "branch_code" else None
    alerts.raise_alert(
        db,
        key=f"surge:{incident['id']}:{surge['dimension']}:{surge['value']}:{surge['place']}:{surge['code']}",
        kind="surge",
        level="critical",
        message=_(
            "Surge: %(n)s complaints about %(value)s in %(place)s within %(h)s h (baseline %(b)s). Incident %(id)s is waiting for a crisis lead to activate or dismiss it.",
            n=surge["count"],
            value=value_name,
            place=place_name,
            h=round(surge["window_minutes"] / 60, 1),
            b=surge["baseline"],
            id=incident["id"],
        ),
        now=now,
        audience={"lead", "team"},
        incident_id=incident["id"],
        province_code=branch["province_code"] if branch else surge["code"],
        branch_code=surge["code"] if branch else None,
        data={"surge": surge},
        outbox=outbox,
        settings=settings,
    )
    return opened, count
