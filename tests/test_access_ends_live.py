"""Issue 14 (part A) on real servers: a board's socket ends with its access.
run.py in its own process (two of them for the cross-instance case), real
python-socketio clients, frames counted after the access ended."""

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
import socketio

from console import users
from console.audit import Actor
from console.clock import to_iso, utcnow

from .conftest import PASSWORD
from .servers import ConsoleServer, socket_client
from .test_live import Listener

CHECK_SECONDS = 2  # LIVE_ACCESS_CHECK_SECONDS' default, which run.py uses here


class Browser:
    """A person's browser: a cookie jar, logging in and out through the forms (CSRF on, as served)."""

    def __init__(self, url):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self, path):
        page = self.opener.open(self.url + path, timeout=10).read().decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path, form, csrf_from="/incidents"):
        data = urllib.parse.urlencode({**form, "csrf_token": self._csrf(csrf_from)}).encode()
        try:
            with self.opener.open(self.url + path, data=data, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def login(self, username, password=PASSWORD):
        assert self.post("/login", {"username": username, "password": password}, csrf_from="/login") == 200  # redirect followed
        return self

    def logout(self):
        return self.post("/logout", {})

    @property
    def cookie(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class CookieListener(Listener):
    """A Listener that connects with a browser's session cookie, as board.js does."""

    def __init__(self, url, cookie):
        super().__init__(url)
        self.cookie = cookie
        self.dropped = []
        self.sio.on("disconnect", lambda *reason: self.dropped.append(time.monotonic()))

    def connect(self):
        self.sio.connect(self.url, headers={"Cookie": self.cookie}, transports=["websocket"], wait_timeout=10)
        return self


def _token_listener(url, token):
    listener = Listener(url, token)
    listener.dropped = []
    listener.sio.on("disconnect", lambda *reason: listener.dropped.append(time.monotonic()))
    return listener.connect()


def wait_dropped(listener, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not listener.sio.connected:
            return
        time.sleep(0.02)
    raise AssertionError(f"the socket was still connected after {timeout}s")


def _change_and_wait(http_api, incident, witness, status, person="hebei_outlet_1"):
    """A change with names in it, and the moment a still-entitled board (the witness) has it."""
    seen = len(witness.events())
    assert http_api("team", "PATCH", f"/api/v1/complainants/{incident[person]}", json={"status": status}).status_code == 200
    witness.wait_for(lambda e: len(e) > seen)


def _next_sequence_number(http_api, incident, witness):
    """Instead of waiting a while for a frame that must not come: one more change
    in the same scope, and the moment the witness has its (next) sequence number,
    the server has sent the one before to every socket still in the room."""
    _change_and_wait(http_api, incident, witness, "contacted", person="hebei_outlet_2")


def _refused(url, **connect_args):
    client = socket_client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, transports=["websocket"], wait_timeout=5, **connect_args)


def test_a_board_open_before_logout_is_dropped_and_gets_no_further_frames(server, http_api, tokens, incident):
    browser = Browser(server.url).login("team")
    cookie = browser.cookie
    board = CookieListener(server.url, cookie).connect()
    witness = _token_listener(server.url, tokens["lead"])
    try:
        assert "snapshot" in board.join(incident["id"])
        witness.join(incident["id"])
        _change_and_wait(http_api, incident, witness, "contacted")
        board.wait_for(lambda e: len(e) == 1)  # live before logout: names and all
        assert "张建国" in json.dumps(board.events(), ensure_ascii=False)

        assert browser.logout() == 200
        wait_dropped(board, timeout=1.5)  # this process ended the session: at once, not at the next check
        frames = len(board.frames)
        _change_and_wait(http_api, incident, witness, "negotiating")
        _next_sequence_number(http_api, incident, witness)
        assert len(board.frames) == frames
        _refused(server.url, headers={"Cookie": cookie})  # the saved cookie opens no new socket
    finally:
        board.close()
        witness.close()


def test_a_token_revoked_elsewhere_drops_its_socket_within_the_check(server, http_api, db, tokens, accounts, incident):
    """Revoked by another process (here the test's, as run.py token revoke does): the server's check finds it."""
    token = users.issue_token(db, "legal", name="board-bot")
    token_id = db.execute("SELECT id FROM api_token WHERE name = 'board-bot'").fetchone()[0]
    board = _token_listener(server.url, token)
    witness = _token_listener(server.url, tokens["lead"])
    try:
        board.join(incident["id"])
        witness.join(incident["id"])
        users.revoke_token(db, token_id, Actor(accounts["lead"], "lead", "test"))
        wait_dropped(board, timeout=CHECK_SECONDS + 3)
        frames = len(board.frames)
        _change_and_wait(http_api, incident, witness, "contacted")
        _next_sequence_number(http_api, incident, witness)
        assert len(board.frames) == frames
        _refused(server.url, auth={"token": token})
        # an expired token is refused at connect too
        expired = users.issue_token(db, "legal", name="old", now=utcnow() - timedelta(days=91))
        _refused(server.url, auth={"token": expired})
    finally:
        board.close()
        witness.close()


def test_deactivation_on_the_users_page_drops_every_socket_of_the_user(server, http_api, tokens, accounts, incident):
    person = Browser(server.url).login("branch_hebei")
    by_cookie = CookieListener(server.url, person.cookie).connect()
    by_token = _token_listener(server.url, tokens["branch_hebei"])
    witness = _token_listener(server.url, tokens["lead"])
    try:
        by_cookie.join(incident["id"])
        by_token.join(incident["id"])
        witness.join(incident["id"])
        lead = Browser(server.url).login("lead")
        assert lead.post(f"/admin/users/{accounts['branch_hebei']}/deactivate", {"confirm": "yes"}) == 200
        wait_dropped(by_cookie, timeout=1.5)
        wait_dropped(by_token, timeout=1.5)
        frames = len(by_cookie.frames), len(by_token.frames)
        _change_and_wait(http_api, incident, witness, "contacted")
        _next_sequence_number(http_api, incident, witness)
        assert (len(by_cookie.frames), len(by_token.frames)) == frames
    finally:
        for listener in (by_cookie, by_token, witness):
            listener.close()


def test_a_role_change_drops_the_socket_so_the_viewer_is_not_fixed_at_connect(server, http_api, db, tokens, accounts, incident):
    person = Browser(server.url).login("branch_hebei")
    board = CookieListener(server.url, person.cookie).connect()
    try:
        assert board.join(incident["id"])["room"].endswith("province:130000")
        users.set_role(db, accounts["branch_hebei"], "branch", "440000", Actor(accounts["lead"], "lead", "test"))
        wait_dropped(board, timeout=CHECK_SECONDS + 3)
        # logged in again, the board follows the new scope
        again = CookieListener(server.url, Browser(server.url).login("branch_hebei").cookie).connect()
        try:
            assert again.join(incident["id"])["room"].endswith("province:440000")
        finally:
            again.close()
    finally:
        board.close()


def test_an_idle_session_drops_its_board(server, db, accounts, incident):
    board = CookieListener(server.url, Browser(server.url).login("team").cookie).connect()
    try:
        board.join(incident["id"])
        db.execute("UPDATE user_session SET last_seen_at = ? WHERE user_id = ?", [to_iso(utcnow() - timedelta(minutes=31)), accounts["team"]])
        db.conn.commit()
        wait_dropped(board, timeout=CHECK_SECONDS + 3)
    finally:
        board.close()


def test_logout_on_one_instance_drops_the_board_on_another(app, incident, tokens):
    """Two run.py processes on one database (as behind nginx): the session ends on A,
    B's check drops the board it serves."""
    a = ConsoleServer(app.config["DATABASE"]).start()
    b = ConsoleServer(app.config["DATABASE"]).start()
    board = None
    try:
        browser = Browser(a.url).login("team")
        board = CookieListener(b.url, browser.cookie).connect()  # same secret key: the cookie works on both
        assert "snapshot" in board.join(incident["id"])
        assert browser.logout() == 200
        wait_dropped(board, timeout=CHECK_SECONDS + 3)
    finally:
        if board:
            board.close()
        a.stop()
        b.stop()


MALFORMED = [
    None,
    "7",
    [1],
    5,
    {},
    {"incident_id": None},
    {"incident_id": True},
    {"incident_id": 10**30},
    {"incident_id": -1},
    {"incident_id": [1]},
    {"incident_id": {"$gt": 0}},
    {"incident_id": "1 OR 1=1"},
]


def test_a_malformed_join_incident_is_answered_with_an_error(server, tokens, incident):
    board = _token_listener(server.url, tokens["lead"])
    try:
        for message in MALFORMED:
            answer = board.sio.call("join_incident", message, timeout=5)
            assert isinstance(answer, dict) and list(answer) == ["error"], (message, answer)
        assert "snapshot" in board.join(incident["id"])  # the socket still works
        assert board.sio.connected
    finally:
        board.close()
    assert "Traceback" not in server.output()


def test_socketio_answers_of_the_real_server_carry_the_security_headers(server):
    for path in ("/socket.io/?EIO=4&transport=polling", "/socket.io/?EIO=4&transport=bogus"):
        try:
            with urllib.request.urlopen(server.url + path, timeout=10) as answer:
                headers = answer.headers
        except urllib.error.HTTPError as exc:
            headers = exc.headers
        assert headers["Content-Security-Policy"].startswith("default-src 'self'"), path
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


def test_log_out_everywhere_drops_the_session_boards_and_keeps_the_token_board(server, http_api, tokens, accounts, incident):
    by_cookie = CookieListener(server.url, Browser(server.url).login("legal").cookie).connect()
    by_token = _token_listener(server.url, tokens["legal"])
    try:
        by_cookie.join(incident["id"])
        by_token.join(incident["id"])
        lead = Browser(server.url).login("lead")
        assert lead.post(f"/admin/users/{accounts['legal']}/sessions/end", {"confirm": "yes"}) == 200
        wait_dropped(by_cookie, timeout=1.5)
        _change_and_wait(http_api, incident, by_token, "contacted")  # the token's board goes on
        assert by_token.sio.connected
    finally:
        by_cookie.close()
        by_token.close()


def test_every_handler_looks_the_access_up_again(app, incident, db, tokens, accounts):
    """With the periodic check out of the way (an hour), a join_incident after the
    session or token ended is refused and drops the socket: the handler itself checks."""
    server = ConsoleServer(app.config["DATABASE"], env={"CONSOLE_LIVE_ACCESS_CHECK_SECONDS": "3600"}).start()
    token = users.issue_token(db, "lead", name="handler-check")
    by_cookie = CookieListener(server.url, Browser(server.url).login("team").cookie).connect()
    by_token = _token_listener(server.url, token)
    try:
        assert "snapshot" in by_cookie.join(incident["id"]) and "snapshot" in by_token.join(incident["id"])
        lead = Actor(accounts["lead"], "lead", "test")
        users.end_access(db, accounts["team"], "test", lead, tokens=False)
        users.revoke_token(db, db.execute("SELECT id FROM api_token WHERE name = 'handler-check'").fetchone()[0], lead)
        for listener in (by_cookie, by_token):
            try:
                answer = listener.sio.call("join_incident", {"incident_id": incident["id"]}, timeout=3)
                assert "snapshot" not in answer, answer
            except socketio.exceptions.TimeoutError:
                pass  # dropped before the answer went out
            wait_dropped(listener, timeout=3)
    finally:
        by_cookie.close()
        by_token.close()
        server.stop()
