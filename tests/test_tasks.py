"""Playbook tasks (console/tasks.py) and what goes with them: due times for each
trigger, dependencies, checklists and attachments, referrals to outside
parties and their acknowledgement, the one agreed line, issued documents kept
as issued, the post-incident review on standing down, and the tasks monitor.

Time is driven by passing ``now`` to the domain functions; where a step goes
through the API its stored time is read back and the expectation computed
from it."""

import hashlib
import io
import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from console import complainants, documents, groups, incidents, playbooks, referrals
from console.access import SYSTEM
from console.caller import Caller
from console.clock import from_iso, to_iso, utcnow
from console.events import Outbox
from console.schemas import ComplainantIn, ComplainantUpdate, GroupIn, IncidentIn
from console.tasks import sync_tasks
from monitors import tasks as tasks_monitor

from .conftest import settle_through_records
from .pdfs import flat, pdf_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TITLE = "邮政渠道分红险集体投诉"
SETTLE_PATH = ["contacted", "negotiating", "offer_made", "accepted", "settled"]


@pytest.fixture
def book():
    return playbooks.get("mass_complaint")


def open_incident(app, db, actor, at, status="active", settings=None, playbook="mass_complaint"):
    data = IncidentIn(title=TITLE, cause="misselling", product="分红险", severity="severe", status=status, playbook=playbook)
    return incidents.create_incident(db, data, actor, at, settings=settings or app.config)


def task_rows(db, incident_id, key=None):
    sql = "SELECT * FROM task WHERE incident_id = ?" + (" AND key = ?" if key else "") + " ORDER BY due_at, id"
    rows = [dict(r) for r in db.query(sql, [incident_id, *([key] if key else [])])]
    for r in rows:
        r["depends_on"] = json.loads(r["depends_on"])
        r["checklist"] = json.loads(r["checklist"])
    return rows


def one_task(db, incident_id, key):
    rows = task_rows(db, incident_id, key)
    assert len(rows) == 1, f"{key}: {len(rows)} tasks"
    return rows[0]


def due(row):
    return from_iso(row["due_at"])


def api_tasks(api, incident_id, username="lead"):
    response = api(username, "GET", f"/api/v1/incidents/{incident_id}/tasks")
    assert response.status_code == 200, response.json
    return {t["key"]: t for t in response.json["tasks"] if t["trigger_ref"] == ""}


def incident_row(db, incident_id):
    return dict(db["incident"].get(incident_id))


def settle(api, complainant_id, path=SETTLE_PATH):
    """Along ``path`` by status changes; 'settled' the only way there is, through a settlement record."""
    for status in path:
        if "settled" in path and status in ("offer_made", "accepted"):
            continue  # the settlement record makes the offer and records the acceptance
        if status == "settled":
            return settle_through_records(api, complainant_id, walk=False)
        response = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": status})
        assert response.status_code == 200, (status, response.json)
    return response.json


# --- 2. due times, trigger by trigger ------------------------------------------------------------


def test_activation_tasks_are_due_their_minutes_after_activation(app, db, lead, ctx, book):
    incident_id = open_incident(app, db, lead, T)
    assert from_iso(incident_row(db, incident_id)["activated_at"]) == T
    assert due(one_task(db, incident_id, "regulator_phone_report")) == T + 30 * MINUTE
    assert due(one_task(db, incident_id, "regulator_written_report")) == T + 60 * MINUTE
    assert due(one_task(db, incident_id, "regulator_liaison")) == T + 30 * MINUTE
    assert due(one_task(db, incident_id, "warning_plan")) == T + 4 * HOUR
    assert due(one_task(db, incident_id, "consumer_association_packet")) == T + DAY

    specs = [s for s in book.tasks if s.trigger == "activation"]
    made = [r for r in task_rows(db, incident_id) if r["trigger"] == "activation"]
    assert sorted(r["key"] for r in made) == sorted(s.key for s in specs)
    for spec in specs:
        row = one_task(db, incident_id, spec.key)
        assert due(row) == T + timedelta(minutes=book.defaults[spec.due.setting]), spec.key
        assert row["trigger_ref"] == "" and row["status"] == "open" and row["created_at"] == to_iso(T)
        assert row["title"] == spec.title.zh and row["stream"] == spec.stream and row["owner_role"] == spec.owner_role
        assert row["depends_on"] == spec.depends_on
        assert row["checklist"] == [{"text": c.zh, "done": False} for c in spec.checklist]
        assert row["referral_party"] == spec.referral and row["document_kind"] == spec.document
    # nothing for triggers that have not fired
    assert not [r for r in task_rows(db, incident_id) if r["trigger"] in ("crowd", "settlement", "group")]
    audit = [dict(r) for r in db.query("SELECT * FROM audit_log WHERE table_name = 'task' AND action = 'create'")]
    # the tasks are made as part of the activation, under the actor who activated
    assert len(audit) == 1 and audit[0]["username"] == "lead"


def test_sync_tasks_twice_makes_nothing_new(app, db, lead, ctx):
    incident_id = open_incident(app, db, lead, T)
    before = task_rows(db, incident_id)
    assert sync_tasks(db, incident_id, T, app.config) == 0
    assert sync_tasks(db, incident_id, T + MINUTE, app.config) == 0
    assert task_rows(db, incident_id) == before
    later = T + 3 * DAY
    assert sync_tasks(db, incident_id, later, app.config) > 0
    count = len(task_rows(db, incident_id))
    assert sync_tasks(db, incident_id, later, app.config) == 0
    assert len(task_rows(db, incident_id)) == count


def test_an_incident_without_a_playbook_gets_no_tasks(app, db, lead, ctx):
    incident_id = open_incident(app, db, lead, T, playbook=None)
    assert sync_tasks(db, incident_id, T + 2 * DAY, app.config) == 0
    assert task_rows(db, incident_id) == []


def test_a_monitoring_incident_gets_no_tasks_until_it_is_activated(app, db, api, book):
    created = api(
        "lead", "POST", "/api/v1/incidents", json={"title": TITLE, "cause": "misselling", "product": "分红险", "severity": "severe", "status": "monitoring"}
    )
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    assert api_tasks(api, incident_id) == {}
    with app.test_request_context():
        assert sync_tasks(db, incident_id, utcnow() + 2 * DAY, app.config) == 0
    assert task_rows(db, incident_id) == []

    activated = api("lead", "POST", f"/api/v1/incidents/{incident_id}/status", json={"status": "active", "reason": "客户开始聚集"})
    assert activated.status_code == 200, activated.json
    at = from_iso(incident_row(db, incident_id)["activated_at"])
    tasks = api_tasks(api, incident_id)
    activation = [s for s in book.tasks if s.trigger == "activation"]
    assert {s.key for s in activation} <= set(tasks)
    for spec in activation:
        assert from_iso(tasks[spec.key]["due_at"]) == at + timedelta(minutes=book.defaults[spec.due.setting]), spec.key
    assert tasks["regulator_phone_report"]["depends_on"] == ["regulator_liaison"]


def test_crowd_tasks_appear_only_when_banners_make_a_mass_incident(app, db, api, incident):
    incident_id = incident["id"]
    with app.test_request_context():
        sync_tasks(db, incident_id, utcnow(), app.config)
    assert task_rows(db, incident_id, "police_notification") == []
    assert task_rows(db, incident_id, "regulator_emergency_report") == []

    calm = api("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", json={"people_on_site": 5, "mood": "tense"})
    assert calm.status_code == 201, calm.json
    assert incident_row(db, incident_id)["mass_incident_at"] is None
    assert task_rows(db, incident_id, "police_notification") == []

    posted = api("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", json={"people_on_site": 12, "mood": "hostile", "banners": True})
    assert posted.status_code == 201, posted.json
    crowd = from_iso(incident_row(db, incident_id)["mass_incident_at"])
    assert crowd is not None
    police = one_task(db, incident_id, "police_notification")
    emergency = one_task(db, incident_id, "regulator_emergency_report")
    assert due(police) == crowd + 15 * MINUTE and police["trigger"] == "crowd" and police["referral_party"] == "police"
    assert due(emergency) == crowd + 30 * MINUTE and emergency["document_kind"] == "regulator_report"

    again = api("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", json={"people_on_site": 30, "mood": "hostile", "banners": True})
    assert again.status_code == 201, again.json
    assert len(task_rows(db, incident_id, "police_notification")) == 1
    assert len(task_rows(db, incident_id, "regulator_emergency_report")) == 1


def test_ninety_nine_people_make_no_crowd_tasks_one_hundred_do(app, db, api, incident):
    incident_id = incident["id"]
    url = f"/api/v1/incidents/{incident_id}/updates"
    assert api("branch_guangdong", "POST", url, json={"branch_code": "GD-GZ-01", "people_on_site": 99, "mood": "tense"}).status_code == 201
    assert task_rows(db, incident_id, "police_notification") == []
    assert api("branch_guangdong", "POST", url, json={"branch_code": "GD-GZ-01", "people_on_site": 100, "mood": "tense"}).status_code == 201
    crowd = from_iso(incident_row(db, incident_id)["mass_incident_at"])
    assert due(one_task(db, incident_id, "police_notification")) == crowd + 15 * MINUTE
    assert due(one_task(db, incident_id, "regulator_emergency_report")) == crowd + 30 * MINUTE


def local_days(rows):
    return [(r["trigger_ref"], due(r).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")) for r in rows]


def test_daily_tasks_are_due_at_18_00_local_and_one_activated_at_19_00_starts_the_next_day(app, db, lead, ctx):
    activated = datetime(2026, 11, 23, 19, 0, tzinfo=SHANGHAI)
    incident_id = open_incident(app, db, lead, activated)
    first = task_rows(db, incident_id, "regulator_daily_progress")
    assert local_days(first) == [("2026-11-24", "2026-11-24 18:00")]  # made a day ahead, none for the 23rd
    assert first[0]["title"].endswith("2026-11-24")

    later = activated + 3 * DAY
    sync_tasks(db, incident_id, later, app.config)
    sync_tasks(db, incident_id, later, app.config)
    rows = task_rows(db, incident_id, "regulator_daily_progress")
    assert 3 <= len(rows) <= 4
    assert local_days(rows) == [(f"2026-11-{d}", f"2026-11-{d} 18:00") for d in (24, 25, 26, 27)]
    assert len({r["trigger_ref"] for r in rows}) == len(rows)
    assert all(r["trigger"] == "daily" and r["referral_party"] == "regulator" for r in rows)
    # the other daily task of the playbook follows the same days
    assert [r["trigger_ref"] for r in task_rows(db, incident_id, "media_monitoring")] == [r["trigger_ref"] for r in rows]


def test_an_incident_activated_in_the_morning_gets_that_evenings_daily_task(app, db, lead, ctx):
    incident_id = open_incident(app, db, lead, T)  # 10:00 local
    rows = task_rows(db, incident_id, "regulator_daily_progress")
    assert local_days(rows) == [("2026-11-23", "2026-11-23 18:00")]
    assert due(rows[0]) == datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def test_each_daily_task_is_made_exactly_a_day_ahead(app, db, lead, ctx):
    activated = datetime(2026, 11, 23, 19, 0, tzinfo=SHANGHAI)
    incident_id = open_incident(app, db, lead, activated)
    made_at = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)  # the 26th's task is made at 18:00 on the 25th
    sync_tasks(db, incident_id, made_at - SECOND, app.config)
    assert [r["trigger_ref"] for r in task_rows(db, incident_id, "regulator_daily_progress")] == ["2026-11-24", "2026-11-25"]
    sync_tasks(db, incident_id, made_at, app.config)
    assert [r["trigger_ref"] for r in task_rows(db, incident_id, "regulator_daily_progress")] == ["2026-11-24", "2026-11-25", "2026-11-26"]


def test_daily_tasks_stay_at_18_00_local_across_a_daylight_saving_change(app, db, lead, ctx):
    settings = {**app.config, "TIMEZONE": "Europe/Berlin"}
    activated = datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc)  # summer time ends on 25 October
    incident_id = open_incident(app, db, lead, activated, settings=settings)
    sync_tasks(db, incident_id, activated + 2 * DAY, settings)
    rows = task_rows(db, incident_id, "regulator_daily_progress")
    assert [(r["trigger_ref"], r["due_at"]) for r in rows][:3] == [
        ("2026-10-24", "2026-10-24T16:00:00+00:00"),
        ("2026-10-25", "2026-10-25T17:00:00+00:00"),
        ("2026-10-26", "2026-10-26T17:00:00+00:00"),
    ]


def test_each_settlement_gets_a_follow_up_call_a_week_later(app, db, api, incident):
    incident_id = incident["id"]
    settled = [incident["hebei_outlet_1"], incident["guangdong"]]
    for complainant_id in settled:
        assert settle(api, complainant_id)["status"] == "settled"
    settle(api, incident["hebei_outlet_2"], SETTLE_PATH[:-1])  # accepted, not yet settled
    with app.test_request_context():
        made = sync_tasks(db, incident_id, utcnow(), app.config)
        assert made >= 2
        assert sync_tasks(db, incident_id, utcnow(), app.config) == 0
    rows = task_rows(db, incident_id, "follow_up_call")
    assert sorted(r["trigger_ref"] for r in rows) == sorted(str(i) for i in settled)
    names = {p["name"] for p in incident["people"]}
    for row in rows:
        complainant = dict(db["complainant"].get(int(row["trigger_ref"])))
        assert complainant["status"] == "settled"
        assert due(row) == from_iso(complainant["settled_at"]) + 7 * DAY
        assert row["trigger"] == "settlement" and row["owner_role"] == "team"
        assert f"#{complainant['id']}" in row["title"]
        assert not any(name in row["title"] for name in names), row["title"]


def test_each_complainant_group_gets_its_handling_line_task(app, db, api, incident):
    incident_id = incident["id"]
    with app.test_request_context():
        sync_tasks(db, incident_id, utcnow(), app.config)
    rows = task_rows(db, incident_id, "group_handling_line")
    assert sorted(int(r["trigger_ref"]) for r in rows) == sorted(incident["groups"])
    for row in rows:
        group = dict(db["complainant_group"].get(int(row["trigger_ref"])))
        assert due(row) == from_iso(group["created_at"]) + 480 * MINUTE
        assert group["name"] in row["title"]

    third = api("lead", "POST", f"/api/v1/incidents/{incident_id}/groups", json={"name": "北京理财客户", "handling_line": "待定"})
    assert third.status_code == 201, third.json
    with app.test_request_context():
        assert sync_tasks(db, incident_id, utcnow(), app.config) >= 1
        assert sync_tasks(db, incident_id, utcnow(), app.config) == 0
    rows = task_rows(db, incident_id, "group_handling_line")
    assert len(rows) == 3 and str(third.json["id"]) in {r["trigger_ref"] for r in rows}


def test_group_tasks_follow_the_groups_own_creation_time(app, db, lead, ctx):
    incident_id = open_incident(app, db, lead, T)
    created = T + 5 * HOUR
    group_id = groups.create_group(
        db, incident_id, GroupIn(name="河北邮政分红险2019", handling_line="本金+利息"), lead, created, app.config["MAX_REPRESENTATIVES"]
    )
    assert sync_tasks(db, incident_id, created, app.config) == 1
    row = one_task(db, incident_id, "group_handling_line")
    assert row["trigger_ref"] == str(group_id) and due(row) == created + 8 * HOUR


# --- 3. dependencies -----------------------------------------------------------------------------


def test_a_task_cannot_be_completed_while_its_dependency_is_open(app, db, api, incident, accounts):
    incident_id = incident["id"]
    tasks = api_tasks(api, incident_id)
    phone, liaison, written = tasks["regulator_phone_report"], tasks["regulator_liaison"], tasks["regulator_written_report"]

    refused = api("lead", "POST", f"/api/v1/tasks/{phone['id']}/complete")
    assert refused.status_code == 422, refused.json
    assert "指定监管联络人" in refused.json["error"]  # the blocking task, by its title
    assert refused.json["details"] == [{"field": "depends_on", "message": "regulator_liaison"}]
    row = one_task(db, incident_id, "regulator_phone_report")
    assert row["status"] == "open" and row["completed_at"] is None and row["completed_by"] is None

    done = api("lead", "POST", f"/api/v1/tasks/{liaison['id']}/complete")
    assert done.status_code == 200, done.json
    assert done.json["status"] == "done" and done.json["completed_by"] == accounts["lead"]
    completed_at = from_iso(done.json["completed_at"])
    assert abs(completed_at - utcnow()) < 5 * MINUTE
    audit = [dict(r) for r in db.query("SELECT * FROM audit_log WHERE table_name = 'task' AND row_id = ? AND action = 'complete'", [liaison["id"]])]
    assert len(audit) == 1 and audit[0]["user_id"] == accounts["lead"] and json.loads(audit[0]["after"])["status"] == "done"

    assert api("team", "POST", f"/api/v1/tasks/{written['id']}/complete").status_code == 422  # still waits for the phone report
    works = api("lead", "POST", f"/api/v1/tasks/{phone['id']}/complete")
    assert works.status_code == 200, works.json
    stored = one_task(db, incident_id, "regulator_phone_report")
    assert stored["status"] == "done" and stored["completed_by"] == accounts["lead"] and stored["completed_at"] == works.json["completed_at"]

    twice = api("lead", "POST", f"/api/v1/tasks/{phone['id']}/complete")
    assert twice.status_code == 422 and "already done" in twice.json["error"]
    assert one_task(db, incident_id, "regulator_phone_report")["completed_at"] == works.json["completed_at"]


@pytest.mark.parametrize("username", ["executive", "branch_hebei"])
def test_only_task_owners_roles_may_complete_tasks_over_the_api(api, db, incident, username):
    liaison = api_tasks(api, incident["id"])["regulator_liaison"]
    assert api(username, "POST", f"/api/v1/tasks/{liaison['id']}/complete").status_code == 403
    assert one_task(db, incident["id"], "regulator_liaison")["status"] == "open"


def test_completing_a_task_on_the_page(api, db, login, incident):
    tasks = api_tasks(api, incident["id"])
    liaison, phone = tasks["regulator_liaison"], tasks["regulator_phone_report"]

    executive = login("executive").post(f"/tasks/{liaison['id']}/complete")
    assert executive.status_code == 403
    assert one_task(db, incident["id"], "regulator_liaison")["status"] == "open"

    lead = login("lead")
    blocked = lead.post(f"/tasks/{phone['id']}/complete")
    assert blocked.status_code == 422
    assert "指定监管联络人" in blocked.get_data(as_text=True)
    done = lead.post(f"/tasks/{liaison['id']}/complete")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/incidents/{incident['id']}/playbook#task-{liaison['id']}")  # back at the task
    assert one_task(db, incident["id"], "regulator_liaison")["status"] == "done"


# --- 4. updating a task, attachments -------------------------------------------------------------


def test_checklist_owner_and_notes(api, db, incident, accounts):
    warning = api_tasks(api, incident["id"])["warning_plan"]
    url = f"/api/v1/tasks/{warning['id']}"
    assert len(warning["checklist"]) == 3

    ticked = api("lead", "PATCH", url, json={"checklist_done": [0, 2]})
    assert ticked.status_code == 200, ticked.json
    assert [i["done"] for i in ticked.json["checklist"]] == [True, False, True]
    assert [i["done"] for i in one_task(db, incident["id"], "warning_plan")["checklist"]] == [True, False, True]

    for bad in ([3], [0, 7], [-1]):
        refused = api("lead", "PATCH", url, json={"checklist_done": bad})
        assert refused.status_code == 422, (bad, refused.json)
    assert [i["done"] for i in one_task(db, incident["id"], "warning_plan")["checklist"]] == [True, False, True]

    unknown = api("lead", "PATCH", url, json={"owner_user_id": 999999})
    assert unknown.status_code == 422 and unknown.json["details"][0]["field"] == "owner_user_id"
    assert one_task(db, incident["id"], "warning_plan")["owner_user_id"] is None

    named = api("lead", "PATCH", url, json={"owner_user_id": accounts["team"], "notes": "预计投诉量约200人，以本金加利息为限"})
    assert named.status_code == 200, named.json
    row = one_task(db, incident["id"], "warning_plan")
    assert row["owner_user_id"] == accounts["team"] and row["notes"] == "预计投诉量约200人，以本金加利息为限"
    assert [i["done"] for i in row["checklist"]] == [True, False, True]  # untouched by a change that did not send it
    assert db.execute("SELECT count(*) FROM audit_log WHERE table_name = 'task' AND row_id = ? AND action = 'update'", [warning["id"]]).fetchone()[0] == 2

    cleared = api("lead", "PATCH", url, json={"checklist_done": []})
    assert cleared.status_code == 200 and not any(i["done"] for i in cleared.json["checklist"])


def test_a_task_without_a_checklist_has_no_item_to_tick(api, incident):
    liaison = api_tasks(api, incident["id"])["regulator_liaison"]
    assert api("lead", "PATCH", f"/api/v1/tasks/{liaison['id']}", json={"checklist_done": [0]}).status_code == 422


def test_an_attachment_is_kept_read_only_under_its_sha256(app, api, db, login, incident, accounts):
    task = api_tasks(api, incident["id"])["regulator_written_report"]
    content = b"%PDF-1.4\n" + "监管局回执 签收".encode("utf-8") + bytes(range(256))
    client = login("lead")
    response = client.post(f"/tasks/{task['id']}/attachments", data={"file": (io.BytesIO(content), "回执.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)

    [row] = [dict(r) for r in db.query("SELECT * FROM task_attachment WHERE task_id = ?", [task["id"]])]
    assert row["sha256"] == hashlib.sha256(content).hexdigest()
    assert row["size"] == len(content) and row["uploaded_by"] == accounts["lead"] and row["filename"].endswith(".pdf")
    with open(row["stored_path"], "rb") as f:
        assert f.read() == content
    assert stat.S_IMODE(os.stat(row["stored_path"]).st_mode) & 0o222 == 0  # nobody may write to it
    assert db.execute("SELECT count(*) FROM audit_log WHERE table_name = 'task_attachment' AND row_id = ?", [row["id"]]).fetchone()[0] == 1

    download = client.get(f"/attachments/{row['id']}")
    assert download.status_code == 200
    assert download.data == content and hashlib.sha256(download.data).hexdigest() == row["sha256"]
    assert login("executive").get(f"/attachments/{row['id']}").status_code == 403
    assert client.get("/attachments/999999").status_code == 404

    empty = client.post(f"/tasks/{task['id']}/attachments", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400
    assert db.execute("SELECT count(*) FROM task_attachment").fetchone()[0] == 1


# --- 5. referrals --------------------------------------------------------------------------------


def test_a_referral_is_overdue_exactly_24_hours_after_sending_until_acknowledged(app, api, db, incident, accounts):
    incident_id = incident["id"]
    sent = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident_id}/referrals",
        json={"party": "regulator", "recipient": "河北监管局消保处", "what_sent": "电话报告事件概况"},
    )
    assert sent.status_code == 201, sent.json
    referral = sent.json
    sent_at = from_iso(referral["sent_at"])
    assert from_iso(referral["ack_due_at"]) == sent_at + 24 * HOUR
    assert referral["sent_by"] == accounts["lead"] and referral["acknowledged_at"] is None
    assert app.config["REFERRAL_ACK_HOURS"] == 24

    assert referrals.overdue(db, incident_id, sent_at + 24 * HOUR - SECOND) == []
    assert [r["id"] for r in referrals.overdue(db, incident_id, sent_at + 24 * HOUR)] == [referral["id"]]

    acked = api("lead", "POST", f"/api/v1/referrals/{referral['id']}/ack", json={"acknowledged_by_name": "王科长"})
    assert acked.status_code == 200, acked.json
    assert acked.json["acknowledged_by_name"] == "王科长" and acked.json["recorded_by"] == accounts["lead"]
    assert acked.json["acknowledged_at"] is not None
    assert referrals.overdue(db, incident_id, sent_at + 48 * HOUR) == []

    twice = api("team", "POST", f"/api/v1/referrals/{referral['id']}/ack", json={"acknowledged_by_name": "李处长"})
    assert twice.status_code == 422, twice.json
    assert dict(db["referral"].get(referral["id"]))["acknowledged_by_name"] == "王科长"


@pytest.mark.parametrize("name", ["", "   "])
def test_an_acknowledgement_needs_a_name(api, db, incident, name):
    sent = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/referrals",
        json={"party": "consumer_association", "recipient": "河北省消费者协会", "what_sent": "情况通报材料"},
    )
    assert sent.status_code == 201, sent.json
    refused = api("lead", "POST", f"/api/v1/referrals/{sent.json['id']}/ack", json={"acknowledged_by_name": name})
    assert refused.status_code == 422, refused.json
    assert dict(db["referral"].get(sent.json["id"]))["acknowledged_at"] is None


def test_acknowledge_refuses_a_blank_name_in_the_domain_too(app, db, lead, ctx, api, incident):
    sent = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/referrals", json={"party": "media", "recipient": "燕赵都市报", "what_sent": "媒体声明"})
    from console.errors import Invalid

    with pytest.raises(Invalid):
        referrals.acknowledge(db, sent.json["id"], "  ", lead, T)
    assert dict(db["referral"].get(sent.json["id"]))["acknowledged_at"] is None


@pytest.mark.parametrize("username", ["executive", "branch_hebei"])
def test_only_lead_and_team_record_referrals(api, db, incident, username):
    response = api(
        username, "POST", f"/api/v1/incidents/{incident['id']}/referrals", json={"party": "police", "recipient": "中山路派出所", "what_sent": "电话通报"}
    )
    assert response.status_code == 403
    assert db["referral"].count == 0


# --- 6. the one agreed line ----------------------------------------------------------------------


def test_a_media_statement_waits_for_the_line_legal_approved(api, db, incident, accounts):
    incident_id = incident["id"]
    issue = {"kind": "media_statement", "recipient": "燕赵都市报"}
    url = f"/api/v1/incidents/{incident_id}/documents"

    early = api("team", "POST", url, json=issue)
    assert early.status_code == 422, early.json
    assert "legal must approve" in early.json["error"]
    assert db["issued_document"].count == 0 and db["referral"].count == 0

    drafted = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident_id}/agreed-lines",
        json={"text": "公司已关注到部分客户反映的问题，已成立专项工作组逐一核实，将依法依规妥善处理。"},
    )
    assert drafted.status_code == 201, drafted.json
    line_id = drafted.json["id"]
    assert api("team", "POST", url, json=issue).status_code == 422  # a draft is not enough
    assert db["issued_document"].count == 0

    assert api("team", "POST", f"/api/v1/agreed-lines/{line_id}/approve").status_code == 403
    assert api("lead", "POST", f"/api/v1/agreed-lines/{line_id}/approve").status_code == 403
    assert dict(db["agreed_line"].get(line_id))["approved_at"] is None
    approved = api("legal", "POST", f"/api/v1/agreed-lines/{line_id}/approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["approved_by"] == accounts["legal"] and approved.json["approved_at"]
    assert api("legal", "POST", f"/api/v1/agreed-lines/{line_id}/approve").status_code == 422  # once

    issued = api("team", "POST", url, json=issue)
    assert issued.status_code == 201, issued.json
    document_id, referral_id = issued.json["document_id"], issued.json["referral_id"]
    document = dict(db["issued_document"].get(document_id))
    assert document["kind"] == "media_statement" and document["recipient"] == "燕赵都市报" and document["issued_by"] == accounts["team"]
    referral = dict(db["referral"].get(referral_id))
    assert referral["document_id"] == document_id and referral["party"] == "media" and referral["recipient"] == "燕赵都市报"
    assert from_iso(referral["ack_due_at"]) == from_iso(referral["sent_at"]) + 24 * HOUR


def test_a_blank_agreed_line_is_refused(api, db, incident):
    response = api("team", "POST", f"/api/v1/incidents/{incident['id']}/agreed-lines", json={"text": "   "})
    assert response.status_code == 422
    assert db["agreed_line"].count == 0


# --- 7. issued documents are kept as issued ------------------------------------------------------


def issue_report(api, incident_id, username="lead"):
    response = api(
        username,
        "POST",
        f"/api/v1/incidents/{incident_id}/documents",
        json={"kind": "regulator_report", "recipient": "河北监管局", "signing_officer": "周国强", "contact_person": "吴敏", "contact_phone": "010-88886666"},
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_regulator_report_needs_its_signatures(api, db, incident):
    response = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/documents", json={"kind": "regulator_report", "recipient": "河北监管局"})
    assert response.status_code == 422, response.json
    assert db["issued_document"].count == 0 and db["referral"].count == 0


def test_an_issued_document_cannot_be_changed_or_removed(api, db, incident):
    issued = issue_report(api, incident["id"])
    document_id = issued["document_id"]
    before = dict(db["issued_document"].get(document_id))
    assert dict(db["referral"].get(issued["referral_id"]))["document_id"] == document_id

    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        db.conn.execute("UPDATE issued_document SET recipient = '别处' WHERE id = ?", [document_id])
    with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
        db.conn.execute("UPDATE issued_document SET sha256 = ? WHERE id = ?", ["0" * 64, document_id])
    with pytest.raises(sqlite3.DatabaseError, match="cannot be removed"):
        db.conn.execute("DELETE FROM issued_document WHERE id = ?", [document_id])
    db.conn.rollback()
    assert dict(db["issued_document"].get(document_id)) == before


@pytest.mark.parametrize("username, status", [("lead", 200), ("executive", 200), ("legal", 200), ("team", 200), ("branch_hebei", 403), ("branch_outlet", 403)])
def test_an_issued_document_downloads_with_its_recorded_sha256(api, db, login, incident, username, status):
    document_id = issue_report(api, incident["id"])["document_id"]
    row = dict(db["issued_document"].get(document_id))
    if username == "executive":  # issue 14: executives download the rendering with small cells suppressed, kept with its own hash
        row = dict(db["issued_document_rendering"].get((document_id, "aggregate")))
    response = login(username).get(f"/documents/{document_id}")
    assert response.status_code == status
    if status == 200:
        assert response.data.startswith(b"%PDF")
        assert hashlib.sha256(response.data).hexdigest() == row["sha256"] and len(response.data) == row["size"]


# --- 8. standing down: the post-incident review --------------------------------------------------


def test_standing_down_issues_the_post_incident_review(app, api, db, incident, tmp_path):
    incident_id = incident["id"]
    changes = "预案应增加属地公安联络人，群体性事件认定后30分钟内电话报告监管。"
    response = api(
        "lead", "POST", f"/api/v1/incidents/{incident_id}/status", json={"status": "stood_down", "reason": "现场已平稳", "playbook_changes": changes}
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "stood_down"

    reviews = [dict(r) for r in db.query("SELECT * FROM issued_document WHERE incident_id = ? AND kind = 'review'", [incident_id])]
    assert len(reviews) == 1
    review = reviews[0]
    assert review["content_type"] == "application/pdf"
    _row, content = documents.read_issued(db, review["id"], app.config["DOCUMENT_FOLDER"])
    assert hashlib.sha256(content).hexdigest() == review["sha256"]
    text = flat(pdf_text(content, tmp_path))
    assert flat(changes) in text
    assert TITLE in text

    listed = api("executive", "GET", f"/api/v1/incidents/{incident_id}/documents")
    assert listed.status_code == 200
    assert [d["kind"] for d in listed.json["documents"]] == ["review"]
    assert "stored_path" not in listed.json["documents"][0]


def test_standing_down_and_its_review_are_one_step_stored_together_or_not_at_all(app, db, lead, ctx, tmp_path):
    """The domain step itself issues the review (no view has to remember it); when the
    review cannot be stored, the incident stays active rather than stood down without one."""
    incident_id = open_incident(app, db, lead, T)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the document folder should be")
    with pytest.raises(OSError):
        incidents.change_status(db, incident_id, "stood_down", "现场已平稳", lead, T + HOUR, settings={**app.config, "DOCUMENT_FOLDER": str(blocked)})
    assert incidents.get_incident(db, incident_id)["status"] == "active"
    assert db.execute("SELECT count(*) FROM issued_document WHERE incident_id = ?", [incident_id]).fetchone()[0] == 0

    incidents.change_status(db, incident_id, "stood_down", "现场已平稳", lead, T + HOUR, settings=app.config, playbook_changes="增加联络人")
    assert incidents.get_incident(db, incident_id)["status"] == "stood_down"
    assert [r["kind"] for r in db.query("SELECT kind FROM issued_document WHERE incident_id = ?", [incident_id])] == ["review"]


# --- 9. the tasks monitor ------------------------------------------------------------------------


def test_the_tasks_monitor_makes_daily_and_settlement_tasks_for_active_incidents(app, db, lead, ctx):
    incident_id = open_incident(app, db, lead, T)
    people = [
        ComplainantIn(name="张建国", phone="13812345678", province_code="130000", city_code="130100", branch_code="HB-SJZ-01"),
        ComplainantIn(name="李秀英", phone="13912345678", province_code="130000", city_code="130100", branch_code="HB-SJZ-02"),
    ]
    first, second = complainants.create_complainants(db, incident_id, people, Caller(SYSTEM, lead, T), app.config)
    settled_at = T + 6 * HOUR
    for status in ("contacted", "negotiating"):
        complainants.update_complainant(db, first, ComplainantUpdate(status=status), Caller(SYSTEM, lead, settled_at), settings=app.config)
    from console import schemas, settlements

    offer_id = settlements.make_offer(db, first, schemas.OfferIn(), Caller(SYSTEM, lead, settled_at))["id"]
    settlement_id = settlements.accept_offer(db, offer_id, Caller(SYSTEM, lead, settled_at), app.config)
    settlements.finalise(db, settlement_id, Caller(SYSTEM, lead, settled_at), app.config)
    waiting = open_incident(app, db, lead, T, status="monitoring")
    groups.create_group(db, waiting, GroupIn(name="观察中的分组", handling_line="待定"), lead, T, app.config["MAX_REPRESENTATIVES"])
    assert task_rows(db, incident_id, "follow_up_call") == []

    outbox = Outbox(db)
    now = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)  # the 26th's daily tasks are made now
    result = tasks_monitor.run(db, now, app.config, outbox)
    follow_up = task_rows(db, incident_id, "follow_up_call")
    assert [r["trigger_ref"] for r in follow_up] == [str(first)]
    assert due(follow_up[0]) == settled_at + 7 * DAY
    daily = task_rows(db, incident_id, "regulator_daily_progress")
    assert local_days(daily) == [(f"2026-11-{d}", f"2026-11-{d} 18:00") for d in (23, 24, 25, 26)]
    # the run made the follow-up call, the 24th to 26th for both daily tasks
    assert result == {"tasks": 1 + 3 * 2, "failed": []}
    assert any(name == "task_updated" for _room, name, _payload in outbox.pending)
    assert task_rows(db, waiting) == []  # not active: the monitor leaves it alone

    assert tasks_monitor.run(db, now, app.config, Outbox(db)) == {"tasks": 0, "failed": []}
    assert tasks_monitor.MONITOR.every == MINUTE
