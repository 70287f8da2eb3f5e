"""The crisis lead sets up a DingTalk group in a real browser (Debian's chromium
driven by Playwright, run.py in its own process): adds the robot with its
token and signing secret, a rule sending Hebei's missed updates there, presses
test-send, and sees the attempt logged; the local DingTalk server received
one correctly signed message, and the page never shows the secret."""

import pytest
from playwright.sync_api import expect

from .browser import (
    SHOTS,
    browser,  # noqa: F401 (the fixture)
    login,
)
from .servers import ConsoleServer
from .test_settlements_browser import words
from .vendor_servers import DingTalkServer

TOKEN, SECRET = "browser-ding-token-0001", "SECbrowser0123456789abcdefsecret42"


@pytest.fixture
def dingtalk():
    server = DingTalkServer(TOKEN, SECRET)  # real time: run.py stamps with the wall clock
    yield server
    server.close()


@pytest.fixture
def server(app, incident, dingtalk):
    running = ConsoleServer(
        app.config["DATABASE"], env={"CONSOLE_DINGTALK_WEBHOOK_URL": dingtalk.url, "CONSOLE_PUBLIC_URL": "https://console.example.cn"}
    ).start()
    yield running
    running.stop()


def test_the_lead_adds_a_dingtalk_channel_and_a_rule_and_test_sends(app, browser, server, dingtalk, db):  # noqa: F811
    _ = words(app)
    page = login(browser, server, "lead")
    page.click(f"nav >> text={_('Alert channels')}")
    expect(page.locator("h1")).to_have_text(_("Alert channels"))

    dingtalk_form = page.locator("#add-dingtalk")
    dingtalk_form.locator("summary").click()
    dingtalk_form.locator("input[name=name]").fill("河北分公司危机群")
    dingtalk_form.locator("input[name=access_token]").fill(TOKEN)
    dingtalk_form.locator("input[name=secret]").fill(SECRET)
    dingtalk_form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("河北分公司危机群")
    row = page.locator("#channels tr", has_text="河北分公司危机群")
    expect(row).to_contain_text("••••et42")

    rule = page.locator("#add-rule")
    rule.locator("select[name=channel_id]").select_option(label="河北分公司危机群")
    rule.locator("input[name=kinds][value=missed_update]").check()
    rule.locator("select[name=min_level]").select_option("warning")
    rule.locator("input[name=scope_code]").fill("130000")
    rule.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text(_("Routing rule added."))
    expect(page.locator("#rules tbody tr").first).to_contain_text(_("Missed hourly update"))
    expect(page.locator("#rules tbody tr").first).to_contain_text("河北省")  # the place by name, not its code
    expect(page.locator("#rules tbody tr").first).to_contain_text(_("Warning"))

    page.locator("#channels tr", has_text="河北分公司危机群").locator("button.test-send").click()
    expect(page.locator(".flash")).to_have_text(_("Test message sent."))
    logged = page.locator("#attempts tbody tr").first
    expect(logged).to_contain_text("河北分公司危机群")
    expect(logged).to_contain_text(_("sent"))
    expect(logged).to_contain_text("200")
    page.screenshot(path=str(SHOTS / "channels_dingtalk.png"), full_page=True)

    # the robot got one signed markdown message, with the link back
    [message] = dingtalk.accepted
    assert "https://console.example.cn/channels" in message["payload"]["markdown"]["text"]
    assert dingtalk.refused == []
    # the secret never reached the page
    assert SECRET not in page.content() and TOKEN not in page.content()
    # the attempt is in the database as the page shows it
    [attempt] = [dict(r) for r in db.query("SELECT * FROM channel_attempt")]
    assert attempt["ok"] == 1 and attempt["status"] == 200
    page.close()
