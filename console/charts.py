"""The figures the board's charts draw: complainants received and settled per
day, people on site per outlet over the last 24 hours. The status mix is
drawn from the board's own counts, the same ones as the funnel's numbers.
Counts only (never a person), inside the viewer's scope."""

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from .access import in_scope, scope_sql
from .clock import from_iso, to_iso

DAYS = 14


def _day(text, zone):
    return from_iso(text).astimezone(zone).date().isoformat()


def by_day(db, incident_id, viewer, now, settings, days=DAYS):
    """{"days": [...], "received": [...], "settled": [...]}: the last ``days``
    local days up to today (from the incident's first day if later)."""
    zone = ZoneInfo(settings["TIMEZONE"])
    where, params = scope_sql(viewer)
    rows = list(db.query(f"SELECT received_at, settled_at FROM complainant WHERE incident_id = ? AND {where}", [incident_id, *params]))
    received = Counter(_day(r["received_at"], zone) for r in rows)
    settled = Counter(_day(r["settled_at"], zone) for r in rows if r["settled_at"])
    today = now.astimezone(zone).date()
    first = min(received) if received else today.isoformat()
    span = [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
    span = [d for d in span if d >= first] or [today.isoformat()]
    return {"days": span, "received": [received.get(d, 0) for d in span], "settled": [settled.get(d, 0) for d in span]}


def on_site(db, incident_id, viewer, now, hours=24):
    """People on site per outlet over the last ``hours``: [{branch_code, name, points: [[at, n], ...]}]."""
    since = to_iso(now - timedelta(hours=hours))
    rows = list(
        db.query(
            "SELECT hourly_update.branch_code, hourly_update.province_code, branch.name, hourly_update.posted_at, hourly_update.people_on_site "
            "FROM hourly_update JOIN branch ON branch.code = hourly_update.branch_code "
            "WHERE hourly_update.incident_id = ? AND hourly_update.posted_at >= ? ORDER BY hourly_update.posted_at, hourly_update.id",
            [incident_id, since],
        )
    )
    series = {}
    for r in rows:
        if not in_scope(viewer, r["province_code"], r["branch_code"]):
            continue
        entry = series.setdefault(r["branch_code"], {"branch_code": r["branch_code"], "name": r["name"], "points": []})
        entry["points"].append([r["posted_at"], r["people_on_site"]])
    return sorted(series.values(), key=lambda s: s["branch_code"])


def for_board(db, incident_id, viewer, now, settings):
    return {
        "by_day": by_day(db, incident_id, viewer, now, settings),
        "on_site": on_site(db, incident_id, viewer, now),
        "on_site_from": to_iso(now - timedelta(hours=24)),
        "on_site_to": to_iso(now),
    }
