"""Daily roll-ups (ICS-209 style status summaries): made at each 18:00
Asia/Shanghai cut-off by the roll-up monitor, late ones once after a restart,
never twice whatever the number of processes, kept as made (the database
refuses changes), and holding numbers that a plain SQL query over the same data
gives. The exports hold the page's figures; who may read and who may act.

Time is driven by passing ``now`` to the domain functions and monitors; only
the two real ``run.py`` processes read the time from a clock file, and there
the test polls with a deadline while their schedulers tick.
"""

import csv
import io
import json
import re
import sqlite3
import statistics
import subprocess
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from console import complainants, incidents, rollups, users
from console.access import SYSTEM
from console.audit import Actor
from console.caller import Caller
from console.clock import from_iso, to_iso
from console.schemas import ComplainantIn, ComplainantUpdate, GroupIn, IncidentIn
from monitors import missed_updates as missed_updates_monitor
from monitors import rollups as rollups_monitor
from monitors.runner import period_start, run_monitor

from .conftest import DEMO_ACCOUNTS_NOW, logged_in, row_counts
from .pdfs import pdf_text
from .servers import ConsoleServer, monitor_finished, wait_until

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "screenshots"
TITLE = "邮政渠道分红险集体投诉"
OPEN_STATUSES = ("new", "contacted", "negotiating", "offer_made", "accepted", "unreachable", "escalated")
CHANNELS = ("regulator", "media", "court", "petition")
# The demo is built as of 20:00 local on 23 November: ten daily cut-offs have passed.
DEMO_NOW = DEMO_ACCOUNTS_NOW  # conftest: the moment the shared demo is loaded as of


def shanghai(day, hour, minute=0, second=0):
    """A local (Asia/Shanghai) wall-clock time on 2026-11-``day`` as a UTC datetime."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


def rollup_rows(db, incident_id):
    return [dict(r) for r in db.query("SELECT * FROM rollup WHERE incident_id = ? ORDER BY number", [incident_id])]


def content_of(row):
    return json.loads(row["content"])


@pytest.fixture
def lead_actor(accounts):
    return Actor(user_id=accounts["lead"], username="lead", route="test")


def open_incident(app, db, actor, at):
    data = IncidentIn(title=TITLE, cause="misselling", product="分红险", severity="severe", status="active")
    return incidents.create_incident(db, data, actor, at, settings=app.config)


PEOPLE = [
    ("张建国", "13812345678", "130000", "130100", "HB-SJZ-01"),
    ("李秀英", "13912345678", "130000", "130100", "HB-SJZ-02"),
    ("陈志明", "13712345678", "440000", "440100", "GD-GZ-01"),
    ("王桂兰", "13612345678", "130000", "130100", "HB-SJZ-01"),
    ("刘德明", "13512345678", "440000", "440100", "GD-GZ-01"),
]


def add_people(app, db, incident_id, group_ids, people, actor, at):
    items = [
        ComplainantIn(name=name, phone=phone, province_code=province, city_code=city, branch_code=branch, group_id=group_ids[province], principal="50000")
        for name, phone, province, city, branch in people
    ]
    return complainants.create_complainants(db, incident_id, items, Caller(SYSTEM, actor, at), app.config)


@pytest.fixture
def small_incident(app, db, accounts, ctx, lead_actor):
    """An active incident activated at 10:00 local on 23 November, two groups,
    three complainants recorded at 11:00 local the same day."""
    from console import groups

    activated = shanghai(23, 10)
    incident_id = open_incident(app, db, lead_actor, activated)
    hebei = groups.create_group(db, incident_id, GroupIn(name="河北邮政分红险2019", handling_line="本金+利息"), lead_actor, activated + MINUTE, 5)
    guangdong = groups.create_group(db, incident_id, GroupIn(name="广东银保渠道", handling_line="逐一协商"), lead_actor, activated + MINUTE, 5)
    group_ids = {"130000": hebei, "440000": guangdong}
    ids = add_people(app, db, incident_id, group_ids, PEOPLE[:3], lead_actor, shanghai(23, 11))
    return {"id": incident_id, "activated": activated, "groups": group_ids, "ids": ids}


# --- 1. on time, on a controllable clock ------------------------------------------


def test_monitor_makes_the_rollup_at_the_cutoff_not_before_and_once(app, db, small_incident, lead_actor):
    incident_id = small_incident["id"]
    monitor = rollups_monitor.MONITOR

    assert run_monitor(monitor, app.config, shanghai(23, 17, 59, 59)) == {"rollups": [], "failed": []}
    assert rollup_rows(db, incident_id) == []

    cut = shanghai(23, 18)
    summary = run_monitor(monitor, app.config, cut)
    made = rollup_rows(db, incident_id)
    assert len(made) == 1 and summary == {"rollups": [made[0]["id"]], "failed": []}
    first = made[0]
    assert first["number"] == 1
    assert first["report_type"] == "initial"
    assert first["period_start"] == to_iso(small_incident["activated"])  # activation 10:00 local
    assert first["period_end"] == to_iso(cut)  # 18:00 local
    assert first["generated_at"] == to_iso(cut)
    assert first["late"] == 0
    assert first["status"] == "draft"
    assert first["prepared_by"] == "monitor"
    assert first["corrects_id"] is None
    assert first["next_rollup_at"] == to_iso(shanghai(24, 18))
    c1 = content_of(first)
    assert c1["totals"]["complainants"] == 3 and c1["new_in_period"] == 3
    assert c1["changes"] is None  # nothing to compare the first one with

    # Five minutes later (another monitor period): nothing new.
    assert run_monitor(monitor, app.config, shanghai(23, 18, 5)) == {"rollups": [], "failed": []}
    assert len(rollup_rows(db, incident_id)) == 1

    # During the next day: two more people, one of the first three contacted.
    add_people(app, db, incident_id, small_incident["groups"], PEOPLE[3:], lead_actor, shanghai(24, 9))
    complainants.update_complainant(
        db, small_incident["ids"][0], ComplainantUpdate(status="contacted"), Caller(SYSTEM, lead_actor, shanghai(24, 10)), settings=app.config
    )
    assert run_monitor(monitor, app.config, shanghai(24, 17, 59, 59)) == {"rollups": [], "failed": []}

    summary = run_monitor(monitor, app.config, shanghai(24, 18))
    made = rollup_rows(db, incident_id)
    assert len(made) == 2 and summary == {"rollups": [made[1]["id"]], "failed": []}
    second = made[1]
    assert second["number"] == 2
    assert second["report_type"] == "update"
    # Comparable periods: cut-off to cut-off, the second starting where the first ended.
    assert second["period_start"] == first["period_end"] == to_iso(shanghai(23, 18))
    assert second["period_end"] == to_iso(shanghai(24, 18))
    assert from_iso(second["period_end"]) - from_iso(second["period_start"]) == DAY
    assert second["late"] == 0 and second["status"] == "draft" and second["prepared_by"] == "monitor"
    c2 = content_of(second)
    assert c2["totals"]["complainants"] == 5 and c2["new_in_period"] == 2

    def by(rows, key):
        return {str(r[key]): r["count"] for r in rows}

    g1, g2 = by(c1["totals"]["by_group"], "group_id"), by(c2["totals"]["by_group"], "group_id")
    r1, r2 = by(c1["totals"]["by_region"], "province_code"), by(c2["totals"]["by_region"], "province_code")
    s1, s2 = c1["totals"]["by_status"], c2["totals"]["by_status"]
    expected = {
        "complainants": c2["totals"]["complainants"] - c1["totals"]["complainants"],
        "by_group": {k: g2.get(k, 0) - g1.get(k, 0) for k in set(g1) | set(g2)},
        "by_region": {k: r2.get(k, 0) - r1.get(k, 0) for k in set(r1) | set(r2)},
        "by_status": {k: s2.get(k, 0) - s1.get(k, 0) for k in set(s1) | set(s2)},
    }
    assert c2["changes"] == expected
    # and in plain figures: +2 people (one in each province), one 'new' became 'contacted'
    hebei, guangdong = str(small_incident["groups"]["130000"]), str(small_incident["groups"]["440000"])
    assert c2["changes"]["complainants"] == 2
    assert c2["changes"]["by_group"] == {hebei: 1, guangdong: 1}
    assert c2["changes"]["by_region"] == {"130000": 1, "440000": 1}
    assert c2["changes"]["by_status"] == {"new": 1, "contacted": 1}

    # The roll-up of the first day kept its numbers.
    assert rollup_rows(db, incident_id)[0] == first


# --- 2. late after a restart -------------------------------------------------------


def test_missed_cutoff_made_late_once_after_restart_and_only_the_latest_after_an_outage(app, db, small_incident):
    """The server was down at 18:00. The first run after it, at 18:40 (more
    than ROLLUP_LATE_MINUTES = 15 after the cut-off), makes that cut-off's
    roll-up, marked late; a second run makes none.

    Then the server is down for three days. Expected: only the LATEST missed
    cut-off (26 November 18:00) gets a roll-up, marked late, and its period runs
    from the previous roll-up's cut-off (23 November 18:00) to it: the numbers
    of the days in between can no longer be seen, so no roll-up pretends to show
    them (none for 24 or 25 November)."""
    incident_id = small_incident["id"]
    assert app.config["ROLLUP_LATE_MINUTES"] == 15
    monitor = rollups_monitor.MONITOR

    summary = run_monitor(monitor, app.config, shanghai(23, 18, 40))
    made = rollup_rows(db, incident_id)
    assert len(made) == 1 and summary == {"rollups": [made[0]["id"]], "failed": []}
    assert made[0]["late"] == 1
    assert made[0]["period_end"] == to_iso(shanghai(23, 18))
    assert made[0]["generated_at"] == to_iso(shanghai(23, 18, 40))
    assert made[0]["report_type"] == "initial" and made[0]["status"] == "draft"

    assert run_monitor(monitor, app.config, shanghai(23, 18, 41)) == {"rollups": [], "failed": []}
    assert len(rollup_rows(db, incident_id)) == 1

    # Three days down; back at 19:10 on the 26th.
    summary = run_monitor(monitor, app.config, shanghai(26, 19, 10))
    made = rollup_rows(db, incident_id)
    assert len(made) == 2 and summary == {"rollups": [made[1]["id"]], "failed": []}
    latest = made[1]
    assert latest["number"] == 2 and latest["report_type"] == "update"
    assert latest["late"] == 1
    assert latest["period_end"] == to_iso(shanghai(26, 18))
    assert latest["period_start"] == to_iso(shanghai(23, 18))
    ends = {r["period_end"] for r in made}
    assert to_iso(shanghai(24, 18)) not in ends and to_iso(shanghai(25, 18)) not in ends

    assert run_monitor(monitor, app.config, shanghai(26, 19, 11)) == {"rollups": [], "failed": []}
    assert len(rollup_rows(db, incident_id)) == 2


@pytest.mark.parametrize("after, late", [(timedelta(minutes=15), 0), (timedelta(minutes=15, seconds=1), 1)])
def test_late_means_more_than_rollup_late_minutes_after_the_cutoff(app, db, small_incident, after, late):
    rollups_monitor.run(db, shanghai(23, 18) + after, app.config, None)
    (made,) = rollup_rows(db, small_incident["id"])
    assert made["period_end"] == to_iso(shanghai(23, 18))
    assert made["late"] == late


# --- 3. never twice ----------------------------------------------------------------


def test_two_processes_make_one_rollup_per_cutoff(app, db, small_incident, tmp_path):
    incident_id = small_incident["id"]
    clock = tmp_path / "now.txt"
    clock.write_text(to_iso(shanghai(23, 18, 0, 30)))
    env = {"CONSOLE_SCHEDULER": "on", "CONSOLE_CLOCK_FILE": str(clock), "CONSOLE_MONITOR_TICK_SECONDS": "1"}
    a = ConsoleServer(app.config["DATABASE"], env=env).start()
    b = ConsoleServer(app.config["DATABASE"], env=env).start()
    try:
        for minute in (0, 1, 2):
            now = shanghai(23, 18, minute, 30)
            clock.write_text(to_iso(now))
            start = period_start(rollups_monitor.MONITOR, now)
            wait_until(lambda: monitor_finished(db, "rollups", start), timeout=30.0, what=f"the roll-up monitor's run at {to_iso(start)}")
            time.sleep(2.5)  # both schedulers tick at least twice more in the period
            assert a.process.poll() is None and b.process.poll() is None
            made = rollup_rows(db, incident_id)
            assert len(made) == 1, made
            assert made[0]["period_end"] == to_iso(shanghai(23, 18))
            assert made[0]["prepared_by"] == "monitor" and made[0]["late"] == 0
    finally:
        a.stop()
        b.stop()
    results = [json.loads(r[0]) for r in db.execute("SELECT result FROM monitor_run WHERE monitor = 'rollups'").fetchall()]
    assert sorted(i for r in results for i in r["rollups"]) == [made[0]["id"]]
    assert db.execute("SELECT count(*) FROM rollup WHERE incident_id = ? AND period_end = ?", [incident_id, to_iso(shanghai(23, 18))]).fetchone()[0] == 1


def test_a_monitor_that_lost_the_race_for_a_cutoff_makes_nothing(app, db, small_incident):
    """Two monitor runs both saw the 18:00 cut-off without a roll-up (a lease
    taken over, two processes): the second to call make() for that cut-off must
    get None, as make() promises, not a second roll-up of its own."""
    incident_id = small_incident["id"]
    cut = shanghai(23, 18)
    assert rollups.due_scheduled(db, db["incident"].get(incident_id), cut + MINUTE, app.config) == [cut]
    first = rollups.make(db, incident_id, cut, cut, app.config, "monitor", rollups_monitor.ACTOR)
    assert first is not None
    # the other run, a minute later, with the cut-off it had decided on
    assert rollups.make(db, incident_id, cut, cut + MINUTE, app.config, "monitor", rollups_monitor.ACTOR) is None
    assert [r["id"] for r in rollup_rows(db, incident_id)] == [first]


def test_database_refuses_a_second_scheduled_rollup_for_a_cutoff(app, db, small_incident):
    incident_id = small_incident["id"]
    cut = shanghai(23, 18)
    first = rollups.make(db, incident_id, cut, cut, app.config, "monitor", rollups_monitor.ACTOR)
    assert first is not None
    row = rollup_rows(db, incident_id)[0]
    duplicate = {k: v for k, v in row.items() if k != "id"}
    duplicate["number"] = 2  # not the (incident, number) constraint: the one per cut-off
    with pytest.raises(sqlite3.IntegrityError):
        db.conn.execute(f"INSERT INTO rollup ({', '.join(duplicate)}) VALUES ({', '.join('?' * len(duplicate))})", list(duplicate.values()))
    db.conn.rollback()
    assert len(rollup_rows(db, incident_id)) == 1
    # A correction of the same period is another matter: it points at the one it corrects.
    duplicate["corrects_id"] = row["id"]
    db.conn.execute(f"INSERT INTO rollup ({', '.join(duplicate)}) VALUES ({', '.join('?' * len(duplicate))})", list(duplicate.values()))
    db.conn.commit()
    assert len(rollup_rows(db, incident_id)) == 2


# --- 4. kept as made ---------------------------------------------------------------


def _refused(db, sql, params=()):
    with pytest.raises(sqlite3.DatabaseError) as info:
        db.conn.execute(sql, params)
    db.conn.rollback()
    return str(info.value)


def test_rollups_are_immutable_and_corrected_by_a_new_one(app, db, small_incident, api):
    incident_id = small_incident["id"]
    rollups_monitor.run(db, shanghai(23, 18), app.config, None)
    rollups_monitor.run(db, shanghai(24, 18), app.config, None)
    a, b = rollup_rows(db, incident_id)
    assert a["status"] == b["status"] == "draft"

    # The numbers and the period are refused on any roll-up, draft included.
    for column, value in (
        ("content", "{}"),
        ("period_start", to_iso(shanghai(22, 18))),
        ("period_end", to_iso(shanghai(25, 18))),
        ("generated_at", to_iso(shanghai(25, 18))),
        ("number", 9),
    ):
        message = _refused(db, f"UPDATE rollup SET {column} = ? WHERE id = ?", [value, b["id"]])
        assert "keeps the numbers" in message, column
    assert "kept" in _refused(db, "DELETE FROM rollup WHERE id = ?", [b["id"]])
    assert rollup_rows(db, incident_id)[1] == b

    # The lead's words may change on a draft.
    response = api("lead", "PATCH", f"/api/v1/rollups/{a['id']}", json={"summary": "秩序可控", "outlook": "明日仍有到访", "needs": "法务支持"})
    assert response.status_code == 200, response.json
    assert response.json["summary"] == "秩序可控" and response.json["content"] == content_of(a)

    # Issue before approval: refused.
    response = api("lead", "POST", f"/api/v1/rollups/{b['id']}/issue")
    assert response.status_code == 422, response.json
    assert db["rollup"].get(b["id"])["status"] == "draft"

    response = api("lead", "POST", f"/api/v1/rollups/{a['id']}/approve")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved" and response.json["approved_by"] is not None
    response = api("lead", "POST", f"/api/v1/rollups/{a['id']}/approve")
    assert response.status_code == 409, response.json

    response = api("lead", "PATCH", f"/api/v1/rollups/{a['id']}", json={"summary": "改口"})
    assert response.status_code == 422, response.json
    assert db["rollup"].get(a["id"])["summary"] == "秩序可控"

    response = api("lead", "POST", f"/api/v1/rollups/{a['id']}/issue")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "issued" and response.json["issued_at"]
    issued = dict(db["rollup"].get(a["id"]))

    # An issued roll-up: no change of any column, no removal.
    for column, value in (("summary", "改口"), ("status", "draft"), ("needs", ""), ("approved_at", None)):
        assert "issued roll-up cannot be changed" in _refused(db, f"UPDATE rollup SET {column} = ? WHERE id = ?", [value, a["id"]]), column
    _refused(db, "UPDATE rollup SET content = ? WHERE id = ?", ["{}", a["id"]])
    _refused(db, "DELETE FROM rollup WHERE id = ?", [a["id"]])
    response = api("lead", "PATCH", f"/api/v1/rollups/{a['id']}", json={"summary": "改口"})
    assert response.status_code == 422, response.json
    response = api("lead", "POST", f"/api/v1/rollups/{a['id']}/approve")
    assert response.status_code == 409, response.json
    assert dict(db["rollup"].get(a["id"])) == issued

    # A correction: a new roll-up, same period, pointing at the old one; the old one unchanged.
    response = api("lead", "POST", f"/api/v1/rollups/{a['id']}/corrections", json={"reason": "河北组人数漏计一人，更正"})
    assert response.status_code == 201, response.json
    correction = response.json
    assert correction["id"] not in (a["id"], b["id"])
    assert correction["corrects_id"] == a["id"]
    assert correction["period_start"] == a["period_start"] and correction["period_end"] == a["period_end"]
    assert correction["number"] == 3 and correction["status"] == "draft"
    assert "河北组人数漏计一人" in correction["summary"]
    assert dict(db["rollup"].get(a["id"])) == issued
    assert dict(db["rollup"].get(b["id"])) == {**b}
    assert db.execute("SELECT count(*) FROM rollup WHERE incident_id = ?", [incident_id]).fetchone()[0] == 3


# --- the demo: shared by the golden-number, export, access and trend tests ----------


@pytest.fixture
def client(app, demo_db):
    """client(username) -> a test client logged in to the demo (conftest's demo_db)."""
    return lambda username: logged_in(app, username)


def user_id(db, username):
    return db.execute("SELECT id FROM user WHERE username = ?", [username]).fetchone()[0]


def make_now(app, db, incident_id):
    """Missed-update alerts raised, then a roll-up made by the lead at DEMO_NOW."""
    with app.test_request_context():
        missed_updates_monitor.run(db, DEMO_NOW, app.config, None)
        actor = Actor(user_id=user_id(db, "lead"), username="lead", route="test")
        return rollups.make(db, incident_id, DEMO_NOW, DEMO_NOW, app.config, "lead", actor)


# --- 5. golden numbers --------------------------------------------------------------


def _q(db, sql, params=()):
    return [dict(r) for r in db.query(sql, params)]


def _one(db, sql, params=()):
    return db.execute(sql, params).fetchone()[0]


def _hours(a, b):
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600


def _medians_by_sql(db, incident_id, column):
    rows = _q(db, f"SELECT group_id, province_code, received_at, {column} AS at FROM complainant WHERE incident_id = ? AND {column} IS NOT NULL", [incident_id])
    by_group, by_region = {}, {}
    for r in rows:
        by_group.setdefault(r["group_id"], []).append(_hours(r["received_at"], r["at"]))
        by_region.setdefault(r["province_code"], []).append(_hours(r["received_at"], r["at"]))
    return {
        "overall": statistics.median([_hours(r["received_at"], r["at"]) for r in rows]),
        "n": len(rows),
        "by_group": {k: (statistics.median(v), len(v)) for k, v in by_group.items()},
        "by_region": {k: (statistics.median(v), len(v)) for k, v in by_region.items()},
    }


def _check_medians(got, expected):
    assert got["overall"] == pytest.approx(expected["overall"], abs=0.006)
    assert {g["group_id"]: g["n"] for g in got["by_group"]} == {k: n for k, (_m, n) in expected["by_group"].items()}
    for g in got["by_group"]:
        assert g["hours"] == pytest.approx(expected["by_group"][g["group_id"]][0], abs=0.006), g
    assert {r["province_code"]: r["n"] for r in got["by_region"]} == {k: n for k, (_m, n) in expected["by_region"].items()}
    for r in got["by_region"]:
        assert r["hours"] == pytest.approx(expected["by_region"][r["province_code"]][0], abs=0.006), r


def test_golden_numbers_of_a_rollup_on_the_demo_incident(app, db, demo_db):
    incident_id = demo_db
    issued = rollup_rows(db, incident_id)
    rollup_id = make_now(app, db, incident_id)
    row = dict(db["rollup"].get(rollup_id))
    c = content_of(row)
    s, e = row["period_start"], row["period_end"]
    soon = to_iso(from_iso(e) + DAY)
    assert s == issued[-1]["period_end"] == to_iso(shanghai(23, 18))  # since the last cut-off
    assert e == to_iso(DEMO_NOW) and c["as_of"] == to_iso(DEMO_NOW)
    assert row["report_type"] == "update" and row["number"] == len(issued) + 1 and row["prepared_by"] == "lead" and row["late"] == 0

    incident = dict(db["incident"].get(incident_id))
    assert c["incident"] == {k: incident[k] for k in ("id", "title", "cause", "product", "severity", "status", "opened_at", "activated_at", "mass_incident_at")}

    # totals
    total = _one(db, "SELECT count(*) FROM complainant WHERE incident_id = ?", [incident_id])
    assert total == 300 and c["totals"]["complainants"] == total
    groups = _q(
        db,
        "SELECT g.id AS group_id, g.name, (SELECT count(*) FROM complainant c WHERE c.group_id = g.id) AS count "
        "FROM complainant_group g WHERE g.incident_id = ? ORDER BY g.id",
        [incident_id],
    )
    ungrouped = _one(db, "SELECT count(*) FROM complainant WHERE incident_id = ? AND group_id IS NULL", [incident_id])
    assert ungrouped > 0  # the demo has some: the figure must show them
    assert c["totals"]["by_group"] == groups + [{"group_id": None, "name": None, "count": ungrouped}]
    regions_ = _q(
        db,
        "SELECT c.province_code, p.name_zh AS name, count(*) AS count FROM complainant c, province p "
        "WHERE p.code = c.province_code AND c.incident_id = ? GROUP BY c.province_code ORDER BY c.province_code",
        [incident_id],
    )
    assert len(regions_) == 6 and c["totals"]["by_region"] == regions_
    by_status = {r["status"]: r["n"] for r in _q(db, "SELECT status, count(*) AS n FROM complainant WHERE incident_id = ? GROUP BY status", [incident_id])}
    assert c["totals"]["by_status"] == by_status
    assert sum(by_status.values()) == total

    # in the period, and to date
    assert c["new_in_period"] == _one(db, "SELECT count(*) FROM complainant WHERE incident_id = ? AND created_at > ? AND created_at <= ?", [incident_id, s, e])
    assert c["settled"]["in_period"] == _one(
        db, "SELECT count(*) FROM complainant WHERE incident_id = ? AND settled_at > ? AND settled_at <= ?", [incident_id, s, e]
    )
    assert c["settled"]["to_date"] == _one(db, "SELECT count(*) FROM complainant WHERE incident_id = ? AND settled_at IS NOT NULL", [incident_id])
    assert c["settled"]["to_date"] > 0

    # escalations by channel
    escalated = {ch: 0 for ch in CHANNELS}
    for r in _q(
        db, "SELECT escalation_channel AS ch, count(*) AS n FROM complainant WHERE incident_id = ? AND status = 'escalated' GROUP BY ch", [incident_id]
    ):
        escalated[r["ch"]] = r["n"]
    assert c["escalations"] == escalated and sum(escalated.values()) == by_status["escalated"]

    # amounts
    principal, interest, expenses = (
        _one(db, f"SELECT coalesce(sum({col}), 0) FROM complainant WHERE incident_id = ?", [incident_id])
        for col in ("principal_fen", "interest_claimed_fen", "expenses_claimed_fen")
    )
    assert c["amounts"]["principal_fen"] == principal > 0
    assert c["amounts"]["interest_claimed_fen"] == interest > 0
    assert c["amounts"]["expenses_claimed_fen"] == expenses > 0
    assert c["amounts"]["claimed_fen"] == principal + interest + expenses

    # branches: peak people on site from the hourly updates of the period; missed-update alerts
    peaks = {}
    for r in _q(
        db,
        "SELECT u.branch_code, b.name, u.people_on_site FROM hourly_update u, branch b WHERE b.code = u.branch_code "
        "AND u.incident_id = ? AND u.posted_at > ? AND u.posted_at <= ?",
        [incident_id, s, e],
    ):
        entry = peaks.setdefault(r["branch_code"], {"branch_code": r["branch_code"], "name": r["name"], "peak_on_site": 0, "updates": 0})
        entry["peak_on_site"] = max(entry["peak_on_site"], r["people_on_site"])
        entry["updates"] += 1
    assert peaks and max(p["peak_on_site"] for p in peaks.values()) == 23  # the crowd at 石家庄中山路
    assert {p["branch_code"]: p for p in c["branches"]["peak_on_site"]} == peaks
    order = [(-p["peak_on_site"], p["branch_code"]) for p in c["branches"]["peak_on_site"]]
    assert order == sorted(order)  # the busiest first
    missed = {
        r["branch_code"]: r
        for r in _q(
            db,
            "SELECT a.branch_code, b.name, count(*) AS alerts FROM alert a, branch b WHERE b.code = a.branch_code "
            "AND a.incident_id = ? AND a.kind = 'missed_update' AND a.raised_at > ? AND a.raised_at <= ? "
            "GROUP BY a.branch_code",
            [incident_id, s, e],
        )
    }
    assert "GD-SZ-01" in missed  # the outlet that went quiet
    assert {m["branch_code"]: m for m in c["branches"]["missed_updates"]} == missed

    # tasks by stream
    streams = {}
    for t in _q(db, "SELECT stream, status, due_at, completed_at FROM task WHERE incident_id = ?", [incident_id]):
        entry = streams.setdefault(t["stream"], {"stream": t["stream"], "done_in_period": 0, "due_open": 0, "overdue": 0})
        if t["status"] == "done" and t["completed_at"] and s < t["completed_at"] <= e:
            entry["done_in_period"] += 1
        if t["status"] == "open" and e < t["due_at"] <= soon:
            entry["due_open"] += 1
        if t["status"] == "open" and t["due_at"] <= e:
            entry["overdue"] += 1
    assert streams and sum(v["overdue"] for v in streams.values()) > 0
    assert {t["stream"]: t for t in c["tasks_by_stream"]} == streams

    # media items of the period
    assert c["media_items"] == _q(
        db, "SELECT kind, outlet, summary, at FROM media_item WHERE incident_id = ? AND at > ? AND at <= ? ORDER BY at", [incident_id, s, e]
    )

    # deadlines in the next 24 hours
    marks = ",".join("?" * len(OPEN_STATUSES))
    deadlines = {
        "decisions": _one(
            db,
            f"SELECT count(*) FROM complainant WHERE incident_id = ? AND status IN ({marks}) AND decision_due_at > ? AND decision_due_at <= ?",
            [incident_id, *OPEN_STATUSES, e, soon],
        ),
        "promised_contacts": _one(
            db,
            f"SELECT count(*) FROM complainant WHERE incident_id = ? AND status IN ({marks}) AND next_contact_due_at > ? AND next_contact_due_at <= ?",
            [incident_id, *OPEN_STATUSES, e, soon],
        ),
        "tasks": _one(db, "SELECT count(*) FROM task WHERE incident_id = ? AND status = 'open' AND due_at > ? AND due_at <= ?", [incident_id, e, soon]),
        "referral_acknowledgements": _one(
            db, "SELECT count(*) FROM referral WHERE incident_id = ? AND acknowledged_at IS NULL AND ack_due_at > ? AND ack_due_at <= ?", [incident_id, e, soon]
        ),
    }
    assert deadlines["promised_contacts"] > 0
    assert c["deadlines_next_24h"] == deadlines

    # medians, overall, by group and by region
    first_contact = _medians_by_sql(db, incident_id, "first_contact_at")
    settlement = _medians_by_sql(db, incident_id, "settled_at")
    assert first_contact["n"] > 200 and settlement["n"] > 20
    _check_medians(c["median_hours"]["to_first_contact"], first_contact)
    _check_medians(c["median_hours"]["to_settlement"], settlement)

    # changes since the last issued roll-up
    before = content_of(issued[-1])
    assert c["changes"]["complainants"] == total - before["totals"]["complainants"]
    assert c["changes"]["by_status"] == {
        k: by_status.get(k, 0) - before["totals"]["by_status"].get(k, 0) for k in set(by_status) | set(before["totals"]["by_status"])
    }


def test_demo_rollups_issued_at_each_cutoff_show_a_trend(db, demo_db):
    incident_id = demo_db
    made = rollup_rows(db, incident_id)
    activated = db["incident"].get(incident_id)["activated_at"]
    cut = shanghai(14, 18)
    assert len(made) == 10  # 14 ... 23 November, 18:00 local
    previous_end = activated
    for n, row in enumerate(made, start=1):
        assert row["number"] == n and row["status"] == "issued" and row["corrects_id"] is None
        assert row["report_type"] == ("initial" if n == 1 else "update")
        assert row["period_start"] == previous_end and row["period_end"] == to_iso(cut)
        previous_end, cut = row["period_end"], cut + DAY
        c = content_of(row)
        # what was counted at the cut-off: the people recorded by then (no one is ever removed)
        assert c["totals"]["complainants"] == _one(
            db, "SELECT count(*) FROM complainant WHERE incident_id = ? AND created_at <= ?", [incident_id, row["period_end"]]
        )
        assert c["new_in_period"] == _one(
            db,
            "SELECT count(*) FROM complainant WHERE incident_id = ? AND created_at > ? AND created_at <= ?",
            [incident_id, row["period_start"], row["period_end"]],
        )
    totals = [content_of(r)["totals"]["complainants"] for r in made]
    assert totals == sorted(set(totals)), totals  # strictly increasing
    assert totals[-1] <= 300
    settled = [content_of(r)["settled"]["to_date"] for r in made]
    assert settled == sorted(settled) and settled[-1] > settled[0]


# --- 6. exports --------------------------------------------------------------------


class _FiguresTable(HTMLParser):
    """The rows of <table id="rollup-figures"><tbody>: a list of [section, item, value]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self._in_table, self._in_body, self._cell = [], False, False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == "rollup-figures":
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody" and self._in_body:
            self._in_body = False
        elif tag == "table" and self._in_table:
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def norm(value):
    """A cell as text, numbers written one way (6.0 == 6, 118.10 == 118.1)."""
    if value is None:
        return ""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        number = float(text)
        return str(int(number)) if number == int(number) else repr(round(number, 6))
    return text


def test_csv_xlsx_and_pdf_hold_the_page_figures(app, db, demo_db, client, tmp_path):
    incident_id = demo_db
    rollup_id = make_now(app, db, incident_id)
    with app.test_request_context():
        rollups.edit_text(
            db, rollup_id, '秩序总体可控，"重点"关注石家庄、青岛', "未来24小时仍有集中到访", "法务支持", Actor(user_id(db, "lead"), "lead", "test"), DEMO_NOW
        )
    lead = client("lead")

    page = lead.get(f"/rollups/{rollup_id}")
    assert page.status_code == 200
    parser = _FiguresTable()
    parser.feed(page.get_data(as_text=True))
    page_rows = [tuple(norm(v) for v in r) for r in parser.rows]
    assert len(page_rows) > 60 and all(len(r) == 3 for r in page_rows)
    assert ("合计", "投诉人总数", "300") in page_rows
    assert ("负责人意见", "概述", '秩序总体可控，"重点"关注石家庄、青岛') in page_rows
    assert any(r[0] == "网点现场最高人数" and r[2] == "23" for r in page_rows)
    assert any(r[0] == "首次联系中位时长（小时）" and "." in r[2] for r in page_rows)  # floats made it

    response = lead.get(f"/rollups/{rollup_id}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # utf-8-sig: Excel reads the Chinese right
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == ["栏目", "项目", "数值"]
    assert [tuple(norm(v) for v in r) for r in lines[1:]] == page_rows

    response = lead.get(f"/rollups/{rollup_id}.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    # a sheet per table in reading order, Chinese headers; then every row, as in the CSV
    assert book.sheetnames[:3] == ["报告", "负责人意见", "合计"] and {"按分组", "按地区", "按状态"} <= set(book.sheetnames)
    assert [c.value for c in book["按分组"][1]] == ["项目", "数值"]
    amounts = book["金额（元）"]
    assert amounts["B2"].number_format == '"¥"#,##0.00' and isinstance(amounts["B2"].value, (int, float))
    # every amount cell is a number worth exactly the stored fen (console/money.py: Decimal, not a rounded float)
    stored = json.loads(db.execute("SELECT content FROM rollup WHERE id = ?", [rollup_id]).fetchone()[0])["amounts"]
    fen = {"诉求合计": "claimed_fen", "本金": "principal_fen", "利息诉求": "interest_claimed_fen", "费用诉求": "expenses_claimed_fen"}
    cells = {item: value for item, value in amounts.iter_rows(min_row=2, values_only=True)}
    assert stored["claimed_fen"] > 0 and all(Decimal(str(cells[item])) * 100 == stored[key] for item, key in fen.items()), cells
    # the CSV writes the same amounts with their two decimals, and the page prints them as people read them
    amount_lines = {r[1]: r[2] for r in lines[1:] if r[0] == "金额（元）"}
    assert all(amount_lines[item] == f"{stored[key] // 100}.{stored[key] % 100:02d}" for item, key in fen.items()), amount_lines
    assert f"¥{stored['principal_fen'] // 100:,}.{stored['principal_fen'] % 100:02d}" in page.get_data(as_text=True)
    sheet = book["全部数据"]
    cells = [tuple(norm(v) for v in r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == ("栏目", "项目", "数值")
    assert cells[1:] == page_rows
    numbers = [v for (_s, _i, v) in sheet.iter_rows(min_row=2, values_only=True) if isinstance(v, (int, float))]
    assert 300 in numbers  # figures are numbers in the sheet, not text

    response = lead.get(f"/rollups/{rollup_id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pdf = tmp_path / "rollup.pdf"
    pdf.write_bytes(response.data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "rollup.png").write_bytes(pages[0].read_bytes())
    text = pdf_text(response.data, tmp_path)
    assert TITLE in text
    assert "投诉人总数" in text and "300" in text
    # page 1 is the summary: the lead's words, the headline figures with their change; the tables follow
    first = pdf_text(response.data, tmp_path, first=1, last=1)
    assert len(pages) >= 2
    for words in ("负责人意见", "秩序总体可控", "未来24小时仍有集中到访", "法务支持", "主要数字", "投诉人总数", "300", "较上期变化", "¥"):
        assert words in first, words
    change = [r for r in page_rows if r[0] == "较上期变化" and r[1] == "投诉人总数"][0][2]
    assert re.search(r"投诉人总数\s+300\s+" + re.escape(f"{int(change):+d}"), first), first[:600]
    assert "按分组" not in first and "按地区" not in first
    rest = pdf_text(response.data, tmp_path, first=2)
    assert rest.index("按分组") < rest.index("按地区") < rest.index("按状态")
    (SCREENSHOTS / "rollup-page-2.png").write_bytes(pages[1].read_bytes())


# --- 7. who may --------------------------------------------------------------------


def test_executives_read_but_do_not_act_and_branch_contacts_see_nothing(app, db, demo_db, client):
    incident_id = demo_db
    target = rollup_rows(db, incident_id)[-1]  # issued
    with app.test_request_context():
        actor = Actor(user_id(db, "lead"), "lead", "test")
        draft_id = rollups.make(db, incident_id, DEMO_NOW, DEMO_NOW, app.config, "lead", actor)

    executive = client("executive")
    for url in (
        f"/rollups/{target['id']}",
        f"/rollups/{target['id']}.csv",
        f"/rollups/{target['id']}.xlsx",
        f"/rollups/{target['id']}.pdf",
        f"/incidents/{incident_id}/rollups",
        f"/api/v1/rollups/{target['id']}",
        f"/api/v1/incidents/{incident_id}/rollups",
    ):
        assert executive.get(url).status_code == 200, url
    page = executive.get(f"/rollups/{draft_id}").get_data(as_text=True)
    assert "/approve" not in page and "/text" not in page  # no buttons for what they may not do

    token = users.issue_token(db, "executive")
    before = row_counts(db)
    refused = [
        ("POST", f"/incidents/{incident_id}/rollups", None),
        ("POST", f"/rollups/{draft_id}/text", None),
        ("POST", f"/rollups/{draft_id}/approve", None),
        ("POST", f"/rollups/{draft_id}/issue", None),
        ("POST", f"/rollups/{target['id']}/correct", None),
        ("POST", f"/api/v1/incidents/{incident_id}/rollups", None),
        ("PATCH", f"/api/v1/rollups/{draft_id}", {"summary": "x"}),
        ("POST", f"/api/v1/rollups/{draft_id}/approve", None),
        ("POST", f"/api/v1/rollups/{draft_id}/issue", None),
        ("POST", f"/api/v1/rollups/{target['id']}/corrections", {"reason": "更正"}),
    ]
    for method, url, body in refused:
        kwargs = {"json": body} if body is not None else ({"data": {"summary": "x"}} if url.endswith("/text") else {})
        assert executive.open(url, method=method, **kwargs).status_code == 403, (method, url)
    # with an API token too
    auth = {"Authorization": f"Bearer {token}"}
    api_client = app.test_client()
    assert api_client.get(f"/api/v1/rollups/{target['id']}", headers=auth).status_code == 200
    assert api_client.post(f"/api/v1/rollups/{draft_id}/approve", headers=auth).status_code == 403
    assert api_client.post(f"/api/v1/incidents/{incident_id}/rollups", headers=auth).status_code == 403
    assert row_counts(db) == before  # nothing refused wrote anything
    assert db["rollup"].get(draft_id)["status"] == "draft"

    for username in ("branch_hebei", "branch_outlet"):
        branch = client(username)
        for url in (
            f"/rollups/{target['id']}",
            f"/rollups/{draft_id}",
            f"/rollups/{target['id']}.csv",
            f"/rollups/{target['id']}.xlsx",
            f"/rollups/{target['id']}.pdf",
            f"/incidents/{incident_id}/rollups",
            f"/api/v1/rollups/{target['id']}",
            f"/api/v1/incidents/{incident_id}/rollups",
        ):
            response = branch.get(url)
            assert response.status_code == 403, (username, url, response.status_code)
            assert "投诉人总数" not in response.get_data(as_text=True)
        assert branch.post(f"/rollups/{draft_id}/approve").status_code == 403


# --- 8. the trend ------------------------------------------------------------------


def test_trend_page_draws_one_point_per_scheduled_rollup(app, db, demo_db, client):
    incident_id = demo_db
    made = rollup_rows(db, incident_id)
    with app.test_request_context():
        actor = Actor(user_id(db, "lead"), "lead", "test")
        rollups.make(db, incident_id, DEMO_NOW, DEMO_NOW, app.config, "lead", actor, corrects_id=made[2]["id"])  # a correction: no point of its own
    scheduled = _one(db, "SELECT count(*) FROM rollup WHERE incident_id = ? AND corrects_id IS NULL", [incident_id])
    assert scheduled == 10 and _one(db, "SELECT count(*) FROM rollup WHERE incident_id = ?", [incident_id]) == 11

    html = client("lead").get(f"/incidents/{incident_id}/rollups").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*class=\"trend\".*?</svg>", html, re.S)
    assert svg, "no trend chart"
    polylines = re.findall(r"<polyline class=\"([^\"]+)\"[^>]*points=\"([^\"]*)\"", svg.group(0))
    assert {cls for cls, _ in polylines} >= {"s-total", "s-settled", "s-new", "s-escalated"}
    for cls, points in polylines:
        pairs = [tuple(float(v) for v in p.split(",")) for p in points.split()]
        assert len(pairs) == scheduled, cls
        xs = [x for x, _y in pairs]
        assert xs == sorted(xs) and len(set(xs)) == len(xs), cls
    total = dict(polylines)["s-total"]
    ys = [float(p.split(",")[1]) for p in total.split()]
    assert ys == sorted(ys, reverse=True) and len(set(ys)) == len(ys)  # complainants rise day by day: the line climbs
    assert min(ys) == pytest.approx(20.0)  # the highest point reaches the top of the chart


def test_a_rollup_counts_settlements_and_carries_no_settlement_amount(app, db, api, incident):
    """Settlement amounts and terms are for the crisis lead and legal (the
    settlements register); a roll-up, which executives and the team read,
    counts open offers, acceptances and signed settlements only."""
    import json as json_module

    from console import rollups
    from console.audit import Actor
    from console.clock import utcnow

    first, second = incident["hebei_outlet_1"], incident["hebei_outlet_2"]
    assert (
        api(
            "legal",
            "PUT",
            f"/api/v1/groups/{incident['groups'][0]}/terms",
            json={"principal_pct": 100, "interest_pct": 0, "pays_expenses": False, "text": "退还本金"},
        ).status_code
        == 200
    )
    for person in (first, second):
        for status in ("contacted", "negotiating"):
            assert api("team", "PATCH", f"/api/v1/complainants/{person}", json={"status": status}).status_code == 200
    api("legal", "POST", f"/api/v1/complainants/{first}/offers", json={"principal": 41234.56})
    offer_id = api("legal", "POST", f"/api/v1/complainants/{second}/offers", json={}).json["id"]
    settlement_id = api("legal", "POST", f"/api/v1/offers/{offer_id}/accept").json["id"]
    assert api("legal", "POST", f"/api/v1/settlements/{settlement_id}/finalise").status_code == 200
    assert api("team", "PATCH", f"/api/v1/complainants/{first}", json={"offered": 1}).status_code == 422  # no longer a complainant field
    now = utcnow()
    with app.test_request_context():
        rollup_id = rollups.make(db, incident["id"], now, now, app.config, "lead", Actor(None, "lead", "test"))
    content = rollups.public(rollups.get(db, rollup_id))["content"]
    assert content["settlements"] == {"open_offers": 1, "accepted": 0, "final": 1}
    text = json_module.dumps(content)
    assert "4123456" not in text and "41234.56" not in text  # the open offer's figure is nowhere in it
    assert "offered_fen" not in content["amounts"] and "agreed_fen" not in content["amounts"]
