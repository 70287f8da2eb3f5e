"""The written early-warning plan (预警方案): issued like the other documents,
with the forecast, the demands, the agreed line and the planned answer."""

from datetime import datetime, timedelta, timezone

from console import forecast
from console.clock import to_iso

from .test_documents import pdf_text


def test_the_early_warning_plan_is_issued_with_forecast_demands_line_and_answer(api, db, incident, tmp_path):
    forecast.clear_cache()
    now = datetime.now(timezone.utc)
    people = [
        {
            "name": f"客户{i}",
            "phone": f"1380000{i:04d}",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "group_id": incident["groups"][0],
            "principal": "20000",
            "demands": "要求全额退还本金，利息按当时说的算" if i % 2 else "要求公开道歉，不然找电视台曝光",
            "received_at": to_iso(now - timedelta(hours=i)),
        }
        for i in range(40)
    ]
    assert api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json=people).status_code == 201
    drafted = api(
        "team", "POST", f"/api/v1/incidents/{incident['id']}/agreed-lines", json={"text": "公司高度重视客户反映的问题，将逐一核实、依法依规妥善处理。"}
    )
    assert drafted.status_code == 201
    issued = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/documents", json={"kind": "early_warning_plan", "recipient": "应急处置小组"})
    assert issued.status_code == 201, issued.json
    assert issued.json["referral_id"] is None  # internal: sent to no outside party
    listed = api("lead", "GET", f"/api/v1/incidents/{incident['id']}/documents").json["documents"]
    plan = next(d for d in listed if d["id"] == issued.json["document_id"])
    assert plan["kind"] == "early_warning_plan" and plan["filename"] == "early-warning-plan.pdf"
    assert db["referral"].count == 0
    download = api("lead", "GET", f"/documents/{plan['id']}")
    assert download.status_code == 200
    text = pdf_text(download.data, tmp_path)
    for expected in (
        "预警方案",
        "投诉数量预测",
        "未来 24 小时",
        "未来 7 天",
        "80% 区间",
        "预计涉及金额",
        "退还本金",
        "道歉或给个说法",
        "以媒体曝光相威胁",
        "统一答复口径",
        "尚未经法律合规部门审核",
        "公司高度重视客户反映的问题",
        "拟采取的答复方案",
        "河北邮政分红险2019",
        "本金+利息",
    ):
        assert expected in text, expected
    got = forecast.incident_forecast(db, incident["id"], now)
    assert f"{got['horizons'][0]['low']}–{got['horizons'][0]['high']}" in text.replace(" ", "") or str(got["horizons"][0]["expected"]) in text
    # executives download the rendering (small cells suppressed), never a name
    executive = api("executive", "GET", f"/documents/{plan['id']}")
    assert executive.status_code == 200
    assert "张建国" not in pdf_text(executive.data, tmp_path)


def test_the_warning_plan_task_names_the_document():
    from console.playbooks import load

    book = load("playbooks/mass_complaint.yaml")
    task = next(t for t in book.tasks if t.key == "warning_plan")
    assert task.document == "early_warning_plan"


def test_the_regulator_report_and_the_rollup_carry_the_forecast(api, db, incident, tmp_path):
    forecast.clear_cache()
    now = datetime.now(timezone.utc)
    people = [
        {
            "name": f"客户{i}",
            "phone": f"1390000{i:04d}",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "principal": "10000",
            "demands": "要求退还本金",
            "received_at": to_iso(now - timedelta(hours=i)),
        }
        for i in range(30)
    ]
    assert api("lead", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json=people).status_code == 201
    expected = forecast.incident_forecast(db, incident["id"], now)["horizons"]
    issued = api(
        "lead",
        "POST",
        f"/api/v1/incidents/{incident['id']}/documents",
        json={"kind": "regulator_report", "recipient": "监管局", "signing_officer": "王总", "contact_person": "李四", "contact_phone": "010-12345678"},
    )
    assert issued.status_code == 201, issued.json
    text = pdf_text(api("lead", "GET", f"/documents/{issued.json['document_id']}").data, tmp_path, layout=False)
    assert "趋势预测" in text and "未来 7 天" in text
    assert f"新增约 {expected[0]['expected']} 人" in text.replace("\n", "")
    made = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/rollups")
    assert made.status_code == 201, made.json
    content = made.json["content"]
    assert [h["hours"] for h in content["forecast"]["horizons"]] == [24, 72, 168]
    assert content["forecast"]["demands"]["shares"][0] == {"kind": "principal", "people": 30, "share": 1.0}
    page = api("lead", "GET", f"/rollups/{made.json['id']}")
    assert "预警预测（新增投诉人）" in page.get_data(as_text=True)
