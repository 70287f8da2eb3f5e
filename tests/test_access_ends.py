"""Issue 14 (part A): access that ends when it should. Each finding of the
red-team pass reproduced, now refused: a cookie saved before logging out, a
token revoked or expired, sessions and tokens outliving a deactivation, a
password or role change, an idle session; the log-in timing of a deactivated
account; weak passwords; Socket.IO answers without security headers. The
users page and the CLI that end access. (Sockets: test_access_ends_live.py.)"""

import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from console import demo, passwords, users
from console.audit import Actor
from console.clock import from_iso, to_iso, utcnow
from console.errors import Invalid

from .conftest import CHEAP_HASH, PASSWORD, bearer
from .servers import ROOT


def _complainants_url(incident):
    return f"/api/v1/incidents/{incident['id']}/complainants"


def _saved_cookie(client):
    return client.get_cookie("session").value


def _client_with(app, cookie):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def _refused_everywhere(app, cookie, token, incident):
    """The saved cookie gets 401 on the API and the log-in page for a page; the token 401."""
    client = _client_with(app, cookie)
    api_answer = client.get(_complainants_url(incident))
    assert api_answer.status_code == 401, api_answer.json
    page = client.get(f"/incidents/{incident['id']}/complainants")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    if token is not None:
        assert app.test_client().get(_complainants_url(incident), headers=bearer(token)).status_code == 401


def test_a_cookie_saved_before_logout_is_refused_after_it(app, login, incident):
    client = login("team")
    saved = _saved_cookie(client)
    before = _client_with(app, saved).get(_complainants_url(incident))
    assert before.status_code == 200 and before.json["total"] == 3  # the finding: the list of complainants
    assert client.post("/logout").status_code == 302
    _refused_everywhere(app, saved, None, incident)
    # logging in again gives a new session that works; the old cookie stays dead
    fresh = login("team")
    assert fresh.get(_complainants_url(incident)).status_code == 200
    assert _client_with(app, saved).get(_complainants_url(incident)).status_code == 401


def test_logout_ends_only_that_session(app, login, incident):
    """Logging out in one browser does not log the same person out elsewhere (deactivation does)."""
    first, second = login("lead"), login("lead")
    first.post("/logout")
    assert first.get(_complainants_url(incident)).status_code == 401
    assert second.get(_complainants_url(incident)).status_code == 200


@pytest.mark.parametrize("change", ["deactivate", "password", "role", "scope"])
def test_deactivation_and_password_role_and_scope_changes_end_sessions_and_tokens(app, db, login, accounts, incident, change):
    username = "branch_hebei"
    client = login(username)
    other_browser = login(username)
    token = users.issue_token(db, username, name="integration")
    cookies = [_saved_cookie(client), _saved_cookie(other_browser)]
    assert client.get(_complainants_url(incident)).json["total"] == 2
    assert app.test_client().get(_complainants_url(incident), headers=bearer(token)).status_code == 200
    actor = Actor(accounts["lead"], "lead", "test")
    user_id = accounts[username]
    if change == "deactivate":
        ended = users.deactivate_user(db, user_id, actor)
    elif change == "password":
        ended = users.set_password(db, user_id, "a-new-long-passphrase", actor, hash_method=CHEAP_HASH)
    elif change == "role":
        ended = users.set_role(db, user_id, "executive", None, actor)
    else:
        ended = users.set_role(db, user_id, "branch", "440000", actor)
    assert ended == {"sessions": 2, "tokens": 2}  # the fixture's token and this one
    for cookie in cookies:
        _refused_everywhere(app, cookie, token, incident)
    audit = [r["action"] for r in db.query("SELECT action FROM audit_log WHERE table_name = 'user' AND row_id = ?", [user_id])]
    assert "end_access" in audit
    if change in ("password", "role", "scope"):
        # they log in again and see what they now may see, no more
        fresh = app.test_client()
        password = "a-new-long-passphrase" if change == "password" else PASSWORD
        assert fresh.post("/login", data={"username": username, "password": password}).status_code == 302
        answer = fresh.get(_complainants_url(incident))
        if change == "role":
            assert answer.status_code == 403  # an executive never reads names
        elif change == "scope":
            assert [c["province_code"] for c in answer.json["complainants"]] == ["440000"]
        else:
            assert answer.json["total"] == 2
    else:
        assert app.test_client().post("/login", data={"username": username, "password": PASSWORD}).status_code == 401


def test_a_role_change_to_the_same_role_ends_nothing(db, login, accounts):
    client = login("team")
    assert users.set_role(db, accounts["team"], "team", None, Actor(accounts["lead"], "lead", "test")) == {"sessions": 0, "tokens": 0}
    assert client.get("/incidents").status_code == 200


def test_a_revoked_token_and_an_expired_token_get_401(app, db, accounts, incident, tmp_path):
    lead = Actor(accounts["lead"], "lead", "test")
    old = users.issue_token(db, "team", name="old")
    new = users.issue_token(db, "team", name="new")
    client = app.test_client()
    assert client.get(_complainants_url(incident), headers=bearer(old)).status_code == 200
    old_id = db.execute("SELECT id FROM api_token WHERE name = 'old'").fetchone()[0]
    users.revoke_token(db, old_id, lead)
    refused = client.get(_complainants_url(incident), headers=bearer(old))
    assert refused.status_code == 401 and "Bearer" in refused.json["error"]
    assert client.get(_complainants_url(incident), headers=bearer(new)).status_code == 200
    with pytest.raises(Exception, match="already revoked"):
        users.revoke_token(db, old_id, lead)

    # Made 91 days ago with the default 90-day life: expired.
    expired = users.issue_token(db, "team", name="expired", now=utcnow() - timedelta(days=91))
    assert client.get(_complainants_url(incident), headers=bearer(expired)).status_code == 401
    # A token that expires in a second works, then does not (by the app's clock, moved on instead of waited for).
    start = utcnow()
    clock = tmp_path / "clock"
    app.config["CLOCK_FILE"] = str(clock)
    clock.write_text(to_iso(start))
    short = users.issue_token(db, "team", name="short", days=1, now=start - timedelta(days=1) + timedelta(seconds=1))
    assert client.get(_complainants_url(incident), headers=bearer(short)).status_code == 200
    later = start + timedelta(seconds=1)
    clock.write_text(to_iso(later))
    assert client.get(_complainants_url(incident), headers=bearer(short)).status_code == 401
    states = {t["name"]: t["state"] for t in users.list_tokens(db, accounts["team"], now=later, include_ended=True)}
    assert states["old"] == "revoked" and states["expired"] == "expired" and states["short"] == "expired" and states["new"] == "active"
    assert "old" not in {t["name"] for t in users.list_tokens(db, accounts["team"])}


def test_a_token_records_its_last_use_and_its_expiry(app, db, accounts, incident):
    token = users.issue_token(db, "legal", name="reports", days=30)
    row = db.execute("SELECT name, created_at, expires_at, last_used_at FROM api_token WHERE name = 'reports'").fetchone()
    assert row[3] is None
    assert (from_iso(row[2]) - from_iso(row[1])) == timedelta(days=30)
    app.test_client().get(_complainants_url(incident), headers=bearer(token))
    used = db.execute("SELECT last_used_at FROM api_token WHERE name = 'reports'").fetchone()[0]
    assert used is not None and abs((from_iso(used) - utcnow()).total_seconds()) < 5


def test_the_default_token_life_is_the_setting(db, accounts, app):
    users.issue_token(db, "lead", name="default-life")
    created, expires = db.execute("SELECT created_at, expires_at FROM api_token WHERE name = 'default-life'").fetchone()
    assert from_iso(expires) - from_iso(created) == timedelta(days=app.config["TOKEN_DAYS"]) == timedelta(days=90)


def _age_sessions(db, user_id, minutes):
    db.execute("UPDATE user_session SET last_seen_at = ? WHERE user_id = ?", [to_iso(utcnow() - timedelta(minutes=minutes)), user_id])
    db.conn.commit()


def test_a_session_idle_longer_than_the_setting_ends(app, db, login, accounts, incident):
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    client = login("team")
    _age_sessions(db, accounts["team"], 29)
    assert client.get(_complainants_url(incident)).status_code == 200  # used within the idle time: still open, and touched
    seen = db.execute("SELECT last_seen_at FROM user_session WHERE user_id = ?", [accounts["team"]]).fetchone()[0]
    assert abs((from_iso(seen) - utcnow()).total_seconds()) < 5

    _age_sessions(db, accounts["team"], 31)
    page = client.get(f"/incidents/{incident['id']}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert "30 minutes without use" in client.get("/login").get_data(as_text=True)
    assert client.get(_complainants_url(incident)).status_code == 401
    reason = db.execute("SELECT ended_reason FROM user_session WHERE user_id = ?", [accounts["team"]]).fetchone()[0]
    assert reason == "idle"


def test_the_idle_time_is_a_setting(tmp_path, accounts):
    from console import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "console.db"), "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False, "SESSION_IDLE_MINUTES": 5})
    client = app.test_client()
    client.post("/login", data={"username": "lead", "password": PASSWORD})
    from console.db import connect

    handle = connect(app.config["DATABASE"])
    _age_sessions(handle, accounts["lead"], 6)
    handle.close()
    assert client.get("/incidents").status_code == 302


# --- the log-in of a deactivated account takes as long as any other ------------------------------


def _median_seconds(call, times=5):
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        spent.append(time.perf_counter() - start)
    return sorted(spent)[len(spent) // 2]


def test_a_deactivated_accounts_log_in_takes_as_long_as_an_active_ones(app, db, accounts):
    """The finding: 3-7 ms against ~150 ms, because the hash was not checked. Real scrypt here."""
    users.add_user(db, "still-here", "team", "a-long-passphrase-1")
    users.add_user(db, "gone-now", "team", "a-long-passphrase-2")
    users.deactivate_user(db, users.find_user(db, "gone-now")["id"], Actor(accounts["lead"], "lead", "test"))
    assert users.check_password(db, "gone-now", "a-long-passphrase-2") is None
    assert users.check_password(db, "still-here", "a-long-passphrase-1")["username"] == "still-here"
    active = _median_seconds(lambda: users.check_password(db, "still-here", "a-long-passphrase-1"))
    deactivated = _median_seconds(lambda: users.check_password(db, "gone-now", "a-long-passphrase-2"))
    wrong = _median_seconds(lambda: users.check_password(db, "gone-now", "not-the-password"))
    assert active > 0.01, f"scrypt took only {active * 1000:.1f} ms: the comparison means nothing"
    # generous bounds: the two differ by the hash itself (tens of ms) when the check is skipped
    assert deactivated > 0.5 * active, (deactivated, active)
    assert wrong > 0.5 * active, (wrong, active)
    # and over HTTP: refused like a wrong password
    answer = app.test_client().post("/login", data={"username": "gone-now", "password": "a-long-passphrase-2"})
    assert answer.status_code == 401 and "Wrong user name or password" in answer.get_data(as_text=True)


# --- passwords ------------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["aaaaaaaa", "password", "aaaaaaaaaaaa", "abababababab", "Password2026!", "qwertyuiop", "1234567890", "123456789"])
def test_weak_passwords_are_refused(db, ctx, weak):
    with pytest.raises(Invalid) as refused:
        users.add_user(db, "weak", "team", weak, hash_method=CHEAP_HASH)
    assert refused.value.status == 422
    assert "password" in refused.value.message.lower()
    assert db["user"].count_where("username = 'weak'") == 0


def test_the_password_must_not_be_the_user_name(db, ctx):
    with pytest.raises(Invalid, match="user name"):
        users.add_user(db, "zhang.wei.2026", "team", "Zhang.Wei.2026", hash_method=CHEAP_HASH)


def test_the_policy_speaks_chinese(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert passwords.problem("password") == "密码至少需要 10 个字符。"
        assert passwords.problem("password123456") == "该密码属于最常见的密码，最先被猜中：请另选一个。"


def test_demo_and_test_passwords_meet_the_policy():
    for _username, password, *_rest in demo.ACCOUNTS:
        assert passwords.problem(password) is None, password
    assert passwords.problem(PASSWORD) is None
    assert passwords.problem("benchpass1") is None  # bench/ creates its accounts with this


def test_a_new_password_must_meet_the_policy_too(db, accounts, ctx):
    with pytest.raises(Invalid):
        users.set_password(db, accounts["team"], "password", Actor(accounts["lead"], "lead", "test"))
    assert users.check_password(db, "team", PASSWORD) is not None  # unchanged


# --- headers on Socket.IO's own answers -----------------------------------------------------------


def test_socketio_answers_carry_the_security_headers(app):
    client = app.test_client()
    for url, status in (("/socket.io/?EIO=4&transport=polling", 200), ("/socket.io/?EIO=4&transport=nonsense", 400), ("/socket.io/", 400)):
        answer = client.get(url)
        assert answer.status_code == status, (url, answer.status_code)
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'"), url
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] == "same-origin"
    # each header once on Flask's own pages (the middleware adds only what is missing)
    page = client.get("/login")
    assert len(page.headers.getlist("Content-Security-Policy")) == 1


# --- the users page -------------------------------------------------------------------------------


def test_the_users_page_lists_who_has_access(app, db, login, accounts):
    users.issue_token(db, "legal", name="contracts-bot")
    login("team")  # a log-in to show
    page = login("lead").get("/admin/users").get_data(as_text=True)
    for username in accounts:
        assert username in page
    assert "contracts-bot" in page and "Reset password" in page and "Deactivate" in page
    assert re.search(r"team.*?\d{4}-\d\d-\d\d \d\d:\d\d", page, re.S)  # team's last log-in
    assert login("team").get("/admin/users").status_code == 403


def test_the_users_page_deactivates_only_with_confirmation(app, db, login, accounts, incident, tokens):
    lead = login("lead")
    target = login("branch_hebei")
    saved = _saved_cookie(target)
    refused = lead.post(f"/admin/users/{accounts['branch_hebei']}/deactivate", data={})
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    assert users.find_user(db, "branch_hebei")["active"] == 1
    done = lead.post(f"/admin/users/{accounts['branch_hebei']}/deactivate", data={"confirm": "yes"}, follow_redirects=True)
    assert done.status_code == 200 and "Account deactivated: 1 sessions ended, 1 tokens revoked" in done.get_data(as_text=True)
    assert users.find_user(db, "branch_hebei")["active"] == 0
    _refused_everywhere(app, saved, tokens["branch_hebei"], incident)
    again = lead.post(f"/admin/users/{accounts['branch_hebei']}/deactivate", data={"confirm": "yes"})
    assert again.status_code == 409
    own = lead.post(f"/admin/users/{accounts['lead']}/deactivate", data={"confirm": "yes"})
    assert own.status_code == 409 and users.find_user(db, "lead")["active"] == 1
    assert lead.post("/admin/users/999999/deactivate", data={"confirm": "yes"}).status_code == 404


def test_the_users_page_resets_a_password_and_shows_it_once(app, db, login, accounts, incident, tokens):
    lead = login("lead")
    saved = _saved_cookie(login("team"))
    answer = lead.post(f"/admin/users/{accounts['team']}/password", data={"confirm": "yes"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    new_password = re.search(r'<p class="mono">([^<]+)</p>', page).group(1)
    assert passwords.problem(new_password) is None
    _refused_everywhere(app, saved, tokens["team"], incident)
    assert app.test_client().post("/login", data={"username": "team", "password": PASSWORD}).status_code == 401
    assert app.test_client().post("/login", data={"username": "team", "password": new_password}).status_code == 302
    assert new_password not in str(db.execute("SELECT * FROM audit_log").fetchall())


def test_the_users_page_revokes_one_token(app, db, login, accounts, incident):
    keep = users.issue_token(db, "team", name="keep")
    drop = users.issue_token(db, "team", name="drop")
    drop_id = db.execute("SELECT id FROM api_token WHERE name = 'drop'").fetchone()[0]
    lead = login("lead")
    # a token id with someone else's user id is not found
    assert lead.post(f"/admin/users/{accounts['legal']}/tokens/{drop_id}/revoke", data={"confirm": "yes"}).status_code == 404
    assert lead.post(f"/admin/users/{accounts['team']}/tokens/{drop_id}/revoke", data={}).status_code == 400
    done = lead.post(f"/admin/users/{accounts['team']}/tokens/{drop_id}/revoke", data={"confirm": "yes"})
    assert done.status_code == 302
    client = app.test_client()
    assert client.get(_complainants_url(incident), headers=bearer(drop)).status_code == 401
    assert client.get(_complainants_url(incident), headers=bearer(keep)).status_code == 200
    assert "drop" not in re.findall(r'<span class="mono">([^<]+)</span>', lead.get("/admin/users").get_data(as_text=True))


def test_the_users_page_actions_need_the_csrf_token(tmp_path, accounts):
    from console import create_app

    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "console.db"), "SECRET_KEY": "t", "DEFAULT_LOCALE": "en"})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "lead", "password": PASSWORD, "csrf_token": token}).status_code == 302
    refused = client.post(f"/admin/users/{accounts['team']}/deactivate", data={"confirm": "yes"})
    assert refused.status_code == 400
    from console.db import connect

    handle = connect(app.config["DATABASE"])
    assert users.find_user(handle, "team")["active"] == 1
    handle.close()


# --- the operator's commands ----------------------------------------------------------------------


def _cli(db_path, *args):
    return subprocess.run(
        [sys.executable, "run.py", "--db", str(db_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CONSOLE_SECRET_KEY": "t", "HOME": str(ROOT)},
        timeout=60,
    )


def test_the_cli_names_lists_revokes_tokens_and_ends_accounts(app, db, accounts, incident):
    path = app.config["DATABASE"]
    issued = _cli(path, "token", "legal", "--name", "wecom-bot", "--days", "7")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    client = app.test_client()
    assert client.get(_complainants_url(incident), headers=bearer(token)).status_code == 200
    listing = _cli(path, "token", "list", "legal")
    assert "wecom-bot" in listing.stdout and "active" in listing.stdout
    token_id = re.search(r"^(\d+)\s+wecom-bot", listing.stdout, re.M).group(1)
    assert _cli(path, "token", "revoke", token_id).returncode == 0
    assert client.get(_complainants_url(incident), headers=bearer(token)).status_code == 401
    assert re.search(r"wecom-bot\s+revoked", _cli(path, "token", "list", "legal").stdout)

    assert "branch_hebei" in _cli(path, "user", "list").stdout
    weak = _cli(path, "user", "password", "team", "--password", "password")
    assert weak.returncode == 2 and "密码至少需要 10 个字符" in weak.stderr  # DEFAULT_LOCALE, zh_CN
    changed = _cli(path, "user", "password", "team", "--password", "another-long-one-9")
    assert changed.returncode == 0 and "1 token(s) revoked" in changed.stdout
    gone = _cli(path, "user", "deactivate", "branch_hebei")
    assert gone.returncode == 0, gone.stderr
    assert client.post("/login", data={"username": "branch_hebei", "password": PASSWORD}).status_code == 401
    assert _cli(path, "user", "deactivate", "nobody").returncode == 2


def test_the_users_page_logs_someone_out_everywhere_and_keeps_their_tokens(app, db, login, accounts, incident, tokens):
    lead = login("lead")
    browsers = [login("legal"), login("legal")]
    saved = [_saved_cookie(b) for b in browsers]
    assert "Log out everywhere" in lead.get("/admin/users").get_data(as_text=True)
    assert lead.post(f"/admin/users/{accounts['legal']}/sessions/end", data={}).status_code == 400
    done = lead.post(f"/admin/users/{accounts['legal']}/sessions/end", data={"confirm": "yes"}, follow_redirects=True)
    assert "2 sessions ended" in done.get_data(as_text=True)
    for cookie in saved:
        _refused_everywhere(app, cookie, None, incident)
    assert app.test_client().get(_complainants_url(incident), headers=bearer(tokens["legal"])).status_code == 200
