"""Small servers on 127.0.0.1 that keep the contracts WeCom, DingTalk and
Feishu document for their group robots, strictly: a wrong key or token, a
wrong or stale signature, a body of the wrong shape, or more messages than
the vendor's rate limit are refused with the vendor's error code, as the real
service refuses them. Each server reads the time from ``clock()`` (the test's
clock, so a drill's CLOCK_FILE time and the servers agree), records what it
accepted and what it refused, and can be taken down (``down = True``: every
request gets 503).

Contracts (the vendors' robot documentation):
- WeCom: POST /cgi-bin/webhook/send?key=KEY, {"msgtype": "markdown",
  "markdown": {"content": ...}}, content at most 4096 bytes; 20 messages a
  minute per robot (errcode 45009 beyond); a wrong key errcode 93000.
- DingTalk: POST /robot/send?access_token=..&timestamp=<ms>&sign=<urlencoded
  base64 HMAC-SHA256(secret, "<ms>\\n<secret>")>, the timestamp within an hour
  (errcode 310000 "sign not match" otherwise); {"msgtype": "markdown",
  "markdown": {"title", "text"}}; 20 a minute (errcode 130101 beyond).
- Feishu: POST /open-apis/bot/v2/hook/<id> with "timestamp" (seconds) and
  "sign" = base64(HMAC-SHA256(key="<ts>\\n<secret>", msg="")) in the body,
  within an hour (code 19021); msg_type text/post/interactive with its content
  shape, the body at most 20 KB (code 9499 otherwise); 100 a minute and 5 a
  second (code 11232).
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def real_clock():
    return datetime.now(timezone.utc)


class VendorServer:
    """The shared part: a threaded HTTP server, a clock, a log, a rate counter."""

    limits = ()  # (count, seconds, error answer)

    def __init__(self, clock=real_clock):
        self.clock = clock
        self.accepted = []  # {"at", "payload", "query", "path"}
        self.refused = []  # {"at", "answer", "payload"}
        self.requests = []  # times of every request that reached the rate counter
        self.down = False
        self.delay = 0.0  # seconds each answer takes, so that senders overlap
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlparse(self.path)
                if server.delay:
                    time.sleep(server.delay)
                with server.lock:
                    if server.down:
                        status, answer = 503, {"error": "down"}
                    else:
                        status, answer = server.handle(url.path, parse_qs(url.query), raw, self.headers)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def refuse(self, answer, payload=None):
        self.refused.append({"at": self.clock(), "answer": answer, "payload": payload})
        return 200, answer

    def over_limit(self):
        """Count this request; the error answer if it passes a limit."""
        now = self.clock()
        for count, seconds, answer in self.limits:
            recent = [t for t in self.requests if t > now - timedelta(seconds=seconds)]
            if len(recent) >= count:
                return answer
        self.requests.append(now)
        return None

    def accept(self, payload, path, query, ok):
        self.accepted.append({"at": self.clock(), "payload": payload, "path": path, "query": query})
        return 200, ok

    def max_in_window(self, seconds):
        """Most accepted messages within any window of ``seconds``."""
        times = sorted(a["at"] for a in self.accepted)
        return max((sum(1 for u in times if t <= u < t + timedelta(seconds=seconds)) for t in times), default=0)


def _json(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return None


class WeComServer(VendorServer):
    limits = ((20, 60, {"errcode": 45009, "errmsg": "api freq out of limit"}),)

    def __init__(self, key, clock=real_clock):
        self.key = key
        super().__init__(clock)

    @property
    def url(self):
        return self.base + "/cgi-bin/webhook/send"

    def handle(self, path, query, raw, headers):
        payload = _json(raw)
        if path != "/cgi-bin/webhook/send" or query.get("key") != [self.key]:
            return self.refuse({"errcode": 93000, "errmsg": "invalid webhook url"}, payload)
        limited = self.over_limit()
        if limited:
            return self.refuse(limited, payload)
        if (
            not isinstance(payload, dict)
            or payload.get("msgtype") != "markdown"
            or set(payload) != {"msgtype", "markdown"}
            or not isinstance(payload["markdown"], dict)
            or not isinstance(payload["markdown"].get("content"), str)
            or not payload["markdown"]["content"]
        ):
            return self.refuse({"errcode": 40008, "errmsg": "invalid message type"}, payload)
        if len(payload["markdown"]["content"].encode()) > 4096:
            return self.refuse({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}, payload)
        return self.accept(payload, path, query, {"errcode": 0, "errmsg": "ok"})


def dingtalk_expected_sign(secret, timestamp):
    return base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()).decode()


class DingTalkServer(VendorServer):
    limits = ((20, 60, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),)

    def __init__(self, token, secret, clock=real_clock):
        self.token, self.secret = token, secret
        super().__init__(clock)

    @property
    def url(self):
        return self.base + "/robot/send"

    def handle(self, path, query, raw, headers):
        payload = _json(raw)
        if path != "/robot/send" or query.get("access_token") != [self.token]:
            return self.refuse({"errcode": 300001, "errmsg": "token is not exist"}, payload)
        timestamp = (query.get("timestamp") or [""])[0]
        sign = (query.get("sign") or [""])[0]  # parse_qs undoes the URL encoding once, as DingTalk does
        fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - self.clock().timestamp()) <= 3600
        if not fresh or not hmac.compare_digest(sign, dingtalk_expected_sign(self.secret, timestamp)):
            return self.refuse({"errcode": 310000, "errmsg": "sign not match"}, payload)
        limited = self.over_limit()
        if limited:
            return self.refuse(limited, payload)
        markdown = payload.get("markdown") if isinstance(payload, dict) else None
        if (
            not isinstance(payload, dict)
            or payload.get("msgtype") != "markdown"
            or not isinstance(markdown, dict)
            or not isinstance(markdown.get("title"), str)
            or not isinstance(markdown.get("text"), str)
            or not markdown["title"]
            or not markdown["text"]
        ):
            return self.refuse({"errcode": 40035, "errmsg": "缺少参数 markdown"}, payload)
        return self.accept(payload, path, query, {"errcode": 0, "errmsg": "ok"})


def feishu_expected_sign(secret, timestamp):
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def _feishu_shape_ok(payload):
    kind = payload.get("msg_type")
    if kind == "text":
        return isinstance(payload.get("content"), dict) and isinstance(payload["content"].get("text"), str) and payload["content"]["text"] != ""
    if kind == "post":
        post = (payload.get("content") or {}).get("post") if isinstance(payload.get("content"), dict) else None
        if not isinstance(post, dict) or not post:
            return False
        for lang in post.values():
            if not isinstance(lang, dict) or not isinstance(lang.get("content"), list):
                return False
            for paragraph in lang["content"]:
                if not isinstance(paragraph, list) or not all(isinstance(n, dict) and n.get("tag") in ("text", "a", "at", "img") for n in paragraph):
                    return False
        return True
    if kind == "interactive":
        return isinstance(payload.get("card"), dict) and isinstance(payload["card"].get("elements"), list)
    return False


class FeishuServer(VendorServer):
    limits = ((5, 1, {"code": 11232, "msg": "frequency limited psm"}), (100, 60, {"code": 11232, "msg": "frequency limited psm"}))

    def __init__(self, hook_id, secret, clock=real_clock):
        self.hook_id, self.secret = hook_id, secret
        super().__init__(clock)

    @property
    def url(self):
        return self.base + "/open-apis/bot/v2/hook/"

    def handle(self, path, query, raw, headers):
        payload = _json(raw)
        if path != f"/open-apis/bot/v2/hook/{self.hook_id}":
            return 404, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        if not isinstance(payload, dict):
            return self.refuse({"code": 9499, "msg": "Bad Request"}, payload)
        timestamp = str(payload.get("timestamp", ""))
        fresh = timestamp.isdigit() and abs(int(timestamp) - self.clock().timestamp()) <= 3600
        if not fresh or not hmac.compare_digest(str(payload.get("sign", "")), feishu_expected_sign(self.secret, timestamp)):
            return self.refuse({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, payload)
        limited = self.over_limit()
        if limited:
            return self.refuse(limited, payload)
        if not _feishu_shape_ok(payload) or len(raw) > 20 * 1024:
            return self.refuse({"code": 9499, "msg": "Bad Request"}, payload)
        return self.accept(payload, path, query, {"code": 0, "msg": "success", "data": {}})


def feishu_text(payload):
    """The words of an accepted Feishu message, whatever its msg_type."""
    if payload["msg_type"] == "text":
        return payload["content"]["text"]
    if payload["msg_type"] == "post":
        return "\n".join(n.get("text", "") for lang in payload["content"]["post"].values() for p in lang["content"] for n in p)
    return json.dumps(payload["card"], ensure_ascii=False)
