"""The early-warning panel in a real browser (chromium through Playwright,
against run.py in its own process): the forecast band on the board moves when
a batch of complainants arrives, without a reload."""

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from console.clock import to_iso

from .browser import SHOTS, browser  # noqa: F401 (the fixture)
from .browser import login as _login
from .servers import ConsoleServer


@pytest.fixture
def fast_server(app, incident):
    running = ConsoleServer(app.config["DATABASE"], env={"CONSOLE_FORECAST_REFRESH_MS": "300"}).start()
    yield running
    running.stop()


def _batch(http_api, incident_id, n, received_at, start=0):
    people = [
        {
            "name": f"客户{start + i}",
            "phone": f"1380000{start + i:04d}",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "principal": "30000",
            "demands": "要求退还本金",
            "received_at": to_iso(received_at),
        }
        for i in range(n)
    ]
    added = http_api("team", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=people)
    assert added.status_code == 201, added.json


def _band(page):
    return page.locator("#forecast-band").get_attribute("points")


def test_the_forecast_band_moves_when_a_batch_of_complainants_arrives(browser, fast_server, tokens, incident):  # noqa: F811
    import json
    import urllib.request

    from .conftest import HttpResponse  # noqa: F401

    def http_api(username, method, url, json_body=None, **kwargs):
        body = kwargs.pop("json", json_body)
        request = urllib.request.Request(
            fast_server.url + url,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {tokens[username]}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return HttpResponse(response.status, response.read())

    now = datetime.now(timezone.utc)
    for n, hours_ago in enumerate(range(36, 0, -3)):
        _batch(http_api, incident["id"], 4, now - timedelta(hours=hours_ago, minutes=10), start=n * 10)
    page = _login(browser, fast_server, "lead", {"width": 1600, "height": 1200})
    page.goto(f"{fast_server.url}/incidents/{incident['id']}/board")
    expect(page.locator("#forecast-band")).to_be_attached(timeout=15000)
    expect(page.locator("#forecast-figures .figure")).to_have_count(3)
    before_band = _band(page)
    before_expected = int(page.locator("#forecast").get_attribute("data-expected24"))
    before_bars = page.locator("#forecast-chart rect.actual").count()
    page.evaluate("window.__noReload = true")

    _batch(http_api, incident["id"], 150, now - timedelta(minutes=20), start=1000)

    page.wait_for_function("(before) => document.getElementById('forecast-band').getAttribute('points') !== before", arg=before_band, timeout=15000)
    expect(page.locator("#forecast")).not_to_have_attribute("data-expected24", str(before_expected), timeout=5000)
    after_expected = int(page.locator("#forecast").get_attribute("data-expected24"))
    assert after_expected > before_expected
    assert float(page.locator("#forecast").get_attribute("data-band-top")) > 0
    assert page.locator("#forecast-chart rect.actual").count() >= before_bars
    assert page.evaluate("window.__noReload") is True
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "board-forecast.png"), full_page=True)
    page.close()

    # the executives' wall shows the same panel (their figures: counts; amounts over enough people)
    wall = _login(browser, fast_server, "executive", {"width": 1920, "height": 1080})
    wall.goto(f"{fast_server.url}/incidents/{incident['id']}/wall")
    expect(wall.locator("#forecast-band")).to_be_attached(timeout=15000)
    expect(wall.locator("#forecast")).to_have_attribute("data-expected24", str(after_expected), timeout=5000)
    wall.close()
