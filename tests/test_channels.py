"""Alert channels (console/channels/): WeCom, DingTalk and Feishu robots and
e-mail, against servers on 127.0.0.1 that keep each vendor's contract and
refuse what the vendor refuses (tests/vendor_servers.py), and a real SMTP
server (aiosmtpd) that insists on TLS and a log-in."""

import hmac
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from console import create_app
from console.alerts import raise_alert
from console.channels import delivery, senders
from console.clock import to_iso
from console.db import write
from monitors import deliveries as deliveries_monitor
from monitors.runner import tick

from .servers import ROOT, ConsoleServer
from .smtp_server import SmtpServer
from .test_webhooks import Receiver
from .vendor_servers import DingTalkServer, FeishuServer, WeComServer, dingtalk_expected_sign, feishu_expected_sign, feishu_text

T = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
PUBLIC = "https://console.example.cn"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN, DING_SECRET = "ding-access-token-1234", "SECd4f7a1b2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0"
FEISHU_HOOK, FEISHU_SECRET = "2f6a1d3e-feishu-hook", "feishu-secret-5678"
SMTP_USER, SMTP_PASSWORD = "alerts@bank.example.cn", "smtp-pass-9999"
PERSON = {"name": "张建国", "phone": "13812345678", "id_number": "130105195501011234"}


class Clock:
    """The test's time: the vendor servers and the console's CLOCK_FILE read it."""

    def __init__(self, path):
        self.path = path
        self.set(T)

    def set(self, moment):
        self.now = moment
        self.path.write_text(to_iso(moment))

    def __call__(self):
        return self.now


@pytest.fixture
def clock(tmp_path):
    return Clock(tmp_path / "clock.txt")


@pytest.fixture
def wecom(clock):
    server = WeComServer(WECOM_KEY, clock)
    yield server
    server.close()


@pytest.fixture
def dingtalk(clock):
    server = DingTalkServer(DING_TOKEN, DING_SECRET, clock)
    yield server
    server.close()


@pytest.fixture
def feishu(clock):
    server = FeishuServer(FEISHU_HOOK, FEISHU_SECRET, clock)
    yield server
    server.close()


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path, SMTP_USER, SMTP_PASSWORD)
    yield server
    server.close()


@pytest.fixture
def app(tmp_path, clock, wecom, dingtalk, feishu, smtp):
    """The conftest app, with the vendors' addresses pointed at the local servers."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "console.db"),
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "DEFAULT_LOCALE": "en",
            "DOCUMENT_FOLDER": str(tmp_path / "documents"),
            "PUBLIC_URL": PUBLIC,
            "WECOM_WEBHOOK_URL": wecom.url,
            "DINGTALK_WEBHOOK_URL": dingtalk.url,
            "FEISHU_WEBHOOK_URL": feishu.url,
            "SMTP_CA_FILE": str(smtp.ca_file),
            "CLOCK_FILE": str(clock.path),
            "CHANNEL_TIMEOUT_SECONDS": 5,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app


def add_channel(api, body):
    response = api("lead", "POST", "/api/v1/channels", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def add_rule(api, channel_id, kinds=(), min_level="info", scope_code=None):
    response = api(
        "lead", "POST", "/api/v1/channel-rules", json={"channel_id": channel_id, "kinds": list(kinds), "min_level": min_level, "scope_code": scope_code}
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def wecom_channel(api):
    return add_channel(api, {"kind": "wecom", "name": "总部危机群", "key": WECOM_KEY})


def dingtalk_channel(api, secret=DING_SECRET):
    return add_channel(api, {"kind": "dingtalk", "name": "河北分公司群", "access_token": DING_TOKEN, "secret": secret})


def feishu_channel(api, msg_type="post", secret=FEISHU_SECRET):
    return add_channel(api, {"kind": "feishu", "name": "广东分公司群", "hook_id": FEISHU_HOOK, "secret": secret, "msg_type": msg_type})


def email_channel(api, smtp, password=SMTP_PASSWORD, security="starttls"):
    return add_channel(
        api,
        {
            "kind": "email",
            "name": "高管邮件",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": security,
            "username": SMTP_USER,
            "password": password,
            "sender": SMTP_USER,
            "recipients": ["ceo@bank.example.cn", "cro@bank.example.cn"],
        },
    )


def alert(db, key, kind, level, now, incident_id=None, province_code=None, branch_code=None, message="告警", data=None):
    with write(db):
        return raise_alert(
            db,
            key=key,
            kind=kind,
            level=level,
            message=message,
            now=now,
            audience={"lead", "team"},
            incident_id=incident_id,
            province_code=province_code,
            branch_code=branch_code,
            data=data,
            settings={"WEBHOOK_URL": None},  # the channels under test, not the WEBHOOK_URL setting
        )


def deliver(app, db, now):
    with app.app_context():
        return delivery.deliver_due(db, now, app.config)


def rows(db, sql, params=()):
    return [dict(r) for r in db.query(sql, list(params))]


def alert_ids(text):
    """How often each alert number (#id) appears in the messages' text."""
    return Counter(int(n) for n in re.findall(r"#(\d+)(?!\d)", text))


def dingtalk_text(server):
    return "\n".join(a["payload"]["markdown"]["text"] for a in server.accepted)


def wecom_text(server):
    return "\n".join(a["payload"]["markdown"]["content"] for a in server.accepted)


def test_each_alert_reaches_the_channels_its_rules_name_once(app, api, db, incident, wecom, dingtalk, feishu, smtp):
    receiver = Receiver()
    try:
        lead_group = wecom_channel(api)
        executives = email_channel(api, smtp)
        hebei = dingtalk_channel(api)
        guangdong = feishu_channel(api)
        gateway = add_channel(api, {"kind": "webhook", "name": "网关", "url": receiver.url, "secret": "gateway-secret-0001"})
        add_rule(api, lead_group, ["mass_incident"])
        add_rule(api, executives, ["mass_incident"])
        add_rule(api, hebei, ["missed_update"], scope_code="130000")
        add_rule(api, guangdong, [], min_level="warning", scope_code="440000")
        add_rule(api, gateway)
        add_rule(api, gateway, ["mass_incident"])  # a second matching rule sends nothing twice

        mass = alert(
            db,
            "mass",
            "mass_incident",
            "critical",
            T,
            incident_id=incident["id"],
            message=f"群体性事件：石家庄中山路网点 120 人聚集，{PERSON['name']}（{PERSON['phone']}，身份证 {PERSON['id_number']}）要求退还 ¥50,000.00。",
            data={"complainants": [PERSON]},
        )
        hebei_silent = alert(
            db,
            "hb",
            "missed_update",
            "warning",
            T,
            incident_id=incident["id"],
            province_code="130000",
            branch_code="HB-SJZ-01",
            message="石家庄中山路网点自 10:00 起未报送整点情况，请立即报送。",
        )
        guangdong_silent = alert(
            db,
            "gd",
            "missed_update",
            "warning",
            T,
            incident_id=incident["id"],
            province_code="440000",
            branch_code="GD-GZ-01",
            message="广州天河网点自 10:00 起未报送整点情况，请立即报送。",
        )
        guangdong_info = alert(db, "gd-info", "group_visit", "info", T, incident_id=incident["id"], province_code="440000", branch_code="GD-GZ-01")
        queued = {(d["channel_id"], d["alert_id"]) for d in rows(db, "SELECT * FROM channel_delivery")}
        assert queued == {
            (lead_group, mass),
            (executives, mass),
            (hebei, hebei_silent),
            (guangdong, guangdong_silent),
            (gateway, mass),
            (gateway, hebei_silent),
            (gateway, guangdong_silent),
            (gateway, guangdong_info),
        }

        summary = deliver(app, db, T)
        assert summary["delivered"] == 8 and summary["failed_attempts"] == 0 and summary["waiting"] == 0

        # WeCom: the lead's group, the mass incident, in Chinese with the link back and no personal data
        [message] = wecom.accepted
        content = message["payload"]["markdown"]["content"]
        assert "群体性事件" in content and "紧急" in content and "邮政渠道分红险集体投诉" in content and alert_ids(content) == Counter([mass])
        assert f"{PUBLIC}/incidents/{incident['id']}" in content
        for secret_text in (PERSON["name"], PERSON["phone"], PERSON["id_number"], "5678", "1234", "50,000", "50000"):
            assert secret_text not in content
        # e-mail to the executives, once, over TLS with a log-in
        [mail] = smtp.messages
        assert mail["to"] == ["ceo@bank.example.cn", "cro@bank.example.cn"] and mail["tls"] and mail["authenticated"]
        body = mail["message"].get_content()
        assert "危机指挥台" in mail["message"]["Subject"] and f"{PUBLIC}/incidents/{incident['id']}" in body
        assert PERSON["phone"] not in body and PERSON["name"] not in body and "50,000" not in body
        # DingTalk: Hebei's silent outlet only
        [ding] = dingtalk.accepted
        assert "石家庄中山路网点" in ding["payload"]["markdown"]["text"] and "广州" not in ding["payload"]["markdown"]["text"]
        assert alert_ids(ding["payload"]["markdown"]["text"]) == Counter([hebei_silent])
        assert ding["payload"]["markdown"]["title"].startswith("危机指挥台")
        # Feishu: Guangdong's warning, not its info alert
        [fei] = feishu.accepted
        text = feishu_text(fei["payload"])
        assert "广州天河网点" in text and "石家庄" not in text and alert_ids(text) == Counter([guangdong_silent])
        # the generic webhook: one signed POST per alert, the same JSON as WEBHOOK_URL gets
        assert len(receiver.requests) == 4
        for request in receiver.requests:
            signed = request["headers"]["X-Console-Timestamp"].encode() + b"." + request["body"]
            assert request["headers"]["X-Console-Signature"] == "sha256=" + hmac.new(b"gateway-secret-0001", signed, "sha256").hexdigest()
        assert sorted(json.loads(r["body"])["id"] for r in receiver.requests) == sorted([mass, hebei_silent, guangdong_silent, guangdong_info])

        # once: later runs send nothing more anywhere
        for later in (T + 15 * SECOND, T + timedelta(hours=1)):
            assert deliver(app, db, later)["messages"] == 0
        assert (len(wecom.accepted), len(dingtalk.accepted), len(feishu.accepted), len(smtp.messages), len(receiver.requests)) == (1, 1, 1, 1, 4)
        assert not (wecom.refused or dingtalk.refused or feishu.refused)
        logged = rows(db, "SELECT * FROM channel_attempt ORDER BY id")
        assert len(logged) == 8 and all(a["ok"] for a in logged)
        assert {d["attempts"] for d in rows(db, "SELECT * FROM channel_delivery")} == {1}
    finally:
        receiver.close()


@pytest.mark.parametrize("msg_type", ["text", "post", "interactive"])
def test_feishu_takes_each_message_type(app, api, db, incident, feishu, msg_type):
    channel = feishu_channel(api, msg_type=msg_type)
    add_rule(api, channel)
    alert(db, "one", "surge", "critical", T, incident_id=incident["id"], province_code="440000", message="投诉激增：广州 25 件")
    assert deliver(app, db, T)["delivered"] == 1
    [accepted] = feishu.accepted
    assert accepted["payload"]["msg_type"] == msg_type
    assert "投诉激增" in feishu_text(accepted["payload"])
    assert f"{PUBLIC}/incidents/{incident['id']}" in json.dumps(accepted["payload"])
    if msg_type == "post":
        links = [n for p in accepted["payload"]["content"]["post"]["zh_cn"]["content"] for n in p if n["tag"] == "a"]
        assert [n["href"] for n in links] == [f"{PUBLIC}/incidents/{incident['id']}"]


def test_the_servers_refuse_a_wrong_signature_and_the_attempt_is_logged(app, api, db, incident, dingtalk, feishu, wecom):
    wrong_ding = dingtalk_channel(api, secret="SEC-not-the-robots-secret")
    wrong_feishu = feishu_channel(api, secret="not-the-bots-secret")
    wrong_key = add_channel(api, {"kind": "wecom", "name": "错的机器人", "key": "not-the-key"})
    for channel in (wrong_ding, wrong_feishu, wrong_key):
        add_rule(api, channel)
    alert(db, "a", "severe", "critical", T, incident_id=incident["id"])
    summary = deliver(app, db, T)
    assert summary["delivered"] == 0 and summary["failed_attempts"] == 3
    assert dingtalk.accepted == [] and feishu.accepted == [] and wecom.accepted == []
    errors = {a["channel_id"]: a["error"] for a in rows(db, "SELECT * FROM channel_attempt")}
    assert errors[wrong_ding].startswith("errcode 310000")
    assert errors[wrong_feishu].startswith("code 19021")
    assert errors[wrong_key].startswith("errcode 93000")
    for channel in (wrong_ding, wrong_feishu, wrong_key):
        row = db["channel"].get(channel)
        assert row["failures"] == 1 and row["retry_at"] == to_iso(T + 30 * SECOND)
    # the attempt shows through the API with its error
    attempts = api("lead", "GET", f"/api/v1/channels/{wrong_ding}/attempts").json["attempts"]
    assert [(a["ok"], a["error"][:15]) for a in attempts] == [(False, "errcode 310000:")]
    # a stale timestamp with the right secret is refused too (DingTalk and Feishu: within an hour)
    stale = T - timedelta(hours=2)
    with app.app_context():
        assert senders.send_dingtalk({"secret": {"access_token": DING_TOKEN, "secret": DING_SECRET}}, "t", "x", stale, app.config).error.startswith(
            "errcode 310000"
        )
        assert senders.send_feishu({"secret": {"hook_id": FEISHU_HOOK, "secret": FEISHU_SECRET}, "config": {}}, "t", "x", stale, app.config).error.startswith(
            "code 19021"
        )


def _post(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_the_servers_refuse_a_wrong_body_shape_and_too_many_messages(clock, wecom, dingtalk, feishu):
    """The local servers are strict: what the console sends passes them because it keeps the contracts."""
    wecom_url = f"{wecom.url}?key={WECOM_KEY}"
    assert _post(wecom_url, {"msgtype": "text", "markdown": {"content": "x"}})["errcode"] == 40008
    assert _post(wecom_url, {"msgtype": "markdown", "markdown": {"text": "x"}})["errcode"] == 40008
    assert _post(wecom_url, {"msgtype": "markdown", "markdown": {"content": "长" * 1400}})["errcode"] == 40058  # 4200 bytes
    ts = str(int(clock.now.timestamp() * 1000))
    ding_url = f"{dingtalk.url}?access_token={DING_TOKEN}&timestamp={ts}&sign={urllib.parse.quote_plus(dingtalk_expected_sign(DING_SECRET, ts))}"
    assert _post(ding_url, {"msgtype": "markdown", "markdown": {"text": "no title"}})["errcode"] == 40035
    assert _post(ding_url, {"msgtype": "markdown", "markdown": {"title": "t", "text": "ok"}})["errcode"] == 0
    fs = str(int(clock.now.timestamp()))
    good = {"timestamp": fs, "sign": feishu_expected_sign(FEISHU_SECRET, fs)}
    assert _post(feishu.url + FEISHU_HOOK, {**good, "msg_type": "post", "content": {"text": "x"}})["code"] == 9499
    assert _post(feishu.url + FEISHU_HOOK, {**good, "msg_type": "markdown", "content": {"text": "x"}})["code"] == 9499
    # WeCom: 20 a minute per robot, the 21st is refused; a minute later it takes messages again
    wecom.accepted.clear()
    wecom.requests.clear()
    answers = [_post(wecom_url, {"msgtype": "markdown", "markdown": {"content": f"第{i}条"}})["errcode"] for i in range(21)]
    assert answers == [0] * 20 + [45009]
    clock.set(clock.now + 61 * SECOND)
    assert _post(wecom_url, {"msgtype": "markdown", "markdown": {"content": "again"}})["errcode"] == 0
    # Feishu: 5 a second
    fs = str(int(clock.now.timestamp()))
    good = {"timestamp": fs, "sign": feishu_expected_sign(FEISHU_SECRET, fs)}
    codes = [_post(feishu.url + FEISHU_HOOK, {**good, "msg_type": "text", "content": {"text": f"{i}"}})["code"] for i in range(6)]
    assert codes == [0] * 5 + [11232]


def test_a_burst_of_100_alerts_reaches_wecom_within_its_limit_once(app, api, db, incident, wecom, clock):
    channel = wecom_channel(api)
    add_rule(api, channel)
    branches = ["HB-SJZ-01", "HB-SJZ-02", "GD-GZ-01"]
    ids = [
        alert(
            db,
            f"burst:{i}",
            "missed_update",
            "warning",
            T,
            incident_id=incident["id"],
            province_code="130000" if i % 3 < 2 else "440000",
            branch_code=branches[i % 3],
            message=f"网点第 {i} 次未报送整点情况。",
        )
        for i in range(100)
    ]
    at = T
    while at < T + timedelta(minutes=5):
        clock.set(at)
        deliver(app, db, at)
        at += 15 * SECOND
    assert wecom.refused == []
    assert wecom.max_in_window(60) <= 20
    # every alert in exactly one message
    assert alert_ids(wecom_text(wecom)) == Counter(ids)
    assert all(len(a["payload"]["markdown"]["content"].encode()) <= 4096 for a in wecom.accepted)
    assert len(wecom.accepted) < 20  # batched: a handful of messages, not a hundred
    done = rows(db, "SELECT * FROM channel_delivery WHERE channel_id = ?", [channel])
    assert len(done) == 100 and all(d["delivered_at"] and d["attempts"] == 1 for d in done)
    assert sorted(d["alert_id"] for d in done) == sorted(ids)


def test_a_steady_stream_is_held_to_20_a_minute_and_the_rest_batched(app, api, db, incident, wecom, dingtalk, clock):
    """One alert every 2 s, delivered as soon as due: 90 in 3 minutes would be 90 messages;
    the limit lets 20 a minute through and batches what waits."""
    hebei = dingtalk_channel(api)
    lead = wecom_channel(api)
    add_rule(api, hebei)
    add_rule(api, lead)
    ids = []
    for i in range(90):
        at = T + 2 * i * SECOND
        clock.set(at)
        ids.append(
            alert(
                db,
                f"stream:{i}",
                "missed_update",
                "warning",
                at,
                incident_id=incident["id"],
                province_code="130000",
                branch_code="HB-SJZ-01",
                message=f"第 {i} 号提醒",
            )
        )
        deliver(app, db, at)
    at = T + 180 * SECOND
    while at < T + timedelta(minutes=6):
        clock.set(at)
        deliver(app, db, at)
        at += 10 * SECOND
    for server, text in ((wecom, wecom_text(wecom)), (dingtalk, dingtalk_text(dingtalk))):
        assert server.refused == []
        assert server.max_in_window(60) <= 20
        assert len(server.accepted) < 90
        assert alert_ids(text) == Counter(ids)
    assert db.execute("SELECT count(*) FROM channel_delivery WHERE delivered_at IS NULL").fetchone()[0] == 0


def test_a_channel_down_for_ten_minutes_gets_everything_afterwards_once(app, api, db, incident, dingtalk, clock):
    """The drill clock (CLOCK_FILE) moves on 15 s a tick; the monitor runs under its
    lease each tick as the scheduler would run it; DingTalk answers 503 for ten minutes."""
    channel = dingtalk_channel(api)
    add_rule(api, channel)
    dingtalk.down = True
    raised = []
    at = T
    while at <= T + timedelta(minutes=20):
        clock.set(at)
        if dingtalk.down and at >= T + timedelta(minutes=10):
            dingtalk.down = False
        if at < T + timedelta(minutes=10) and (at - T).total_seconds() % 60 == 0:
            raised.append(
                alert(
                    db,
                    f"down:{len(raised)}",
                    "missed_update",
                    "warning",
                    at,
                    incident_id=incident["id"],
                    province_code="130000",
                    branch_code="HB-SJZ-01",
                    message=f"停机期间第 {len(raised)} 条",
                )
            )
        tick(app, deliveries_monitor.MONITOR)  # reads CLOCK_FILE
        at += 15 * SECOND
    assert len(raised) == 10
    assert alert_ids(dingtalk_text(dingtalk)) == Counter(raised)
    assert dingtalk.refused == []
    attempts = rows(db, "SELECT * FROM channel_attempt ORDER BY id")
    failed = [a for a in attempts if not a["ok"]]
    assert failed and all(a["status"] == 503 for a in failed)
    # backed off: the waits between failed tries grow (30 s doubling, at most 10 min)
    gaps = [(datetime.fromisoformat(b["at"]) - datetime.fromisoformat(a["at"])).total_seconds() for a, b in zip(failed, failed[1:])]
    assert gaps == sorted(gaps) and gaps[0] >= 30
    ok = [a for a in attempts if a["ok"]]
    assert len(ok) == len(dingtalk.accepted) and datetime.fromisoformat(ok[0]["at"]) >= T + timedelta(minutes=10)
    assert sorted(d for a in ok for d in json.loads(a["deliveries"])) == sorted(r["id"] for r in rows(db, "SELECT id FROM channel_delivery"))
    assert db["channel"].get(channel)["failures"] == 0
    # the page shows the failed and the successful attempts
    page = api("lead", "GET", f"/api/v1/channels/{channel}/attempts").json["attempts"]
    assert [a["ok"] for a in reversed(page)] == [bool(a["ok"]) for a in attempts]


def test_a_delivery_gives_up_after_the_last_attempt(app, api, db, incident, wecom, clock):
    settings = {**app.config, "CHANNEL_MAX_ATTEMPTS": 3}
    channel = wecom_channel(api)
    add_rule(api, channel)
    wecom.down = True
    alert(db, "x", "severe", "critical", T, incident_id=incident["id"])
    at = T
    with app.app_context():
        for _ in range(40):
            delivery.deliver_due(db, at, settings)
            at += 30 * SECOND
    [row] = rows(db, "SELECT * FROM channel_delivery")
    assert row["attempts"] == 3 and row["failed_at"] and row["delivered_at"] is None and "HTTP 503" in row["last_error"]
    wecom.down = False
    with app.app_context():
        delivery.deliver_due(db, at + timedelta(hours=1), settings)
    assert wecom.accepted == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_a_log_in(tmp_path, app, api, db, incident, security):
    folder = tmp_path / security
    folder.mkdir()
    server = SmtpServer(folder, SMTP_USER, SMTP_PASSWORD, implicit_tls=security == "ssl")
    try:
        channel = email_channel(api, server, security=security)
        add_rule(api, channel, ["mass_incident"])
        alert(db, "m", "mass_incident", "critical", T, incident_id=incident["id"], message="群体性事件：网点聚集 120 人")
        alert(db, "other", "group_visit", "warning", T, incident_id=incident["id"])
        settings = {**app.config, "SMTP_CA_FILE": str(server.ca_file)}  # this server's own certificate
        with app.app_context():
            assert delivery.deliver_due(db, T, settings)["delivered"] == 1
        [mail] = server.messages
        assert mail["tls"] and mail["authenticated"]
        assert mail["message"]["Subject"] == "危机指挥台：1 条预警"
        assert "群体性事件" in mail["message"].get_content()
        with app.app_context():
            assert delivery.deliver_due(db, T + timedelta(hours=1), settings)["messages"] == 0
        assert len(server.messages) == 1
    finally:
        server.close()


def test_a_wrong_smtp_password_is_refused_and_logged(app, api, db, incident, smtp):
    channel = email_channel(api, smtp, password="wrong-password")
    add_rule(api, channel)
    alert(db, "m", "mass_incident", "critical", T, incident_id=incident["id"])
    assert deliver(app, db, T)["failed_attempts"] == 1
    [attempt] = rows(db, "SELECT * FROM channel_attempt")
    assert attempt["ok"] == 0 and attempt["status"] == 535
    assert smtp.messages == []


SENDER_SCRIPT = """
import json, sys, time
from datetime import datetime
from console import create_app
from console.channels import delivery
from console.db import connect
app = create_app(json.loads(sys.argv[1]))
db = connect(app.config["DATABASE"])
sent = 0
while time.time() < float(sys.argv[4]):  # both processes start sending at the same moment
    time.sleep(0.005)
with app.app_context():
    for step in range(int(sys.argv[3])):
        now = datetime.fromisoformat(sys.argv[2])
        sent += delivery.deliver_due(db, now, app.config)["delivered"]
print(sent)
"""


def test_two_processes_sending_at_once_deliver_each_alert_once(app, api, db, incident, feishu, clock):
    """Two console processes run the delivery loop on the same database at the
    same moment: the channel lease lets one send, each alert goes out once."""
    channel = feishu_channel(api, msg_type="text")
    add_rule(api, channel)
    ids = [alert(db, f"p:{i}", "missed_update", "warning", T, incident_id=incident["id"], message=f"并发第 {i} 条") for i in range(60)]
    config = {k: app.config[k] for k in ("DATABASE", "SECRET_KEY", "FEISHU_WEBHOOK_URL", "PUBLIC_URL", "CHANNEL_TIMEOUT_SECONDS")}
    config["TESTING"] = True
    feishu.delay = 0.3  # each send is slow: without the channel lease both processes would send the same batch
    start = str(time.time() + 4)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER_SCRIPT, json.dumps(config), to_iso(T), "20", start],
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [o[1][-2000:] for o in outputs]
    assert sum(int(o[0].split()[-1]) for o in outputs) == 60
    assert alert_ids("\n".join(feishu_text(a["payload"]) for a in feishu.accepted)) == Counter(ids)
    assert feishu.refused == []


def test_run_py_s_scheduler_sends_queued_alerts_on_the_drill_clock(app, api, db, incident, wecom, clock, tmp_path):
    """The production path: run.py with its scheduler on, the monitors woken
    every second and reading the drill clock (CLOCK_FILE), which the test moves
    on 15 s at a time; WeCom is down for the first two minutes of it. The
    monitors of run.py raise their own alerts too (this incident is severe):
    those the rule names go to WeCom as well."""
    channel = wecom_channel(api)
    add_rule(api, channel, ["mass_incident", "severe", "severe_incident", "severe_complaint", "supervisor_not_told"])
    wecom.down = True
    mass = alert(db, "run:mass", "mass_incident", "critical", T, incident_id=incident["id"])
    server = ConsoleServer(
        app.config["DATABASE"],
        env={
            "CONSOLE_SCHEDULER": "on",
            "CONSOLE_MONITOR_TICK_SECONDS": "1",
            "CONSOLE_CLOCK_FILE": str(clock.path),
            "CONSOLE_WECOM_WEBHOOK_URL": wecom.url,
            "CONSOLE_PUBLIC_URL": PUBLIC,
        },
    ).start()
    try:

        def ran(at):
            return (
                db.execute(
                    "SELECT count(*) FROM monitor_run WHERE monitor = 'deliveries' AND period_start = ? AND finished_at IS NOT NULL", [to_iso(at)]
                ).fetchone()[0]
                == 1
            )

        at = T
        severe = None
        while at <= T + timedelta(minutes=4):
            clock.set(at)
            if at >= T + timedelta(minutes=2):
                wecom.down = False
            if at == T + timedelta(minutes=1):
                severe = alert(db, "run:severe", "severe", "critical", at, incident_id=incident["id"])
            deadline = time.monotonic() + 20
            while not ran(at):  # the next thing that must happen: this period's run
                assert time.monotonic() < deadline, server.output()[-3000:]
                time.sleep(0.05)
            at += 15 * SECOND
    finally:
        server.stop()
    routed = [
        r["id"]
        for r in rows(db, "SELECT id FROM alert WHERE kind IN ('mass_incident', 'severe', 'severe_incident', 'severe_complaint', 'supervisor_not_told')")
    ]
    assert mass in routed and severe in routed and len(routed) > 2  # the timers monitor's severe-incident and severe-complaint alerts
    assert alert_ids(wecom_text(wecom)) == Counter(routed)
    assert wecom.refused == []
    attempts = rows(db, "SELECT * FROM channel_attempt ORDER BY id")
    assert [a["ok"] for a in attempts][-1] == 1 and not any(a["ok"] for a in attempts[:-1])
    assert datetime.fromisoformat(attempts[-1]["at"]) >= T + timedelta(minutes=2)
