"""Monitors that never skip a minute (issue: monitors and clocks).

- No cursor is held across a write: a writer holding the database while the
  crowd monitor runs costs the monitor a wait, never its minute.
- Each incident (and each surge) is handled in its own transaction and try:
  one that fails is rolled back, logged, kept and alerted to the lead once,
  and the others are still handled.
- A run that fails as a whole is recorded as failed with its error and tried
  again at the next tick.
- An intake complaint that can no longer be attached is quarantined, and a
  valid surge of another cause still opens its incident.
- One clock: with CLOCK_FILE set, the API stamps the moved time.
- Input that would weaken a clock is refused with a 422 and nothing written.
"""

import json
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from console import catalogue, complainants, incidents, updates
from console.access import SYSTEM
from console.caller import Caller
from console.clock import to_iso
from console.db import connect
from console.schemas import ComplainantIn, HourlyUpdateIn, IncidentIn
from monitors import crowd, surge
from monitors import tasks as tasks_monitor
from monitors.runner import run_monitor

from .conftest import row_counts
from .test_intake import complaint, rules, send

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def _incident(app, db, lead, branch="HB-SJZ-01", at=T0):
    incident_id = incidents.create_incident(
        db, IncidentIn(title="邮政分红险投诉", cause="misselling", product="分红险", severity="medium"), lead, at, settings=app.config
    )
    province, city = ("440000", "440100") if branch.startswith("GD") else ("130000", "130100")
    complainants.create_complainants(
        db,
        incident_id,
        [ComplainantIn(name="王某", phone="13800001111", province_code=province, city_code=city, branch_code=branch)],
        Caller(SYSTEM, lead, at),
        app.config,
    )
    return incident_id


def _post(app, db, incident_id, branch, at, **fields):
    fields.setdefault("mood", "tense")
    updates.post_update(db, incident_id, HourlyUpdateIn(branch_code=branch, **fields), Caller(SYSTEM, SYSTEM_ACTOR, at), app.config)


from console.audit import Actor  # noqa: E402

SYSTEM_ACTOR = Actor(user_id=None, username="test", route="test")


def _alerts(db, kind):
    return [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = ? ORDER BY id", [kind])]


def _runs(db, monitor):
    return [dict(r) for r in db.query("SELECT * FROM monitor_run WHERE monitor = ? ORDER BY period_start", [monitor])]


# --- no cursor across a write --------------------------------------------------------------------


def test_a_writer_holding_the_database_costs_the_crowd_monitor_a_wait_not_its_minute(app, db, lead, ctx):
    """The crowd and tasks monitors looped over a live db.query() cursor while
    opening write transactions: with another connection committing in between,
    BEGIN IMMEDIATE failed at once with 'database is locked' (its read snapshot
    was stale) and the minute was skipped."""
    ids = [_incident(app, db, lead, branch=("HB-SJZ-01", "HB-SJZ-02", "GD-GZ-01")[i % 3]) for i in range(30)]
    for i, incident_id in enumerate(ids):
        _post(app, db, incident_id, "HB-SJZ-01", T0 + MINUTE, people_on_site=5 + i)

    stop = threading.Event()
    commits = []

    def writer():
        other = connect(app.config["DATABASE"])
        try:
            while not stop.is_set():
                other.conn.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE incident SET updated_at = ? WHERE id = ?", [to_iso(T0), ids[0]])
                time.sleep(0.05 if len(commits) % 10 == 0 else 0)  # now and then it holds the write lock a while
                other.conn.execute("COMMIT")
                commits.append(1)
                time.sleep(0.0005)
        finally:
            other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        summaries, minute = [], 2
        deadline = time.monotonic() + 60
        while (len(commits) < 30 or minute < 12) and time.monotonic() < deadline:
            summaries.append(run_monitor(crowd.MONITOR, app.config, T0 + minute * MINUTE))
            summaries.append(run_monitor(tasks_monitor.MONITOR, app.config, T0 + minute * MINUTE))
            minute += 1
    finally:
        stop.set()
        thread.join()
    assert len(commits) >= 30, "the writer must really have competed for the database"
    assert all(s is not None and s["failed"] == [] for s in summaries), summaries
    for monitor in ("crowd", "tasks"):
        runs = _runs(db, monitor)
        assert len(runs) == minute - 2
        assert all(r["finished_at"] and r["failed_at"] is None and r["failures"] == 0 for r in runs)
    assert db["monitor_failure"].count == 0
    # 5 or more people at each incident's outlet, each seen (20 or more: a major complaint instead)
    assert len(_alerts(db, "group_visit")) + len(_alerts(db, "major_in_person")) == 30


# --- one failing incident, the others go on ------------------------------------------------------


def _poison_update(db_path, incident_id):
    """A stored update the crowd rule cannot read (written behind the app's back)."""
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE hourly_update SET outlet_closed = 1, closed_since = 'not a time' WHERE incident_id = ?", [incident_id])
    raw.commit()
    raw.close()


def test_one_incident_that_raises_is_logged_and_alerted_once_and_the_others_are_handled(app, db, lead, ctx, caplog):
    broken = _incident(app, db, lead)
    healthy = _incident(app, db, lead, branch="GD-GZ-01")
    _post(app, db, broken, "HB-SJZ-01", T0 + MINUTE, people_on_site=2, outlet_closed=True, closed_since=to_iso(T0))
    _poison_update(app.config["DATABASE"], broken)
    _post(app, db, healthy, "GD-GZ-01", T0 + MINUTE, people_on_site=150)

    first = run_monitor(crowd.MONITOR, app.config, T0 + 2 * MINUTE)
    assert first["failed"] == [f"incident:{broken}"]
    [mass] = _alerts(db, "mass_incident")
    assert mass["incident_id"] == healthy  # the healthy incident's crowd was still seen
    assert db["incident"].get(healthy)["mass_incident_at"] is not None
    assert "crowd" in caplog.text and f"incident:{broken}" in caplog.text

    [failure] = [dict(r) for r in db.query("SELECT * FROM monitor_failure")]
    assert failure["monitor"] == "crowd" and failure["subject"] == f"incident:{broken}"
    assert "ValueError" in failure["error"]
    [told] = _alerts(db, "monitor_failed")
    assert json.loads(told["audience"]) == ["lead"]
    assert told["incident_id"] == broken and told["level"] == "critical"
    run = _runs(db, "crowd")[0]
    assert run["finished_at"] is not None and run["failures"] == 1

    second = run_monitor(crowd.MONITOR, app.config, T0 + 3 * MINUTE)
    assert second["failed"] == [f"incident:{broken}"]  # tried again every period
    assert db["monitor_failure"].count == 2
    assert len(_alerts(db, "monitor_failed")) == 1  # told once


def test_a_failed_run_is_recorded_with_its_error_and_tried_again_at_the_next_tick(app, api, db, lead):
    send(api, [complaint(T0 - MINUTE)])
    broken_settings = {**app.config, "SURGE_RULES": {"*": {"window_minutes": 60}}}  # a rule without its threshold
    with app.app_context(), pytest.raises(KeyError):
        run_monitor(surge.MONITOR, broken_settings, T0)
    [run] = _runs(db, "surge")
    assert run["failed_at"] == to_iso(T0) and run["finished_at"] is None
    assert run["error"].startswith("KeyError: ")
    assert len(_alerts(db, "monitor_failed")) == 1

    # the same period, at the next tick (MONITOR_TICK_SECONDS shorter than the period): taken again and finished
    with app.app_context():
        summary = run_monitor(surge.MONITOR, app.config, T0 + timedelta(seconds=20))
    assert summary is not None and summary["failed"] == []
    [run] = _runs(db, "surge")
    assert run["finished_at"] is not None and run["failed_at"] is None and run["error"] is None


def test_the_monitor_health_page_and_api_show_runs_failures_and_quarantine(app, db, api, login, lead):
    send(api, [complaint(T0 - MINUTE)])
    broken_settings = {**app.config, "SURGE_RULES": {"*": {"window_minutes": 60}}}
    with app.app_context():
        with pytest.raises(KeyError):
            run_monitor(surge.MONITOR, broken_settings, T0)
        run_monitor(crowd.MONITOR, app.config, T0)
    health = api("lead", "GET", "/api/v1/monitors")
    assert health.status_code == 200, health.json
    by_id = {m["id"]: m for m in health.json["monitors"]}
    assert by_id["surge"]["state"] == "failed" and by_id["surge"]["last_error"].startswith("KeyError: ")
    assert by_id["crowd"]["state"] == "ok" and by_id["crowd"]["last_success_at"] is not None
    assert by_id["timers"]["state"] == "never"
    assert api("team", "GET", "/api/v1/monitors").status_code == 200
    for role in ("executive", "legal", "branch_hebei"):
        assert api(role, "GET", "/api/v1/monitors").status_code == 403
    page = login("lead").get("/monitors")
    assert page.status_code == 200
    assert "KeyError" in page.get_data(as_text=True)


# --- quarantine ----------------------------------------------------------------------------------


def test_a_poisoned_intake_batch_is_quarantined_and_a_valid_surge_of_another_cause_still_opens(app, api, db, login):
    NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    settings = {**app.config, "SURGE_RULES": rules(baseline_min=10**9)}
    # The API now refuses a Shijiazhuang branch sent with Tangshan's city code ...
    refused = api("team", "POST", "/api/v1/complaints", json=[complaint(NOW - MINUTE, branch="HB-SJZ-01", city_code="130200")])
    assert refused.status_code == 422
    assert refused.json["details"] == [{"field": "branch_code", "message": "is not in city 130200"}]
    # ... but such a batch may already be stored (sent before this check, or its branch closed since): 25 of them
    send(api, [complaint(NOW - MINUTE, cause="dividend_misselling", branch="HB-SJZ-01") for _ in range(25)])
    raw = sqlite3.connect(app.config["DATABASE"])
    raw.execute("UPDATE intake_complaint SET city_code = '130200' WHERE cause_code = 'dividend_misselling'")
    raw.commit()
    raw.close()
    # and a valid surge of another cause in Jiangsu
    good = send(api, [complaint(NOW - MINUTE, cause="zero_yield", province="320000") for _ in range(20)])
    catalogue.save_entry(db, "cause", "dividend_misselling", {"name": "分红险销售误导"}, Actor(None, "test", "test"), NOW)

    with app.app_context():
        summary = run_monitor(surge.MONITOR, settings, NOW)
    assert summary["failed"] == []
    jiangsu = [dict(r) for r in db.query("SELECT * FROM incident WHERE cause = 'zero_yield'")]
    assert len(jiangsu) == 1 and summary["opened"] == [jiangsu[0]["id"]]
    assert {r[0] for r in db.execute(f"SELECT incident_id FROM intake_complaint WHERE id IN ({','.join(map(str, good))})")} == {jiangsu[0]["id"]}
    held = [dict(r) for r in db.query("SELECT * FROM intake_complaint WHERE cause_code = 'dividend_misselling'")]
    assert len(held) == 25 and all(r["quarantined_at"] == to_iso(NOW) and r["incident_id"] is None for r in held)
    assert all("branch_code is not in city 130200" in r["quarantine_reason"] for r in held)
    assert db.execute("SELECT count(*) FROM incident WHERE cause = 'dividend_misselling'").fetchone()[0] == 0
    quarantine_alerts = _alerts(db, "intake_quarantined")
    assert len(quarantine_alerts) == 1
    assert "分红险销售误导" in quarantine_alerts[0]["message"] and "dividend_misselling" not in quarantine_alerts[0]["message"]  # the cause by name

    with app.app_context():
        again = run_monitor(surge.MONITOR, settings, NOW + MINUTE)  # nothing retried, nothing fails
    assert again["failed"] == [] and again["opened"] == []

    health = api("lead", "GET", "/api/v1/monitors").json
    assert len(health["quarantined"]) == 25
    # the lead fixes the city and puts one back in line: it is attached at the next run
    first = held[0]["id"]
    raw = sqlite3.connect(app.config["DATABASE"])
    raw.execute("UPDATE intake_complaint SET city_code = '130100' WHERE cause_code = 'dividend_misselling'")
    raw.commit()
    raw.close()
    released = api("lead", "POST", f"/api/v1/complaints/{first}/release")
    assert released.status_code == 200 and len(released.json["quarantined"]) == 24
    assert api("team", "POST", f"/api/v1/complaints/{first}/release").status_code == 403
    assert api("lead", "POST", f"/api/v1/complaints/{first}/release").status_code == 404  # no longer quarantined


# --- one clock -----------------------------------------------------------------------------------


def test_with_a_clock_file_the_api_stamps_the_moved_time(app, api, db, accounts, tmp_path):
    moved = datetime(2027, 1, 14, 3, 0, tzinfo=timezone.utc)
    clock = tmp_path / "clock"
    clock.write_text(to_iso(moved))
    app.config["CLOCK_FILE"] = str(clock)
    created = api("lead", "POST", "/api/v1/incidents", json={"title": "演练", "cause": "drill", "product": "分红险", "severity": "light"})
    assert created.status_code == 201
    incident_id = created.json["id"]
    assert db["incident"].get(incident_id)["opened_at"] == to_iso(moved)
    made = api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json={"name": "赵某", "phone": "13912340000", "province_code": "130000"})
    assert made.status_code == 201, made.json
    person = db["complainant"].get(made.json["ids"][0])
    assert person["received_at"] == to_iso(moved)
    assert person["first_response_due_at"] == to_iso(moved + 2 * HOUR)  # light
    clock.write_text(to_iso(moved + 3 * HOUR))
    listed = api("lead", "GET", f"/api/v1/incidents/{incident_id}/complainants?overdue=first_response")
    assert listed.json["total"] == 1
    board = api("lead", "GET", f"/api/v1/incidents/{incident_id}/board")
    assert board.json["generated_at"] == to_iso(moved + 3 * HOUR)
    assert board.json["overdue_first_response"]["count"] == 1
    contact = api("lead", "POST", f"/api/v1/complainants/{person['id']}/contacts", json={"channel": "phone", "said": "已回电"})
    assert contact.json["contacted_at"] == to_iso(moved + 3 * HOUR)
    audit_times = {r[0] for r in db.execute("SELECT at FROM audit_log WHERE table_name IN ('incident', 'complainant', 'contact')")}
    assert audit_times == {to_iso(moved), to_iso(moved + 3 * HOUR)}


# --- input that would weaken a clock ----------------------------------------------------------------


@pytest.fixture
def person_id(api, incident):
    return incident["hebei_outlet_1"]


def test_a_contact_before_the_complaint_was_received_is_refused(api, db, person_id):
    received = db["complainant"].get(person_id)["received_at"]
    before = row_counts(db)
    early = (datetime.fromisoformat(received) - 3 * HOUR).isoformat()
    response = api("team", "POST", f"/api/v1/complainants/{person_id}/contacts", json={"channel": "phone", "said": "已联系", "contacted_at": early})
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "contacted_at"
    assert "before the complaint was received" in response.json["details"][0]["message"]
    assert row_counts(db) == before
    assert db["complainant"].get(person_id)["first_contact_at"] is None


def test_a_receipt_in_the_future_is_refused_beyond_the_skew(api, db, incident):
    from console.clock import utcnow

    before = row_counts(db)
    later = to_iso(utcnow() + timedelta(days=30))
    response = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json={"name": "钱某", "phone": "13912345670", "province_code": "130000", "received_at": later},
    )
    assert response.status_code == 422
    assert response.json["details"] == [{"field": "received_at", "message": "is in the future: a complaint cannot be received after now"}]
    intake = api("team", "POST", "/api/v1/complaints", json=complaint(utcnow() + timedelta(days=30)))
    assert intake.status_code == 422 and intake.json["details"][0]["field"] == "received_at"
    assert row_counts(db) == before
    within = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json={"name": "钱某", "phone": "13912345670", "province_code": "130000", "received_at": to_iso(utcnow() + timedelta(minutes=2))},
    )
    assert within.status_code == 201  # a clock a little ahead is not refused


@pytest.mark.parametrize(
    "phone, accepted",
    [
        ("1381234567", False),  # 10 digits
        ("1234567", False),  # 7 digits: no area code
        ("12812345678", False),  # 12x is no mobile prefix
        ("88886666", False),  # a landline without its area code
        ("13812345678", True),
        ("138 1234 5678", True),
        ("+86 138-1234-5678", True),
        ("010-88886666", True),
        ("0311-8888123", True),
        ("+852 2123 4567", True),
    ],
)
def test_phone_numbers_are_mobiles_or_landlines_with_their_area_code(api, db, incident, phone, accepted):
    before = row_counts(db)
    response = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json={"name": "孙某", "phone": phone, "province_code": "130000"})
    if accepted:
        assert response.status_code == 201, response.json
    else:
        assert response.status_code == 422
        assert response.json["details"][0]["field"] == "phone"
        assert row_counts(db) == before


def test_only_the_lead_corrects_the_receipt_with_a_reason_and_the_deadlines_follow(api, db, person_id):
    team = api("team", "PATCH", f"/api/v1/complainants/{person_id}", json={"received_at": "2026-11-19T09:00:00+08:00", "reason": "补录"})
    assert team.status_code == 422
    assert {"field": "received_at", "message": "only the crisis lead may correct the time of receipt"} in team.json["details"]
    no_reason = api("lead", "PATCH", f"/api/v1/complainants/{person_id}", json={"received_at": "2026-11-19T09:00:00+08:00"})
    assert no_reason.status_code == 422
    done = api("lead", "PATCH", f"/api/v1/complainants/{person_id}", json={"received_at": "2026-11-19T09:00:00+08:00", "reason": "按原始受理单更正"})
    assert done.status_code == 200, done.json
    assert done.json["received_at"] == "2026-11-19T01:00:00+00:00"
    assert done.json["decision_last_day"] == "2026-12-04"
    # the fixture's incident is severe: the supervisor is due 30 minutes after the corrected receipt
    assert (done.json["severity"], done.json["supervisor_due_at"]) == ("severe", "2026-11-19T01:30:00+00:00")
    [entry] = [dict(r) for r in db.query("SELECT * FROM audit_log WHERE table_name = 'complainant' AND row_id = ? AND action = 'update'", [person_id])]
    assert json.loads(entry["after"])["reason"] == "按原始受理单更正"


# --- alerts name and page their complainants -------------------------------------------------------


def test_alerts_page_by_cursor_and_name_every_complainant(app, api, db, lead):
    from console.alerts import raise_alert
    from console.db import write

    ids = list(range(1, 451))
    with write(db), app.app_context():
        for n in range(120):
            raise_alert(
                db,
                key=f"test:{n}",
                kind="first_response",
                level="warning",
                message=f"提醒 {n}",
                now=T0 + n * MINUTE,
                audience={"lead", "team"},
                data={"complainant_ids": ids, "count": len(ids)},
                settings=app.config,
            )
        raise_alert(
            db,
            key="test:hebei",
            kind="missed_update",
            level="warning",
            message="河北",
            now=T0,
            audience={"team"},
            province_code="130000",
            branch_code="HB-SJZ-01",
            settings=app.config,
        )
    seen, cursor = [], None
    while True:
        page = api("lead", "GET", "/api/v1/alerts?per_page=50" + (f"&before_id={cursor}" if cursor else ""))
        assert page.status_code == 200, page.json
        seen += [a["id"] for a in page.json["alerts"]]
        cursor = page.json["next_before_id"]
        if cursor is None:
            break
    assert len(seen) == 121 and len(set(seen)) == 121 and seen == sorted(seen, reverse=True)
    first_kind = api("lead", "GET", "/api/v1/alerts?kind=first_response&per_page=1").json["alerts"][0]
    assert json.loads(first_kind["data"])["complainant_ids"] == ids  # every one, not the first 200
    outlet = api("branch_outlet", "GET", "/api/v1/alerts").json
    assert [a["message"] for a in outlet["alerts"]] == ["河北"] and outlet["next_before_id"] is None
    assert api("lead", "GET", "/api/v1/alerts?per_page=0").status_code == 422


def test_a_complaint_takes_its_own_severity_then_its_causes_then_its_incidents(app, api, db):
    NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    settings = {**app.config, "SURGE_RULES": rules(baseline_min=10**9)}
    entry = api("lead", "PUT", "/api/v1/catalogue/cause/misselling_severe", json={"name": "分红险误导销售", "severity": "severe"})
    assert entry.status_code == 200, entry.json
    assert entry.json["severity"] == "severe"
    assert api("lead", "PUT", "/api/v1/catalogue/cause/misselling_severe", json={"name": "x", "severity": "grave"}).status_code == 422
    rows = [complaint(NOW - MINUTE, cause="misselling_severe") for _ in range(19)]
    rows.append(complaint(NOW - MINUTE, cause="misselling_severe", severity="light"))  # judged light when received
    send(api, rows)
    with app.app_context():
        run_monitor(surge.MONITOR, settings, NOW)
    severities = [r[0] for r in db.execute("SELECT severity FROM complainant ORDER BY id")]
    assert severities == ["severe"] * 19 + ["light"]
    assert db.execute("SELECT count(*) FROM complainant WHERE supervisor_due_at IS NOT NULL").fetchone()[0] == 19
