"""Sending one message to one channel, as each vendor documents it.

- WeCom group robot: POST ``WECOM_WEBHOOK_URL?key=<key>`` with
  ``{"msgtype": "markdown", "markdown": {"content": ...}}`` (content at most
  4096 bytes); the answer ``{"errcode": 0}`` means sent. 20 messages a minute
  per robot.
- DingTalk custom robot: POST ``DINGTALK_WEBHOOK_URL?access_token=..&timestamp=..&sign=..``
  where timestamp is Unix milliseconds and sign is
  urlencode(base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))); body
  ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; ``{"errcode": 0}``.
  20 messages a minute per robot (more and it is throttled for 10 minutes).
- Feishu custom bot: POST ``FEISHU_WEBHOOK_URL<hook id>`` with ``timestamp``
  (Unix seconds) and ``sign`` = base64(HMAC-SHA256(key="<timestamp>\\n<secret>",
  msg="")) in the JSON body, and msg_type text, post or interactive;
  ``{"code": 0}``. 100 messages a minute and 5 a second per bot.
- E-mail: SMTP with STARTTLS or implicit TLS (SSL) and a log-in; plain text.
- Webhook: the signed JSON of console/webhooks.py, one alert per POST.
"""

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .. import webhooks

# (messages, seconds) a channel of each kind may be sent, checked all together.
LIMITS = {
    "wecom": ((20, 60),),
    "dingtalk": ((20, 60),),
    "feishu": ((100, 60), (5, 1)),
    "email": ((30, 60),),
    "webhook": ((600, 60),),
}
# Largest message text, in UTF-8 bytes (WeCom documents 4096 for markdown;
# DingTalk and Feishu take more, but a chat message of more than a screen is not read).
MAX_BYTES = {"wecom": 4000, "dingtalk": 4000, "feishu": 4000, "email": 60000, "webhook": 1}
MARKDOWN = {"wecom": True, "dingtalk": True, "feishu": False, "email": False, "webhook": False}


class Result:
    def __init__(self, ok, status=None, error=None):
        self.ok, self.status, self.error = ok, status, error


def _post_json(url, payload, timeout, headers=None):
    """POST JSON; returns (HTTP status, parsed answer or None, error text or None)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, None, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, None, str(getattr(exc, "reason", exc))
    try:
        return status, json.loads(raw or b"null"), None
    except ValueError:
        return status, None, None


def _vendor_result(status, answer, error, code_field):
    """Vendors answer 200 with an error code in the body: only code 0 is sent."""
    if error:
        return Result(False, status, error)
    if not isinstance(answer, dict):
        return Result(False, status, f"HTTP {status}: not a JSON answer")
    code = answer.get(code_field, answer.get("StatusCode"))
    if code == 0:
        return Result(True, status)
    message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    return Result(False, status, f"{code_field} {code}: {message}"[:500])


def dingtalk_sign(secret, timestamp_ms):
    """DingTalk's signature query parameter, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def feishu_sign(secret, timestamp_s):
    """Feishu's body ``sign``: the key is "<timestamp>\\n<secret>", the message empty."""
    return base64.b64encode(hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def send_wecom(channel, title, text, now, settings):
    url = settings["WECOM_WEBHOOK_URL"] + "?" + urllib.parse.urlencode({"key": channel["secret"]["key"]})
    status, answer, error = _post_json(url, {"msgtype": "markdown", "markdown": {"content": text}}, settings["CHANNEL_TIMEOUT_SECONDS"])
    return _vendor_result(status, answer, error, "errcode")


def send_dingtalk(channel, title, text, now, settings):
    timestamp = str(int(now.timestamp() * 1000))
    query = urllib.parse.urlencode({"access_token": channel["secret"]["access_token"], "timestamp": timestamp})
    url = f"{settings['DINGTALK_WEBHOOK_URL']}?{query}&sign={dingtalk_sign(channel['secret']['secret'], timestamp)}"
    status, answer, error = _post_json(url, {"msgtype": "markdown", "markdown": {"title": title, "text": text}}, settings["CHANNEL_TIMEOUT_SECONDS"])
    return _vendor_result(status, answer, error, "errcode")


def feishu_payload(msg_type, title, text):
    if msg_type == "text":
        return {"msg_type": "text", "content": {"text": text}}
    if msg_type == "interactive":
        return {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": [{"tag": "div", "text": {"tag": "plain_text", "content": text}}],
            },
        }
    paragraphs = []
    for line in text.split("\n")[1:]:
        line = line.strip()
        if line.startswith(("http://", "https://")):
            paragraphs.append([{"tag": "a", "text": line, "href": line}])  # the link back, clickable
        elif line:
            paragraphs.append([{"tag": "text", "text": line}])
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": paragraphs}}}}


def send_feishu(channel, title, text, now, settings):
    timestamp = str(int(now.timestamp()))
    payload = {
        "timestamp": timestamp,
        "sign": feishu_sign(channel["secret"]["secret"], timestamp),
        **feishu_payload(channel["config"].get("msg_type", "post"), title, text),
    }
    url = settings["FEISHU_WEBHOOK_URL"] + urllib.parse.quote(channel["secret"]["hook_id"], safe="")
    status, answer, error = _post_json(url, payload, settings["CHANNEL_TIMEOUT_SECONDS"])
    return _vendor_result(status, answer, error, "code")


def send_email(channel, title, text, now, settings):
    config = channel["config"]
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = config["sender"]
    message["To"] = ", ".join(config["recipients"])
    message["Date"] = formatdate(now.timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(domain=config["sender"].rpartition("@")[2] or None)
    message.set_content(text)
    context = ssl.create_default_context(cafile=settings.get("SMTP_CA_FILE") or None)
    timeout = settings["CHANNEL_TIMEOUT_SECONDS"]
    try:
        if config.get("security") == "ssl":
            smtp = smtplib.SMTP_SSL(config["host"], config["port"], timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config["host"], config["port"], timeout=timeout)
        with smtp:
            if config.get("security") != "ssl":
                smtp.starttls(context=context)
            if config.get("username"):
                smtp.login(config["username"], channel["secret"].get("password", ""))
            refused = smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return Result(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')[:300]}")
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return Result(False, None, str(exc)[:500] or exc.__class__.__name__)
    if refused:
        return Result(False, 250, f"refused recipients: {', '.join(sorted(refused))}")
    return Result(True, 250)


def send_webhook(channel, payload, delivery_id, now):
    """The generic signed webhook: one alert's JSON, signed as console/webhooks.py signs."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Console-Delivery": f"channel-{channel['id']}-{delivery_id}",
        "X-Console-Timestamp": timestamp,
        "X-Console-Signature": webhooks.sign(channel["secret"].get("secret", ""), timestamp, body),
    }
    status, error = webhooks.http_post(channel["config"]["url"], body, headers, channel["timeout"])
    ok = status is not None and 200 <= status < 300
    return Result(ok, status, None if ok else (error or f"HTTP {status}"))


SENDERS = {"wecom": send_wecom, "dingtalk": send_dingtalk, "feishu": send_feishu, "email": send_email}
