"""No settlement amount or term reaches a team member, an executive or a branch
contact: asserted on the raw bytes of every page, JSON answer, download and
Socket.IO frame they can get, with a settled complainant in the database."""

import base64
import json
from datetime import timedelta

from console.clock import utcnow

from .test_access import ROUTES, _url
from .test_live import Listener

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TERMS_TEXT = "条款甲乙丙：本金九成"
CLAUSE = "CA-CLAUSE-7Q"
# Every way the confidential figures could be written: yuan, fen, with thousands separators.
SECRETS = [
    "47654.32",
    "47,654.32",
    "4765432",  # the offer's principal
    "789.01",
    "78901",  # the tier award
    "12345.67",
    "12,345.67",
    "1234567",  # liquidated damages
    "98765.4",
    "98,765.4",
    "9876540",  # estimated loss
    TERMS_TEXT,
    CLAUSE,
    "witness-ref-XYZ",
]
SECRET_KEYS = ["total", "award", "liquidated", "principal_pct", "override_reason", "damages"]
OUTSIDERS = ["team", "executive", "branch_hebei", "branch_outlet", "branch_guangdong"]


def settle(api, incident):
    """A Hebei complainant settled on terms different from the group's, with an agreement."""
    person, group = incident["hebei_outlet_1"], incident["groups"][0]
    today = utcnow().astimezone().date()
    assert (
        api(
            "legal", "PUT", f"/api/v1/groups/{group}/terms", json={"principal_pct": 90, "interest_pct": 0, "pays_expenses": False, "text": TERMS_TEXT}
        ).status_code
        == 200
    )
    tiers = {
        "tiers": [{"name": "T1", "starts_on": (today - timedelta(days=3)).isoformat(), "ends_on": (today + timedelta(days=3)).isoformat(), "award": 789.01}]
    }
    assert api("legal", "PUT", f"/api/v1/groups/{group}/tiers", json=tiers).status_code == 200
    for status in ("contacted", "negotiating"):
        assert api("team", "PATCH", f"/api/v1/complainants/{person}", json={"status": status}).status_code == 200
    offer = api("legal", "POST", f"/api/v1/complainants/{person}/offers", json={"principal": 47654.32})
    assert offer.status_code == 201, offer.json
    settlement = api("legal", "POST", f"/api/v1/offers/{offer.json['id']}/accept")
    assert settlement.status_code == 201, settlement.json
    agreement = api(
        "legal",
        "POST",
        f"/api/v1/settlements/{settlement.json['id']}/agreement",
        json={
            "parties": "本公司；张建国",
            "signed_on": today.isoformat(),
            "liquidated_damages": 12345.67,
            "estimated_loss": 98765.4,
            "clause_version": CLAUSE,
            "witness_reference": "witness-ref-XYZ",
            "document_name": "a.pdf",
            "document_base64": base64.b64encode(PDF).decode(),
        },
    )
    assert agreement.status_code == 201, agreement.json
    final = api("legal", "POST", f"/api/v1/settlements/{settlement.json['id']}/finalise")
    assert final.status_code == 200, final.json
    return settlement.json["id"]


def leaks(body):
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return [s for s in SECRETS if s in text]


def test_the_secrets_are_really_there_for_legal(app, api, login, incident):
    """The check below means something only if legal's answers hold every secret."""
    settlement_id = settle(api, incident)
    seen = json.dumps(api("legal", "GET", f"/api/v1/settlements/{settlement_id}").json, ensure_ascii=False)
    seen += json.dumps(api("legal", "GET", f"/api/v1/groups/{incident['groups'][0]}/terms").json, ensure_ascii=False)
    seen += login("legal").get(f"/complainants/{incident['hebei_outlet_1']}/settlement").data.decode()
    assert [s for s in SECRETS if s not in seen and not s.isdigit()] == []  # fen forms live in the database and audit log


GET_ROUTES = [r for r in ROUTES if r[2] == "GET"]


def test_no_page_answer_or_download_gives_an_outsider_a_settlement_figure(app, api, login, incident):
    settle(api, incident)
    checked = 0
    for username in OUTSIDERS:
        client = login(username)
        for rule, _endpoint, _method in GET_ROUTES:
            for complainant in (incident["hebei_outlet_1"],):
                url = _url(rule, incident, complainant)
                response = api(username, "GET", url) if url.startswith("/api/") else client.get(url)
                assert response.status_code < 500, (username, url)
                found = leaks(response.data)
                assert not found, (username, url, response.status_code, found)
                checked += 1
        # the events a board catches up with are answers too
        events = api(username, "GET", f"/api/v1/incidents/{incident['id']}/events?since=0")
        if events.status_code == 200:
            assert not leaks(events.data) and not any(k in events.data.decode() for k in ('"total"', '"award"', '"liquidated'))
    assert checked > 100


def test_every_settlement_route_refuses_outsiders_before_reading_anything(app, api, login, incident):
    settlement_id = settle(api, incident)
    modules = ("console.api.settlements", "console.web.settlements")
    settlement_routes = [r for r in ROUTES if app.view_functions[r[1]].__module__ in modules]
    assert len(settlement_routes) >= 20
    for username in OUTSIDERS:
        client = login(username)
        for rule, _endpoint, method in settlement_routes:
            url = _url(rule, incident, incident["hebei_outlet_1"]).replace("/settlements/1/", f"/settlements/{settlement_id}/")
            response = api(username, method, url, json={}) if url.startswith("/api/") else client.open(url, method=method, data={})
            assert response.status_code == 403, (username, method, url, response.status_code)
            assert not leaks(response.data)


def test_no_socket_frame_carries_a_settlement_figure(server, tokens, http_api, incident):
    """Raw Socket.IO frames of every outsider's board while legal settles."""
    watchers = {}
    try:
        for username in ["team", "executive", "branch_hebei", "branch_outlet", "legal"]:
            watcher = Listener(server.url, tokens[username]).connect()
            watcher.join(incident["id"])
            watchers[username] = watcher
        settle(http_api, incident)
        for username, watcher in watchers.items():
            watcher.wait_for(lambda events: any(e.get("name") == "settlement_updated" for e in events))
        for username in ["team", "executive", "branch_hebei", "branch_outlet"]:
            frames = json.dumps(watchers[username].frames, ensure_ascii=False)
            assert not leaks(frames), (username, leaks(frames))
            for event in watchers[username].events():
                assert not any(f'"{k}' in json.dumps(event) for k in SECRET_KEYS), (username, event)
        executive = watchers["executive"].events()
        assert all("complainant" not in e for e in executive)  # no person at all for executives
        tiers = [e for e in executive if e.get("name") == "settlement_updated"]
        assert tiers and tiers[0]["tier_id"] and tiers[0]["delta"] == 1
    finally:
        for watcher in watchers.values():
            watcher.close()
