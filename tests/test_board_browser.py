"""The boards in a real browser: Debian's chromium driven by Playwright,
against run.py in its own process. Screenshots go to screenshots/."""

from playwright.sync_api import expect

from console.access import SYSTEM
from console.audit import Actor
from console.caller import Caller
from console.clock import utcnow
from console.complainants import update_complainant
from console.events import Outbox
from console.schemas import ComplainantUpdate

from .browser import (
    SHOTS,
    browser,  # noqa: F401 (the fixture)
)
from .browser import login as _login
from .conftest import settle_through_records


def _settle(api, complainant_id):
    settle_through_records(api, complainant_id)


def test_executive_wall_board_moves_without_a_reload(browser, server, http_api, incident):
    page = _login(browser, server, "executive", {"width": 1920, "height": 1080})
    page.goto(f"{server.url}/incidents/{incident['id']}/board")  # executives are sent to the wall board
    assert page.url.endswith(f"/incidents/{incident['id']}/wall")
    expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
    expect(page.locator("#total")).to_have_text("3")
    expect(page.locator("#settled")).to_have_text("0")
    page.evaluate("window.__noReload = true")

    added = http_api(
        "team",
        "POST",
        f"/api/v1/incidents/{incident['id']}/complainants",
        json=[
            {"name": "赵丽华", "phone": "13600001111", "province_code": "330000"},
        ],
    )
    assert added.status_code == 201
    _settle(http_api, incident["guangdong"])
    posted = http_api(
        "branch_guangdong",
        "POST",
        f"/api/v1/incidents/{incident['id']}/updates",
        json={"branch_code": "GD-GZ-01", "people_on_site": 12, "mood": "tense", "banners": False, "needs": "请总部派员"},
    )
    assert posted.status_code == 201, posted.json

    expect(page.locator("#on-site")).to_have_text("12", timeout=3000)
    expect(page.locator("#branches li[data-branch='GD-GZ-01']")).to_contain_text("12")
    expect(page.locator("#total")).to_have_text("4", timeout=3000)
    expect(page.locator("#settled")).to_have_text("1", timeout=3000)
    assert page.evaluate("window.__noReload") is True
    expect(page.locator(".tile[data-province='330000'] .tile-n")).to_have_text("1")
    html = page.content()
    for person in incident["people"] + [{"name": "赵丽华", "phone": "13600001111", "id_number": "x" * 18}]:
        assert person["name"] not in html
        assert person["phone"] not in html and person["phone"][-4:] not in html
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "wall-board-executive.png"), full_page=True)
    page.close()


def test_team_board_drills_down_and_resyncs_after_a_restart(app, db, browser, server, http_api, incident):
    page = _login(browser, server, "lead")
    page.goto(f"{server.url}/incidents/{incident['id']}/board")
    expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
    expect(page.locator("#total")).to_have_text("3")
    http_api("team", "PATCH", f"/api/v1/complainants/{incident['hebei_outlet_1']}", json={"status": "contacted"})
    expect(page.locator("#feed li").first).to_contain_text("张建国", timeout=3000)
    page.evaluate("window.__noReload = true")

    server.stop()
    expect(page.locator("#live-state")).to_have_class("state-reconnecting", timeout=10000)
    with app.test_request_context():
        update_complainant(
            db,
            incident["guangdong"],
            ComplainantUpdate(status="escalated", escalation_channel="regulator"),
            Caller(SYSTEM, Actor(None, "test", "test"), utcnow()),
            Outbox(db),
            settings=app.config,
        )
    server.start()
    expect(page.locator("#live-state")).to_have_class("state-live", timeout=15000)
    expect(page.locator("#escalated")).to_have_text("1", timeout=5000)
    assert page.evaluate("window.__noReload") is True
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "team-board-lead.png"), full_page=True)

    page.click("#escalated a")
    page.wait_for_url("**/complainants?status=escalated")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    expect(page.locator("table.grid tbody")).to_contain_text("陈志明")
    page.close()


def test_branch_board_shows_only_its_province(browser, server, incident):
    page = _login(browser, server, "branch_guangdong")
    page.goto(f"{server.url}/incidents/{incident['id']}/board")
    expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
    expect(page.locator("#total")).to_have_text("1")
    assert "张建国" not in page.content()
    page.close()


def test_completing_a_task_on_the_playbook_page_moves_the_board(browser, server, incident):
    board = _login(browser, server, "executive", {"width": 1920, "height": 1080})
    board.goto(f"{server.url}/incidents/{incident['id']}/wall")
    expect(board.locator("#live-state")).to_have_class("state-live", timeout=10000)
    task = board.locator("#tasks li[data-task='warning_plan']")
    expect(task).to_have_class("task-open")
    board.evaluate("window.__noReload = true")

    lead = _login(browser, server, "lead")
    lead.goto(f"{server.url}/incidents/{incident['id']}/playbook")
    lead.on("dialog", lambda dialog: dialog.accept())  # completing a task asks first: it cannot be undone
    lead.locator("[data-task='warning_plan'] button.complete").click()
    lead.wait_for_url(f"**/incidents/{incident['id']}/playbook#task-*")  # back at the task
    expect(lead.locator("[data-task='warning_plan']")).to_have_class("task done ")

    expect(task).to_have_class("task-done", timeout=3000)
    assert board.evaluate("window.__noReload") is True
    # a task whose dependency is open cannot be completed: the page says which one
    lead.locator("[data-task='regulator_phone_report'] button.complete").click()
    expect(lead.locator("[data-task='regulator_phone_report'] .error")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    board.screenshot(path=str(SHOTS / "wall-board-task-done.png"), full_page=True)
    lead.screenshot(path=str(SHOTS / "playbook-page.png"), full_page=True)
    board.close()
    lead.close()
