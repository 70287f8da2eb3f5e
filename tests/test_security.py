"""Web security: response headers, cookie flags, the login limit and
lockout, the session key on disk, password hashes, and upload checks."""

import io
import os
import re
import stat
import subprocess
import sys
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import pytest

from console import create_app, security, settings, users
from console.db import connect
from console.errors import ConsoleError
from console.uploads import DOCUMENT_KINDS, check_upload

from .conftest import CHEAP_HASH, NOW, PASSWORD
from .servers import ROOT, ConsoleServer

BASE = {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, "DEFAULT_LOCALE": "en"}


def make_app(tmp_path, **config):
    return create_app({**BASE, "DATABASE": str(tmp_path / "console.db"), "DOCUMENT_FOLDER": str(tmp_path / "documents"), **config})


def error_text(response):
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True), re.S)
    return match.group(1) if match else None


# --- 1. headers on every response ----------------------------------------------------------------

REQUIRED_CSP = [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "connect-src 'self'",
]


@pytest.mark.parametrize(
    "path, status, kind",
    [
        ("/login", 200, "text/html"),
        ("/api/v1/openapi.json", 200, "application/json"),
        ("/static/console.css", 200, "text/css"),
        ("/static/board.js", 200, "text/javascript"),
        ("/no-such-page", 404, "text/html"),
        ("/api/v1/no-such-thing", 404, "application/json"),
        ("/incidents", 302, None),  # not logged in: sent to the login page
    ],
)
def test_every_response_carries_the_security_headers(app, path, status, kind):
    response = app.test_client().get(path)
    assert response.status_code == status
    if kind:
        assert response.content_type.startswith(kind)
    policy = response.headers["Content-Security-Policy"]
    for directive in REQUIRED_CSP:
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # HTTPS is off by default


def test_headers_on_a_logged_in_page_a_refusal_and_a_wrong_method(login, api, incident):
    lead = login("lead")
    for response, status in [
        (lead.get(f"/incidents/{incident['id']}/board"), 200),
        (login("executive").get(f"/complainants/{incident['guangdong']}"), 403),
        (lead.delete("/login"), 405),
        (api("lead", "POST", "/api/v1/incidents", json={"title": ""}), 422),
    ]:
        assert response.status_code == status
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_templates_and_scripts_have_nothing_inline_the_policy_would_block():
    """The browser test proves the pages it loads; this covers every template."""
    offenders = []
    for path in sorted((ROOT / "templates").glob("*.html")) + sorted((ROOT / "console" / "static").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for pattern in [
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
            r"\son[a-z]+\s*=\s*[\"']",
            r"javascript:",
            r"\sstyle\s*=\s*[\"']",
            r"<style",
            r"setAttribute\(\s*[\"']style",
            r"\beval\(",
            r"new Function\(",
        ]:
            offenders += [f"{path.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


# --- 2. cookies and HTTPS ------------------------------------------------------------------------


def session_cookie(response):
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}


def test_session_cookie_is_httponly_and_lax_and_not_secure_over_http(app, accounts):
    response = app.test_client().post("/login", data={"username": "lead", "password": PASSWORD})
    assert response.status_code == 302
    flags = session_cookie(response)
    assert "httponly" in flags and flags["samesite"].strip().lower() == "samesite=lax"
    assert "secure" not in flags
    assert app.config["REMEMBER_COOKIE_SECURE"] is False and app.config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_with_https_on_cookies_are_secure_and_hsts_is_sent(tmp_path):
    app = make_app(tmp_path, HTTPS=True)
    db = connect(app.config["DATABASE"])
    users.add_user(db, "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    client = app.test_client()
    response = client.post("/login", data={"username": "lead", "password": PASSWORD}, base_url="https://console.example")
    assert response.status_code == 302
    flags = session_cookie(response)
    assert "secure" in flags and "httponly" in flags and flags["samesite"].strip().lower() == "samesite=lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    for path in ["/login", "/api/v1/openapi.json", "/static/console.css", "/nope"]:
        assert client.get(path, base_url="https://console.example").headers["Strict-Transport-Security"].startswith("max-age=")


def test_https_setting_from_the_environment_is_parsed_strictly():
    assert settings.parse_env({"CONSOLE_HTTPS": "on"})["HTTPS"] is True
    assert settings.parse_env({"CONSOLE_HTTPS": "0"})["HTTPS"] is False
    with pytest.raises(ValueError, match="CONSOLE_HTTPS"):
        settings.parse_env({"CONSOLE_HTTPS": "yes please"})


@pytest.mark.parametrize("hops, counted", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_a_trusted_proxy_s_forwarded_address_is_the_one_counted(tmp_path, hops, counted):
    app = make_app(tmp_path, TRUSTED_PROXIES=hops)
    response = app.test_client().post(
        "/login",
        data={"username": "nobody", "password": "wrong-password"},
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 401
    db = connect(app.config["DATABASE"])
    assert [r[0] for r in db.execute("SELECT key FROM login_failure WHERE kind = 'address'")] == [counted]


# --- 3. login limit and lockout ------------------------------------------------------------------


def fail(client, username, times):
    return [client.post("/login", data={"username": username, "password": "wrong-password"}) for _ in range(times)]


def test_five_failures_lock_the_name_even_against_the_right_password(app, db, accounts):
    client = app.test_client()
    answers = fail(client, "lead", 5)
    assert [r.status_code for r in answers] == [401, 401, 401, 401, 429]
    locked = client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed log-ins" in error_text(locked) and "lead" not in error_text(locked)
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert client.get("/incidents").status_code == 302  # not logged in
    [entry] = list(db.query("SELECT * FROM audit_log WHERE action = 'lockout'"))
    assert entry["table_name"] == "user" and entry["row_id"] == accounts["lead"] and entry["username"] == "lead"
    assert '"failures": 5' in entry["after"]
    # another account from the same address is not locked by this
    assert client.post("/login", data={"username": "team", "password": PASSWORD}).status_code == 302


def test_a_locked_answer_does_not_tell_whether_the_name_exists(tmp_path):
    # the app's clock stands still, so Retry-After cannot differ by a second boundary crossed between the two
    clock = tmp_path / "clock"
    clock.write_text(NOW.isoformat())
    app = make_app(tmp_path, CLOCK_FILE=str(clock))
    for name in ("lead", "team"):
        users.add_user(connect(app.config["DATABASE"]), name, name, PASSWORD, hash_method=CHEAP_HASH)
    real = fail(app.test_client(), "lead", 6)[-1]
    made_up = fail(app.test_client(), "no-such-person", 6)[-1]
    assert real.status_code == made_up.status_code == 429
    assert error_text(real) == error_text(made_up)
    assert real.headers["Retry-After"] == made_up.headers["Retry-After"]
    assert error_text(fail(app.test_client(), "team", 1)[0]) == error_text(fail(app.test_client(), "nobody", 1)[0])


def test_the_lock_ends_after_the_lockout_on_the_app_clock(tmp_path):
    clock = tmp_path / "clock"
    clock.write_text(NOW.isoformat())
    app = make_app(tmp_path, CLOCK_FILE=str(clock))
    users.add_user(connect(app.config["DATABASE"]), "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    client = app.test_client()
    assert fail(client, "lead", 5)[-1].status_code == 429
    clock.write_text((NOW + timedelta(minutes=14, seconds=59)).isoformat())
    still = client.post("/login", data={"username": "lead", "password": PASSWORD})
    assert still.status_code == 429 and still.headers["Retry-After"] == "1"
    clock.write_text((NOW + timedelta(minutes=15)).isoformat())
    assert client.post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 302


def test_failures_older_than_the_window_do_not_count(tmp_path):
    clock = tmp_path / "clock"
    clock.write_text(NOW.isoformat())
    app = make_app(tmp_path, CLOCK_FILE=str(clock))
    client = app.test_client()
    fail(client, "lead", 4)
    clock.write_text((NOW + timedelta(minutes=15)).isoformat())
    assert [r.status_code for r in fail(client, "lead", 4)] == [401] * 4
    assert fail(client, "lead", 1)[0].status_code == 429


def test_a_successful_log_in_clears_the_name_s_failures(app, accounts):
    client = app.test_client()
    fail(client, "lead", 4)
    assert client.post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 302
    assert [r.status_code for r in fail(app.test_client(), "lead", 4)] == [401] * 4


def test_one_address_trying_many_names_is_locked(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES_PER_ADDRESS=6)
    db = connect(app.config["DATABASE"])
    users.add_user(db, "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    client = app.test_client()
    for name in ["a", "b", "c", "d", "e"]:
        assert fail(client, name, 1)[0].status_code == 401
    assert fail(client, "f", 1)[0].status_code == 429
    assert client.post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 429
    other = app.test_client().post("/login", data={"username": "lead", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert other.status_code == 302
    assert db.execute("SELECT table_name, after FROM audit_log WHERE action = 'lockout'").fetchone()[0] == "login_address"


def test_invalid_api_tokens_count_against_the_address(tmp_path):
    app = make_app(tmp_path, LOGIN_MAX_FAILURES_PER_ADDRESS=3)
    db = connect(app.config["DATABASE"])
    users.add_user(db, "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    token = users.issue_token(db, "lead")
    client = app.test_client()
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert [client.get("/api/v1/incidents", headers={"Authorization": f"Bearer guess-{i}"}).status_code for i in range(3)] == [401] * 3
    refused = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.json["error"] and refused.headers["Retry-After"]
    assert client.get("/login", headers={"Authorization": "Bearer x"}).status_code == 429  # the HTML error page renders too
    elsewhere = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert elsewhere.status_code == 200


def test_the_count_is_shared_by_server_processes(app, accounts, db):
    """Four failures in this process, the fifth in a real run.py: locked there and here."""
    fail(app.test_client(), "lead", 4)
    server = ConsoleServer(app.config["DATABASE"]).start()
    try:
        import http.cookiejar
        import urllib.error
        import urllib.parse
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(server.url + "/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": "lead", "password": "wrong-password"}).encode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(server.url + "/login", data=form)
        assert refused.value.code == 429
        assert refused.value.headers["Content-Security-Policy"].startswith("default-src 'self'")
    finally:
        server.stop()
    assert app.test_client().post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 429


# --- 4. the session key --------------------------------------------------------------------------


def test_the_session_key_is_made_once_in_the_instance_folder_and_kept(tmp_path):
    instance = tmp_path / "instance"
    config = {"TESTING": True, "DATABASE": str(tmp_path / "console.db")}
    first = create_app(config, instance_path=str(instance))
    path = instance / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == path.read_text().strip() and len(first.config["SECRET_KEY"]) == 64
    second = create_app(config, instance_path=str(instance))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert [p.name for p in instance.iterdir() if p.name.startswith(".secret_key")] == []  # no temporary file left
    # a session signed by one process is read by the other
    users.add_user(connect(config["DATABASE"]), "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    client = first.test_client()
    assert client.post("/login", data={"username": "lead", "password": PASSWORD, "csrf_token": _csrf(client)}).status_code == 302
    cookie = client.get_cookie("session")
    other = second.test_client()
    other.set_cookie("session", cookie.value)
    assert other.get("/incidents").status_code == 200


def _csrf(client):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)


def test_a_configured_key_is_used_and_no_file_is_made(tmp_path):
    app = create_app({**BASE, "DATABASE": str(tmp_path / "console.db"), "SECRET_KEY": "from-config"}, instance_path=str(tmp_path / "instance"))
    assert app.config["SECRET_KEY"] == "from-config"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_processes_starting_together_agree_on_one_key(tmp_path):
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(security.secret_key, [str(tmp_path)] * 16))
    assert len(set(keys)) == 1 and keys[0] == (tmp_path / "secret_key").read_text()


def test_the_instance_folder_is_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "-q", "instance/secret_key"], cwd=ROOT)
    assert ignored.returncode == 0


# --- 5. passwords --------------------------------------------------------------------------------


def test_accounts_made_by_run_py_are_hashed_with_scrypt(tmp_path):
    path = tmp_path / "console.db"
    done = subprocess.run(
        [sys.executable, "run.py", "--db", str(path), "user", "add", "chen", "--role", "lead", "--password", "a-long-password"],
        cwd=ROOT,
        env={**os.environ, "CONSOLE_SECRET_KEY": "test"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    stored = connect(path).execute("SELECT password_hash FROM user WHERE username = 'chen'").fetchone()[0]
    assert stored.startswith("scrypt:32768:8:1$")
    assert "a-long-password" not in stored
    db = connect(path)
    assert users.check_password(db, "chen", "a-long-password")["username"] == "chen"
    assert users.check_password(db, "chen", "a-long-passwor") is None


# --- 6. uploads ----------------------------------------------------------------------------------


def office(kind):
    """A minimal Office file. Its members carry a fixed date: the bytes name
    the parametrised tests, and pytest-xdist's workers must collect the same
    names (with the time of collection they differed by a second now and then)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


PDF = b"%PDF-1.7\n1 0 obj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"


@pytest.mark.parametrize(
    "filename, content, kinds, expected",
    [
        ("回执.pdf", PDF, DOCUMENT_KINDS, ("回执.pdf", "application/pdf")),
        ("Photo.PNG", PNG, DOCUMENT_KINDS, ("Photo.png", "image/png")),
        ("scan.jpg", JPEG, DOCUMENT_KINDS, ("scan.jpg", "image/jpeg")),
        ("scan.jpeg", JPEG, ("jpeg",), ("scan.jpeg", "image/jpeg")),
        ("letter.docx", office("docx"), DOCUMENT_KINDS, ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
        ("list.xlsx", office("xlsx"), ("xlsx",), ("list.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
        ("notes.txt", "\ufeff投诉人说明\r\n第二行\t".encode(), DOCUMENT_KINDS, ("notes.txt", "text/plain; charset=utf-8")),
        ("list.csv", "姓名,电话\n张三,138\n".encode(), ("csv",), ("list.csv", "text/csv; charset=utf-8")),
        ("C:\\Users\\x\\..\\evil name.pdf", PDF, DOCUMENT_KINDS, ("evilname.pdf", "application/pdf")),
        ("../../.bashrc.pdf", PDF, DOCUMENT_KINDS, ("bashrc.pdf", "application/pdf")),
    ],
)
def test_accepted_uploads_get_a_safe_name_and_their_type(ctx, filename, content, kinds, expected):
    assert check_upload(filename, content, kinds) == expected


@pytest.mark.parametrize(
    "filename, content, kinds, status, words",
    [
        ("empty.pdf", b"", DOCUMENT_KINDS, 400, "empty"),
        ("report.pdf", b"<html><script>alert(1)</script>" + b"\x00" * 10, DOCUMENT_KINDS, 415, "not what its name says"),
        ("report.pdf", PNG, DOCUMENT_KINDS, 415, "not what its name says"),
        ("photo.png", PDF, DOCUMENT_KINDS, 415, "not what its name says"),
        ("letter.docx", office("xlsx"), DOCUMENT_KINDS, 415, "not what its name says"),
        ("letter.docx", b"PK\x03\x04 not really a zip", DOCUMENT_KINDS, 415, "not what its name says"),
        ("notes.txt", b"\x00\x01\x02binary", DOCUMENT_KINDS, 415, "not what its name says"),
        ("notes.txt", "gbk 编码".encode("gbk"), DOCUMENT_KINDS, 415, "not what its name says"),
        ("setup.exe", b"MZ\x90\x00", DOCUMENT_KINDS, 415, "not accepted"),
        ("list.csv", b"a,b\n", DOCUMENT_KINDS, 415, "not accepted"),  # csv is not a document kind
        ("no-extension", PDF, DOCUMENT_KINDS, 415, "not accepted"),
    ],
)
def test_refused_uploads_say_why(ctx, filename, content, kinds, status, words):
    with pytest.raises(ConsoleError) as refused:
        check_upload(filename, content, kinds)
    assert refused.value.status == status and words in refused.value.message


def test_an_upload_over_the_limit_is_413(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_BYTES=1024)
    with app.test_request_context():
        assert check_upload("a.pdf", PDF + b"x" * (1024 - len(PDF)), ("pdf",))[0] == "a.pdf"
        with pytest.raises(ConsoleError) as refused:
            check_upload("a.pdf", PDF + b"x" * (1025 - len(PDF)), ("pdf",))
    assert refused.value.status == 413 and "too large" in refused.value.message


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown upload kinds"):
        check_upload("a.pdf", PDF, ("pdf", "exe"))


def _stored_files(app):
    folder = app.config["DOCUMENT_FOLDER"] + "/attachments"
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.parametrize(
    "filename, content, status",
    [
        ("empty.pdf", b"", 400),
        ("回执.pdf", PNG, 415),
        ("photo.png", PDF, 415),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", 415),
        ("page.txt", b"\x00\x00\x00", 415),
    ],
)
def test_a_refused_task_attachment_stores_nothing(app, db, api, login, incident, filename, content, status):
    from .test_tasks import api_tasks

    task = api_tasks(api, incident["id"])["regulator_written_report"]
    response = login("lead").post(f"/tasks/{task['id']}/attachments", data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")
    assert response.status_code == status
    assert db["task_attachment"].count == 0 and _stored_files(app) == []
    assert db.execute("SELECT count(*) FROM audit_log WHERE table_name = 'task_attachment'").fetchone()[0] == 0


def test_an_oversize_task_attachment_is_413_and_stores_nothing(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_BYTES=4096)
    db = connect(app.config["DATABASE"])
    users.add_user(db, "lead", "lead", PASSWORD, hash_method=CHEAP_HASH)
    token = users.issue_token(db, "lead")
    client = app.test_client()
    created = client.post(
        "/api/v1/incidents", json={"title": "t", "cause": "misselling", "product": "p", "severity": "severe"}, headers={"Authorization": f"Bearer {token}"}
    )
    tasks = client.get(f"/api/v1/incidents/{created.json['id']}/tasks", headers={"Authorization": f"Bearer {token}"}).json["tasks"]
    client.post("/login", data={"username": "lead", "password": PASSWORD})
    response = client.post(
        f"/tasks/{tasks[0]['id']}/attachments", data={"file": (io.BytesIO(PDF + b"x" * 5000), "big.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert db["task_attachment"].count == 0 and _stored_files(app) == []


def test_an_accepted_task_attachment_keeps_the_safe_name(app, db, api, login, incident):
    from .test_tasks import api_tasks

    task = api_tasks(api, incident["id"])["regulator_written_report"]
    response = login("lead").post(
        f"/tasks/{task['id']}/attachments", data={"file": (io.BytesIO(office("xlsx")), "../名单 v2.XLSX")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    [row] = list(db.query("SELECT filename FROM task_attachment"))
    assert row["filename"] == "名单v2.xlsx"
    assert [name.split("-", 1)[1] for name in _stored_files(app)] == ["名单v2.xlsx"]
