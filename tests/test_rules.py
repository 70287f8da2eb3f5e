"""Time-based rules, driven by an explicit clock: the missed hourly update
(monitors/missed_updates.py), the timers (monitors/timers.py) and the crowd
rules (console.updates.check_crowd and monitors/crowd.py).

Nothing here sleeps: every rule is run with the ``now`` it should see.
Incidents and complainants are created through the domain functions with an
explicit ``now`` so their clocks start at known instants.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest

from console import alerts as alerts_module
from console import complainants, contacts, incidents, updates
from console.access import SYSTEM, Viewer
from console.caller import Caller
from console.clock import to_iso
from console.schemas import ComplainantIn, ComplainantUpdate, ContactIn, HourlyUpdateIn, IncidentIn
from monitors import crowd, missed_updates, timers
from monitors.runner import run_monitor

# 09:00 in Shanghai: a whole working day fits before the local date changes.
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

PLACES = {
    "HB-SJZ-01": ("130000", "130100"),
    "HB-SJZ-02": ("130000", "130100"),
    "GD-GZ-01": ("440000", "440100"),
}


@pytest.fixture
def lead_viewer(accounts):
    return Viewer(id=accounts["lead"], username="lead", role="lead")


def person(branch, n=0, **extra):
    province, city = PLACES[branch]
    return ComplainantIn(name=f"投诉人{n}", phone=f"1380000{n:04d}", province_code=province, city_code=city, branch_code=branch, **extra)


def open_incident(app, db, actor, at, *, severity="medium", status="active", people=("HB-SJZ-01",)):
    """An incident opened (and, if 'active', activated) at ``at``, with complainants received then.

    ``people``: branch codes, or ComplainantIn items. Returns (incident_id, complainant ids).
    """
    data = IncidentIn(title="邮政分红险投诉", cause="misselling", product="分红险", severity=severity, status=status)
    incident_id = incidents.create_incident(db, data, actor, at, settings=app.config)
    items = [p if isinstance(p, ComplainantIn) else person(p, i) for i, p in enumerate(people)]
    ids = complainants.create_complainants(db, incident_id, items, Caller(SYSTEM, actor, at), app.config) if items else []
    return incident_id, ids


def alerts_of(db, kind=None, incident_id=None):
    where, params = ["1 = 1"], []
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if incident_id is not None:
        where.append("incident_id = ?")
        params.append(incident_id)
    rows = [dict(r) for r in db.query(f"SELECT * FROM alert WHERE {' AND '.join(where)} ORDER BY id", params)]
    for r in rows:
        r["audience"] = json.loads(r["audience"])
        r["data"] = json.loads(r["data"])
    return rows


def post(app, db, viewer, actor, incident_id, at, branch="HB-SJZ-01", **fields):
    fields.setdefault("people_on_site", 0)
    fields.setdefault("mood", "calm")
    return updates.post_update(db, incident_id, HourlyUpdateIn(branch_code=branch, **fields), Caller(viewer, actor, at), app.config)


# --- 1. missed hourly updates ----------------------------------------------------------------


def missed(db, incident_id=None):
    return alerts_of(db, "missed_update", incident_id)


def test_settings_defaults_the_rules_below_rely_on(app):
    assert app.config["HOURLY_UPDATE_MINUTES"] == 60
    assert app.config["HOURLY_UPDATE_GRACE_MINUTES"] == 10
    assert app.config["GROUP_VISIT_PEOPLE"] == 3
    assert app.config["MAJOR_COMPLAINANTS_IN_PERSON"] == 20
    assert app.config["CROWD_PEOPLE"] == 100
    assert app.config["OUTLET_CLOSED_HOURS_ONE"] == 4
    assert app.config["OUTLET_CLOSED_HOURS_TWO"] == 2


def test_missed_update_nudges_at_the_hour_plus_grace_then_alerts_the_lead_an_hour_later(app, db, lead, ctx):
    incident_id, _ = open_incident(app, db, lead, T0)
    run = lambda now: missed_updates.run(db, now, app.config, None)  # noqa: E731

    assert run(T0 + 70 * MINUTE - SECOND) == {"alerts": 0, "failed": []}
    assert missed(db) == []

    assert run(T0 + 70 * MINUTE) == {"alerts": 1, "failed": []}
    [nudge] = missed(db)
    assert nudge["level"] == "warning"
    assert nudge["incident_id"] == incident_id
    assert nudge["branch_code"] == "HB-SJZ-01"
    assert nudge["province_code"] == "130000"
    assert "branch:HB-SJZ-01" in nudge["audience"]
    assert nudge["raised_at"] == to_iso(T0 + 70 * MINUTE)

    # the same run again, and later runs inside the second hour, raise nothing new
    assert run(T0 + 70 * MINUTE) == {"alerts": 0, "failed": []}
    assert run(T0 + 130 * MINUTE - SECOND) == {"alerts": 0, "failed": []}
    assert len(missed(db)) == 1

    assert run(T0 + 130 * MINUTE) == {"alerts": 1, "failed": []}
    first, second = missed(db)
    assert first["id"] == nudge["id"]
    assert second["level"] == "critical"
    assert "lead" in second["audience"]
    assert "province:130000" in second["audience"]
    assert second["branch_code"] == "HB-SJZ-01"

    assert run(T0 + 130 * MINUTE) == {"alerts": 0, "failed": []}
    assert len(missed(db)) == 2


def test_missed_update_through_the_runner_runs_once_per_period(app, db, lead):
    open_incident(app, db, lead, T0)
    due = T0 + 70 * MINUTE
    with app.app_context():
        assert run_monitor(missed_updates.MONITOR, app.config, due - SECOND) == {"alerts": 0, "failed": []}
        assert run_monitor(missed_updates.MONITOR, app.config, due) == {"alerts": 1, "failed": []}
        # the same period again: the lease says it ran
        assert run_monitor(missed_updates.MONITOR, app.config, due) is None
        assert run_monitor(missed_updates.MONITOR, app.config, due + 30 * SECOND) is None
        # the next period runs, but finds nothing new to say
        assert run_monitor(missed_updates.MONITOR, app.config, due + MINUTE) == {"alerts": 0, "failed": []}
    assert len(missed(db)) == 1


def test_an_update_restarts_the_clock(app, db, lead, lead_viewer, ctx):
    incident_id, _ = open_incident(app, db, lead, T0)
    run = lambda now: missed_updates.run(db, now, app.config, None)  # noqa: E731

    post(app, db, lead_viewer, lead, incident_id, T0 + 50 * MINUTE)
    assert run(T0 + 70 * MINUTE) == {"alerts": 0, "failed": []}
    assert run(T0 + 120 * MINUTE - SECOND) == {"alerts": 0, "failed": []}
    assert missed(db) == []
    assert run(T0 + 120 * MINUTE) == {"alerts": 1, "failed": []}
    [nudge] = missed(db)
    assert nudge["level"] == "warning"
    assert nudge["data"]["clock_from"] == to_iso(T0 + 50 * MINUTE)


def test_an_update_after_the_nudge_prevents_the_second_level(app, db, lead, lead_viewer, ctx):
    incident_id, _ = open_incident(app, db, lead, T0)
    run = lambda now: missed_updates.run(db, now, app.config, None)  # noqa: E731

    assert run(T0 + 70 * MINUTE) == {"alerts": 1, "failed": []}
    post(app, db, lead_viewer, lead, incident_id, T0 + 75 * MINUTE)
    # the old clock would have given the critical alert here
    assert run(T0 + 130 * MINUTE) == {"alerts": 0, "failed": []}
    assert run(T0 + 145 * MINUTE - SECOND) == {"alerts": 0, "failed": []}
    assert [a["level"] for a in missed(db)] == ["warning"]
    # the new clock: a new nudge at update + 60 + grace
    assert run(T0 + 145 * MINUTE) == {"alerts": 1, "failed": []}
    assert [a["level"] for a in missed(db)] == ["warning", "warning"]


def test_an_update_posted_through_the_api_restarts_the_clock(app, db, api, accounts):
    """The API stamps updates with the real time: the incident is activated 'now' too."""
    from console.clock import from_iso

    created = api("lead", "POST", "/api/v1/incidents", json={"title": "t", "cause": "c", "product": "p", "severity": "light"})
    assert created.status_code == 201
    incident_id = created.json["id"]
    added = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident_id}/complainants",
        json={"name": "张三", "phone": "13800000000", "province_code": "130000", "branch_code": "HB-SJZ-01"},
    )
    assert added.status_code == 201
    activated = from_iso(db["incident"].get(incident_id)["activated_at"])
    posted = api("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", json={"people_on_site": 1, "mood": "calm"})
    assert posted.status_code == 201, posted.json
    posted_at = from_iso(posted.json["posted_at"])
    assert posted_at >= activated
    with app.app_context():
        missed_updates.run(db, posted_at + 70 * MINUTE - SECOND, app.config, None)
        assert missed(db) == []
        missed_updates.run(db, posted_at + 70 * MINUTE, app.config, None)
    assert [a["level"] for a in missed(db)] == ["warning"]


def test_a_missed_run_raises_each_due_alert_exactly_once(app, db, lead):
    incident_id, _ = open_incident(app, db, lead, T0)
    jump = T0 + 3 * HOUR
    with app.app_context():
        assert run_monitor(missed_updates.MONITOR, app.config, jump) == {"alerts": 2, "failed": []}
        assert run_monitor(missed_updates.MONITOR, app.config, jump + MINUTE) == {"alerts": 0, "failed": []}
        assert run_monitor(missed_updates.MONITOR, app.config, jump + 2 * MINUTE) == {"alerts": 0, "failed": []}
    rows = missed(db, incident_id)
    assert sorted(a["level"] for a in rows) == ["critical", "warning"]
    assert len({a["dedupe_key"] for a in rows}) == 2


def test_a_branch_without_open_complainants_is_never_nudged(app, db, lead, ctx):
    incident_id, (hebei_1, hebei_2) = open_incident(app, db, lead, T0, people=("HB-SJZ-01", "HB-SJZ-02"))
    # HB-SJZ-02's only complainant withdraws; GD-GZ-01 never had one
    complainants.update_complainant(db, hebei_2, ComplainantUpdate(status="withdrawn"), Caller(SYSTEM, lead, T0 + MINUTE), settings=app.config)
    for minutes in (70, 130, 300):
        missed_updates.run(db, T0 + minutes * MINUTE, app.config, None)
    rows = missed(db)
    assert {a["branch_code"] for a in rows} == {"HB-SJZ-01"}
    assert len(rows) == 2
    status = updates.reporting_status(db, incidents.get_incident(db, incident_id), T0 + 5 * HOUR, app.config)
    assert [b["branch_code"] for b in status] == ["HB-SJZ-01"]


def test_an_incident_in_monitoring_is_not_watched_until_activated(app, db, lead, ctx):
    incident_id, _ = open_incident(app, db, lead, T0, status="monitoring")
    assert missed_updates.run(db, T0 + 5 * HOUR, app.config, None) == {"alerts": 0, "failed": []}
    assert missed(db) == []
    activated = T0 + 6 * HOUR
    incidents.change_status(db, incident_id, "active", "确认群体性投诉", lead, activated, settings=app.config)
    assert missed_updates.run(db, activated + 70 * MINUTE - SECOND, app.config, None) == {"alerts": 0, "failed": []}
    assert missed_updates.run(db, activated + 70 * MINUTE, app.config, None) == {"alerts": 1, "failed": []}
    assert missed(db)[0]["data"]["clock_from"] == to_iso(activated)


def test_a_stood_down_incident_is_not_watched(app, db, lead, ctx):
    incident_id, _ = open_incident(app, db, lead, T0)
    incidents.change_status(db, incident_id, "stood_down", "平息", lead, T0 + 10 * MINUTE, settings=app.config)
    assert missed_updates.run(db, T0 + 5 * HOUR, app.config, None) == {"alerts": 0, "failed": []}
    assert missed(db) == []


# --- 2. timers ---------------------------------------------------------------------------------


def run_timers(db, now, settings):
    return timers.run(db, now, settings, None)


def test_a_promised_contact_that_passes_is_told_once_and_a_new_promise_again(app, db, lead, ctx):
    promise = T0 + 3 * HOUR
    people = [
        person("HB-SJZ-01", 1, next_contact_due_at=promise),
        person("HB-SJZ-02", 2, next_contact_due_at=promise),
        person("GD-GZ-01", 3),
    ]
    incident_id, (c1, c2, c3) = open_incident(app, db, lead, T0, severity="light", people=people)

    run_timers(db, promise - SECOND, app.config)
    assert alerts_of(db, "promised_contact") == []

    run_timers(db, promise, app.config)
    [alert] = alerts_of(db, "promised_contact")
    assert alert["incident_id"] == incident_id
    assert alert["data"]["count"] == 2
    assert sorted(alert["data"]["complainant_ids"]) == [c1, c2]
    assert "2" in alert["message"]
    assert {"lead", "team"} <= set(alert["audience"])

    run_timers(db, promise + MINUTE, app.config)
    run_timers(db, promise + HOUR, app.config)
    assert len(alerts_of(db, "promised_contact")) == 1

    # c1 is called back and promised another call; c2 stays overdue (already told)
    new_promise = T0 + 6 * HOUR
    contacts.add_contact(
        db,
        c1,
        ContactIn(channel="phone", said="仍在核查", promised="明日回电", next_contact_due_at=new_promise),
        Caller(SYSTEM, lead, T0 + 4 * HOUR),
        settings=app.config,
    )
    run_timers(db, new_promise - SECOND, app.config)
    assert len(alerts_of(db, "promised_contact")) == 1
    run_timers(db, new_promise, app.config)
    rows = alerts_of(db, "promised_contact")
    assert len(rows) == 2
    assert rows[1]["data"]["count"] == 1
    assert rows[1]["data"]["complainant_ids"] == [c1]
    run_timers(db, new_promise + MINUTE, app.config)
    assert len(alerts_of(db, "promised_contact")) == 2


# T0 is 09:00 on 23 November in Shanghai: the 15th calendar day after it is
# 8 December, which ends at midnight Shanghai time (16:00 UTC).
END_OF_DAY_15 = datetime(2026, 12, 8, 16, 0, tzinfo=timezone.utc)
END_OF_DAY_30 = datetime(2026, 12, 23, 16, 0, tzinfo=timezone.utc)


def test_decision_deadline_alerts_at_the_end_of_the_fifteenth_day(app, db, lead, ctx):
    incident_id, (c1,) = open_incident(app, db, lead, T0, severity="severe")
    assert db["complainant"].get(c1)["decision_due_at"] == to_iso(END_OF_DAY_15)
    assert complainants.get_complainant(db, c1, SYSTEM)["decision_last_day"] == "2026-12-08"
    run_timers(db, END_OF_DAY_15 - SECOND, app.config)
    assert alerts_of(db, "decision_deadline") == []
    run_timers(db, END_OF_DAY_15, app.config)
    [alert] = alerts_of(db, "decision_deadline")
    assert alert["data"]["complainant_ids"] == [c1]
    assert alert["data"]["count"] == 1
    run_timers(db, T0 + 16 * DAY, app.config)
    assert len(alerts_of(db, "decision_deadline")) == 1


def test_the_deadline_is_a_date_in_the_configured_time_zone(app, db, lead, ctx):
    # received at 23:30 Shanghai on 23 November (15:30 UTC): day 15 is still 8 December
    late = datetime(2026, 11, 23, 15, 30, tzinfo=timezone.utc)
    incident_id, (c1,) = open_incident(app, db, lead, late)
    assert db["complainant"].get(c1)["decision_due_at"] == to_iso(END_OF_DAY_15)
    # 00:30 Shanghai on 24 November (16:30 UTC on the 23rd): one day later
    early = datetime(2026, 11, 23, 16, 30, tzinfo=timezone.utc)
    incident_id, (c2,) = open_incident(app, db, lead, early)
    assert db["complainant"].get(c2)["decision_due_at"] == to_iso(END_OF_DAY_15 + DAY)


def test_a_level_one_extension_moves_the_deadline_to_the_end_of_the_thirtieth_day(app, db, api, lead):
    with app.test_request_context():
        incident_id, (c1,) = open_incident(app, db, lead, T0, severity="severe")
    response = api(
        "lead",
        "POST",
        f"/api/v1/complainants/{c1}/extensions",
        json={"level": 1, "reason": "需要调取销售录音", "approved_by": "王经理", "complainant_notified_at": to_iso(T0 + 2 * DAY)},
    )
    assert response.status_code == 200, response.json
    assert response.json["decision_due_at"] == to_iso(END_OF_DAY_30)
    assert response.json["decision_last_day"] == "2026-12-23"
    assert response.json["extension_level"] == 1
    with app.test_request_context():
        run_timers(db, END_OF_DAY_15, app.config)
        run_timers(db, T0 + 20 * DAY, app.config)
        assert alerts_of(db, "decision_deadline") == []
        run_timers(db, END_OF_DAY_30 - SECOND, app.config)
        assert alerts_of(db, "decision_deadline") == []
        run_timers(db, END_OF_DAY_30, app.config)
    [alert] = alerts_of(db, "decision_deadline")
    assert alert["data"]["complainant_ids"] == [c1]


TIERS = [("light", 2 * HOUR, 24 * HOUR), ("medium", 1 * HOUR, 48 * HOUR)]


@pytest.mark.parametrize("severity, first_response, resolution", TIERS)
def test_severity_tier_first_response_and_resolution(app, db, lead, ctx, severity, first_response, resolution):
    incident_id, (c1,) = open_incident(app, db, lead, T0, severity=severity)
    run_timers(db, T0 + first_response - SECOND, app.config)
    assert alerts_of(db, "first_response") == []
    run_timers(db, T0 + first_response, app.config)
    [alert] = alerts_of(db, "first_response")
    assert alert["data"]["complainant_ids"] == [c1]
    assert alert["incident_id"] == incident_id

    run_timers(db, T0 + resolution - SECOND, app.config)
    assert alerts_of(db, "resolution") == []
    assert len(alerts_of(db, "first_response")) == 1
    run_timers(db, T0 + resolution, app.config)
    [alert] = alerts_of(db, "resolution")
    assert alert["data"]["complainant_ids"] == [c1]
    run_timers(db, T0 + resolution + HOUR, app.config)
    assert len(alerts_of(db, "resolution")) == 1


@pytest.mark.parametrize("severity, first_response, resolution", TIERS)
def test_a_logged_first_contact_stops_the_first_response_timer(app, db, api, lead, severity, first_response, resolution):
    with app.test_request_context():
        incident_id, (c1, c2) = open_incident(app, db, lead, T0, severity=severity, people=("HB-SJZ-01", "HB-SJZ-02"))
    response = api(
        "lead", "POST", f"/api/v1/complainants/{c1}/contacts", json={"channel": "phone", "said": "已受理，正在核查", "contacted_at": to_iso(T0 + 30 * MINUTE)}
    )
    assert response.status_code == 201, response.json
    assert db["complainant"].get(c1)["first_contact_at"] == to_iso(T0 + 30 * MINUTE)
    with app.test_request_context():
        run_timers(db, T0 + first_response, app.config)
        run_timers(db, T0 + first_response + HOUR, app.config)
    [alert] = alerts_of(db, "first_response")
    assert alert["data"]["complainant_ids"] == [c2]  # only the one nobody answered


def test_a_severe_incident_alerts_at_once_and_again_if_unacknowledged_after_30_minutes(app, db, lead, ctx):
    incident_id, _ = open_incident(app, db, lead, T0, severity="severe", people=())
    run_timers(db, T0, app.config)
    [first] = alerts_of(db, "severe_incident")
    assert first["level"] == "critical"
    assert first["incident_id"] == incident_id
    assert first["raised_at"] == to_iso(T0)
    assert "executive" in first["audience"]

    run_timers(db, T0 + 30 * MINUTE - SECOND, app.config)
    assert alerts_of(db, "supervisor_not_told") == []
    run_timers(db, T0 + 30 * MINUTE, app.config)
    [second] = alerts_of(db, "supervisor_not_told")
    assert second["level"] == "critical"
    assert "lead" in second["audience"]
    run_timers(db, T0 + HOUR, app.config)
    assert len(alerts_of(db, "severe_incident")) == 1
    assert len(alerts_of(db, "supervisor_not_told")) == 1


def test_an_acknowledged_severe_alert_raises_no_second_one(app, db, api, lead):
    with app.test_request_context():
        incident_id, (c1,) = open_incident(app, db, lead, T0, severity="severe")
        run_timers(db, T0, app.config)
    [first] = alerts_of(db, "severe_incident")
    response = api("lead", "POST", f"/api/v1/alerts/{first['id']}/ack")
    assert response.status_code == 200, response.json
    assert response.json["acknowledged_at"] is not None
    # the supervisor was told of the incident, so of its severe complainant too
    assert db["complainant"].get(c1)["supervisor_told_at"] is not None
    with app.test_request_context():
        run_timers(db, T0 + 30 * MINUTE, app.config)
        run_timers(db, T0 + 2 * HOUR, app.config)
    assert [a["id"] for a in alerts_of(db, "severe_incident")] == [first["id"]]
    assert alerts_of(db, "supervisor_not_told") == []


def test_light_and_medium_incidents_raise_no_severe_alert(app, db, lead, ctx):
    open_incident(app, db, lead, T0, severity="light")
    open_incident(app, db, lead, T0, severity="medium")
    run_timers(db, T0 + HOUR, app.config)
    assert alerts_of(db, "severe_incident") == []
    assert alerts_of(db, "severe_complaint") == []
    assert alerts_of(db, "supervisor_not_told") == []


# --- 2b. severity per complaint (seed 004) ----------------------------------------------------


def test_each_complaint_runs_on_its_own_tier_inside_one_incident(app, db, lead, ctx):
    """A light complaint (rude tone) and a medium one (a promise not kept) in one medium incident."""
    incident_id, (light, medium) = open_incident(app, db, lead, T0, people=(person("HB-SJZ-01", 1, severity="light"), person("HB-SJZ-02", 2)))
    rows = {r["id"]: r for r in db.query("SELECT * FROM complainant WHERE incident_id = ?", [incident_id])}
    assert rows[light]["severity"] == "light" and rows[medium]["severity"] == "medium"  # the incident's, by default
    assert rows[light]["first_response_due_at"] == to_iso(T0 + 2 * HOUR)
    assert rows[light]["resolution_due_at"] == to_iso(T0 + 24 * HOUR)
    assert rows[medium]["first_response_due_at"] == to_iso(T0 + HOUR)
    assert rows[medium]["resolution_due_at"] == to_iso(T0 + 48 * HOUR)

    run_timers(db, T0 + HOUR - SECOND, app.config)
    assert alerts_of(db, "first_response") == []
    run_timers(db, T0 + HOUR, app.config)  # medium at 1:00:00
    [first] = alerts_of(db, "first_response")
    assert first["data"]["complainant_ids"] == [medium]
    run_timers(db, T0 + 2 * HOUR - SECOND, app.config)  # light not yet at 1:59:59
    assert len(alerts_of(db, "first_response")) == 1
    run_timers(db, T0 + 2 * HOUR, app.config)  # light at 2:00:00
    rows = alerts_of(db, "first_response")
    assert [r["data"]["complainant_ids"] for r in rows] == [[medium], [light]]
    run_timers(db, T0 + 3 * HOUR, app.config)
    assert len(alerts_of(db, "first_response")) == 2


def test_a_severe_complaint_on_day_two_gets_its_own_supervisor_alerts(app, db, lead, ctx):
    incident_id, (c1,) = open_incident(app, db, lead, T0)  # a medium incident
    for minute in range(0, 24 * 60, 60):
        run_timers(db, T0 + minute * MINUTE, app.config)
    assert alerts_of(db, "severe_complaint") == []
    arrival = T0 + DAY + 3 * HOUR
    [c2] = complainants.create_complainants(db, incident_id, [person("HB-SJZ-02", 7, severity="severe")], Caller(SYSTEM, lead, arrival), app.config)
    assert db["complainant"].get(c2)["supervisor_due_at"] == to_iso(arrival + 30 * MINUTE)
    run_timers(db, arrival, app.config)
    [told] = alerts_of(db, "severe_complaint")
    assert told["data"]["complainant_ids"] == [c2]
    assert told["level"] == "critical"
    run_timers(db, arrival + 30 * MINUTE - SECOND, app.config)
    assert alerts_of(db, "supervisor_not_told") == []
    run_timers(db, arrival + 30 * MINUTE, app.config)
    [late] = alerts_of(db, "supervisor_not_told")
    assert late["data"]["complainant_ids"] == [c2]
    assert late["raised_at"] == to_iso(arrival + 30 * MINUTE)
    run_timers(db, arrival + HOUR, app.config)
    assert len(alerts_of(db, "severe_complaint")) == 1 and len(alerts_of(db, "supervisor_not_told")) == 1


def test_acknowledging_a_severe_complaint_alert_stops_its_supervisor_clock(app, db, api, lead):
    with app.test_request_context():
        incident_id, (c1,) = open_incident(app, db, lead, T0, people=(person("HB-SJZ-01", 1, severity="severe"),))
        run_timers(db, T0, app.config)
    [told] = alerts_of(db, "severe_complaint")
    assert api("lead", "POST", f"/api/v1/alerts/{told['id']}/ack").status_code == 200
    assert db["complainant"].get(c1)["supervisor_told_at"] is not None
    with app.test_request_context():
        run_timers(db, T0 + HOUR, app.config)
    assert alerts_of(db, "supervisor_not_told") == []


def test_severity_alerts_are_raised_once_across_restarts(app, db, lead, ctx, tmp_path):
    """Each run is a fresh process's view: nothing but the database carries over."""
    incident_id, (c1,) = open_incident(app, db, lead, T0, people=(person("HB-SJZ-01", 1, severity="severe"),))
    for at in (T0, T0 + 30 * MINUTE, T0 + 31 * MINUTE, T0 + HOUR):
        run_monitor(timers.MONITOR, app.config, at)
        run_monitor(timers.MONITOR, app.config, at)  # the same period again: refused by the lease
    assert len(alerts_of(db, "severe_complaint")) == 1
    assert len(alerts_of(db, "supervisor_not_told")) == 1


def test_severity_changes_with_a_reason_and_moves_the_due_times(app, db, api, lead):
    with app.test_request_context():
        incident_id, (c1,) = open_incident(app, db, lead, T0)
    refused = api("lead", "PATCH", f"/api/v1/complainants/{c1}", json={"severity": "light"})
    assert refused.status_code == 422
    assert refused.json["details"] == [{"field": "reason", "message": "is required when the severity or the time of receipt changes"}]
    assert db["complainant"].get(c1)["severity"] == "medium"
    changed = api("lead", "PATCH", f"/api/v1/complainants/{c1}", json={"severity": "light", "reason": "只是语气问题"})
    assert changed.status_code == 200, changed.json
    assert changed.json["severity"] == "light"
    assert changed.json["first_response_due_at"] == to_iso(T0 + 2 * HOUR)
    [entry] = [dict(r) for r in db.query("SELECT * FROM audit_log WHERE table_name = 'complainant' AND row_id = ? AND action = 'update'", [c1])]
    assert json.loads(entry["after"])["reason"] == "只是语气问题"
    assert json.loads(entry["before"])["severity"] == "medium"


# --- 3. crowd rules -----------------------------------------------------------------------------


@pytest.fixture
def crowd_incident(app, db, lead, ctx):
    incident_id, _ = open_incident(app, db, lead, T0, people=("HB-SJZ-01", "HB-SJZ-02", "GD-GZ-01"))
    return incident_id


def mass_at(db, incident_id):
    return db["incident"].get(incident_id)["mass_incident_at"]


def test_two_people_is_nothing_three_is_a_group_visit(app, db, lead, lead_viewer, crowd_incident):
    post(app, db, lead_viewer, lead, crowd_incident, T0 + HOUR, people_on_site=2)
    assert alerts_of(db) == []
    post(app, db, lead_viewer, lead, crowd_incident, T0 + 2 * HOUR, people_on_site=3)
    [alert] = alerts_of(db)
    assert alert["kind"] == "group_visit"
    assert alert["level"] == "warning"
    assert alert["branch_code"] == "HB-SJZ-01"
    assert alert["data"]["people_on_site"] == 3
    assert mass_at(db, crowd_incident) is None


def test_the_same_alert_is_raised_once_a_day(app, db, lead, lead_viewer, crowd_incident):
    for hours in (1, 2, 3, 10):
        post(app, db, lead_viewer, lead, crowd_incident, T0 + hours * HOUR, people_on_site=5)
    assert len(alerts_of(db, "group_visit")) == 1
    # another branch is its own group visit
    post(app, db, lead_viewer, lead, crowd_incident, T0 + 10 * HOUR, branch="HB-SJZ-02", people_on_site=4)
    assert sorted(a["branch_code"] for a in alerts_of(db, "group_visit")) == ["HB-SJZ-01", "HB-SJZ-02"]
    # the next local (Shanghai) day counts again
    post(app, db, lead_viewer, lead, crowd_incident, T0 + DAY, people_on_site=5)
    assert len([a for a in alerts_of(db, "group_visit") if a["branch_code"] == "HB-SJZ-01"]) == 2


def test_nineteen_is_a_group_visit_twenty_is_a_major_complaint_in_person(app, db, lead, lead_viewer, crowd_incident):
    post(app, db, lead_viewer, lead, crowd_incident, T0 + HOUR, people_on_site=19)
    assert [a["kind"] for a in alerts_of(db)] == ["group_visit"]
    post(app, db, lead_viewer, lead, crowd_incident, T0 + 2 * HOUR, people_on_site=20)
    [major] = alerts_of(db, "major_in_person")
    assert major["level"] == "critical"
    assert major["data"]["people_on_site"] == 20
    assert "executive" in major["audience"]
    post(app, db, lead_viewer, lead, crowd_incident, T0 + 3 * HOUR, people_on_site=25)
    assert len(alerts_of(db, "major_in_person")) == 1
    assert mass_at(db, crowd_incident) is None


def test_ninety_nine_people_is_no_mass_incident_one_hundred_is(app, db, lead, lead_viewer, crowd_incident):
    post(app, db, lead_viewer, lead, crowd_incident, T0 + HOUR, people_on_site=99)
    assert mass_at(db, crowd_incident) is None
    assert alerts_of(db, "mass_incident") == []

    at = T0 + 2 * HOUR
    post(app, db, lead_viewer, lead, crowd_incident, at, people_on_site=100)
    assert mass_at(db, crowd_incident) == to_iso(at)
    [alert] = alerts_of(db, "mass_incident")
    assert alert["level"] == "critical"
    assert alert["incident_id"] == crowd_incident
    assert "executive" in alert["audience"]
    assert any("100" in reason for reason in alert["data"]["reasons"])
    audit = list(db.query("SELECT * FROM audit_log WHERE table_name = 'incident' AND row_id = ? AND action = 'mass_incident'", [crowd_incident]))
    assert len(audit) == 1

    # set once: a bigger crowd later changes neither the time nor the alert count
    post(app, db, lead_viewer, lead, crowd_incident, at + HOUR, people_on_site=300, banners=True, police_present=True)
    with app.app_context():
        crowd.run(db, at + 2 * HOUR, app.config, None)
    assert mass_at(db, crowd_incident) == to_iso(at)
    assert len(alerts_of(db, "mass_incident")) == 1


@pytest.mark.parametrize("flag", ["banners", "police_present"])
def test_banners_or_police_make_a_mass_incident(app, db, lead, lead_viewer, crowd_incident, flag):
    at = T0 + HOUR
    post(app, db, lead_viewer, lead, crowd_incident, at, people_on_site=2, **{flag: True})
    assert mass_at(db, crowd_incident) == to_iso(at)
    [alert] = alerts_of(db, "mass_incident")
    assert "executive" in alert["audience"]


def test_media_alone_is_no_mass_incident(app, db, lead, lead_viewer, crowd_incident):
    post(app, db, lead_viewer, lead, crowd_incident, T0 + HOUR, people_on_site=2, media_present=True)
    assert mass_at(db, crowd_incident) is None
    assert alerts_of(db, "mass_incident") == []


def test_one_outlet_closed_four_hours_becomes_a_mass_incident_with_no_new_update(app, db, lead, lead_viewer, crowd_incident):
    at = T0 + 5 * HOUR
    closed_since = at - (4 * HOUR - MINUTE)  # 3 h 59 min when posted
    post(app, db, lead_viewer, lead, crowd_incident, at, outlet_closed=True, closed_since=closed_since)
    assert mass_at(db, crowd_incident) is None
    with app.app_context():
        assert crowd.run(db, closed_since + 4 * HOUR - SECOND, app.config, None) == {"alerts": 0, "failed": []}
        assert mass_at(db, crowd_incident) is None
        assert run_monitor(crowd.MONITOR, app.config, closed_since + 4 * HOUR) == {"alerts": 1, "failed": []}
    assert mass_at(db, crowd_incident) == to_iso(closed_since + 4 * HOUR)
    [alert] = alerts_of(db, "mass_incident")
    assert "executive" in alert["audience"]
    with app.app_context():
        assert run_monitor(crowd.MONITOR, app.config, closed_since + 5 * HOUR) == {"alerts": 0, "failed": []}
    assert len(alerts_of(db, "mass_incident")) == 1


def test_two_outlets_closed_two_hours_make_a_mass_incident_one_does_not(app, db, lead, lead_viewer, crowd_incident):
    at = T0 + 5 * HOUR
    post(app, db, lead_viewer, lead, crowd_incident, at, branch="HB-SJZ-01", outlet_closed=True, closed_since=at - 2 * HOUR)
    assert mass_at(db, crowd_incident) is None
    with app.app_context():
        crowd.run(db, at + HOUR, app.config, None)  # one outlet at 3 h: still nothing
    assert mass_at(db, crowd_incident) is None
    later = at + HOUR
    post(app, db, lead_viewer, lead, crowd_incident, later, branch="GD-GZ-01", outlet_closed=True, closed_since=later - 2 * HOUR)
    assert mass_at(db, crowd_incident) == to_iso(later)
    [alert] = alerts_of(db, "mass_incident")
    assert len(alert["data"]["reasons"]) == 1


def test_two_outlets_closed_just_under_two_hours_wait_for_the_monitor(app, db, lead, lead_viewer, crowd_incident):
    at = T0 + 5 * HOUR
    since = at - 2 * HOUR + SECOND
    post(app, db, lead_viewer, lead, crowd_incident, at, branch="HB-SJZ-01", outlet_closed=True, closed_since=since)
    post(app, db, lead_viewer, lead, crowd_incident, at, branch="HB-SJZ-02", outlet_closed=True, closed_since=since)
    assert mass_at(db, crowd_incident) is None
    with app.app_context():
        assert crowd.run(db, since + 2 * HOUR, app.config, None) == {"alerts": 1, "failed": []}
    assert mass_at(db, crowd_incident) == to_iso(since + 2 * HOUR)


def test_an_outlet_that_reopened_is_not_counted(app, db, lead, lead_viewer, crowd_incident):
    at = T0 + 5 * HOUR
    post(app, db, lead_viewer, lead, crowd_incident, at, outlet_closed=True, closed_since=at - HOUR)
    post(app, db, lead_viewer, lead, crowd_incident, at + HOUR, outlet_closed=False)
    with app.app_context():
        crowd.run(db, at + 10 * HOUR, app.config, None)
    assert mass_at(db, crowd_incident) is None


def test_crowd_rule_does_not_alert_a_closed_incident(app, db, lead, lead_viewer, ctx):
    incident_id, _ = open_incident(app, db, lead, T0, status="monitoring")
    at = T0 + HOUR
    post(app, db, lead_viewer, lead, incident_id, at, outlet_closed=True, closed_since=at)
    incidents.change_status(db, incident_id, "closed", "误报", lead, at + MINUTE, settings=app.config)
    crowd.run(db, at + 5 * HOUR, app.config, None)
    assert mass_at(db, incident_id) is None


def test_crowd_alerts_are_visible_to_the_branch_they_concern(app, db, lead, lead_viewer, crowd_incident):
    post(app, db, lead_viewer, lead, crowd_incident, T0 + HOUR, branch="HB-SJZ-02", people_on_site=4)
    [alert] = alerts_of(db, "group_visit")
    row = dict(db["alert"].get(alert["id"]))
    outlet_2 = Viewer(id=None, username="x", role="branch", scope_kind="branch", scope_code="HB-SJZ-02")
    outlet_1 = Viewer(id=None, username="y", role="branch", scope_kind="branch", scope_code="HB-SJZ-01")
    hebei = Viewer(id=None, username="z", role="branch", scope_kind="province", scope_code="130000")
    guangdong = Viewer(id=None, username="w", role="branch", scope_kind="province", scope_code="440000")
    assert alerts_module.visible_to(outlet_2, row)
    assert alerts_module.visible_to(hebei, row)
    assert not alerts_module.visible_to(outlet_1, row)
    assert not alerts_module.visible_to(guangdong, row)
