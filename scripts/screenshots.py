"""Regenerate the screenshots in docs/: the crisis lead's board on a desk
(1600×1000), a branch contact's board and update form on a phone (390×844),
and the wall (1920×1080, every page it turns to).

    python scripts/screenshots.py        (or: bash scripts/screenshots)

Runs the demo (run.py --demo) on a fresh database in a temporary folder and
drives Debian's chromium with Playwright, as the browser tests do."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"run.py exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the demo server did not start")


def _page(browser, url, username, viewport):
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-2026")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def _live(page):
    page.wait_for_selector("#live-state.state-live", timeout=15000)
    page.wait_for_timeout(800)


def main():
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        env = {**os.environ, "CONSOLE_SECRET_KEY": "screenshots", "CONSOLE_SCHEDULER": "off", "CONSOLE_WALL_PAGE_SECONDS": "4"}
        with open(Path(folder) / "server.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "run.py", "--db", str(Path(folder) / "demo.db"), "--port", str(port), "--demo"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait(port, server)
            url = f"http://127.0.0.1:{port}"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                desk = _page(browser, url, "demo-lead", {"width": 1600, "height": 1000})
                desk.goto(f"{url}/incidents/1/board")
                _live(desk)
                desk.screenshot(path=str(DOCS / "board.png"))

                phone = _page(browser, url, "demo-outlet", {"width": 390, "height": 844})  # lands on the board
                _live(phone)
                phone.screenshot(path=str(DOCS / "board-phone.png"))
                phone.click("header .menu-toggle")
                phone.screenshot(path=str(DOCS / "board-phone-menu.png"))
                phone.goto(f"{url}/incidents/1/updates/new")
                phone.screenshot(path=str(DOCS / "update-form-phone.png"), full_page=True)

                wall = _page(browser, url, "demo-exec", {"width": 1920, "height": 1080})
                wall.goto(f"{url}/incidents/1/wall")
                _live(wall)
                pages = wall.locator("#wall-pages .dot").count()
                for n in range(1, pages + 1):
                    wall.wait_for_selector(f"body[data-wall-page='{n}']", timeout=10000)
                    wall.wait_for_timeout(300)
                    wall.screenshot(path=str(DOCS / f"wall-{n}.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
    print("screenshots written to", DOCS)


if __name__ == "__main__":
    main()
