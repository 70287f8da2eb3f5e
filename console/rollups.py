"""Daily status roll-ups (after ICS-209): made on schedule, kept, comparable.

Each roll-up covers one operational period, cut-off to cut-off (ROLLUP_TIME
local, default 18:00), and holds the numbers as they were when it was made:
they are never recomputed (the database refuses). Drafted (by the monitor at
the cut-off, or by the crisis lead on demand), approved by the lead, then
issued; only issued roll-ups are final. A correction is a new roll-up that
points at the one it corrects.
"""

import json
import statistics
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import audit, disclosure, figures, masking, vocabulary
from .clock import from_iso, to_iso
from .db import read_snapshot, write
from .errors import Conflict, Invalid, NotFound
from .incidents import get_incident

SNAPSHOT_VERSION = 1


def cutoffs(incident, now, settings):
    """Every cut-off from the incident's activation to ``now`` (UTC datetimes, oldest first)."""
    start = from_iso(incident.get("activated_at") or incident["opened_at"])
    zone = ZoneInfo(settings["TIMEZONE"])
    hour, minute = (int(x) for x in settings["ROLLUP_TIME"].split(":"))
    day = start.astimezone(zone).date()
    found = []
    while True:
        cut = datetime.combine(day, time(hour, minute), zone)
        if cut > now:
            return found
        if cut > start:
            found.append(cut.astimezone(start.tzinfo))
        day += timedelta(days=1)


def next_cutoff(after, settings):
    zone = ZoneInfo(settings["TIMEZONE"])
    hour, minute = (int(x) for x in settings["ROLLUP_TIME"].split(":"))
    local = after.astimezone(zone)
    cut = datetime.combine(local.date(), time(hour, minute), zone)
    if cut <= local:
        cut += timedelta(days=1)
    return cut.astimezone(after.tzinfo)


def _groupby(db, sql, params):
    return [dict(r) for r in db.query(sql, params)]


def _median(values):
    return round(statistics.median(values), 2) if values else None


def _medians(db, incident_id, column):
    """Median hours from receipt to ``column`` by group and by province (differences taken in SQL)."""
    rows = db.execute(
        f"SELECT group_id, province_code, (julianday({column}) - julianday(received_at)) * 24 FROM complainant WHERE incident_id = ? AND {column} IS NOT NULL",
        [incident_id],
    ).fetchall()
    by_group, by_region = {}, {}
    for group_id, province_code, hours in rows:
        by_group.setdefault(group_id, []).append(hours)
        by_region.setdefault(province_code, []).append(hours)
    return {
        "overall": _median([r[2] for r in rows]),
        "by_group": [{"group_id": k, "hours": _median(v), "n": len(v)} for k, v in sorted(by_group.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))],
        "by_region": [{"province_code": k, "hours": _median(v), "n": len(v)} for k, v in sorted(by_region.items())],
    }


def compute(db, incident_id, period_start, period_end, now, previous=None, outlook=None):
    """The roll-up's numbers, read in one read transaction. ``previous``: the
    previous roll-up's content, for the changes since then."""
    s, e, n = to_iso(period_start), to_iso(period_end), to_iso(now)
    with read_snapshot(db):
        incident = get_incident(db, incident_id)
        by_group = _groupby(
            db,
            "SELECT g.id AS group_id, g.name, count(c.id) AS count FROM complainant_group g LEFT JOIN complainant c ON c.group_id = g.id WHERE g.incident_id = ? GROUP BY g.id ORDER BY g.id",
            [incident_id],
        )
        ungrouped = db.execute("SELECT count(*) FROM complainant WHERE incident_id = ? AND group_id IS NULL", [incident_id]).fetchone()[0]
        if ungrouped:
            by_group.append({"group_id": None, "name": None, "count": ungrouped})
        by_region = _groupby(
            db,
            "SELECT c.province_code, p.name_zh AS name, count(*) AS count FROM complainant c JOIN province p ON p.code = c.province_code WHERE c.incident_id = ? GROUP BY c.province_code ORDER BY c.province_code",
            [incident_id],
        )
        by_status = {
            r["status"]: r["count"] for r in db.query("SELECT status, count(*) AS count FROM complainant WHERE incident_id = ? GROUP BY status", [incident_id])
        }
        total = sum(by_status.values())
        new_in_period = figures.new_in_period(db, incident_id, period_start, period_end)
        settled_in_period = figures.settled_in_period(db, incident_id, period_start, period_end)
        settled_to_date = figures.settled_to_date(db, incident_id)
        escalations = {
            r["escalation_channel"]: r["count"]
            for r in db.query(
                "SELECT escalation_channel, count(*) AS count FROM complainant WHERE incident_id = ? AND status = 'escalated' GROUP BY escalation_channel",
                [incident_id],
            )
        }
        amounts = dict(
            zip(
                ("principal_fen", "interest_claimed_fen", "expenses_claimed_fen"),
                db.execute(
                    "SELECT coalesce(sum(principal_fen), 0), coalesce(sum(interest_claimed_fen), 0), coalesce(sum(expenses_claimed_fen), 0) "
                    "FROM complainant WHERE incident_id = ?",
                    [incident_id],
                ).fetchone(),
            )
        )
        settlements = {
            "open_offers": db.execute(
                "SELECT count(DISTINCT complainant_id) FROM settlement_offer WHERE incident_id = ? AND status = 'open'", [incident_id]
            ).fetchone()[0],
            **{
                f"{status}": n
                for status, n in db.execute(
                    "SELECT status, count(*) FROM settlement WHERE incident_id = ? AND status != 'withdrawn' GROUP BY status", [incident_id]
                ).fetchall()
            },
        }
        peaks = _groupby(
            db,
            "SELECT u.branch_code, b.name, max(u.people_on_site) AS peak_on_site, count(*) AS updates FROM hourly_update u JOIN branch b ON b.code = u.branch_code "
            "WHERE u.incident_id = ? AND u.posted_at > ? AND u.posted_at <= ? GROUP BY u.branch_code ORDER BY peak_on_site DESC, u.branch_code",
            [incident_id, s, e],
        )
        missed = _groupby(
            db,
            "SELECT a.branch_code, b.name, count(*) AS alerts FROM alert a JOIN branch b ON b.code = a.branch_code "
            "WHERE a.incident_id = ? AND a.kind = 'missed_update' AND a.raised_at > ? AND a.raised_at <= ? GROUP BY a.branch_code ORDER BY a.branch_code",
            [incident_id, s, e],
        )
        tasks = _groupby(
            db,
            "SELECT stream, sum(status = 'done' AND completed_at > ? AND completed_at <= ?) AS done_in_period, "
            "sum(status = 'open' AND due_at > ? AND due_at <= ?) AS due_open, sum(status = 'open' AND due_at <= ?) AS overdue "
            "FROM task WHERE incident_id = ? GROUP BY stream ORDER BY stream",
            [s, e, e, to_iso(period_end + timedelta(hours=24)), e, incident_id],
        )
        media = _groupby(db, "SELECT kind, outlet, summary, at FROM media_item WHERE incident_id = ? AND at > ? AND at <= ? ORDER BY at", [incident_id, s, e])
        soon = to_iso(period_end + timedelta(hours=24))
        is_open, open_args = figures.open_complainant_sql()
        deadlines = {
            "decisions": db.execute(
                f"SELECT count(*) FROM complainant WHERE incident_id = ? AND {is_open} AND decision_due_at > ? AND decision_due_at <= ?",
                [incident_id, *open_args, e, soon],
            ).fetchone()[0],
            "promised_contacts": db.execute(
                f"SELECT count(*) FROM complainant WHERE incident_id = ? AND {is_open} AND next_contact_due_at > ? AND next_contact_due_at <= ?",
                [incident_id, *open_args, e, soon],
            ).fetchone()[0],
            "tasks": db.execute(
                "SELECT count(*) FROM task WHERE incident_id = ? AND status = 'open' AND due_at > ? AND due_at <= ?", [incident_id, e, soon]
            ).fetchone()[0],
            "referral_acknowledgements": db.execute(
                "SELECT count(*) FROM referral WHERE incident_id = ? AND acknowledged_at IS NULL AND ack_due_at > ? AND ack_due_at <= ?", [incident_id, e, soon]
            ).fetchone()[0],
        }
        first_contact = _medians(db, incident_id, "first_contact_at")
        settlement = _medians(db, incident_id, "settled_at")
    content = {
        "version": SNAPSHOT_VERSION,
        "incident": {k: incident[k] for k in ("id", "title", "cause", "product", "severity", "status", "opened_at", "activated_at", "mass_incident_at")},
        "as_of": n,
        "totals": {"complainants": total, "by_group": by_group, "by_region": by_region, "by_status": by_status},
        "new_in_period": new_in_period,
        "settled": {"in_period": settled_in_period, "to_date": settled_to_date},
        "escalations": {ch: escalations.get(ch, 0) for ch in vocabulary.ESCALATION_CHANNELS},
        "amounts": {
            "claimed_fen": amounts["principal_fen"] + amounts["interest_claimed_fen"] + amounts["expenses_claimed_fen"],
            "principal_fen": amounts["principal_fen"],
            "interest_claimed_fen": amounts["interest_claimed_fen"],
            "expenses_claimed_fen": amounts["expenses_claimed_fen"],
        },
        # counts only: settlement amounts and terms are for the crisis lead and legal (settlements register)
        "settlements": {"open_offers": settlements["open_offers"], "accepted": settlements.get("accepted", 0), "final": settlements.get("final", 0)},
        "branches": {"peak_on_site": peaks, "missed_updates": missed},
        "tasks_by_stream": tasks,
        "media_items": media,
        "deadlines_next_24h": deadlines,
        "median_hours": {"to_first_contact": first_contact, "to_settlement": settlement},
    }
    content["changes"] = _changes(previous, content) if previous else None
    content["forecast"] = outlook if outlook is not None else forecast_summary(db, incident_id, now)
    return content


def forecast_summary(db, incident_id, now):
    """The early warning as a roll-up keeps it: counts and demand shares only
    (the exposure is an amount: on the board and in the early-warning plan)."""
    from . import forecast

    outlook = forecast.incident_forecast(db, incident_id, now)
    return {"method": outlook["method"], "last_24h": outlook["last_24h"], "horizons": outlook["horizons"], "demands": outlook["demands"]}


def _changes(previous, current):
    """Differences with the previous roll-up's totals, by group, region and status."""

    def index(rows, key):
        return {str(r[key]): r["count"] for r in rows}

    before, now = previous["totals"], current["totals"]
    groups_before, groups_now = index(before["by_group"], "group_id"), index(now["by_group"], "group_id")
    regions_before, regions_now = index(before["by_region"], "province_code"), index(now["by_region"], "province_code")
    return {
        "complainants": now["complainants"] - before["complainants"],
        "by_group": {k: groups_now.get(k, 0) - groups_before.get(k, 0) for k in sorted(set(groups_before) | set(groups_now))},
        "by_region": {k: regions_now.get(k, 0) - regions_before.get(k, 0) for k in sorted(set(regions_before) | set(regions_now))},
        "by_status": {k: now["by_status"].get(k, 0) - before["by_status"].get(k, 0) for k in sorted(set(before["by_status"]) | set(now["by_status"]))},
    }


def _previous(db, incident_id):
    rows = list(db.query("SELECT * FROM rollup WHERE incident_id = ? ORDER BY number DESC LIMIT 1", [incident_id]))
    return dict(rows[0]) if rows else None


def make(db, incident_id, period_end, now, settings, prepared_by, actor, corrects_id=None, outbox=None):
    """Make a draft roll-up for the period ending at ``period_end``; returns its id.

    A scheduled one (``prepared_by == "monitor"``) is made once per cut-off:
    if it exists already, nothing is made and None is returned. Everything is
    read and written in one write transaction, so two runs racing for the
    same cut-off cannot both make one.
    """
    # the forecast is fitted before the write lock is taken (it may take a second at 100,000 complainants)
    outlook = forecast_summary(db, incident_id, now)
    with write(db):
        scheduled = prepared_by == "monitor" and corrects_id is None
        if scheduled and db["rollup"].count_where("incident_id = ? AND period_end = ? AND corrects_id IS NULL", [incident_id, to_iso(period_end)]):
            return None
        incident = get_incident(db, incident_id)
        previous = _previous(db, incident_id)
        if corrects_id is not None:
            corrected = get(db, corrects_id)
            period_start, period_end = from_iso(corrected["period_start"]), from_iso(corrected["period_end"])
        else:
            period_start = from_iso(previous["period_end"]) if previous else from_iso(incident.get("activated_at") or incident["opened_at"])
            if period_end <= period_start:
                if scheduled:
                    return None
                period_end = now  # on demand, right after a scheduled one
            if db["rollup"].count_where("incident_id = ? AND period_end = ? AND corrects_id IS NULL", [incident_id, to_iso(period_end)]):
                # a second request within the same second (a double click): that roll-up exists already
                raise Conflict(_("A roll-up of this incident up to this moment exists already; open it from the list."))
        content = compute(db, incident_id, period_start, period_end, now, json.loads(previous["content"]) if previous else None, outlook)
        report_type = "final" if incident["status"] in figures.ENDED_INCIDENT_STATUSES else ("initial" if previous is None else "update")
        late = scheduled and (now - period_end) > timedelta(minutes=settings["ROLLUP_LATE_MINUTES"])
        number = db.execute("SELECT coalesce(max(number), 0) + 1 FROM rollup WHERE incident_id = ?", [incident_id]).fetchone()[0]
        row = {
            "incident_id": incident_id,
            "number": number,
            "report_type": report_type,
            "period_start": to_iso(period_start),
            "period_end": to_iso(period_end),
            "generated_at": to_iso(now),
            "late": int(late),
            "status": "draft",
            "prepared_by": prepared_by,
            "corrects_id": corrects_id,
            "next_rollup_at": to_iso(next_cutoff(max(now, period_end), settings)),
            "content": json.dumps(content, ensure_ascii=False, sort_keys=True),
        }
        rollup_id = db["rollup"].insert(row).last_pk
        audit.record(db, actor, "rollup", rollup_id, "create", after={k: v for k, v in row.items() if k != "content"}, at=now)
        if outbox is not None:
            outbox.record_everywhere(incident_id, "rollup_updated", now, {"rollup": public(dict(row, id=rollup_id), with_content=False)})
    return rollup_id


def due_scheduled(db, incident, now, settings):
    """The last passed cut-off of an active incident, if it has no roll-up yet.

    After a long outage only the latest missed cut-off gets one (marked late):
    the numbers of the days in between cannot be seen any more, so its period
    runs from the previous roll-up's cut-off and says so.
    """
    passed = cutoffs(incident, now, settings)
    if not passed:
        return []
    latest = passed[-1]
    last_made = db.execute("SELECT max(period_end) FROM rollup WHERE incident_id = ? AND corrects_id IS NULL", [incident["id"]]).fetchone()[0]
    if last_made is not None and last_made >= to_iso(latest):
        return []
    return [latest]


def get(db, rollup_id):
    rows = list(db.query("SELECT * FROM rollup WHERE id = ?", [rollup_id]))
    if not rows:
        raise NotFound(_("No roll-up %(id)s.", id=rollup_id))
    return dict(rows[0])


def public(row, with_content=True):
    out = {k: v for k, v in row.items() if k != "content"}
    if with_content:
        out["content"] = json.loads(row["content"])
    return out


def for_viewer(row, viewer, settings):
    """A roll-up row as ``viewer`` may read it (console/disclosure.py):

    - executives: the claimed amounts only when the incident's complainants
      number at least MIN_CELL_PEOPLE (else null, with
      ``amounts_suppressed_below`` set and the exact count of people kept); the lead's text with phone and ID
      numbers masked;
    - a role without settlement rights: no offered or agreed totals (roll-ups
      made before settlement records kept them; how many people they sum was
      not kept, so they are never shown to such a role).
    The stored roll-up is unchanged."""
    content = json.loads(row["content"]) if isinstance(row["content"], str) else row["content"]
    amounts = dict(content.get("amounts") or {})
    out = dict(row)
    changed = False
    if disclosure.settlement_amounts_suppressed_for(viewer):
        for key in ("offered_fen", "agreed_fen"):
            if amounts.get(key) is not None:
                amounts[key], changed = None, True
    if disclosure.amounts_suppressed_for(viewer):
        floor = disclosure.min_people(settings)
        people = content["totals"]["complainants"]
        if disclosure.small(people, floor):
            for key in ("claimed_fen", "principal_fen", "interest_claimed_fen", "expenses_claimed_fen", "offered_fen", "agreed_fen"):
                if key in amounts:
                    amounts[key] = None
            out["amounts_suppressed_below"], changed = floor, True
        out = masking.masked_fields(out, masking.ROLLUP_TEXT_FIELDS)
    if changed:
        out["content"] = json.dumps({**content, "amounts": amounts}, ensure_ascii=False)
    return out


def list_rollups(db, incident_id):
    return [dict(r) for r in db.query("SELECT * FROM rollup WHERE incident_id = ? ORDER BY number DESC", [incident_id])]


def edit_text(db, rollup_id, summary, outlook, needs, actor, now):
    """The lead's words: summary, outlook, needs. Only while the roll-up is a draft."""
    with write(db):
        row = get(db, rollup_id)
        if row["status"] != "draft":
            raise Invalid(_("Only a draft can be edited; make a correction instead."))
        changes = {"summary": summary, "outlook": outlook, "needs": needs}
        db["rollup"].update(rollup_id, changes)
        audit.record(db, actor, "rollup", rollup_id, "update", before={k: row[k] for k in changes}, after=changes, at=now)
    return get(db, rollup_id)


def approve(db, rollup_id, actor, now):
    with write(db):
        row = get(db, rollup_id)
        if row["status"] != "draft":
            raise Conflict(_("This roll-up is already %(status)s.", status=row["status"]))
        db["rollup"].update(rollup_id, {"status": "approved", "approved_by": actor.user_id, "approved_at": to_iso(now)})
        audit.record(db, actor, "rollup", rollup_id, "approve", at=now)
    return get(db, rollup_id)


def issue(db, rollup_id, actor, now, outbox=None):
    with write(db):
        row = get(db, rollup_id)
        if row["status"] != "approved":
            raise Invalid(_("A roll-up is approved by the crisis lead before it is issued."))
        db["rollup"].update(rollup_id, {"status": "issued", "issued_by": actor.user_id, "issued_at": to_iso(now)})
        audit.record(db, actor, "rollup", rollup_id, "issue", at=now)
        row = get(db, rollup_id)
        if outbox is not None:
            outbox.record_everywhere(row["incident_id"], "rollup_updated", now, {"rollup": public(row, with_content=False)})
    return row


def corrections(db, rollup_id):
    """The roll-ups issued to correct this one: [{id, number}]."""
    return [dict(r) for r in db.query("SELECT id, number FROM rollup WHERE corrects_id = ?", [rollup_id])]
