"""The screens for the people who hold them, in Debian's chromium: every page
each role can reach fits a phone (390×844) with no sideways scroll and has no
serious or critical accessibility violation (axe-core, contrast included); a
branch contact on a phone posts an update with needs, and the lead's board
shows the request within a second and marks it handled."""

import re
import time
from urllib.parse import urljoin, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .browser import (
    SHOTS,
    browser,  # noqa: F401 (the fixture)
    login,
)
from .conftest import ACCOUNTS

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1600, "height": 1000}
# Links a crawl does not follow: they end the session, switch the language, or are files.
SKIP = re.compile(r"/logout|/static/|\.(pdf|xlsx|csv)$|/download|/export|/documents/\d+$|lang=")
MAX_PAGES = 40

axe = Axe()


def _crawl(page, server):
    """Every page reachable by links from where the log-in landed, one per route
    shape (/complainants/1 and /complainants/2 are one page)."""
    seen, shapes, queue = set(), set(), [urlparse(page.url).path]
    while queue and len(shapes) < MAX_PAGES:
        path = queue.pop(0)
        shape = re.sub(r"/\d+", "/N", path.split("?")[0]) + ("?" if "?" in path else "")
        if path in seen or shape in shapes:
            continue
        seen.add(path)
        response = page.goto(server.url + path)
        if response is None or "text/html" not in response.headers.get("content-type", "") or response.status != 200:
            continue
        shapes.add(shape)
        page.wait_for_timeout(400)  # the boards draw their snapshot
        yield path
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlparse(urljoin(server.url + path, href))
            if target.netloc != urlparse(server.url).netloc:
                continue
            full = target.path + (f"?{target.query}" if target.query else "")
            if not SKIP.search(full) and full not in seen:
                queue.append(full)


def _serious(page):
    result = axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:160]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("username", sorted(ACCOUNTS))
def test_every_page_fits_a_phone_and_passes_axe(browser, server, http_api, incident, username):  # noqa: F811
    assert (
        http_api(
            "branch_outlet",
            "POST",
            f"/api/v1/incidents/{incident['id']}/updates",
            json={"people_on_site": 6, "mood": "tense", "banners": True, "needs": "请总部派员到场"},
        ).status_code
        == 201
    )
    page = login(browser, server, username, PHONE)
    wide, violations, pages = [], [], []
    for path in _crawl(page, server):
        pages.append(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide.append((path, width))
        violations += [f"{path}: {v}" for v in _serious(page)]
    page.close()
    assert len(pages) >= 5, pages
    assert not wide, f"pages wider than the phone: {wide}"
    assert not violations, "\n".join(violations)


def test_branch_on_a_phone_posts_needs_and_the_lead_marks_the_request_handled(browser, server, http_api, incident):  # noqa: F811
    incident_id = incident["id"]  # the fixture's incident is active
    lead = login(browser, server, "lead", DESK)
    lead.goto(f"{server.url}/incidents/{incident_id}/board")
    expect(lead.locator("#live-state")).to_have_class("state-live", timeout=10000)
    expect(lead.locator("#requests")).to_contain_text("暂无网点诉求")

    phone = login(browser, server, "branch_outlet", PHONE)
    assert phone.url.endswith(f"/incidents/{incident_id}/board")  # log-in lands on their active incident
    expect(phone.locator("#live-state")).to_have_class("state-live", timeout=10000)
    # their own outlet first, above every other panel on the phone
    branches_top = phone.locator(".branches-card").bounding_box()["y"]
    matrix_top = phone.locator("#matrix").bounding_box()["y"]
    assert branches_top < matrix_top
    phone.click("text=报送本时段情况")
    phone.fill("input[name=people_on_site]", "37")
    phone.check("input[name=mood][value=hostile]")
    phone.check("input[name=banners]")
    phone.check("input[name=media_present]")
    phone.fill("textarea[name=needs]", "请总部派员到场")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / "phone-update-form.png"), full_page=True)
    sent = time.monotonic()
    phone.click("main button[type=submit]")

    request = lead.locator("#requests li.open").first
    expect(request).to_contain_text("请总部派员到场", timeout=1000)
    shown = time.monotonic() - sent
    expect(request).to_contain_text("石家庄中山路网点")
    expect(request).to_contain_text("横幅")
    expect(lead.locator("#feed li.ev-update_posted").first).to_contain_text("请总部派员到场")
    expect(lead.locator("#feed li.ev-update_posted").first).to_contain_text("对抗")
    assert shown < 1.5, shown  # the submit's own page load included

    # marking it handled asks first; saying no changes nothing
    lead.once("dialog", lambda dialog: dialog.dismiss())
    request.locator("button.handle").click()
    expect(lead.locator("#requests li.open")).to_have_count(1)
    lead.once("dialog", lambda dialog: dialog.accept())
    request.locator("button.handle").click()
    lead.wait_for_url(f"**/incidents/{incident_id}/board#requests")
    expect(lead.locator("#live-state")).to_have_class("state-live", timeout=10000)
    expect(lead.locator("#requests li.handled")).to_have_count(1)
    expect(lead.locator("#requests li.open")).to_have_count(0)
    expect(lead.locator("#requests li.handled")).to_contain_text("已于")

    # the phone's board hears it too, without a reload
    phone.goto(f"{server.url}/incidents/{incident_id}/board")
    expect(phone.locator("#feed li.ev-request_handled").first).to_contain_text("诉求已由", timeout=3000)
    lead.screenshot(path=str(SHOTS / "board-requests-lead.png"), full_page=True)
    phone.close()
    lead.close()


# What a person's thumb costs, for turning the test's counted taps into seconds a
# person would spend: a tap on a form target (find it, reach it, tap) and a tap on
# the phone's keyboard. A Chinese character through pinyin is about four keyboard
# taps (a syllable's letters and the candidate). Generous figures: a practised
# thumb is quicker; the assertion still leaves room.
TARGET_TAP_S, KEY_TAP_S, KEYS_PER_HANZI = 1.0, 0.35, 4


def test_the_hourly_update_is_filled_and_sent_with_a_thumb_in_well_under_30_seconds(browser, server, db, incident):  # noqa: F811
    from .conftest import PASSWORD

    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="zh-CN")
    phone = context.new_page()
    phone.goto(f"{server.url}/login")
    phone.fill("input[name=username]", "branch_outlet")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"**/incidents/{incident['id']}/board")
    before = db["hourly_update"].count
    taps = {"target": 0, "key": 0}
    small = []

    def tap(selector):
        target = phone.locator(selector).first
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        if box["height"] < 40 or box["width"] < 40:  # thumb-sized, or the count would flatter the form
            small.append((selector, box))
        target.tap()
        taps["target"] += 1

    def type_on_keyboard(text, erase=0):
        for _ in range(erase):
            phone.keyboard.press("Backspace")
        phone.keyboard.type(text)
        taps["key"] += erase + sum(KEYS_PER_HANZI if ord(c) > 0x2E7F else 1 for c in text)

    started = time.monotonic()
    tap("text=报送本时段情况")
    phone.wait_for_url("**/updates/new")
    tap("input[name=people_on_site]")
    type_on_keyboard("37")
    tap("label.choice:has(input[name=mood][value=hostile])")
    tap("label.choice:has(input[name=banners])")
    tap("label.choice:has(input[name=media_present])")
    tap("label.choice:has(input[name=police_present])")
    tap("input[name=new_complainants]")
    type_on_keyboard("5", erase=1)  # the field starts at 0
    tap("textarea[name=needs]")
    type_on_keyboard("请总部派员到场")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    sent = time.monotonic()
    tap("main button[type=submit]")
    phone.wait_for_url(lambda url: "/updates/new" not in url)
    phone.wait_for_load_state()
    round_trip = time.monotonic() - sent
    machine = time.monotonic() - started
    expect(phone.locator(".flash, [role=status], main")).to_contain_text("已")  # the posted notice

    assert small == []
    stored = list(db.query("SELECT * FROM hourly_update ORDER BY id DESC LIMIT 1"))[0]
    assert db["hourly_update"].count == before + 1
    assert (
        stored["people_on_site"],
        stored["mood"],
        stored["banners"],
        stored["media_present"],
        stored["police_present"],
        stored["new_complainants"],
        stored["needs"],
    ) == (37, "hostile", 1, 1, 1, 5, "请总部派员到场")
    person = taps["target"] * TARGET_TAP_S + taps["key"] * KEY_TAP_S
    print(
        f"\nhourly update on a phone: {taps['target']} target taps, {taps['key']} keyboard taps, "
        f"person ≈ {person:.1f} s + machine {machine:.2f} s (send round trip {round_trip:.2f} s)"
    )
    assert taps["target"] <= 10
    assert round_trip < 2.0, round_trip
    assert person + machine < 25, (person, machine)  # well under the 30 s
    context.close()


def test_an_update_sent_without_network_is_kept_and_sent_once_when_it_is_back(browser, server, db, incident):  # noqa: F811
    phone = login(browser, server, "branch_outlet", PHONE)
    phone.goto(f"{server.url}/incidents/{incident['id']}/updates/new")
    phone.fill("input[name=people_on_site]", "14")
    phone.fill("textarea[name=needs]", "需要法务到场")
    before = db["hourly_update"].count
    phone.context.set_offline(True)
    phone.click("main button[type=submit]")
    expect(phone.locator("#offline-note")).to_contain_text("已保存在本机")
    kept = phone.evaluate("JSON.parse(localStorage.getItem('console.pendingUpdates'))")
    assert len(kept) == 1 and kept[0]["key"] == phone.input_value("input[name=idempotency_key]")
    assert db["hourly_update"].count == before

    phone.context.set_offline(False)  # the browser fires "online": the kept update goes out
    expect(phone.locator("#offline-note")).to_contain_text("已补发", timeout=5000)
    assert phone.evaluate("JSON.parse(localStorage.getItem('console.pendingUpdates'))") == []
    assert db["hourly_update"].count == before + 1
    stored = list(db.query("SELECT * FROM hourly_update ORDER BY id DESC LIMIT 1"))[0]
    assert (stored["people_on_site"], stored["needs"], stored["branch_code"]) == (14, "需要法务到场", "HB-SJZ-01")

    # the same update sent again (a second tab kept it too): stored once, by its key
    phone.evaluate("kept => localStorage.setItem('console.pendingUpdates', JSON.stringify(kept))", kept)
    phone.goto(f"{server.url}/incidents/{incident['id']}/board")
    expect(phone.locator("#offline-note")).to_contain_text("已补发", timeout=5000)
    assert db["hourly_update"].count == before + 1
    phone.close()


WALL = {"width": 1920, "height": 1080}
SMALL_TEXT = """() => {
  const small = [];
  for (const node of document.querySelectorAll('body *')) {
    if (!node.getClientRects().length) continue;
    const text = Array.from(node.childNodes).some(c => c.nodeType === 3 && c.textContent.trim());
    if (text && parseFloat(getComputedStyle(node).fontSize) < 20) small.push(node.tagName + '.' + node.className + ': ' + node.textContent.trim().slice(0, 30));
  }
  return small;
}"""


@pytest.mark.parametrize("screen", [WALL, {"width": 3840, "height": 2160}], ids=["1920x1080", "3840x2160"])
def test_the_wall_fits_the_screen_and_turns_its_pages(app, browser, http_api, incident, screen):  # noqa: F811
    from .servers import ConsoleServer

    for code in ("HB-SJZ-02", "GD-GZ-01"):
        assert _post_update(http_api, incident["id"], code) == 201
    wall_server = ConsoleServer(app.config["DATABASE"], env={"CONSOLE_WALL_PAGE_SECONDS": "3"}).start()
    try:
        page = login(browser, wall_server, "executive", screen)
        page.goto(f"{wall_server.url}/incidents/{incident['id']}/wall")
        expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
        # the executives' header: wall, roll-ups, documents issued, log-out
        for text in ("大屏展示", "每日情况汇总", "已出具文件", "退出登录"):
            expect(page.locator("header.wall-top")).to_contain_text(text)
        panels = page.locator(".board-grid > section").count()
        seen_panels, seen_outlets = set(), set()
        pages = int(page.locator("#wall-pages .dot").count())
        assert pages >= 2
        for n in range(1, pages + 1):
            expect(page.locator("body")).to_have_attribute("data-wall-page", str(n), timeout=5000)
            expect(page.locator("#wall-pages")).to_contain_text(f"第 {n}/{pages} 页")
            page.wait_for_timeout(300)  # the page's panels drawn
            page.screenshot(path=str(SHOTS / f"wall-{screen['width']}-page-{n}.png"), full_page=True)  # before the checks: a failure can be looked at
            assert page.evaluate("document.documentElement.scrollHeight") <= screen["height"], n
            assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"], n
            assert page.evaluate(SMALL_TEXT) == [], n
            for size in page.eval_on_selector_all(".headline .figure .n", "ns => ns.map(n => parseFloat(getComputedStyle(n).fontSize))"):
                assert size >= 72
            shown = page.eval_on_selector_all(".board-grid > section", "ss => ss.map((s, i) => s.getClientRects().length ? i : -1).filter(i => i >= 0)")
            seen_panels.update(shown)
            seen_outlets.update(
                page.eval_on_selector_all(
                    "#branches li[data-branch]",
                    f"""lis => lis.filter(li => {{ const r = li.getBoundingClientRect();
                  return r.height > 0 && r.bottom <= {screen["height"]} && r.bottom <= li.parentElement.getBoundingClientRect().bottom + 1; }}).map(li => li.dataset.branch)""",
                )
            )
        assert seen_panels == set(range(panels))  # every panel is on some page
        assert seen_outlets >= {"HB-SJZ-01", "HB-SJZ-02", "GD-GZ-01"}  # every outlet that reports is seen
        assert _serious(page) == []
        page.close()
    finally:
        wall_server.stop()


def test_the_wall_pauses_on_its_button_and_under_the_pointer(app, browser, incident):  # noqa: F811
    from .servers import ConsoleServer

    wall_server = ConsoleServer(app.config["DATABASE"], env={"CONSOLE_WALL_PAGE_SECONDS": "3"}).start()
    try:
        page = login(browser, wall_server, "executive", WALL)
        page.goto(f"{wall_server.url}/incidents/{incident['id']}/wall")
        body = page.locator("body")
        expect(body).to_have_attribute("data-wall-page", "1", timeout=5000)
        page.mouse.move(5, 5)  # the pointer on the header, away from the panels
        expect(body).to_have_attribute("data-wall-page", "2", timeout=5000)  # it turns by itself
        # the pause button is reached with the keyboard and says what it does, in Chinese
        hold = page.locator("#wall-pages button.pause")
        expect(hold).to_have_attribute("aria-label", "暂停翻页")
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains('pause')"):
                break
        else:
            pytest.fail("the pause button is not reached with Tab")
        page.keyboard.press("Enter")
        expect(body).to_have_attribute("data-wall-paused", "true")
        expect(hold).to_have_attribute("aria-label", "继续翻页")
        expect(hold).to_have_attribute("aria-pressed", "true")
        paused_on = body.get_attribute("data-wall-page")
        page.wait_for_timeout(7000)  # more than two periods: no turn
        assert body.get_attribute("data-wall-page") == paused_on
        assert page.evaluate("document.activeElement.classList.contains('pause')")  # focus kept on the rebuilt button
        page.keyboard.press("Enter")  # resume
        expect(body).to_have_attribute("data-wall-paused", "false")
        expect(body).not_to_have_attribute("data-wall-page", paused_on, timeout=5000)
        # the pointer over the panels holds the page still; taking it away lets it turn
        page.mouse.move(WALL["width"] // 2, WALL["height"] // 2)
        expect(body).to_have_attribute("data-wall-hovered", "true")
        held_on = body.get_attribute("data-wall-page")
        page.wait_for_timeout(7000)
        assert body.get_attribute("data-wall-page") == held_on
        page.mouse.move(5, 5)
        expect(body).not_to_have_attribute("data-wall-page", held_on, timeout=5000)
        assert _serious(page) == []
        page.close()
    finally:
        wall_server.stop()


def _post_update(http_api, incident_id, branch_code):
    user = "branch_guangdong" if branch_code.startswith("GD") else "branch_hebei"
    return http_api(
        user, "POST", f"/api/v1/incidents/{incident_id}/updates", json={"branch_code": branch_code, "people_on_site": 2, "mood": "calm"}
    ).status_code


def test_the_charts_draw_the_figures_beside_them_and_move_with_the_board(browser, server, http_api, incident):  # noqa: F811
    page = login(browser, server, "lead", DESK)
    page.goto(f"{server.url}/incidents/{incident['id']}/board")
    expect(page.locator("#live-state")).to_have_class("state-live", timeout=10000)
    for chart in ("chart-by-day", "chart-on-site", "chart-status"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1, timeout=5000)  # Apache ECharts drew it
    # the status mix says the funnel's numbers; the per-day bars add up to the headline total
    expect(page.locator("#chart-status-figures")).to_have_text("新登记 3")
    expect(page.locator("#chart-by-day-figures")).to_contain_text("新增 3 人")
    expect(page.locator("#chart-on-site-figures")).to_have_text("近24小时没有网点报送。")
    assert http_api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": 8, "mood": "tense"}).status_code == 201
    expect(page.locator("#chart-on-site-figures")).to_have_text("最新现场人数：石家庄中山路网点 8", timeout=3000)
    added = http_api(
        "team", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json=[{"name": "赵丽华", "phone": "13600001111", "province_code": "330000"}]
    )
    assert added.status_code == 201
    expect(page.locator("#chart-status-figures")).to_have_text("新登记 4", timeout=3000)
    expect(page.locator("#total")).to_have_text("4")
    expect(page.locator("#chart-by-day-figures")).to_contain_text("今日新增 4 人")
    page.close()
