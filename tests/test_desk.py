"""The crisis lead's desk: the playbook page opens on what is overdue and due
next, filters by stream, status and owner, folds finished tasks and groups
the per-settlement follow-ups, puts document issuing at the top, returns to
the place of an action, asks before irreversible ones; the reporting unit,
signing officer and contact are settings and fields of the issue form."""

from datetime import timedelta

from console.desk import arrange_tasks

from .conftest import NOW
from .test_documents import flat, pdf_text


def _task(id, key, due_minutes, status="open", trigger="activation", stream="regulator", owner_role="lead", owner_user_id=None):
    due = NOW + timedelta(minutes=due_minutes)
    return {
        "id": id,
        "key": key,
        "trigger": trigger,
        "stream": stream,
        "title": f"{key} · #{id}" if trigger == "settlement" else key,
        "owner_role": owner_role,
        "owner_user_id": owner_user_id,
        "due_at": due.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "status": status,
        "completed_at": (NOW - timedelta(minutes=id)).isoformat() if status == "done" else None,
    }


TASKS = [
    _task(1, "later", 120),
    _task(2, "late_b", -30),
    _task(3, "late_a", -300, owner_role="team"),
    _task(4, "finished", -500, status="done"),
    *[_task(10 + i, "follow_up_call", -60 + i * 60 * 24, trigger="settlement", stream="follow_up") for i in range(6)],
    _task(30, "media", 30, stream="media", owner_user_id=7),
]


def test_overdue_first_oldest_first_then_due_next_then_groups_and_done():
    desk = arrange_tasks(TASKS, NOW)
    assert [t["key"] for t in desk["overdue"]] == ["late_a", "late_b"]
    assert [t["key"] for t in desk["due_next"]] == ["media", "later"]
    [group] = desk["grouped"]
    assert group["key"] == "follow_up_call" and group["title"] == "follow_up_call" and len(group["tasks"]) == 6 and group["overdue"] == 1
    assert [t["key"] for t in desk["done"]] == ["finished"]


def test_filters_by_stream_status_and_owner():
    assert [t["key"] for t in arrange_tasks(TASKS, NOW, stream="media")["due_next"]] == ["media"]
    only_done = arrange_tasks(TASKS, NOW, status="done")
    assert only_done["overdue"] == only_done["due_next"] == only_done["grouped"] == [] and len(only_done["done"]) == 1
    assert [t["key"] for t in arrange_tasks(TASKS, NOW, owner="team")["overdue"]] == ["late_a"]
    assert [t["key"] for t in arrange_tasks(TASKS, NOW, owner="user:7")["due_next"]] == ["media"]
    assert arrange_tasks(TASKS, NOW, owner="user:8")["count"] == 0


def test_the_playbook_page_reads_from_the_top(app, login, incident):
    page = login("lead").get(f"/incidents/{incident['id']}/playbook").get_data(as_text=True)
    # documents first, then the tasks: overdue, due next, the finished ones folded
    assert (
        page.index('id="documents"')
        < page.index('id="tasks"')
        < page.index('id="overdue"')
        < page.index('id="due-next"')
        < page.index('<details class="task-group" id="done">')
    )
    # every irreversible action asks first
    assert page.count('data-confirm="') >= 2
    assert "Complete this task? A completed task cannot be reopened." in page
    filtered = login("lead").get(f"/incidents/{incident['id']}/playbook?stream=media").get_data(as_text=True)
    due = filtered[filtered.index('id="overdue"') : filtered.index('<details class="task-group" id="done">')]
    assert 'data-task="media_agreed_line"' in due and 'data-task="warning_plan"' not in due


def test_the_issue_form_takes_the_reporting_unit_and_the_settings_fill_the_rest(app, db, login, incident, tmp_path):
    app.config.update(SIGNING_OFFICER="周国强", CONTACT_PERSON="吴敏", CONTACT_PHONE="010-88886666")
    lead = login("lead")
    form = lead.get(f"/incidents/{incident['id']}/playbook").get_data(as_text=True)
    assert 'name="reporting_unit"' in form and 'value="周国强"' in form
    issued = lead.post(
        f"/incidents/{incident['id']}/documents",
        data={"kind": "regulator_report", "recipient": "河北监管局", "reporting_unit": "某某人寿保险股份有限公司河北分公司"},
    )
    assert issued.status_code == 302 and issued.headers["Location"].endswith("#documents")
    row = list(db.query("SELECT id FROM issued_document ORDER BY id DESC LIMIT 1"))[0]
    content = lead.get(f"/documents/{row['id']}").data
    text = flat(pdf_text(content, tmp_path))
    for words in ("报送单位某某人寿保险股份有限公司河北分公司", "签发人周国强", "联系人吴敏", "联系电话010-88886666"):
        assert words in text, words
    assert "（报送单位）" not in text


def test_an_overdue_list_reads_longest_overdue_first(app, db, api, incident):
    db.execute("UPDATE complainant SET next_contact_due_at = ? WHERE id = ?", ["2026-11-20T01:00:00Z", incident["hebei_outlet_2"]])
    db.execute("UPDATE complainant SET next_contact_due_at = ? WHERE id = ?", ["2026-11-21T01:00:00Z", incident["hebei_outlet_1"]])
    db.execute("UPDATE complainant SET next_contact_due_at = ? WHERE id = ?", ["2026-11-19T01:00:00Z", incident["guangdong"]])
    db.conn.commit()
    listing = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/complainants?overdue=contact").json
    assert [c["id"] for c in listing["complainants"]] == [incident["guangdong"], incident["hebei_outlet_2"], incident["hebei_outlet_1"]]
