"""The demo incident (python run.py --demo): realistic, consistent with the
domain rules, and loaded only once however often the console starts."""

import json
import re
import time
from datetime import date, timedelta

import pytest

from console import demo, migrations, users
from console.clock import to_iso
from console.db import connect
from console.status import OPEN

from .conftest import NOW, cheap_hash, copy_database, row_counts

ROLES = {"lead", "team", "executive", "legal", "branch"}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check_character(first17):
    """ISO 7064 MOD 11-2, written out again here rather than imported."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


@pytest.fixture
def cheap_hashes(monkeypatch):
    """Accounts hashed cheaply: the data tests need not pay for scrypt."""
    monkeypatch.setattr(users, "generate_password_hash", cheap_hash)


def _load(app, db):
    with app.test_request_context():
        return demo.load_demo(db, NOW, app.config)


@pytest.fixture
def loaded(db, demo_file):
    """The test's database holds the demo (a copy of the one loaded for the session: conftest's demo_file)."""
    copy_database(demo_file, db)
    return demo.accounts()


def _all(db, sql, params=()):
    return [dict(r) for r in db.query(sql, params)]


def test_second_load_adds_nothing(app, db, loaded, cheap_hashes):
    """The first load is the session's (demo_file, copied here); the second, here, writes nothing."""
    before = row_counts(db)
    started = time.perf_counter()
    again = _load(app, db)
    assert time.perf_counter() - started < 0.5  # a cheap no-op
    assert again == loaded
    assert row_counts(db) == before  # audit_log included: nothing was written at all
    for table in ("incident", "complainant", "contact", "user", "branch", "complainant_group"):
        assert before[table] > 0, table
    assert db["incident"].count_where("demo_key = ?", [demo.DEMO_KEY]) == 1
    assert before["incident"] == 1 and before["user"] == 6 and before["branch"] == 15


def test_a_missing_demo_account_is_added_back_alone(app, db, loaded, cheap_hashes):
    db.execute("DELETE FROM user WHERE username = 'demo-legal'")
    db.conn.commit()
    before = row_counts(db)
    _load(app, db)
    after = row_counts(db)
    assert after["user"] == before["user"] + 1
    assert {k: v for k, v in after.items() if k != "user"} == {k: v for k, v in before.items() if k != "user"}


def test_incident_groups_and_regions(db, loaded):
    incident = _all(db, "SELECT * FROM incident WHERE demo_key = ?", [demo.DEMO_KEY])[0]
    assert incident["severity"] == "severe" and incident["status"] == "active"
    assert "分红险" in incident["title"]
    assert incident["opened_at"] < to_iso(NOW)

    group_rows = _all(db, "SELECT * FROM complainant_group WHERE incident_id = ?", [incident["id"]])
    assert len(group_rows) >= 3
    for group in group_rows:
        assert re.search(r"[\u4e00-\u9fff]", group["name"]) and group["handling_line"]
    reps = _all(
        db,
        "SELECT r.group_id, c.group_id AS member_of FROM group_representative r JOIN complainant c ON c.id = r.complainant_id",
    )
    assert reps and all(r["group_id"] == r["member_of"] for r in reps)
    per_group = _all(db, "SELECT group_id, count(*) AS n FROM group_representative GROUP BY group_id")
    assert len(per_group) == len(group_rows) and max(r["n"] for r in per_group) <= 5

    provinces = {r["province_code"] for r in _all(db, "SELECT DISTINCT province_code FROM complainant")}
    assert {"130000", "320000", "330000", "370000", "410000", "440000"} <= provinces
    branches = _all(db, "SELECT * FROM branch")
    per_province = {}
    for b in branches:
        per_province[b["province_code"]] = per_province.get(b["province_code"], 0) + 1
    assert all(2 <= per_province.get(code, 0) <= 3 for code in provinces)
    # every complainant's outlet and city lie in their province
    assert not _all(
        db,
        "SELECT c.id FROM complainant c LEFT JOIN branch b ON b.code = c.branch_code JOIN city ON city.code = c.city_code "
        "WHERE city.province_code != c.province_code OR (c.branch_code IS NOT NULL AND b.city_code != c.city_code)",
    )


def test_complainants_look_real_and_follow_the_rules(db, loaded):
    people = _all(db, "SELECT * FROM complainant")
    assert len(people) >= 300
    statuses = {p["status"] for p in people}
    assert len(statuses) >= 6
    assert {"new", "contacted", "negotiating", "offer_made", "accepted", "settled", "closed", "withdrawn", "unreachable", "escalated"} <= statuses
    escalated = [p for p in people if p["status"] == "escalated"]
    assert escalated and all(p["escalation_channel"] in {"regulator", "media", "court", "petition"} for p in escalated)
    assert {p["escalation_channel"] for p in escalated} == {"regulator", "media", "court", "petition"}
    assert all(p["escalation_channel"] is None for p in people if p["status"] != "escalated")

    flagged = [p for p in people if json.loads(p["flags"])]
    assert 0 < len(flagged) < len(people) / 2  # a minority
    flags = {f for p in flagged for f in json.loads(p["flags"])}
    assert {"vip", "journalist", "lawyer", "official", "vulnerable", "organiser", "sales_agent"} <= flags
    assert len({p["temperament"] for p in people} - {None}) == 4
    assert len({p["motive"] for p in people} - {None}) == 3

    names = set()
    for p in people:
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", p["name"]), p["name"]
        names.add(p["name"])
        assert re.fullmatch(r"1[358][0-9]{9}", p["phone"]), p["phone"]
        number = p["id_number"]
        assert re.fullmatch(r"[0-9]{17}[0-9X]", number), number
        assert number[-1] == _check_character(number[:17]), number
        assert number[:2] == p["province_code"][:2]
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert date(1930, 1, 1) < born < date(2005, 1, 1)
        assert 1_000_000 <= p["principal_fen"] <= 50_000_000
        assert p["interest_claimed_fen"] > 0
        assert re.search(r"[\u4e00-\u9fff]", p["demands"])
        assert p["received_at"] <= to_iso(NOW)
        if p["status"] == "settled":
            assert p["settled_at"]
    assert len(names) == len(people)
    assert len({p["phone"] for p in people}) == len(people)
    assert any(p["expenses_claimed_fen"] for p in people)
    assert any(p["handler_id"] for p in people) and any(p["handler_id"] is None for p in people)

    received = sorted(p["received_at"] for p in people)
    assert received[0] >= to_iso(NOW - timedelta(days=11))  # spread over the last ~10 days
    assert len({r[:10] for r in received}) >= 8

    open_people = [p for p in people if p["status"] in OPEN and p["next_contact_due_at"]]
    assert any(p["next_contact_due_at"] < to_iso(NOW) for p in open_people)  # overdue
    assert any(p["next_contact_due_at"] > to_iso(NOW) for p in open_people)  # promised for later


def test_contact_histories(db, loaded):
    contacts = _all(db, "SELECT * FROM contact")
    assert contacts
    per_person = {
        r["id"]: r["n"]
        for r in _all(
            db, "SELECT c.id, count(k.id) AS n FROM complainant c LEFT JOIN contact k ON k.complainant_id = c.id WHERE c.status != 'new' GROUP BY c.id"
        )
    }
    with_history = [n for n in per_person.values() if 1 <= n <= 4]
    assert len(with_history) > 0.8 * len(per_person)
    assert not _all(db, "SELECT id FROM contact WHERE complainant_id IN (SELECT id FROM complainant WHERE status = 'new')")
    assert {c["notice_proof"] for c in contacts} >= {"handed_over", "sms_sent", "call_placed"}
    assert len({c["channel"] for c in contacts}) >= 4
    assert all(c["said"] and c["contacted_at"] <= to_iso(NOW) for c in contacts)
    assert any(c["promised"] for c in contacts) and any(c["next_contact_due_at"] for c in contacts)
    # the first contact is remembered on the complainant, and comes after receipt
    assert not _all(
        db,
        "SELECT c.id FROM complainant c WHERE c.first_contact_at != (SELECT min(contacted_at) FROM contact WHERE complainant_id = c.id) "
        "OR c.first_contact_at < c.received_at",
    )


def test_written_through_the_domain_with_an_audit_trail(db, loaded):
    actions = {(r["table_name"], r["action"]) for r in _all(db, "SELECT DISTINCT table_name, action FROM audit_log")}
    assert {("incident", "create"), ("complainant_group", "create"), ("complainant", "create"), ("complainant", "update"), ("contact", "create")} <= actions
    routes = {(r["username"], r["route"]) for r in _all(db, "SELECT DISTINCT username, route FROM audit_log")}
    assert routes == {("demo", "cli demo")}
    # a bulk create is one audit row with the id range and count
    created = 0
    for row in _all(db, "SELECT after FROM audit_log WHERE table_name = 'complainant' AND action = 'create'"):
        after = json.loads(row["after"])
        created += after.get("count", 1) if "ids" in after else 1
    assert created == db["complainant"].count
    assert not _all(db, "SELECT id FROM audit_log WHERE at > ?", [to_iso(NOW)])


def test_same_demo_for_the_same_moment(app, tmp_path, demo_file, cheap_hashes):
    fresh = connect(tmp_path / "again.db")
    migrations.migrate(fresh)
    _load(app, fresh)
    sql = "SELECT name, phone, id_number, status, received_at FROM complainant ORDER BY id"
    first = connect(demo_file)
    assert _all(fresh, sql) == _all(first, sql)
    assert row_counts(fresh) == row_counts(first)
    fresh.close()
    first.close()


def test_every_demo_account_logs_in(app, db, loaded):
    accounts = loaded  # the session's demo, copied (production hashes: tests/test_security.py)
    assert {role for _u, _p, role in accounts} == ROLES
    scopes = {r["username"]: r["scope_code"] for r in _all(db, "SELECT username, scope_code FROM user WHERE role = 'branch'")}
    assert sorted(scopes.values()) == ["130000", "HB-SJZ-01"]
    for username, password, role in accounts:
        assert len(password) >= 8
        assert users.find_user(db, username)["role"] == role
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, (username, response.status_code)
    wrong = app.test_client().post("/login", data={"username": accounts[0][0], "password": "not-the-password"})
    assert wrong.status_code == 401


def test_run_py_demo_path(app, db, capsys, cheap_hashes):
    import run

    run.load_demo(app)
    run.load_demo(app)
    out = capsys.readouterr().out
    assert out.count("Demo incident loaded.") == 2
    for username, password, _role in demo.accounts():
        assert username in out and password in out
    assert db["incident"].count_where("demo_key = ?", [demo.DEMO_KEY]) == 1
    assert db["complainant"].count == 300
