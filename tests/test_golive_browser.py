"""Going live in a real browser (Debian's chromium through Playwright, against
run.py in its own process, on a database holding only the first crisis lead):
the lead imports the directory and the users from the pages, sees each
preview, confirms, and a branch contact imported that way logs in and posts
an hourly update."""

from playwright.sync_api import expect

from console import create_app, users
from console.db import connect

from .browser import SHOTS, browser  # noqa: F401 (the fixture)
from .browser import login as _login
from .conftest import CHEAP_HASH, PASSWORD
from .servers import ConsoleServer

DIRECTORY = """kind,code,name,province_code,city_code,address,managers
head_office,HQ,总行,,,北京市西城区金融大街1号,
province,130000,河北省分行,130000,,石家庄市长安区中山东路1号,
city,130100,石家庄市分行,130000,,石家庄市桥西区自强路20号,
outlet,HB-SJZ-01,石家庄中山路网点,130000,130100,石家庄市桥西区中山西路88号,
outlet,HB-SJZ-02,石家庄裕华路网点,130000,130100,石家庄市裕华区裕华东路120号,
"""

USERS = f"""username,display_name,role,scope,password
wang.fang,王芳（中山路网点）,branch,HB-SJZ-01,{PASSWORD}
li.na,李娜（河北省分行）,branch,130000,
"""


def test_lead_imports_directory_and_users_then_a_branch_contact_posts(browser, tmp_path):
    path = tmp_path / "console.db"
    create_app({"DATABASE": str(path), "SECRET_KEY": "x"})  # the schema, as on a first start
    db = connect(path)
    users.add_user(db, "chief", "lead", PASSWORD, hash_method=CHEAP_HASH)  # run.py user add: the one shell step
    db.close()
    (tmp_path / "directory.csv").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "users.csv").write_text(USERS, encoding="utf-8")
    server = ConsoleServer(path).start()
    try:
        page = _login(browser, server, "chief")
        page.click("text=机构")  # the header's "Organisation"
        page.click("#import-directory")
        page.set_input_files("input[name=file]", str(tmp_path / "directory.csv"))
        page.click("#check-file")
        expect(page.locator("#preview-ok")).to_contain_text("5")
        expect(page.locator("#preview")).to_contain_text("石家庄中山路网点")
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "directory-import-preview.png"), full_page=True)
        page.click("#confirm-import")
        expect(page.locator("#directory tr[data-code='HB-SJZ-01']")).to_contain_text("石家庄中山路网点")
        expect(page.locator("#directory tr[data-code='HB-SJZ-01']")).to_contain_text("河北省分行")  # names, not codes

        page.click("#import-users")
        page.set_input_files("input[name=file]", str(tmp_path / "users.csv"))
        page.click("#check-file")
        expect(page.locator("#preview-ok")).to_be_visible()
        assert PASSWORD not in page.content()  # passwords are not shown back
        page.click("#confirm-import")
        expect(page.locator("#users-imported")).to_contain_text("2")
        expect(page.locator("main")).to_contain_text("li.na")  # a random password, shown once
        page.close()

        db = connect(path)
        lead_token = users.issue_token(db, "chief")
        db.close()
        import json
        import urllib.request

        request = urllib.request.Request(
            server.url + "/api/v1/incidents",
            method="POST",
            data=json.dumps({"title": "邮政渠道分红险集体投诉", "cause": "c", "product": "p", "severity": "severe", "status": "active"}).encode(),
            headers={"Authorization": f"Bearer {lead_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            incident_id = json.loads(response.read())["id"]

        contact = _login(browser, server, "wang.fang")
        expect(contact.locator("header .who")).to_contain_text("石家庄中山路网点")  # the header names the outlet, not HB-SJZ-01
        contact.goto(f"{server.url}/incidents/{incident_id}/updates/new")
        contact.fill("input[name=people_on_site]", "4")
        with contact.expect_navigation():
            contact.click("form.card button[type=submit]")
        db = connect(path)
        rows = [dict(r) for r in db.query("SELECT * FROM hourly_update")]
        db.close()
        assert len(rows) == 1 and rows[0]["branch_code"] == "HB-SJZ-01" and rows[0]["people_on_site"] == 4
        contact.close()
    finally:
        server.stop()
