"""Shared fixtures: an app on a fresh SQLite file, one account per role, an
incident with complainants in two provinces, and clients logged in as each."""

import json
import sqlite3
from datetime import datetime, timezone

import pytest

from console import create_app, regions, users
from console.db import connect

from .servers import ConsoleServer
from .speed import cache_route_builders, fresh_database

cache_route_builders()  # before any app is made: see tests/speed.py

PASSWORD = "correct-horse-1"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)

# username -> (role, scope)
ACCOUNTS = {
    "lead": ("lead", None),
    "team": ("team", None),
    "executive": ("executive", None),
    "legal": ("legal", None),
    "branch_hebei": ("branch", "130000"),
    "branch_guangdong": ("branch", "440000"),
    "branch_outlet": ("branch", "HB-SJZ-01"),
}


def _test_config(tmp_path):
    return {
        "TESTING": True,
        "DATABASE": str(tmp_path / "console.db"),
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "DEFAULT_LOCALE": "en",  # tests read English messages unless they ask for Chinese
        "DOCUMENT_FOLDER": str(tmp_path / "documents"),
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A database file with every migration applied, made once per session
    (per xdist worker) by the app itself, with the test's SECRET_KEY."""
    folder = tmp_path_factory.mktemp("template")
    create_app(_test_config(folder))
    return folder / "console.db"


@pytest.fixture
def app(tmp_path, migrated_template):
    """The app on its own fresh SQLite file: a copy of the migrated template
    (the app's start-up migrates it again, finding nothing to do)."""
    fresh_database(migrated_template, tmp_path / "console.db")
    app = create_app(_test_config(tmp_path))
    app.instance_path = str(tmp_path / "instance")
    yield app


# Werkzeug's hash at a test's cost (production's scrypt is checked in test_security)
CHEAP_HASH = "pbkdf2:sha256:1000"


def cheap_hash(password, method=None):
    from werkzeug import security

    return security.generate_password_hash(password, method=CHEAP_HASH)


def add_test_accounts(handle):
    """The test branches and every account of ACCOUNTS (cheap hashes); returns username -> user id."""
    with handle.atomic():
        regions.add_branch(handle, "HB-SJZ-01", "石家庄中山路网点", "130100")
        regions.add_branch(handle, "HB-SJZ-02", "石家庄裕华路网点", "130100")
        regions.add_branch(handle, "GD-GZ-01", "广州天河网点", "440100")
    return {
        username: users.add_user(handle, username, role, PASSWORD, scope_code=scope, hash_method=CHEAP_HASH) for username, (role, scope) in ACCOUNTS.items()
    }


def copy_database(path, db):
    """Copy the database file at ``path`` (a shared demo) into the test's own ``db``."""
    source = sqlite3.connect(path)
    try:
        source.backup(db.conn)
    finally:
        source.close()


def build_demo(path, now, accounts=False, **config):
    """The demo loaded as of ``now`` into a new file at ``path`` (cheap hashes);
    with ``accounts``, the test branches and ACCOUNTS beside it. Returns the path."""
    from console import demo

    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", **config})
    handle = connect(path)
    try:
        if accounts:
            add_test_accounts(handle)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(users, "generate_password_hash", cheap_hash)
            with app.test_request_context():
                demo.load_demo(handle, now, app.config)
    finally:
        handle.close()
    return path


def shared_file(tmp_path_factory, name, build):
    """A file built once per test run and read by every pytest-xdist worker:
    the first worker to ask builds it (``build(path)``) under a lock, the others
    wait for it. Tests copy it into their own database; none writes to it."""
    import fcntl
    import os

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, common to the workers
    path = root / name
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            building = root / f"{name}.building"
            build(building)
            building.rename(path)
    return path


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory):
    """The demo as of NOW, loaded once per run with cheap hashes, for the tests
    that copy it into their own database and read it."""
    return shared_file(tmp_path_factory, "demo.db", lambda path: build_demo(path, NOW))


# The moment demo_accounts_file's demo is loaded as of (the roll-up and figure tests compute at it)
DEMO_ACCOUNTS_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def demo_accounts_file(tmp_path_factory):
    """The demo as of DEMO_ACCOUNTS_NOW with the test branches and ACCOUNTS
    beside it, in English: the roll-up and figure tests' demo, loaded once per run."""
    return shared_file(tmp_path_factory, "demo-accounts.db", lambda path: build_demo(path, DEMO_ACCOUNTS_NOW, accounts=True, DEFAULT_LOCALE="en"))


@pytest.fixture
def demo_db(db, demo_accounts_file):
    """This test's database holds a copy of demo_accounts_file's demo; returns the demo incident's id."""
    from console import demo

    copy_database(demo_accounts_file, db)
    return db.execute("SELECT id FROM incident WHERE demo_key = ?", [demo.DEMO_KEY]).fetchone()[0]


@pytest.fixture
def db(app):
    handle = connect(app.config["DATABASE"])
    yield handle
    handle.close()


@pytest.fixture
def accounts(db):
    """Every account, created; returns username -> user id."""
    return add_test_accounts(db)


@pytest.fixture
def ctx(app):
    """Domain functions translate their messages: run them inside a request context (English)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def lead(accounts):
    """The crisis lead as the audit actor of domain calls made by a test."""
    from console.audit import Actor

    return Actor(user_id=accounts["lead"], username="lead", route="test")


@pytest.fixture
def tokens(db, accounts):
    return {username: users.issue_token(db, username) for username in accounts}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app, tokens):
    """api(username, method, url, **kwargs): a JSON API call as that user."""
    client = app.test_client()

    def call(username, method, url, **kwargs):
        headers = {**kwargs.pop("headers", {}), **(bearer(tokens[username]) if username else {})}
        return client.open(url, method=method, headers=headers, **kwargs)

    return call


@pytest.fixture
def login(app, accounts):
    """login(username) -> a test client with that user's session."""
    return lambda username: logged_in(app, username)


def logged_in(app, username):
    """A test client with ``username``'s session (the log-in must succeed)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.data
    return client


@pytest.fixture
def incident(api):
    """An incident with two groups and complainants in Hebei (two outlets) and Guangdong."""
    created = api(
        "lead", "POST", "/api/v1/incidents", json={"title": "邮政渠道分红险集体投诉", "cause": "misselling", "product": "分红险", "severity": "severe"}
    )
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    g1 = api("lead", "POST", f"/api/v1/incidents/{incident_id}/groups", json={"name": "河北邮政分红险2019", "handling_line": "本金+利息"}).json["id"]
    g2 = api("lead", "POST", f"/api/v1/incidents/{incident_id}/groups", json={"name": "广东银保渠道", "handling_line": "逐一协商"}).json["id"]
    people = [
        {
            "name": "张建国",
            "phone": "13812345678",
            "id_number": "130105195501011234",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "group_id": g1,
            "flags": ["vulnerable"],
            "principal": "50000",
        },
        {
            "name": "李秀英",
            "phone": "13912345678",
            "id_number": "13010919600202222X",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-02",
            "group_id": g1,
            "principal": "80000.50",
        },
        {
            "name": "陈志明",
            "phone": "13712345678",
            "id_number": "440103197003033333",
            "province_code": "440000",
            "city_code": "440100",
            "branch_code": "GD-GZ-01",
            "group_id": g2,
            "flags": ["journalist"],
            "principal": "120000",
        },
    ]
    response = api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=people)
    assert response.status_code == 201, response.json
    hebei_1, hebei_2, guangdong = response.json["ids"]
    return {
        "id": incident_id,
        "groups": [g1, g2],
        "hebei_outlet_1": hebei_1,
        "hebei_outlet_2": hebei_2,
        "guangdong": guangdong,
        "people": people,
    }


# Written by logging in, not by the request under test (tests log in between counts).
LOGIN_BOOKKEEPING = {"user_session"}


def row_counts(db):
    """Rows in every table, to show that a refused request wrote nothing."""
    return {name: db[name].count for name in db.table_names() if name not in LOGIN_BOOKKEEPING}


@pytest.fixture
def server(app, incident):
    running = ConsoleServer(app.config["DATABASE"]).start()
    yield running
    running.stop()


class HttpResponse:
    def __init__(self, status, body):
        self.status_code = status
        self.json = json.loads(body) if body else None


@pytest.fixture
def http_api(server, tokens):
    """Like the ``api`` fixture, but over HTTP to the running server process."""
    import urllib.error
    import urllib.request

    def call(username, method, url, json_body=None, **kwargs):
        body = kwargs.pop("json", json_body)
        request = urllib.request.Request(
            server.url + url,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {tokens[username]}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return HttpResponse(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return HttpResponse(exc.code, exc.read())

    return call


STANDARD_TERMS = {"principal_pct": 100, "interest_pct": 50, "pays_expenses": True, "text": "退还全部本金，利息按诉求的一半补偿。"}


def settle_through_records(api, complainant_id, walk=True):
    """Settle a complainant the only way there is: the group's terms (set if
    missing), an offer, the acceptance and the sign-off, as legal. ``walk``
    first moves them to 'negotiating' by status changes. Returns the complainant."""
    person = api("lead", "GET", f"/api/v1/complainants/{complainant_id}").json
    if person["group_id"] and api("legal", "GET", f"/api/v1/groups/{person['group_id']}/terms").json["terms"] is None:
        assert api("legal", "PUT", f"/api/v1/groups/{person['group_id']}/terms", json=STANDARD_TERMS).status_code == 200
    if walk:
        for status in ("contacted", "negotiating"):
            assert api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": status}).status_code == 200
    offer = api("legal", "POST", f"/api/v1/complainants/{complainant_id}/offers", json={})
    assert offer.status_code == 201, offer.json
    settlement = api("legal", "POST", f"/api/v1/offers/{offer.json['id']}/accept")
    assert settlement.status_code == 201, settlement.json
    final = api("legal", "POST", f"/api/v1/settlements/{settlement.json['id']}/finalise")
    assert final.status_code == 200, final.json
    return api("lead", "GET", f"/api/v1/complainants/{complainant_id}").json


# --- test lanes: pytest -m "not browser and not process and not fuzz" is the fast, in-process lane ---

import functools  # noqa: E402
import inspect  # noqa: E402
import re  # noqa: E402

_PROCESS_HINTS = ("ConsoleServer(", "start_redis(", "RedisServer(", "Popen(", "subprocess.run([sys.executable", 'subprocess.run(["bash"', "gunicorn", "nginx")
_SPACE = re.compile(r"\s+")


@functools.cache
def _source_starts_processes(func):
    """Whether ``func``'s own source names a process (read once per function, not per test)."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    source = _SPACE.sub("", source)  # as the formatter may wrap a call over lines
    return any(hint.replace(" ", "") in source for hint in _PROCESS_HINTS)


def _starts_processes(func, seen):
    if func in seen:
        return False
    seen.add(func)
    if _source_starts_processes(func):
        return True
    # and through the tests' own helpers it calls (``_cli(...)`` running run.py)
    return any(_starts_processes(helper, seen) for helper in _test_helpers(func))


def _names(code):
    yield from code.co_names
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _names(const)


def _test_helpers(func):
    """The functions of the tests package that ``func`` refers to by name."""
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    found = (func.__globals__.get(name) for name in set(_names(code)))
    return [f for f in found if inspect.isfunction(f) and f.__module__.startswith("tests.")]


def pytest_collection_modifyitems(config, items):
    """Mark each test with its lane: ``browser`` (chromium), ``fuzz`` (schemathesis),
    ``process`` (real run.py, gunicorn, redis-server or nginx processes, by
    itself, through a fixture or through a helper of the tests). Unmarked
    tests run in-process."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        if module.endswith("_browser"):
            item.add_marker(pytest.mark.browser)
            continue
        if module == "test_fuzz":
            item.add_marker(pytest.mark.fuzz)
            continue
        seen = set()
        funcs = [item.function]
        for defs in item._fixtureinfo.name2fixturedefs.values():
            funcs += [d.func for d in defs]
        if any(_starts_processes(f, seen) for f in funcs):
            item.add_marker(pytest.mark.process)
        _group_for_xdist(item, module)


def _group_for_xdist(item, module):
    """Under ``--dist loadgroup`` (scripts/test --fast) tests go to whichever
    worker is free, one by one, except those sharing a module-scoped fixture
    (made once on one worker). The demo databases are built once per run and
    shared by the workers (``shared_file``)."""
    defs = item._fixtureinfo.name2fixturedefs
    if any(d[-1].scope == "module" for d in defs.values() if d):
        item.add_marker(pytest.mark.xdist_group(module))


def pytest_collection_finish(session):
    """What collection imported (the console, pandas, statsmodels, the test
    modules) lives for the whole run: set it aside from the cyclic garbage
    collector's scans, which otherwise walk it again and again during the tests."""
    import gc

    gc.collect()
    gc.freeze()
