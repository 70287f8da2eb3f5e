"""Issue 14 (part A) in chromium: a board left open in one tab, the person
logs out in another; the board is dropped, clears and lands on the log-in page."""

from playwright.sync_api import expect

from .browser import browser  # noqa: F401 (the fixture)
from .conftest import PASSWORD


def test_logging_out_in_another_tab_takes_the_open_board_to_the_login_page(browser, server, incident):  # noqa: F811
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en")
    board = context.new_page()
    board.goto(f"{server.url}/login")
    board.fill("input[name=username]", "team")
    board.fill("input[name=password]", PASSWORD)
    board.click("button[type=submit]")
    board.wait_for_url(f"{server.url}/incidents")
    board.goto(f"{server.url}/incidents/{incident['id']}/board")
    expect(board.locator("#live-state")).to_have_class("state-live", timeout=10000)

    other_tab = context.new_page()  # same browser, same cookie
    other_tab.goto(f"{server.url}/incidents")
    other_tab.click("header form button[type=submit]")  # "Log out"
    other_tab.wait_for_url("**/login")

    board.wait_for_url("**/login**", timeout=10000)
    assert "/board" in board.url  # ?next= brings them back after logging in again
    assert board.locator("input[name=password]").count() == 1
    context.close()
