"""Complaint intake over the API and the surge rule that turns many complaints
with one cause in one place into an incident (console.intake, monitors/surge.py).

Complaints carry an explicit ``received_at``; the rule runs with an explicit
``now``: nothing here depends on the wall clock.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest

from console import intake
from console.audit import Actor
from console.clock import to_iso
from monitors import surge
from monitors.runner import run_monitor

from .conftest import row_counts

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ACTOR = Actor(user_id=None, username="surge test", route="test")
HUGE = 10**9


def rules(**star):
    base = {"window_minutes": 1440, "threshold": 20, "baseline_days": 28, "baseline_factor": 3.0, "baseline_min": 5}
    return {"*": {**base, **star}}


@pytest.fixture
def threshold_only(app):
    """The default rule with the baseline arm switched off, to test the threshold alone."""
    return {**app.config, "SURGE_RULES": rules(baseline_min=HUGE)}


_serial = iter(range(1, 10**9))


def complaint(received_at, cause="zero_yield", product="结构性存款", province="130000", branch=None, **extra):
    n = next(_serial)
    row = {
        "source": "hotline-95555",
        "external_id": f"HL-{n}",
        "channel": "hotline",
        "product": product,
        "cause_code": cause,
        "province_code": province,
        "customer_name": f"客户{n}",
        "customer_phone": f"139{n:08d}",
        "text": "结构性存款到期收益为零",
        "received_at": to_iso(received_at),
    }
    if branch:
        row["branch_code"] = branch
    row.update(extra)
    return row


def send(api, rows, user="team"):
    response = api(user, "POST", "/api/v1/complaints", json=rows)
    assert response.status_code == 201, response.json
    assert response.json["count"] == len(rows)
    return response.json["ids"]


def incidents_of(db):
    return [dict(r) for r in db.query("SELECT * FROM incident ORDER BY id")]


def holder(db, complaint_ids):
    """The one incident the given intake complaints were attached to."""
    marks = ",".join("?" * len(complaint_ids))
    held = {r["incident_id"] for r in db.query(f"SELECT incident_id FROM intake_complaint WHERE id IN ({marks})", complaint_ids)}
    assert len(held) == 1 and None not in held, held
    return dict(db["incident"].get(held.pop()))


def surge_alerts(db):
    rows = [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'surge' ORDER BY id")]
    for r in rows:
        r["audience"] = json.loads(r["audience"])
        r["data"] = json.loads(r["data"])
    return rows


# --- intake ----------------------------------------------------------------------------------


def test_intake_stores_complaints_and_refuses_a_resend(api, db):
    row = complaint(NOW - HOUR)
    ids = send(api, [row])
    stored = db["intake_complaint"].get(ids[0])
    assert stored["cause_code"] == "zero_yield"
    assert stored["received_at"] == to_iso(NOW - HOUR)
    assert stored["incident_id"] is None
    before = row_counts(db)
    again = api("team", "POST", "/api/v1/complaints", json=row)
    assert again.status_code == 409
    assert row_counts(db) == before


def test_intake_refuses_an_unknown_province_and_writes_nothing(api, db):
    before = row_counts(db)
    response = api("team", "POST", "/api/v1/complaints", json=[complaint(NOW), complaint(NOW, province="999999")])
    assert response.status_code == 422
    assert any(d["field"].endswith("province_code") for d in response.json["details"])
    assert row_counts(db) == before


def test_intake_is_closed_to_branch_contacts_and_executives(api, db):
    for user in ("branch_hebei", "executive"):
        assert api(user, "POST", "/api/v1/complaints", json=complaint(NOW)).status_code == 403
    assert db["intake_complaint"].count == 0


# --- the threshold ----------------------------------------------------------------------------


def test_nineteen_complaints_are_no_surge_the_twentieth_opens_an_incident(app, api, db, threshold_only, ctx):
    first = send(api, [complaint(NOW - (i + 1) * 10 * MINUTE) for i in range(19)])
    summary = intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    assert summary["opened"] == []
    assert incidents_of(db) == []
    assert surge_alerts(db) == []

    twentieth = send(api, [complaint(NOW - MINUTE)])
    summary = intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    opened = incidents_of(db)
    assert len(opened) == 1, [(i["id"], i["title"], db["complainant"].count_where("incident_id = ?", [i["id"]])) for i in opened]
    [incident] = opened
    assert summary["opened"] == [incident["id"]]
    assert incident["status"] == "monitoring"
    assert incident["cause"] == "zero_yield"
    assert incident["product"] == "结构性存款"
    assert incident["opened_at"] == to_iso(NOW)
    # its first complainants are exactly those twenty complaints
    members = [dict(r) for r in db.query("SELECT * FROM complainant WHERE incident_id = ? ORDER BY id", [incident["id"]])]
    assert len(members) == 20
    linked = [dict(r) for r in db.query("SELECT * FROM intake_complaint ORDER BY id")]
    assert [c["id"] for c in linked] == first + twentieth
    assert all(c["incident_id"] == incident["id"] for c in linked)
    assert sorted(c["complainant_id"] for c in linked) == [m["id"] for m in members]
    assert sorted(m["received_at"] for m in members) == sorted(c["received_at"] for c in linked)
    assert all(m["province_code"] == "130000" and m["status"] == "new" for m in members)
    # the crisis team is told
    alerts = surge_alerts(db)
    assert alerts
    assert all(a["incident_id"] == incident["id"] and a["audience"] == ["lead", "team"] for a in alerts)
    assert any(a["data"]["surge"]["dimension"] == "cause_code" and a["data"]["surge"]["count"] == 20 for a in alerts)
    assert all(a["province_code"] == "130000" for a in alerts)


def test_rerunning_the_surge_rule_opens_nothing_new_and_attaches_later_complaints(app, api, db, threshold_only, ctx):
    ids = send(api, [complaint(NOW - (i + 1) * MINUTE) for i in range(20)])
    intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    incident = holder(db, ids)
    incident_count = len(incidents_of(db))
    alert_count = len(surge_alerts(db))
    assert alert_count >= 1

    for later in (NOW, NOW + MINUTE, NOW + HOUR):
        summary = intake.run_surge_rule(db, later, threshold_only, ACTOR)
        assert summary["opened"] == []
        assert summary["attached"] == 0
    assert len(incidents_of(db)) == incident_count
    assert len(surge_alerts(db)) == alert_count

    # three more complaints of that cause, one from another province: attached on the next run
    later = send(api, [complaint(NOW + 2 * HOUR), complaint(NOW + 2 * HOUR), complaint(NOW + 2 * HOUR, province="440000")])
    summary = intake.run_surge_rule(db, NOW + 2 * HOUR + MINUTE, threshold_only, ACTOR)
    assert summary["opened"] == []
    assert summary["attached"] == 3
    assert holder(db, later)["id"] == incident["id"]
    assert db["complainant"].count_where("incident_id = ?", [incident["id"]]) == 23
    assert db["intake_complaint"].count_where("incident_id IS NULL") == 0
    assert len(incidents_of(db)) == incident_count
    assert len(surge_alerts(db)) == alert_count


def test_other_causes_and_provinces_do_not_add_up(app, api, db, threshold_only, ctx):
    rows = [complaint(NOW - MINUTE, province="130000") for _ in range(10)]
    rows += [complaint(NOW - MINUTE, province="440000") for _ in range(10)]
    rows += [complaint(NOW - MINUTE, cause="fee_error", product="信用卡") for _ in range(10)]
    send(api, rows)
    intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    assert incidents_of(db) == []


def test_complaints_older_than_the_window_do_not_count(app, api, db, threshold_only, ctx):
    send(api, [complaint(NOW - HOUR) for _ in range(19)])
    send(api, [complaint(NOW - DAY)])  # exactly at the window's start: outside (start, now]
    assert [s for s in intake.detect_surges(db, NOW, threshold_only) if s["dimension"] == "cause_code"] == []
    # one second earlier the same complaint is inside the window
    [inside] = [s for s in intake.detect_surges(db, NOW - SECOND, threshold_only) if s["dimension"] == "cause_code"]
    assert inside["count"] == 20
    assert inside["reason"] == "threshold"
    intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    assert incidents_of(db) == []


def test_default_rule_with_a_steady_history_waits_for_the_threshold(app, api, db, ctx):
    """With the shipped defaults and 7 complaints a day for four weeks, 19 in a
    day is under 3x the baseline and under the threshold; 20 is a surge."""
    start = NOW - DAY
    history = [complaint(start - k * DAY - h * HOUR) for k in range(28) for h in range(1, 8)]
    send(api, history)
    window = send(api, [complaint(NOW - (i + 1) * 5 * MINUTE) for i in range(19)])
    intake.run_surge_rule(db, NOW, app.config, ACTOR)
    assert incidents_of(db) == []
    window += send(api, [complaint(NOW - MINUTE)])
    summary = intake.run_surge_rule(db, NOW, app.config, ACTOR)
    assert summary["opened"]
    incident = holder(db, window)
    assert incident["cause"] == "zero_yield"
    assert db["complainant"].count_where("incident_id = ?", [incident["id"]]) == 20
    assert db["intake_complaint"].count_where("incident_id IS NULL") == len(history)


# --- the baseline ------------------------------------------------------------------------------


def per_cause_settings(app, per_cause):
    """'*' never fires; the causes 'quiet' and 'steady' get ``per_cause``."""
    return {**app.config, "SURGE_RULES": {**rules(threshold=HUGE, baseline_min=HUGE), "quiet": per_cause, "steady": per_cause}}


FULL_RULE = {"window_minutes": 1440, "baseline_days": 28, "threshold": HUGE, "baseline_factor": 3, "baseline_min": 5}


def test_a_cause_far_above_its_baseline_surges_a_steady_one_does_not(app, api, db, ctx):
    settings = per_cause_settings(app, FULL_RULE)
    start = NOW - DAY  # the window is (start, NOW]; the baseline the 28 days before it
    rows = []
    for k in range(28):
        day = start - k * DAY - 12 * HOUR
        rows.append(complaint(day, cause="quiet", product="甲产品"))
        rows += [complaint(day + i * MINUTE, cause="steady", product="乙产品") for i in range(5)]
    send(api, rows)
    send(api, [complaint(NOW - (i + 1) * HOUR, cause="quiet", product="甲产品") for i in range(4)])
    send(api, [complaint(NOW - (i + 1) * HOUR, cause="steady", product="乙产品") for i in range(5)])

    # four is under baseline_min even though it is four times the baseline
    assert [s for s in intake.detect_surges(db, NOW, settings) if s["value"] == "quiet"] == []

    send(api, [complaint(NOW - 30 * MINUTE, cause="quiet", product="甲产品")])
    surges = intake.detect_surges(db, NOW, settings)
    assert [(s["value"], s["reason"], s["count"], s["baseline"]) for s in surges] == [("quiet", "baseline", 5, 1.0)]

    summary = intake.run_surge_rule(db, NOW, settings, ACTOR)
    assert len(summary["opened"]) == 1
    [incident] = incidents_of(db)
    assert incident["cause"] == "quiet"
    assert incident["status"] == "monitoring"
    assert db["complainant"].count_where("incident_id = ?", [incident["id"]]) == 5
    assert db["intake_complaint"].count_where("cause_code = 'steady' AND incident_id IS NOT NULL") == 0


# --- through the monitor ---------------------------------------------------------------------------


def test_the_surge_monitor_runs_the_rule_once_per_period(app, api, db):
    settings = {**app.config, "SURGE_RULES": rules(baseline_min=HUGE)}
    ids = send(api, [complaint(NOW - MINUTE) for _ in range(20)])
    with app.app_context():
        summary = run_monitor(surge.MONITOR, settings, NOW)
        assert summary["opened"] and summary["attached"] == 20
        assert holder(db, ids)["id"] in summary["opened"]
        assert run_monitor(surge.MONITOR, settings, NOW) is None
        again = run_monitor(surge.MONITOR, settings, NOW + MINUTE)
        assert again["opened"] == [] and again["attached"] == 0
    assert len(incidents_of(db)) == len(summary["opened"])
    audit = list(db.query("SELECT * FROM audit_log WHERE table_name = 'incident' AND action = 'create'"))
    assert audit and {a["username"] for a in audit} == {"surge monitor"}


# --- the lead decides -------------------------------------------------------------------------------


@pytest.fixture
def surged(app, api, db, threshold_only):
    """The incident a surge of 20 complaints opened (the one holding them)."""
    ids = send(api, [complaint(NOW - MINUTE) for _ in range(20)])
    with app.test_request_context():
        intake.run_surge_rule(db, NOW, threshold_only, ACTOR)
    incident = holder(db, ids)
    assert incident["status"] == "monitoring"
    return incident["id"]


@pytest.mark.parametrize("decision", ["active", "closed"])
def test_the_lead_activates_or_dismisses_a_surge_incident_and_it_is_audited(api, db, accounts, surged, decision):
    reason = "确认为群体性投诉，启动应急预案" if decision == "active" else "误报：重复导入"
    response = api("lead", "POST", f"/api/v1/incidents/{surged}/status", json={"status": decision, "reason": reason})
    assert response.status_code == 200, response.json
    assert response.json["status"] == decision
    row = db["incident"].get(surged)
    assert row["status"] == decision
    if decision == "active":
        assert row["activated_at"] is not None
    else:
        assert row["closed_at"] is not None
    [entry] = db.query("SELECT * FROM audit_log WHERE table_name = 'incident' AND row_id = ? AND action = 'status'", [surged])
    assert entry["username"] == "lead"
    assert entry["user_id"] == accounts["lead"]
    assert json.loads(entry["before"]) == {"status": "monitoring"}
    assert json.loads(entry["after"]) == {"status": decision, "reason": reason}


def test_a_team_member_cannot_activate_or_dismiss(api, db, surged):
    before = row_counts(db)
    for decision in ("active", "closed"):
        response = api("team", "POST", f"/api/v1/incidents/{surged}/status", json={"status": decision, "reason": "我来决定"})
        assert response.status_code == 403
    assert db["incident"].get(surged)["status"] == "monitoring"
    assert row_counts(db) == before


def test_a_decision_needs_a_reason(api, db, surged):
    response = api("lead", "POST", f"/api/v1/incidents/{surged}/status", json={"status": "active", "reason": ""})
    assert response.status_code == 422
    assert db["incident"].get(surged)["status"] == "monitoring"


def test_after_a_dismissal_a_new_surge_opens_a_new_incident(app, api, db, surged, threshold_only):
    assert api("lead", "POST", f"/api/v1/incidents/{surged}/status", json={"status": "closed", "reason": "误报"}).status_code == 200
    later = NOW + 2 * DAY
    ids = send(api, [complaint(later - MINUTE) for _ in range(20)])
    with app.test_request_context():
        summary = intake.run_surge_rule(db, later, threshold_only, ACTOR)
    fresh = holder(db, ids)
    assert fresh["id"] != surged
    assert fresh["id"] in summary["opened"]
    assert fresh["status"] == "monitoring"
    assert db["complainant"].count_where("incident_id = ?", [surged]) == 20
    assert db["complainant"].count_where("incident_id = ?", [fresh["id"]]) == 20


def test_a_per_cause_rule_may_name_only_what_it_changes(app, api, db, ctx):
    """intake._rule merges a cause's rule over '*', so a rule giving only
    threshold / baseline_factor / baseline_min is complete."""
    settings = per_cause_settings(app, {"threshold": HUGE, "baseline_factor": 3, "baseline_min": 5})
    start = NOW - DAY
    send(api, [complaint(start - k * DAY - 12 * HOUR, cause="quiet", product="甲产品") for k in range(28)])
    send(api, [complaint(NOW - (i + 1) * HOUR, cause="quiet", product="甲产品") for i in range(5)])
    intake.run_surge_rule(db, NOW, settings, ACTOR)
    [incident] = incidents_of(db)
    assert incident["cause"] == "quiet"
    assert db["complainant"].count_where("incident_id = ?", [incident["id"]]) == 5


def test_a_cause_with_a_shorter_baseline_period_is_measured_over_its_own_days(app, api, db, ctx):
    """'*' looks back 28 days, cause 'quiet' only 7: its baseline is the
    complaints of its own 7 days per day (1), not 28 days' worth over 7 (4)."""
    short = {**FULL_RULE, "baseline_days": 7}
    settings = per_cause_settings(app, short)
    start = NOW - DAY
    send(api, [complaint(start - k * DAY - 12 * HOUR, cause="quiet", product="甲产品") for k in range(28)])
    send(api, [complaint(NOW - (i + 1) * HOUR, cause="quiet", product="甲产品") for i in range(5)])
    surges = [s for s in intake.detect_surges(db, NOW, settings) if s["value"] == "quiet"]
    assert [(s["reason"], s["count"], s["baseline"]) for s in surges] == [("baseline", 5, 1.0)]
