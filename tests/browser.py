"""Shared by the browser tests: Debian's chromium driven by Playwright, and
logging in through the login form. A test module takes the fixture with
``from .browser import browser``."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Screenshots the browser tests save for a person to look at (not kept in git).
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: the README's test command installs it (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()


def login(browser, server, username, viewport=None, locale="zh-CN"):
    """A page in its own browser context, logged in as ``username`` through the form."""
    page = browser.new_page(viewport=viewport or {"width": 1600, "height": 1000}, locale=locale)
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # a branch contact lands on their active incident's board; everyone else on the incident list
    page.wait_for_url(lambda url: "/login" not in url and url.rstrip("/") != server.url)
    page.wait_for_load_state()
    return page
