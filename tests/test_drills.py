"""Drills: a shipped scenario run end to end at high speed on its own drill
database, with the real scheduler and monitors, the team acting through the
drill console's API; the drill report's figures checked against the drill
database; nothing from the drill in the real database; nothing sent out."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console import drills, users
from console.clock import from_iso
from console.db import connect

from .conftest import row_counts
from .test_documents import pdf_text

ROOT = Path(__file__).resolve().parent.parent
SPEED = 3000  # 50 drill minutes per real second: the 480-minute scenario in under 10 s


def _minutes(start, end):
    return round((from_iso(end) - from_iso(start)).total_seconds() / 60, 1)


def _wait_for(check, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_shipped_scenarios_are_valid():
    found = {name: s for name, s in drills.shipped()}
    assert set(found) == {"postal_dividend_surge.yaml", "bank_telemarketing_wave.yaml"}
    for scenario in found.values():
        kinds = {e.kind() for e in scenario.events}
        assert kinds == {"complaints", "update", "crowd", "silence"}
        assert scenario.speed == 60


def test_a_bad_scenario_is_refused_naming_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\ntitle: {zh: 演练, en: Drill}\ndescription: {zh: a, en: b}\nseed: s\nduration_minutes: 10\n"
        "settings: {WEBHOOK_URL: 'http://evil'}\nbranches: []\nevents: []\n",
        encoding="utf-8",
    )
    with pytest.raises(drills.ScenarioError, match="WEBHOOK_URL"):
        drills.load(bad)
    bad.write_text(
        "id: x\ntitle: {zh: 演练, en: Drill}\ndescription: {zh: a, en: b}\nseed: s\nduration_minutes: 10\n"
        "branches: []\nevents: [{at: 1, silence: {branch: NOPE, minutes: 5}}]\n",
        encoding="utf-8",
    )
    with pytest.raises(drills.ScenarioError, match="NOPE"):
        drills.load(bad)


def test_a_drill_runs_end_to_end_and_its_report_matches_the_drill_database(app, db, accounts, tmp_path):
    from monitors.runner import start_scheduler

    real_db = app.config["DATABASE"]
    real_before = row_counts(db)
    drill_path = tmp_path / "drill" / "drill.db"
    drill_app, drill, copied = drills.prepare(
        ROOT / "drills" / "postal_dividend_surge.yaml",
        real_db,
        drill_db=drill_path,
        speed=SPEED,
        extra_config={
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "DEFAULT_LOCALE": "en",
            "DOCUMENT_FOLDER": str(tmp_path / "drill-docs"),
            "WEBHOOK_URL": None,
        },
    )
    assert copied == len(accounts)  # the team logs in to the drill as themselves
    assert drill_app.config["DRILL"] is True and drill_app.config["WEBHOOK_URL"] is None
    ddb = connect(str(drill_path))
    token = users.issue_token(ddb, "lead")
    client = drill_app.test_client()

    def api(method, url, **kwargs):
        return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    scheduler = start_scheduler(drill_app)  # the real monitors, on the drill clock
    try:
        drill.start()
        # the surge monitor opens the incident from the scenario's complaints
        incident_id = _wait_for(lambda: (ddb.execute("SELECT id FROM incident").fetchone() or [None])[0])
        # the crisis lead activates it and works a little of it, on the drill's clock
        activated = api("POST", f"/api/v1/incidents/{incident_id}/status", json={"status": "active", "reason": "演练：启动应急"})
        assert activated.status_code == 200, activated.json
        people = _wait_for(lambda: [r[0] for r in ddb.execute("SELECT id FROM complainant WHERE incident_id = ? ORDER BY id LIMIT 3", [incident_id])])
        for person in people[:2]:
            logged = api("POST", f"/api/v1/complainants/{person}/contacts", json={"channel": "phone", "said": "演练：已电话联系，告知处理时限"})
            assert logged.status_code == 201, logged.json
        tasks = api("GET", f"/api/v1/incidents/{incident_id}/tasks").json["tasks"]
        liaison = next(t for t in tasks if t["key"] == "regulator_liaison")
        assert api("POST", f"/api/v1/tasks/{liaison['id']}/complete").status_code == 200
        # every screen and document of the drill console is marked 演练
        page = client.get(f"/incidents/{incident_id}/board", headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200 and "演练 DRILL" in page.get_data(as_text=True)
        plan = api("POST", f"/api/v1/incidents/{incident_id}/documents", json={"kind": "early_warning_plan", "recipient": "应急处置小组"})
        assert plan.status_code == 201, plan.json
        report = drill.wait(60)
    finally:
        scheduler.shutdown(wait=False)
    assert drill.error is None and report is not None
    saved = json.loads(drills.save_report(drill).read_text(encoding="utf-8"))
    assert saved == report

    # --- the report, against the drill database ---
    first = ddb.execute("SELECT min(received_at) FROM intake_complaint").fetchone()[0]
    incident = dict(ddb["incident"].get(incident_id))
    assert report["incident"]["id"] == incident_id
    assert report["activation"]["activated_after_first_complaint_minutes"] == _minutes(first, incident["activated_at"])
    assert report["activation"]["opened_after_first_complaint_minutes"] == _minutes(first, incident["opened_at"])
    assert report["activation"]["activated_after_first_complaint_minutes"] > 40  # the surge took at least 20 complaints
    contacted = ddb.execute("SELECT count(*) FROM complainant WHERE incident_id = ? AND first_contact_at IS NOT NULL", [incident_id]).fetchone()[0]
    assert contacted == 2
    assert sum(g["contacted"] for g in report["first_contact_by_group"]) == contacted
    assert (
        sum(g["people"] for g in report["first_contact_by_group"])
        == ddb.execute("SELECT count(*) FROM complainant WHERE incident_id = ?", [incident_id]).fetchone()[0]
    )
    end = report["ended_at"]
    rows = [dict(r) for r in ddb.query("SELECT status, due_at, completed_at FROM task WHERE incident_id = ?", [incident_id])]
    t = report["tasks"]
    assert t["total"] == len(rows) > 5
    assert t["on_time"] == sum(1 for r in rows if r["status"] == "done" and r["completed_at"] <= r["due_at"]) >= 1
    assert t["late"] == sum(1 for r in rows if r["status"] == "done" and r["completed_at"] > r["due_at"])
    assert t["overdue_not_done"] == sum(1 for r in rows if r["status"] != "done" and r["due_at"] <= end) >= 1
    assert t["on_time"] + t["late"] + t["overdue_not_done"] + t["open_not_yet_due"] == t["total"]
    missed = {
        r["branch_code"]: r["n"]
        for r in ddb.query("SELECT branch_code, count(*) AS n FROM alert WHERE incident_id = ? AND kind = 'missed_update' GROUP BY branch_code", [incident_id])
    }
    assert report["missed_updates"]["count"] == sum(missed.values())
    assert {m["branch_code"]: m["alerts"] for m in report["missed_updates"]["by_branch"]} == missed
    assert "DRILL-YZ-BD-01" in missed  # the outlet the scenario silenced
    never = {n["what"] for n in report["never_done"]}
    assert {"task", "first_contact"} <= never and "activation" not in never
    assert any(
        n["what"] == "first_contact"
        and n["count"] == ddb.execute("SELECT count(*) FROM complainant WHERE incident_id = ? AND first_contact_at IS NULL", [incident_id]).fetchone()[0]
        for n in report["never_done"]
    )
    # every scenario event was played and logged
    assert ddb["drill_event"].count == len(drill.scenario.events)
    assert ddb.execute("SELECT count(*) FROM drill_event WHERE ok = 0").fetchone()[0] == 0
    # the drill's document is marked as a drill
    download = api("GET", f"/documents/{plan.json['document_id']}")
    assert download.status_code == 200
    assert "演练文件 DRILL" in pdf_text(download.data, tmp_path)
    # nothing went out: no webhook delivery, no channel, no delivery queued
    assert ddb["webhook_delivery"].count == 0 and ddb["channel"].count == 0 and ddb["channel_delivery"].count == 0
    assert ddb["alert"].count > 0
    ddb.close()

    # --- nothing from the drill in the real database ---
    assert row_counts(db) == real_before
    assert db["incident"].count == 0 and db["intake_complaint"].count == 0 and db["drill_run"].count == 0
    assert not db.execute("SELECT 1 FROM branch WHERE code LIKE 'DRILL-%'").fetchone()


def test_run_py_drill_plays_a_scenario_and_prints_the_report(tmp_path):
    """The command itself, headless (--no-serve), the other shipped scenario."""
    real = tmp_path / "console.db"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run.py"),
            "--db",
            str(real),
            "drill",
            str(ROOT / "drills" / "bank_telemarketing_wave.yaml"),
            "--speed",
            "6000",
            "--no-serve",
            "--drill-db",
            str(tmp_path / "d.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "演练报告 DRILL REPORT" in result.stdout and "银行电话营销集中投诉演练" in result.stdout
    report = json.loads((tmp_path / "d.db.report.json").read_text(encoding="utf-8"))
    assert report["scenario"] == "bank_telemarketing_wave" and report["incident"] is not None
    assert not real.exists() or connect(str(real))["incident"].count == 0


def test_the_lead_starts_a_drill_from_the_drill_page(app, login, accounts, tmp_path):
    import os
    import signal
    import urllib.request

    lead = login("lead")
    page = lead.get("/drills").get_data(as_text=True)
    assert "postal_dividend_surge.yaml" in page and "bank_telemarketing_wave.yaml" in page
    refused = lead.post("/drills/start", data={"scenario": "../../etc/passwd", "speed": "60"})
    assert refused.status_code == 422
    assert lead.post("/drills/start", data={"scenario": "postal_dividend_surge.yaml", "speed": "9999"}).status_code == 422
    started = lead.post("/drills/start", data={"scenario": "postal_dividend_surge.yaml", "speed": "600"})
    assert started.status_code == 302
    running = app.extensions["drills_started"][-1]
    try:

        def login_page():
            try:
                with urllib.request.urlopen(running["url"] + "login", timeout=2) as response:
                    return response.read().decode()
            except OSError:
                return None

        html = _wait_for(login_page, seconds=60)
        assert "演练 DRILL" in html  # the drill console marks every page
        assert running["url"] in lead.get("/drills").get_data(as_text=True)
    finally:
        os.killpg(running["pid"], signal.SIGTERM)  # the drill process this test started
    assert app.extensions["drills_started"][-1]["log"].startswith(str(tmp_path))


def test_the_drill_console_shows_its_progress_to_the_lead(app, db, accounts, tmp_path):
    drill_app, drill, _copied = drills.prepare(
        ROOT / "drills" / "bank_telemarketing_wave.yaml",
        app.config["DATABASE"],
        drill_db=tmp_path / "d" / "d.db",
        speed=20000,
        extra_config={"SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, "DEFAULT_LOCALE": "en"},
    )
    drill.start()
    report = drill.wait(60)
    assert report is not None
    client = drill_app.test_client()
    assert client.post("/login", data={"username": "lead", "password": "correct-horse-1"}).status_code == 302
    page = client.get("/drills").get_data(as_text=True)
    assert "演练 DRILL" in page and "银行电话营销集中投诉演练" in page and "DRILL REPORT" in page
    assert client.post("/drills/start", data={"scenario": "postal_dividend_surge.yaml", "speed": "60"}).status_code == 409
