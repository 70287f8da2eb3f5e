"""Issue 14: free text carries personal data. A phone or ID number typed into
an update note reached executives (board, updates, events) and every branch
room. Now: masked on output for roles that may not see personal data (HTML,
API JSON and Socket.IO frames alike); the composer is warned."""

import json

import pytest

from console import masking
from console.clock import utcnow
from console.tasks import sync_tasks

from .conftest import settle_through_records
from .test_live import Listener

PHONE, ID_NUMBER = "13812345678", "130105195501011234"
NOTE = f"张建国情绪激动，电话{PHONE}，身份证{ID_NUMBER}，要求当天退款"
UPDATE = {"people_on_site": 4, "mood": "tense", "notes": NOTE, "needs": "请回电 138-1234-5678", "actions_taken": "已安排接待室"}


def _no_full_numbers(text):
    assert PHONE not in text and ID_NUMBER not in text and "138-1234-5678" not in text, text
    return True


@pytest.mark.parametrize(
    "text, masked",
    [
        (NOTE, "张建国情绪激动，电话138****5678，身份证130***********1234，要求当天退款"),
        ("+86 139 1234 5678 / 010-88886666", "139****5678 / 010****6666"),
        ("13010919600202222x", "130***********222x"),
        ("到场20人，本金合计500000元，订单2026112300001", "到场20人，本金合计500000元，订单2026112300001"),
    ],
)
def test_mask_free_text(text, masked):
    assert masking.mask_free_text(text) == masked
    assert masking.holds_personal_numbers(text) == (text != masked)


def test_update_note_read_by_an_executive_is_masked_everywhere(server, http_api, tokens, incident, login):
    incident_id = incident["id"]
    executive = Listener(server.url, tokens["executive"]).connect()
    lead = Listener(server.url, tokens["lead"]).connect()
    try:
        executive.join(incident_id)
        lead.join(incident_id)
        posted = http_api("branch_outlet", "POST", f"/api/v1/incidents/{incident_id}/updates", json=UPDATE)
        assert posted.status_code == 201, posted.json
        # the composer is told the text holds personal numbers (stored as written)
        assert sorted(posted.json["personal_data_fields"]) == ["needs", "notes"]
        assert posted.json["notes"] == NOTE

        # Socket.IO frames: the executive's masked, the lead's as written
        exec_frames = executive.wait_for(lambda e: any(f["name"] == "update_posted" for f in e))
        lead_frames = lead.wait_for(lambda e: any(f["name"] == "update_posted" for f in e))
        _no_full_numbers(json.dumps(exec_frames, ensure_ascii=False))
        exec_update = next(f for f in exec_frames if f["name"] == "update_posted")["update"]
        assert exec_update["notes"] == masking.mask_free_text(NOTE) and "138****5678" in exec_update["needs"]
        assert next(f for f in lead_frames if f["name"] == "update_posted")["update"]["notes"] == NOTE

        # a fresh join (snapshot: branches and feed) is masked too
        _no_full_numbers(json.dumps(executive.join(incident_id), ensure_ascii=False))
    finally:
        executive.close()
        lead.close()

    # API JSON: board, latest updates, the branch timeline, the events since 0
    for url in (
        f"/api/v1/incidents/{incident_id}/board",
        f"/api/v1/incidents/{incident_id}/updates",
        f"/api/v1/incidents/{incident_id}/branches/HB-SJZ-01/updates",
        f"/api/v1/incidents/{incident_id}/events?since=0",
    ):
        response = http_api("executive", "GET", url)
        assert response.status_code == 200, (url, response.json)
        text = json.dumps(response.json, ensure_ascii=False)
        assert _no_full_numbers(text) and "138****5678" in text, url
    # the crisis lead and the branch that wrote it read it as written
    assert NOTE in json.dumps(http_api("lead", "GET", f"/api/v1/incidents/{incident_id}/updates").json, ensure_ascii=False)
    assert NOTE in json.dumps(http_api("branch_hebei", "GET", f"/api/v1/incidents/{incident_id}/updates").json, ensure_ascii=False)

    # HTML: the branch timeline page as the executive
    page = login("executive").get(f"/incidents/{incident_id}/branches/HB-SJZ-01").get_data(as_text=True)
    assert "138****5678" in page and _no_full_numbers(page)
    assert NOTE in login("lead").get(f"/incidents/{incident_id}/branches/HB-SJZ-01").get_data(as_text=True)


def test_the_update_form_warns_its_composer(login, incident):
    client = login("branch_outlet")
    response = client.post(f"/incidents/{incident['id']}/updates/new", data={"people_on_site": "2", "mood": "calm", "notes": NOTE}, follow_redirects=True)
    assert response.status_code == 200
    assert "holds a phone or ID number" in response.get_data(as_text=True)
    calm = client.post(f"/incidents/{incident['id']}/updates/new", data={"people_on_site": "2", "mood": "calm", "notes": "秩序平稳"}, follow_redirects=True)
    assert "holds a phone or ID number" not in calm.get_data(as_text=True)


@pytest.fixture
def tasked(app, db, api, incident):
    """Tasks on the incident, one a follow-up call for a settled Guangdong complainant, one with notes holding a phone number."""
    settle_through_records(api, incident["guangdong"])
    with app.test_request_context():
        sync_tasks(db, incident["id"], utcnow(), app.config)
    task_list = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/tasks").json["tasks"]
    noted = task_list[0]
    patched = api("team", "PATCH", f"/api/v1/tasks/{noted['id']}", json={"notes": f"联系人电话{PHONE}"})
    assert patched.status_code == 200 and patched.json["personal_data_fields"] == ["notes"]
    plain = api("team", "PATCH", f"/api/v1/tasks/{task_list[1]['id']}", json={"notes": "已联系监管"})
    assert plain.status_code == 200 and plain.json["personal_data_fields"] == []
    follow_up = next(t for t in task_list if t["trigger"] == "settlement")
    assert follow_up["trigger_ref"] == str(incident["guangdong"])
    return {"noted": noted["id"], "follow_up": follow_up["id"]}


def test_task_notes_and_out_of_scope_complainant_ids_are_hidden(api, incident, tasked, login):
    gd = str(incident["guangdong"])
    for username in ("executive", "branch_hebei"):
        tasks = {t["id"]: t for t in api(username, "GET", f"/api/v1/incidents/{incident['id']}/tasks").json["tasks"]}
        assert tasks[tasked["noted"]]["notes"] == "联系人电话138****5678"
        assert tasks[tasked["follow_up"]]["trigger_ref"] == "" and f"#{gd}" not in tasks[tasked["follow_up"]]["title"]
        board = api(username, "GET", f"/api/v1/incidents/{incident['id']}/board").json
        assert f"#{gd}" not in json.dumps(board["tasks"], ensure_ascii=False)
        events = json.dumps(api(username, "GET", f"/api/v1/incidents/{incident['id']}/events?since=0").json, ensure_ascii=False)
        assert PHONE not in events and f'"trigger_ref": "{gd}"' not in events
        page = login(username).get(f"/incidents/{incident['id']}/playbook").get_data(as_text=True)
        assert PHONE not in page and f"#{gd}" not in page
    # Guangdong's own contact sees the id of their complainant; the team sees everything
    guangdong = {t["id"]: t for t in api("branch_guangdong", "GET", f"/api/v1/incidents/{incident['id']}/tasks").json["tasks"]}
    assert guangdong[tasked["follow_up"]]["trigger_ref"] == gd
    team = {t["id"]: t for t in api("team", "GET", f"/api/v1/incidents/{incident['id']}/tasks").json["tasks"]}
    assert team[tasked["noted"]]["notes"] == f"联系人电话{PHONE}" and team[tasked["follow_up"]]["trigger_ref"] == gd


def test_the_task_form_warns_its_composer(login, incident, tasked):
    response = login("team").post(f"/tasks/{tasked['noted']}", data={"notes": f"身份证{ID_NUMBER}"}, follow_redirects=True)
    assert response.status_code == 200 and "holds a phone or ID number" in response.get_data(as_text=True)


def test_referral_text_is_masked_for_executives_and_branch_contacts(api, incident, login):
    sent = api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/referrals",
        json={"party": "regulator", "recipient": f"河北监管局 张科长 {PHONE}", "what_sent": "情况报告"},
    )
    assert sent.status_code == 201, sent.json
    for username in ("executive", "branch_hebei"):
        listed = api(username, "GET", f"/api/v1/incidents/{incident['id']}/referrals").json["referrals"]
        assert listed[0]["recipient"] == "河北监管局 张科长 138****5678"
        page = login(username).get(f"/incidents/{incident['id']}/playbook").get_data(as_text=True)
        assert PHONE not in page
    assert api("team", "GET", f"/api/v1/incidents/{incident['id']}/referrals").json["referrals"][0]["recipient"].endswith(PHONE)
