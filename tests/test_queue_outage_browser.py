"""The board in chromium while Redis is down: it says, in Chinese, that it may
be behind, and when Redis returns it shows the database's numbers without a
reload and without another change. Two run.py instances, a real redis-server
stopped and started again on the same port."""

from playwright.sync_api import expect

from .browser import SHOTS, browser, login  # noqa: F401 (the fixture)
from .servers import ConsoleServer, RedisServer
from .test_queue_outage import start_redis_on


def test_the_board_shows_it_may_be_behind_while_redis_is_down_and_catches_up_after(app, browser, incident, tokens, api):
    redis = RedisServer()
    env = {"CONSOLE_SOCKETIO_MESSAGE_QUEUE": redis.url}
    a = ConsoleServer(app.config["DATABASE"], env=env).start()
    b = ConsoleServer(app.config["DATABASE"], env=env).start()
    restarted = None
    try:
        page = login(browser, b, "lead")
        page.goto(f"{b.url}/incidents/{incident['id']}/board")
        expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
        expect(page.locator("#total")).to_have_text("3")
        page.evaluate("window.__noReload = true")

        redis.stop()
        expect(page.locator("#live-state")).to_have_class("state-behind", timeout=5000)
        expect(page.locator("#live-state")).to_have_text("可能滞后：服务器之间的实时推送已中断")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "board-queue-down.png"))
        # a change while Redis is down (through the API of this test process): stored, never emitted to the board
        added = api(
            "team",
            "POST",
            f"/api/v1/incidents/{incident['id']}/complainants",
            json=[
                {"name": "赵丽华", "phone": "13600001111", "province_code": "330000"},
                {"name": "黄伟", "phone": "13600002222", "province_code": "440000"},
            ],
        )
        assert added.status_code == 201
        expect(page.locator("#total")).to_have_text("3")

        restarted = start_redis_on(redis.port)
        expect(page.locator("#live-state")).to_have_class("state-live", timeout=5000)
        expect(page.locator("#total")).to_have_text("5", timeout=5000)
        assert page.evaluate("window.__noReload") is True
        page.close()
    finally:
        a.stop()
        b.stop()
        if restarted is not None:
            restarted.terminate()
            restarted.wait(10)
        elif redis.process.poll() is None:
            redis.stop()
