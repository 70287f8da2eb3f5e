"""Going live in a real organisation, from an empty database (no --demo):
the first crisis lead from run.py, then the directory (2 provinces, 6 cities,
300 outlets) and 50 users imported from files through the API, and an
incident run through the API alone: intake with amounts, surge, activation,
hourly updates from two outlets, a missed update alerting that outlet's
manager, a crowd at one outlet. The monitors run through their runner with a
set clock, as the scheduler runs them."""

import base64
import csv
import io
import json
import re
from datetime import timedelta

import openpyxl
import pytest

import run
from console.clock import to_iso, utcnow
from monitors import crowd, missed_updates, surge
from monitors.runner import run_monitor

from .conftest import copy_database

PROVINCES = {"130000": ("河北省分行", ["130100", "130200", "130600"]), "320000": ("江苏省分行", ["320100", "320200", "320500"])}
CITY_NAMES = {"130100": "石家庄市分行", "130200": "唐山市分行", "130600": "保定市分行", "320100": "南京市分行", "320200": "无锡市分行", "320500": "苏州市分行"}
PASSWORD = "branch-pass-2026"


def outlet(city, n):
    return f"{'HB' if city.startswith('13') else 'JS'}-{city}-{n:03d}"


def directory_csv(with_managers=False):
    """Head office, 2 province branches, 6 city branches and 50 outlets in each city (300)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "code", "name", "province_code", "city_code", "address", "managers"])
    writer.writerow(["head_office", "HQ", "总行", "", "", "北京市西城区金融大街1号", "chief" if with_managers else ""])
    for province, (name, cities) in PROVINCES.items():
        writer.writerow(["province", province, name, province, "", f"{name}办公楼", f"prov-{province}" if with_managers else ""])
        for city in cities:
            writer.writerow(["city", city, CITY_NAMES[city], province, "", f"{CITY_NAMES[city]}大楼", ""])
            for n in range(1, 51):
                code = outlet(city, n)
                managers = f"mgr-{code}" if with_managers and n <= 2 else ""
                if with_managers and code == "HB-130200-001":
                    managers += ";legal-1"  # someone outside the branch's scope is told too, by name
                writer.writerow(["outlet", code, f"{CITY_NAMES[city][:-2]}第{n}网点", province, city, f"{CITY_NAMES[city][:-2]}中山路{n}号", managers])
    return out.getvalue().encode("utf-8")


def users_xlsx():
    """50 users: team, executive, legal, two province contacts, 12 outlet managers and 32 outlet contacts."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "display_name", "role", "scope", "password"])
    rows = [("team-1", "张伟", "team", ""), ("team-2", "李娜", "team", ""), ("exec-1", "陈立平", "executive", ""), ("legal-1", "周婧", "legal", "")]
    rows += [(f"prov-{p}", f"{name}联络人", "branch", p) for p, (name, _cities) in PROVINCES.items()]
    for province, (_name, cities) in PROVINCES.items():
        for city in cities:
            rows += [(f"mgr-{outlet(city, n)}", f"{outlet(city, n)}网点主任", "branch", outlet(city, n)) for n in (1, 2)]
    n = 3
    while len(rows) < 50:
        city = ["130100", "320100"][n % 2]
        rows.append((f"contact-{outlet(city, n)}", f"{outlet(city, n)}联络人", "branch", outlet(city, n)))
        n += 1
    for username, display, role, scope in rows:
        sheet.append([username, display, role, scope, PASSWORD])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), len(rows)


def b64(content):
    return base64.b64encode(content).decode()


@pytest.fixture
def first_lead(app, capsys):
    """The one step on the shell: the first crisis lead and its token, as an operator makes them (--db after the command)."""
    path = app.config["DATABASE"]
    assert run.main(["user", "add", "chief", "--role", "lead", "--password", "chief-pass-2026", "--db", path]) == 0
    capsys.readouterr()
    assert run.main(["--db", path, "token", "chief"]) == 0
    return capsys.readouterr().out.strip()


def test_a_new_organisation_runs_an_incident_through_the_api(app, db, first_lead):
    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}
    assert db["branch"].count == 0 and db["incident"].count == 0

    # the directory, previewed then imported (CSV, through the API)
    body = {"file": {"filename": "directory.csv", "content_base64": b64(directory_csv())}, "dry_run": True}
    preview = client.post("/api/v1/org/import", json=body, headers=lead)
    assert preview.status_code == 200, preview.json
    assert preview.json["counts"] == {"new": 309} and db["branch"].count == 0
    done = client.post("/api/v1/org/import", json={**body, "dry_run": False}, headers=lead)
    assert done.status_code == 200, done.json
    assert db["branch"].count == 300 and db["org_unit"].count == 9
    assert db["city"].get("130200")["province_code"] == "130000"

    # 50 users from an Excel file; then the directory again, now naming managers
    content, count = users_xlsx()
    imported = client.post("/api/v1/users/import", json={"file": {"filename": "users.xlsx", "content_base64": b64(content)}}, headers=lead)
    assert imported.status_code == 200, imported.json
    assert count == 50 and imported.json["counts"] == {"new": 50} and imported.json["passwords"] == []
    assert db["user"].count == 51
    again = client.post("/api/v1/org/import", json={"file": {"filename": "directory.csv", "content_base64": b64(directory_csv(True))}}, headers=lead)
    assert again.status_code == 200, again.json
    assert again.json["counts"] == {"changed": 15, "unchanged": 294}
    units = {u["code"]: u for u in client.get("/api/v1/org", headers=lead).json["units"]}
    assert units["HB-130100-001"]["managers"] == ["mgr-HB-130100-001"] and units["130000"]["name"] == "河北省分行"

    # the cause gets its Chinese name and its own surge threshold
    cause = "misleading_sale_dividend_insurance"
    named = client.put(f"/api/v1/catalogue/cause/{cause}", json={"name": "分红险误导销售", "threshold": 12}, headers=lead)
    assert named.status_code == 200, named.json
    assert named.json["rule"]["threshold"] == 12 and named.json["rule"]["window_minutes"] == 1440

    # intake with amounts: 12 complaints at three Shijiazhuang outlets
    now = utcnow().replace(microsecond=0)
    a, b, c = outlet("130100", 1), outlet("130100", 2), outlet("130200", 1)
    complaints = [
        {
            "source": "hotline-95555",
            "external_id": f"HL-{n}",
            "channel": "hotline",
            "product": "分红险",
            "cause_code": cause,
            "province_code": "130000",
            "city_code": [a, b, c][n % 3].split("-")[1],
            "branch_code": [a, b, c][n % 3],
            "customer_name": f"客户{n}",
            "customer_phone": f"1391234{n:04d}",
            "text": "当作存款买的分红险",
            "received_at": to_iso(now - timedelta(minutes=30 + n)),
            "principal": f"{50000 + n}.50",
            "interest_claimed": 1200,
        }
        for n in range(12)
    ]
    received = client.post("/api/v1/complaints", json=complaints, headers=lead)
    assert received.status_code == 201, received.json

    with app.test_request_context():
        summary = run_monitor(surge.MONITOR, app.config, now)
    assert summary["opened"], summary
    incident_id = summary["opened"][0]
    incident = client.get(f"/api/v1/incidents/{incident_id}", headers=lead).json
    assert "分红险误导销售" in incident["title"] and cause not in incident["title"]
    people = client.get(f"/api/v1/incidents/{incident_id}/complainants?per_page=100", headers=lead).json["complainants"]
    assert len(people) == 12
    assert sorted(float(p["principal"]) for p in people) == [50000.5 + n for n in range(12)]
    assert {float(p["interest_claimed"]) for p in people} == {1200.0}

    # activation by the lead, then hourly updates from two outlets, posted by their own contacts
    activated = client.post(f"/api/v1/incidents/{incident_id}/status", json={"status": "active", "reason": "已核实为群体性投诉"}, headers=lead)
    assert activated.status_code == 200, activated.json
    posters = {}
    for code, people_on_site in ((a, 2), (b, 120)):
        poster = app.test_client()
        assert poster.post("/login", data={"username": f"mgr-{code}", "password": PASSWORD}).status_code == 302
        page = poster.get("/incidents").data.decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # as the console's own pages send it
        posted = poster.post(
            f"/api/v1/incidents/{incident_id}/updates", json={"people_on_site": people_on_site, "mood": "tense"}, headers={"X-CSRFToken": csrf}
        )
        assert posted.status_code == 201, posted.json
        assert posted.json["branch_code"] == code
        posters[code] = poster

    # a crowd at outlet b: a mass incident, its managers named
    with app.test_request_context():
        run_monitor(crowd.MONITOR, app.config, utcnow())
    mass = [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'mass_incident' AND incident_id = ?", [incident_id])]
    assert len(mass) == 1
    data = json.loads(mass[0]["data"])
    assert data["managers"] == [f"mgr-{b}", "prov-130000"]
    assert {f"user:mgr-{b}", "user:prov-130000"} <= set(json.loads(mass[0]["audience"]))
    assert db["incident"].get(incident_id)["mass_incident_at"]

    # outlet c never reports: 75 minutes on, its manager is named in the missed-update alert
    later = utcnow() + timedelta(minutes=75)
    with app.test_request_context():
        run_monitor(missed_updates.MONITOR, app.config, later)
    missed = {r["branch_code"]: dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'missed_update' AND incident_id = ?", [incident_id])}
    assert set(missed) == {a, b, c}
    assert json.loads(missed[c]["data"])["managers"] == ["legal-1", f"mgr-{c}"]
    assert json.loads(missed[a]["data"])["managers"] == [f"mgr-{a}"]
    assert "user:mgr-" + a in json.loads(missed[a]["audience"])
    # the manager sees their outlet's alert, and not another outlet's
    seen = {x["branch_code"] for x in posters[a].get("/api/v1/alerts").json["alerts"] if x["kind"] == "missed_update"}
    assert seen == {a}
    legal = app.test_client()
    assert legal.post("/login", data={"username": "legal-1", "password": PASSWORD}).status_code == 302
    told = [x for x in legal.get("/api/v1/alerts").json["alerts"] if x["kind"] == "missed_update"]
    assert [x["branch_code"] for x in told] == [c]  # named as a manager of outlet c, and only there
    # a second missed hour also tells the city's and province branch's managers
    with app.test_request_context():
        run_monitor(missed_updates.MONITOR, app.config, later + timedelta(hours=1))
    [second] = [dict(r) for r in db.query("SELECT * FROM alert WHERE kind = 'missed_update' AND level = 'critical' AND branch_code = ?", [c])]
    assert json.loads(second["data"])["managers"] == ["legal-1", f"mgr-{c}", "prov-130000"]

    # nothing from the demo anywhere
    assert not db["branch"].count_where("code = 'HB-SJZ-01'") and not db["user"].count_where("username LIKE 'demo-%'")


def test_bad_directory_files_write_nothing(app, db, first_lead):
    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}

    def send(text, filename="directory.csv"):
        content = text if isinstance(text, bytes) else text.encode("utf-8")
        return client.post("/api/v1/org/import", json={"file": {"filename": filename, "content_base64": b64(content)}}, headers=lead)

    header = "kind,code,name,province_code,city_code,address,managers\n"
    good = header + "province,130000,河北省分行,130000,,,\ncity,130100,石家庄市分行,130000,,,\n"
    cases = {
        "duplicate code": (good + "outlet,HB-1,网点一,130000,130100,,\noutlet,HB-1,网点二,130000,130100,,\n", "line 5.code", "appears twice"),
        "city of another province": (good + "outlet,JS-1,南京网点,320000,130100,,\n", "line 4.city_code", "is in province 130000, not 320000"),
        "unknown manager": (good + "outlet,HB-2,网点,130000,130100,,nobody-here\n", "line 4.managers", "unknown manager 'nobody-here'"),
        "more cells than the header": (good + "outlet,HB-3,网点,130000,130100,地址,,多出来的格子\n", "line 4", "more cells"),
    }
    before = {t: db[t].count for t in ("branch", "org_unit", "org_manager", "city", "audit_log")}
    for name, (text, field, words) in cases.items():
        response = send(text)
        assert response.status_code == 422, (name, response.json)
        found = [d for d in response.json["details"] if d["field"] == field]
        assert found and words in found[0]["message"], (name, response.json["details"])
        assert len(response.json["details"]) == 1, (name, response.json["details"])
    book = openpyxl.Workbook()
    book.active.append(header.strip().split(","))
    book.active.append(["province", "130000", "河北省分行", "130000", "", "", "", "多出来的格子"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = send(buffer.getvalue(), "directory.xlsx")
    assert response.status_code == 422 and response.json["details"][0]["field"] == "line 2" and "more cells" in response.json["details"][0]["message"]
    big = header + "outlet,X,名称,130000,130100,地址,\n" * (50 * 1024 * 1024 // 40)
    response = send(big[: 50 * 1024 * 1024].encode("utf-8"))
    assert response.status_code == 413
    assert "too large" in response.json["error"]
    assert {t: db[t].count for t in before} == before


def test_a_50_mb_file_is_refused_whole_from_the_page_and_the_cli(app, db, login_lead, tmp_path, capsys):
    content = b"kind,code,name\n" + b"outlet,X,y\n" * (50 * 1024 * 1024 // 11)
    page = login_lead.post("/admin/org/import", data={"file": (io.BytesIO(content), "directory.csv")}, content_type="multipart/form-data")
    assert page.status_code == 413
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    assert run.main(["org", "import", str(path), "--db", app.config["DATABASE"]]) == 2
    assert "20.0 MB" in capsys.readouterr().err
    assert db["branch"].count == 0


@pytest.fixture
def login_lead(app, first_lead):
    client = app.test_client()
    assert client.post("/login", data={"username": "chief", "password": "chief-pass-2026"}).status_code == 302
    return client


def test_cli_imports_and_reports_per_row(app, db, first_lead, tmp_path, capsys):
    path = tmp_path / "directory.csv"
    path.write_bytes(directory_csv())
    assert run.main(["--db", app.config["DATABASE"], "org", "import", str(path), "--dry-run"]) == 0
    assert "309 new" in capsys.readouterr().out and db["branch"].count == 0
    assert run.main(["org", "import", str(path), "--db", app.config["DATABASE"]]) == 0
    assert db["branch"].count == 300
    users = tmp_path / "users.csv"
    users.write_text("username,role,scope\nnew-outlet,branch,HB-130100-001\nbad,branch,NOPE\n", encoding="utf-8")
    assert run.main(["user", "import", str(users), "--db", app.config["DATABASE"]]) == 2
    err = capsys.readouterr().err
    assert "line 3.scope" in err and "NOPE" in err
    assert not db["user"].count_where("username = 'new-outlet'")


def test_a_closed_outlet_keeps_its_history_and_refuses_new_work(app, db, first_lead):
    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}
    text = "kind,code,name,province_code,city_code\ncity,130100,石家庄市分行,130000,\noutlet,HB-1,中山路网点,130000,130100\n"
    assert client.post("/api/v1/org/import", json={"file": {"filename": "d.csv", "content_base64": b64(text.encode())}}, headers=lead).status_code == 200
    incident = client.post("/api/v1/incidents", json={"title": "测试", "cause": "c", "product": "p", "severity": "medium"}, headers=lead).json["id"]
    person = {"name": "张三", "phone": "13800001111", "province_code": "130000", "city_code": "130100", "branch_code": "HB-1"}
    assert client.post(f"/api/v1/incidents/{incident}/complainants", json=person, headers=lead).status_code == 201
    closed = client.put("/api/v1/org/outlets/HB-1/active", json={"active": False}, headers=lead)
    assert closed.status_code == 200 and closed.json["active"] is False
    refused = client.post(f"/api/v1/incidents/{incident}/complainants", json=person, headers=lead)
    assert refused.status_code == 422 and "closed" in refused.json["details"][0]["message"]
    client.post(f"/api/v1/incidents/{incident}/status", json={"status": "active", "reason": "测试"}, headers=lead)
    update = client.post(f"/api/v1/incidents/{incident}/updates", json={"branch_code": "HB-1", "people_on_site": 1, "mood": "calm"}, headers=lead)
    assert update.status_code == 422 and "closed" in update.json["error"]
    assert db["branch"].get("HB-1")["name"] == "中山路网点" and db["complainant"].count == 1
    # names, not codes, where a person reads
    page = app.test_client()
    page.post("/login", data={"username": "chief", "password": "chief-pass-2026"})
    listing = page.get(f"/incidents/{incident}/complainants").data.decode()
    assert "中山路网点" in listing and "石家庄市分行" not in listing


def test_bulk_update_by_id_and_external_reference_is_all_or_nothing(app, db, first_lead):
    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}
    incident = client.post("/api/v1/incidents", json={"title": "测试", "cause": "c", "product": "p", "severity": "medium"}, headers=lead).json["id"]
    group = client.post(f"/api/v1/incidents/{incident}/groups", json={"name": "第一组", "handling_line": "逐一协商"}, headers=lead).json["id"]
    ids = client.post(
        f"/api/v1/incidents/{incident}/complainants",
        json=[
            {"name": "张三", "phone": "13800001111", "province_code": "130000"},
            {"name": "李四", "phone": "13800002222", "province_code": "130000"},
        ],
        headers=lead,
    ).json["ids"]
    db["intake_complaint"].insert(
        {
            "source": "hotline",
            "external_id": "EXT-9",
            "channel": "hotline",
            "product": "p",
            "cause_code": "c",
            "province_code": "130000",
            "customer_name": "李四",
            "customer_phone": "13800002222",
            "received_at": to_iso(utcnow()),
            "created_at": to_iso(utcnow()),
            "incident_id": incident,
            "complainant_id": ids[1],
        }
    )
    before = client.get(f"/api/v1/complainants/{ids[0]}", headers=lead).json
    # one stale version: nothing changes
    stale = client.patch(
        f"/api/v1/incidents/{incident}/complainants",
        json=[
            {"id": ids[0], "version": before["version"], "principal": 1000},
            {"external_id": "EXT-9", "version": 99, "principal": 2000},
        ],
        headers=lead,
    )
    assert stale.status_code == 422, stale.json
    assert stale.json["details"][0]["field"].startswith("1")
    assert client.get(f"/api/v1/complainants/{ids[0]}", headers=lead).json["version"] == before["version"]
    ok = client.patch(
        f"/api/v1/incidents/{incident}/complainants",
        json=[
            {"id": ids[0], "version": before["version"], "principal": 1000, "group_id": group, "flags": ["vulnerable"]},
            {"external_id": "EXT-9", "principal": "2000.50", "phone": "13900003333"},
        ],
        headers=lead,
    )
    assert ok.status_code == 200, ok.json
    first, second = (client.get(f"/api/v1/complainants/{i}", headers=lead).json for i in ids)
    assert float(first["principal"]) == 1000 and first["group_id"] == group and first["flags"] == ["vulnerable"]
    assert first["version"] == before["version"] + 1
    assert float(second["principal"]) == 2000.5
    assert db["audit_log"].count_where("table_name = 'complainant' AND action = 'update'") == 2

    # the same from a file, with a preview; one bad row refuses all
    page = app.test_client()
    page.post("/login", data={"username": "chief", "password": "chief-pass-2026"})
    text = f"id,external_id,principal,group\n{ids[0]},,3000,第一组\n,EXT-9,4000,没有这个组\n"
    preview = page.post(
        f"/incidents/{incident}/complainants/bulk-update", data={"file": (io.BytesIO(text.encode()), "u.csv")}, content_type="multipart/form-data"
    )
    assert preview.status_code == 422 and "没有这个组" in preview.data.decode()
    assert float(client.get(f"/api/v1/complainants/{ids[0]}", headers=lead).json["principal"]) == 1000
    text = f"id,external_id,principal\n{ids[0]},,3000\n,EXT-9,4000\n"
    preview = page.post(
        f"/incidents/{incident}/complainants/bulk-update", data={"file": (io.BytesIO(text.encode()), "u.csv")}, content_type="multipart/form-data"
    )
    assert preview.status_code == 200
    assert float(client.get(f"/api/v1/complainants/{ids[0]}", headers=lead).json["principal"]) == 1000  # a preview keeps nothing
    token = preview.data.decode().split("/bulk-update/")[1][:32]
    assert page.post(f"/incidents/{incident}/complainants/bulk-update/{token}").status_code == 302
    assert float(client.get(f"/api/v1/complainants/{ids[1]}", headers=lead).json["principal"]) == 4000


def test_db_is_taken_before_and_after_the_command(app, tmp_path, capsys):
    other = str(tmp_path / "other.db")
    for argv in (
        ["--db", other, "user", "add", "a1", "--role", "team", "--password", "long-enough-1"],
        ["user", "add", "a2", "--role", "team", "--password", "long-enough-1", "--db", other],
    ):
        assert run.main(argv) == 0
    assert run.main(["audit", "verify", "--db", other]) == 0
    from console.db import connect

    handle = connect(other)
    assert [r["username"] for r in handle.query("SELECT username FROM user ORDER BY id")] == ["a1", "a2"]
    handle.close()


def test_first_start_says_how_to_make_the_first_lead(app, capsys):
    page = app.test_client().get("/login").data.decode()
    assert "user add NAME --role lead" in page and f"--db {app.config['DATABASE']}" in page
    run.first_start_notice(app)
    assert "user add NAME --role lead" in capsys.readouterr().out


def test_the_catalogue_sets_a_causes_surge_rule_and_name(app, db, first_lead):
    """An empty setting follows SURGE_RULES; a cause's own threshold replaces it for that cause only."""
    from console import catalogue
    from console.intake import detect_surges

    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}
    assert catalogue.surge_settings(db, app.config)["SURGE_RULES"] == app.config["SURGE_RULES"]  # nothing set: as before
    rows = [
        {"kind": "cause", "code": "zero_yield", "name": "结构性存款零收益", "threshold": 6, "baseline_min": 1000000},
        {"kind": "product", "code": "结构性存款", "name": "结构性存款（保本浮动收益）"},
    ]
    preview = client.post("/api/v1/catalogue/import", json={"rows": rows, "dry_run": True}, headers=lead)
    assert preview.status_code == 200 and preview.json["counts"] == {"new": 2} and db["catalogue_entry"].count == 0
    assert client.post("/api/v1/catalogue/import", json={"rows": rows}, headers=lead).status_code == 200
    bad = client.post("/api/v1/catalogue/import", json={"rows": [{"kind": "product", "code": "x", "name": "某产品", "threshold": 3}]}, headers=lead)
    assert bad.status_code == 422 and "causes only" in bad.json["details"][0]["message"]
    now = utcnow().replace(microsecond=0)
    complaints = [
        {
            "channel": "hotline",
            "product": "结构性存款",
            "cause_code": "zero_yield",
            "province_code": "130000",
            "customer_name": f"客户{n}",
            "customer_phone": f"1381234{n:04d}",
            "received_at": to_iso(now - timedelta(minutes=5 + n)),
        }
        for n in range(6)
    ]
    assert client.post("/api/v1/complaints", json=complaints, headers=lead).status_code == 201
    settings = catalogue.surge_settings(db, app.config)
    causes = [s for s in detect_surges(db, now, settings) if s["dimension"] == "cause_code"]
    assert [(s["value"], s["count"], s["reason"]) for s in causes] == [("zero_yield", 6, "threshold")]
    assert not [s for s in detect_surges(db, now, app.config) if s["dimension"] == "cause_code" and s["reason"] == "threshold"]
    with app.test_request_context():
        summary = run_monitor(surge.MONITOR, app.config, now)
    title = db["incident"].get(summary["opened"][0])["title"]
    assert "结构性存款零收益" in title and "zero_yield" not in title
    # the lead's page edits it
    page = app.test_client()
    page.post("/login", data={"username": "chief", "password": "chief-pass-2026"})
    saved = page.post("/admin/catalogue/entry", data={"kind": "cause", "code": "zero_yield", "name": "零收益", "threshold": "8"})
    assert saved.status_code == 302 and catalogue.surge_rule(db, app.config, "zero_yield")["threshold"] == 8
    refused = page.post("/admin/catalogue/entry", data={"kind": "cause", "code": "zero_yield", "name": "零收益", "threshold": "-1"})
    assert refused.status_code == 422 and catalogue.surge_rule(db, app.config, "zero_yield")["threshold"] == 8


def test_the_demo_builds_its_directory_through_the_import(db, demo_file):
    """The session's demo (conftest's demo_file: demo.load_demo on an empty database), copied here."""
    copy_database(demo_file, db)
    assert db["branch"].count == 15 and db["org_unit"].count == 19
    assert db["org_unit"].get("130000")["name"] == "河北分公司"
    assert [r["username"] for r in db.query("SELECT username FROM org_manager WHERE unit_code = 'HB-SJZ-01'")] == ["demo-outlet"]
    assert db["audit_log"].count_where("table_name = 'org_unit' AND username = 'demo'") >= 34


def test_templates_download_and_import_back(app, db, login_lead):
    for url in ("/admin/org/template.xlsx", "/admin/users/import/template.xlsx", "/admin/catalogue/template.xlsx"):
        response = login_lead.get(url)
        assert response.status_code == 200 and response.data.startswith(b"PK")
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        assert book.sheetnames == ["import", "allowed"] and book["allowed"].max_row > 3
    template = login_lead.get("/admin/org/template.xlsx").data
    preview = login_lead.post("/admin/org/import", data={"file": (io.BytesIO(template), "directory.xlsx")}, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.data.decode()[-2000:]
    token = preview.data.decode().split("/admin/org/import/")[1][:32]
    assert login_lead.post(f"/admin/org/import/{token}").status_code == 302
    assert db["branch"].get("HB-SJZ-01")["address"] == "石家庄市桥西区中山西路88号"
    assert login_lead.post(f"/admin/org/import/{token}").status_code == 422  # a confirmed import is not done twice
    csv_template = login_lead.get("/admin/org/template.csv")
    assert csv_template.data.decode("utf-8-sig").splitlines()[0] == "kind,code,name,province_code,city_code,address,managers,active"


def test_users_from_api_rows_get_random_passwords_once(app, db, first_lead):
    client = app.test_client()
    lead = {"Authorization": f"Bearer {first_lead}"}
    rows = [{"username": "zhao.lei", "role": "branch", "scope": "130000"}, {"username": "qian.li", "role": "team", "password": "team-pass-2026"}]
    made = client.post("/api/v1/users/import", json={"rows": rows}, headers=lead)
    assert made.status_code == 200, made.json
    [generated] = made.json["passwords"]
    assert generated["username"] == "zhao.lei" and len(generated["password"]) >= 12
    assert app.test_client().post("/login", data={"username": "zhao.lei", "password": generated["password"]}).status_code == 302
    again = client.post("/api/v1/users/import", json={"rows": rows + [{"username": "sun.li", "role": "team", "scope": "130000"}]}, headers=lead)
    assert again.status_code == 422
    assert {d["field"] for d in again.json["details"]} == {"line 1.username", "line 2.username", "line 3.scope"}
    assert not db["user"].count_where("username = 'sun.li'")
    assert db["audit_log"].count_where("table_name = 'user' AND action = 'create'") == 2
