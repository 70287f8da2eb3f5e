"""A settlement in a real browser (Debian's chromium driven by Playwright, run.py
in its own process): legal records an offer that departs from the group's line,
the acceptance, the confidentiality agreement with its signed PDF and the
sign-off; an executive's wall board, open all along, counts the acceptance in
the current early-acceptance tier and the settled complainant without a reload,
and neither its page nor any Socket.IO frame it received carries an amount."""

import json
import re
from datetime import timedelta

import pytest
from flask_babel import gettext
from playwright.sync_api import expect
from reportlab.pdfgen import canvas

from console.clock import local, utcnow

from .browser import (
    SHOTS,
    browser,  # noqa: F401 (the fixture)
    login,
)
from .servers import ConsoleServer
from .test_settlements import TERMS, negotiating

PRINCIPAL = 48000  # the claim is 50,000 and the group pays 100%: a different line, so an agreement is needed
AWARD = 1888  # the current tier's award, added to the settlement's total
LATER_AWARD = 975  # the next tier's
LIQUIDATED = 13579
ESTIMATED_LOSS = 10450  # 30% above is 13,585: no damages warning
AMOUNTS = {
    "offer principal": PRINCIPAL,
    "settlement total": PRINCIPAL + AWARD,
    "tier award": AWARD,
    "next tier award": LATER_AWARD,
    "liquidated damages": LIQUIDATED,
    "estimated loss": ESTIMATED_LOSS,
    "claimed principal": 50000,
}
# No key of a live message may name money.
MONEY_KEYS = ("total", "award", "liquidated", "principal", "interest", "expenses", "amount", "fen", "damages", "loss", "cap")


@pytest.fixture
def server(app, incident, tmp_path):
    """run.py as in conftest, with the uploaded agreement kept under tmp_path rather than instance/."""
    running = ConsoleServer(app.config["DATABASE"], env={"CONSOLE_DOCUMENT_FOLDER": str(tmp_path / "documents")}).start()
    yield running
    running.stop()


def words(app, locale="zh-CN"):
    """The console's own translation of a message for the browser's language, so
    the test reads the page as its user does (English until a message is translated)."""

    def translate(message, **values):
        with app.test_request_context(headers={"Accept-Language": locale}):
            return gettext(message, **values)

    return translate


def amount_pattern(yuan):
    """``yuan`` as any page or message could spell it: 48000, 48,000, 48000.00, ¥48,000.00, or in fen."""
    spelled = "|".join(re.escape(s) for s in {str(yuan), f"{yuan:,}"})
    return re.compile(rf"(?<![\d.,])(?:{spelled})(?:\.\d+)?(?![\d,])|(?<![\d.,]){yuan * 100}(?!\d)")


def socketio_payloads(frames):
    """The JSON of each Socket.IO message frame (engine.io '4', then the packet type and any ack id)."""
    for frame in frames:
        text = frame.decode() if isinstance(frame, bytes) else frame
        found = re.match(r"^4\d\d*(?=[\[{])", text)
        if found:
            yield json.loads(text[found.end() :])


def keys_of(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from keys_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from keys_of(v)


# The contrast ratio of an element's text against the first background behind it.
CONTRAST = """
node => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = c.slice(0, 3).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let back = node;
  while (back && rgb(getComputedStyle(back).backgroundColor)[3] === 0) back = back.parentElement;
  const a = lum(rgb(getComputedStyle(node).color)), b = lum(rgb(getComputedStyle(back || document.body).backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""


def signed_pdf(path):
    pdf = canvas.Canvas(str(path))
    pdf.drawString(72, 720, "Confidentiality agreement CA-2026-01 (signed copy)")
    pdf.save()
    assert path.read_bytes().startswith(b"%PDF-")
    return path


def test_legal_settles_with_an_agreement_and_the_wall_board_counts_it_without_an_amount(app, browser, server, http_api, incident, tmp_path):  # noqa: F811
    t = words(app)
    person, group = incident["hebei_outlet_1"], incident["groups"][0]
    today = local(utcnow(), "Asia/Shanghai").date()
    assert http_api("legal", "PUT", f"/api/v1/groups/{group}/terms", json=TERMS).status_code == 200
    tiers = {
        "tiers": [
            {"name": "第一档", "starts_on": (today - timedelta(days=2)).isoformat(), "ends_on": (today + timedelta(days=4)).isoformat(), "award": AWARD},
            {"name": "第二档", "starts_on": (today + timedelta(days=5)).isoformat(), "ends_on": (today + timedelta(days=15)).isoformat(), "award": LATER_AWARD},
        ]
    }
    set_tiers = http_api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=tiers)
    assert set_tiers.status_code == 200, set_tiers.json
    negotiating(http_api, person)

    # The executive's wall board is open before anything is accepted; every frame it receives is kept.
    wall = login(browser, server, "executive", {"width": 1920, "height": 1080})
    frames = []
    wall.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    wall.goto(f"{server.url}/incidents/{incident['id']}/wall")
    expect(wall.locator("#live-state")).to_have_class("state-live", timeout=10000)
    current = wall.locator("#tiers table.tiers tr.current")
    expect(current).to_have_count(1)
    expect(current.locator("th")).to_have_text("第一档")
    expect(current.locator("[data-testid=tier-accepted]")).to_have_text("0")
    expect(wall.locator("#tiers caption")).to_contain_text(t("now %(name)s, %(n)s day(s) left", name="第一档", n=5))
    expect(wall.locator("[data-testid=settled]")).to_have_text("0")
    wall.evaluate("window.__noReload = true")

    # Legal, on the complainant's settlement page.
    legal = login(browser, server, "legal")
    page_url = f"{server.url}/complainants/{person}/settlement"
    legal.goto(page_url)
    expect(legal.locator("#standard-offer")).to_contain_text("¥50,000.00")
    legal.fill("#offer-form input[name=principal]", str(PRINCIPAL))
    legal.click("#offer-form button[type=submit]")
    legal.wait_for_url(page_url)
    expect(legal.locator(".flash")).to_have_text(t("Offer recorded."))
    offer = legal.locator("tr[id^=offer-]")
    expect(offer).to_have_count(1)
    expect(offer).to_contain_text("¥48,000.00")
    expect(offer).to_contain_text(t("differs from the group's terms"))

    offer.locator("button.accept").click()
    legal.wait_for_url(page_url)
    settlement = legal.locator("section.settlement")
    expect(settlement).to_have_class(re.compile(r"\bsettlement-accepted\b"))
    expect(settlement).to_contain_text(t("differs: a confidentiality agreement is required"))
    expect(settlement.locator("[data-testid=settlement-total]")).to_have_text(f"¥{PRINCIPAL + AWARD:,}.00")  # 48,000 + the tier's 1,888
    # the acceptance reaches the wall board at once, in the current tier; nobody is settled yet
    expect(current.locator("[data-testid=tier-accepted]")).to_have_text("1", timeout=3000)
    expect(wall.locator("[data-testid=settled]")).to_have_text("0")

    # Sign-off without the agreement is refused, on the page, and nothing moves.
    legal.click("#finalise")
    refusal = settlement.locator(".error[role=alert]")
    expect(refusal).to_have_text(t("These terms differ from the group's standard terms: record the signed confidentiality agreement before finalising."))
    expect(settlement).to_have_class(re.compile(r"\bsettlement-accepted\b"))
    expect(legal.locator("h1 .badge")).to_have_class(re.compile(r"\bcs-accepted\b"))
    assert http_api("team", "GET", f"/api/v1/complainants/{person}").json["status"] == "accepted"
    SHOTS.mkdir(exist_ok=True)
    legal.screenshot(path=str(SHOTS / "settlement-refused.png"), full_page=True)

    form = legal.locator("#agreement-form")
    form.locator("input[name=parties]").fill("本公司；张建国")
    form.locator("input[name=signed_on]").fill((today - timedelta(days=1)).isoformat())
    form.locator("input[name=liquidated_damages]").fill(f"{LIQUIDATED:,}")  # typed with a thousands separator
    form.locator("input[name=estimated_loss]").fill(str(ESTIMATED_LOSS))
    form.locator("input[name=clause_version]").fill("CA-2026-01")
    form.locator("input[name=witness_reference]").fill("录音 接待室 14:05")
    form.locator("input[name=document]").set_input_files(str(signed_pdf(tmp_path / "agreement.pdf")))
    form.locator("button[type=submit]").click()
    legal.wait_for_url(page_url)
    expect(legal.locator(".flash")).to_have_text(t("Confidentiality agreement kept with its signed document."))
    agreement = legal.locator("#agreement")
    expect(agreement).to_contain_text("agreement.pdf")
    expect(agreement).to_contain_text(f"¥{LIQUIDATED:,}.00")
    expect(agreement.locator("[data-testid=damages-warning]")).to_have_count(0)
    expect(settlement).not_to_contain_text(t("differs: a confidentiality agreement is required"))

    legal.click("#finalise")
    legal.wait_for_url(page_url)
    expect(legal.locator(".flash")).to_have_text(t("Settlement signed off: the complainant is settled and the follow-up call is scheduled."))
    expect(settlement.locator("h2")).to_contain_text(t("signed off"))
    expect(settlement).to_have_class(re.compile(r"\bsettlement-final\b"))
    expect(legal.locator("#finalise")).to_have_count(0)
    assert http_api("team", "GET", f"/api/v1/complainants/{person}").json["status"] == "settled"
    legal.screenshot(path=str(SHOTS / "settlement-legal.png"), full_page=True)

    # The wall board moved without a reload: one settled, still one accepted in the current tier.
    expect(wall.locator("[data-testid=settled]")).to_have_text("1", timeout=3000)
    expect(current.locator("[data-testid=tier-accepted]")).to_have_text("1")
    expect(wall.locator("#tiers tr:not(.current) [data-testid=tier-accepted]")).to_have_text("0")
    assert wall.evaluate("window.__noReload") is True
    # the current tier's count is readable on the dark wall (WCAG AA contrast, 4.5:1)
    assert wall.locator("#tiers tr.current [data-testid=tier-accepted]").evaluate(CONTRAST) >= 4.5
    wall.screenshot(path=str(SHOTS / "wall-board-tiers-executive.png"), full_page=True)
    wall.click("#wall-pages button[data-panels~='tiers']")  # the wall turns its pages: show the tiers' one
    wall.locator("#tiers").screenshot(path=str(SHOTS / "tier-panel.png"))

    # ... and carries no amount: not in the page, not in any frame it received.
    # The only yuan on the wall is the early-warning panel's forecast exposure: an
    # aggregate over the complainants still to come, never under MIN_CELL_PEOPLE
    # (console/forecast.py, console/disclosure.py), with its words for the demands
    # people make ("principal": 退还本金). Everything else carries no amount.
    html = wall.evaluate(
        "() => { const copy = document.documentElement.cloneNode(true); "
        "copy.querySelectorAll('#forecast, #forecast-strings').forEach(e => e.remove()); return copy.outerHTML; }"
    )
    assert "¥" not in html
    for what, yuan in AMOUNTS.items():
        assert not amount_pattern(yuan).search(html), f"the wall board's page shows the {what}"
    for word in ("award", "liquidated", "principal", "total_fen", "damages"):
        # ("total" itself is the board's complainant count, id="total", and the matrix's column label)
        assert word not in html.lower(), f"the wall board's page mentions {word!r}"
    payloads = list(socketio_payloads(frames))
    assert any(isinstance(p, list) and p and isinstance(p[0], dict) and "snapshot" in p[0] for p in payloads), "no snapshot came over the WebSocket"
    assert sum(1 for p in payloads if isinstance(p, list) and p and p[0] == "settlement_updated") == 1, "the acceptance did not come over the WebSocket"
    for frame in frames:
        text = frame.decode(errors="replace") if isinstance(frame, bytes) else frame
        for what, yuan in AMOUNTS.items():
            assert not amount_pattern(yuan).search(text), f"a Socket.IO frame to the executive carries the {what}: {text[:300]}"
    money_keys = sorted({k for p in payloads for k in keys_of(p) if any(word in k.lower() for word in MONEY_KEYS)})
    assert not money_keys, f"Socket.IO frames to the executive have money keys: {money_keys}"

    # The executive cannot open the settlement page itself.
    response = wall.goto(page_url)
    assert response.status in (403, 404)
    assert not amount_pattern(PRINCIPAL).search(wall.content())
    wall.close()
    legal.close()
