"""The channels API and page: credentials stored but never shown in full,
changes that keep them, refused input with readable (and Chinese) messages,
rules by scope, and the route from a real hourly update to a channel's queue."""

import json

import pytest

from console import create_app

from .vendor_servers import DingTalkServer

TOKEN, SECRET = "ding-token-abcdefgh", "SEC0123456789abcdef0123456789abcdef"


@pytest.fixture
def dingtalk():
    server = DingTalkServer(TOKEN, SECRET)  # the real clock: the API stamps with it
    yield server
    server.close()


@pytest.fixture
def app(tmp_path, dingtalk):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "console.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "DEFAULT_LOCALE": "en",
            "DOCUMENT_FOLDER": str(tmp_path / "documents"),
            "DINGTALK_WEBHOOK_URL": dingtalk.url,
            "PUBLIC_URL": "https://console.example.cn",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app


def create(api, body, user="lead"):
    return api(user, "POST", "/api/v1/channels", json=body)


DING = {"kind": "dingtalk", "name": "河北分公司群", "access_token": TOKEN, "secret": SECRET}


def test_credentials_are_stored_and_shown_masked_only(api, db, login, accounts):
    response = create(api, DING)
    assert response.status_code == 201, response.json
    channel = response.json
    assert channel["settings"] == {"access_token": "••••efgh", "secret": "••••cdef"}
    listed = api("lead", "GET", "/api/v1/channels").json["channels"]
    one = api("lead", "GET", f"/api/v1/channels/{channel['id']}").json
    page = login("lead").get("/channels").data.decode()
    for shown in (json.dumps(listed), json.dumps(one), page):
        assert TOKEN not in shown and SECRET not in shown and SECRET[4:-4] not in shown
    stored = db["channel"].get(channel["id"])
    assert json.loads(stored["secret"]) == {"access_token": TOKEN, "secret": SECRET}
    # a short credential shows no characters at all
    short = create(api, {"kind": "wecom", "name": "短", "key": "abc123"}).json
    assert short["settings"] == {"key": "••••"}


def test_a_change_keeps_the_credentials_left_out(api, db):
    channel_id = create(api, DING).json["id"]
    changed = api("lead", "PATCH", f"/api/v1/channels/{channel_id}", json={"name": "河北群（新）"})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "河北群（新）"
    assert json.loads(db["channel"].get(channel_id)["secret"]) == {"access_token": TOKEN, "secret": SECRET}
    rotated = api("lead", "PATCH", f"/api/v1/channels/{channel_id}", json={"secret": "SECnew-secret-000000009999"})
    assert rotated.json["settings"]["secret"] == "••••9999"
    assert json.loads(db["channel"].get(channel_id)["secret"])["secret"] == "SECnew-secret-000000009999"
    # a field of another kind is refused, nothing changes
    wrong = api("lead", "PATCH", f"/api/v1/channels/{channel_id}", json={"url": "https://example.com/hook"})
    assert wrong.status_code == 422 and wrong.json["details"][0]["field"] == "url"
    assert db["channel"].get(channel_id)["name"] == "河北群（新）"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "dingtalk", "name": "x", "access_token": TOKEN}, "dingtalk.secret"),
        ({"kind": "wecom", "name": "x", "key": "has spaces in it"}, "wecom.key"),
        ({"kind": "email", "name": "x", "host": "smtp.example.cn", "port": 70000, "sender": "a@b.cn", "recipients": ["c@d.cn"]}, "email.port"),
        ({"kind": "email", "name": "x", "host": "smtp.example.cn", "port": 587, "sender": "a@b.cn", "recipients": []}, "email.recipients"),
        ({"kind": "webhook", "name": "x", "url": "ftp://example.cn/hook", "secret": "s"}, "webhook.url"),
        ({"kind": "feishu", "name": "x", "hook_id": "h", "secret": "s", "msg_type": "image"}, "feishu.msg_type"),
        ({"kind": "sms", "name": "x"}, "body"),  # an unknown kind: "input tag 'sms' found using 'kind' does not match ..."
    ],
)
def test_bad_channels_are_refused_with_the_field_named(api, db, body, field):
    before = db["channel"].count
    response = create(api, body)
    assert response.status_code == 422, response.json
    assert field in [d["field"] for d in response.json["details"]]
    assert all(d["message"] for d in response.json["details"])
    assert db["channel"].count == before


def test_refusals_are_in_the_clients_language(api, db):
    channel_id = create(api, DING).json["id"]
    response = api("lead", "POST", "/api/v1/channel-rules", json={"channel_id": channel_id, "scope_code": "999999"}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 422
    assert "既不是省级行政区划代码" in response.json["error"]
    missing = api("lead", "GET", "/api/v1/channels/999", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404
    unknown = api("lead", "POST", "/api/v1/channel-rules", json={"channel_id": 999}, headers={"Accept-Language": "zh-CN"})
    assert unknown.status_code == 422 and "没有编号为 999 的预警渠道" in unknown.json["error"]


@pytest.mark.parametrize("user", ["team", "executive", "legal", "branch_hebei"])
def test_only_the_crisis_lead_configures_channels(api, user):
    assert create(api, DING, user=user).status_code == 403
    assert api(user, "GET", "/api/v1/channels").status_code == 403
    assert api(user, "GET", "/api/v1/channel-rules").status_code == 403


def test_an_hourly_update_is_routed_to_the_channel_of_its_place(api, db, incident):
    hebei = create(api, DING).json["id"]
    guangdong = create(api, {**DING, "name": "广东群"}).json["id"]
    outlet = create(api, {**DING, "name": "网点群"}).json["id"]
    assert (
        api(
            "lead", "POST", "/api/v1/channel-rules", json={"channel_id": hebei, "kinds": ["group_visit", "major_in_person"], "scope_code": "130000"}
        ).status_code
        == 201
    )
    assert api("lead", "POST", "/api/v1/channel-rules", json={"channel_id": guangdong, "scope_code": "440000"}).status_code == 201
    rule = api("lead", "POST", "/api/v1/channel-rules", json={"channel_id": outlet, "min_level": "critical", "scope_code": "HB-SJZ-01"})
    assert rule.json["scope_kind"] == "branch"
    response = api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": 4, "mood": "tense"})
    assert response.status_code == 201, response.json
    queued = [dict(r) for r in db.query("SELECT d.channel_id, a.kind FROM channel_delivery d JOIN alert a ON a.id = d.alert_id")]
    assert queued == [{"channel_id": hebei, "kind": "group_visit"}]  # warning: not the outlet's critical-only rule; not Guangdong
    api("branch_outlet", "POST", f"/api/v1/incidents/{incident['id']}/updates", json={"people_on_site": 25, "mood": "hostile"})
    kinds = sorted((r["channel_id"], r["kind"]) for r in db.query("SELECT d.channel_id, a.kind FROM channel_delivery d JOIN alert a ON a.id = d.alert_id"))
    assert kinds == sorted([(hebei, "group_visit"), (hebei, "major_in_person"), (outlet, "major_in_person")])
    # removing a rule stops further routing; removing a channel removes its queue
    assert api("lead", "DELETE", f"/api/v1/channel-rules/{rule.json['id']}").status_code == 200
    assert api("lead", "DELETE", f"/api/v1/channels/{hebei}").status_code == 200
    assert db["channel_delivery"].count_where("channel_id = ?", [hebei]) == 0
    assert api("lead", "GET", f"/api/v1/channels/{hebei}").status_code == 404


def test_test_send_through_the_api_reaches_dingtalk_signed_and_is_logged(api, db, dingtalk):
    channel_id = create(api, DING).json["id"]
    response = api("lead", "POST", f"/api/v1/channels/{channel_id}/test")
    assert response.status_code == 200, response.json
    assert response.json["delivered"] is True
    [attempt] = response.json["attempts"]
    assert attempt["ok"] and attempt["status"] == 200
    [message] = dingtalk.accepted
    assert "测试消息" in message["payload"]["markdown"]["text"] and "https://console.example.cn/channels" in message["payload"]["markdown"]["text"]
    # a robot that refuses: the answer says so and the attempt is logged with the vendor's error
    wrong = create(api, {**DING, "name": "错", "secret": "SEC-wrong-secret-00000"}).json["id"]
    refused = api("lead", "POST", f"/api/v1/channels/{wrong}/test").json
    assert refused["delivered"] is False and refused["attempts"][0]["error"].startswith("errcode 310000")
    assert [a["ok"] for a in api("lead", "GET", f"/api/v1/channels/{wrong}/attempts").json["attempts"]] == [False]


def test_the_page_refuses_bad_forms_with_a_message_and_writes_nothing(login, db):
    client = login("lead")
    missing_secret = client.post("/channels", data={"kind": "dingtalk", "name": "河北群", "access_token": TOKEN}, headers={"Accept-Language": "zh-CN"})
    assert missing_secret.status_code == 422
    assert "渠道未添加" in missing_secret.data.decode()
    assert client.post("/channels", data={"kind": "sms", "name": "x"}).status_code == 422
    assert db["channel"].count == 0
    assert (
        client.post(
            "/channels",
            data={
                "kind": "email",
                "name": "高管",
                "host": "smtp.example.cn",
                "port": "465",
                "security": "ssl",
                "sender": "alerts@bank.example.cn",
                "recipients": "ceo@bank.example.cn; cro@bank.example.cn",
            },
        ).status_code
        == 302
    )
    [channel] = [dict(r) for r in db.query("SELECT * FROM channel")]
    assert json.loads(channel["config"])["recipients"] == ["ceo@bank.example.cn", "cro@bank.example.cn"]
    assert json.loads(channel["config"])["port"] == 465
    bad_scope = client.post("/channel-rules", data={"channel_id": str(channel["id"]), "scope_code": "999999"}, headers={"Accept-Language": "zh-CN"})
    assert bad_scope.status_code == 422 and "既不是省级行政区划代码" in bad_scope.data.decode()
    assert db["channel_rule"].count == 0
