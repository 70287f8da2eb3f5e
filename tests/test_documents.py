"""Documents for outside parties (console/documents/): the regulator's report,
the consumer association's packet, the media statement and the post-incident
review, checked through what a reader sees (pdftotext, pdftoppm from Debian's
poppler-utils) against the same figures computed here by plain SQL; and the
store of issued documents, which keeps every one as issued."""

import csv
import hashlib
import io
import os
import re
import shutil
import sqlite3
import stat
import statistics
import subprocess
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from console import documents, vocabulary
from console.clock import from_iso, to_iso, utcnow
from console.errors import Invalid

from .pdfs import flat, pdf_text

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"ORGANISATION_NAME": "某某人寿保险股份有限公司", "TIMEZONE": "Asia/Shanghai", "MAJOR_COMPLAINANTS_IN_PERSON": 20}
TITLE = "邮政渠道分红险集体投诉"
NEEDS_HEBEI = "请总公司派法务人员到场协助解释合同条款"
NEEDS_GUANGDONG = "需要省公司协调属地公安维持秩序"
LINE = "公司已关注到部分客户反映的分红险销售问题，已成立专项工作组逐一核实，将依法依规妥善处理，保障客户合法权益。"


@pytest.fixture(autouse=True)
def poppler():
    """pdftotext and pdftoppm read the PDFs back; scripts/test installs poppler-utils."""
    missing = [tool for tool in ("pdftotext", "pdftoppm", "pdffonts") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: apt-get install poppler-utils (scripts/test does)")


def yuan(fen):
    return f"{fen // 100:,}.{fen % 100:02d}"


# --- the scene -----------------------------------------------------------------------------------


@pytest.fixture
def scene(api, db, incident, accounts):
    """The conftest incident, plus complainants with amounts (two received more than a day
    ago), two branch updates with needs, tasks, a referral and agreed lines."""
    incident_id = incident["id"]
    g1, g2 = incident["groups"]
    real_now = utcnow()
    more = [
        {
            "name": "王淑芬",
            "phone": "13612345678",
            "id_number": "130105194807074444",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "group_id": g1,
            "principal": "30000",
            "interest_claimed": "1200.35",
            "expenses_claimed": "86",
        },
        {
            "name": "赵德明",
            "phone": "13512345678",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-02",
            "group_id": g1,
            "principal": "45000",
            "interest_claimed": "900",
            "received_at": to_iso(real_now - timedelta(hours=30)),
        },
        {
            "name": "刘桂兰",
            "phone": "13412345678",
            "province_code": "440000",
            "city_code": "440100",
            "branch_code": "GD-GZ-01",
            "group_id": g2,
            "principal": "66000.66",
            "expenses_claimed": "150.50",
            "received_at": to_iso(real_now - timedelta(hours=36)),
        },
        {"name": "孙立新", "phone": "13312345678", "province_code": "440000", "group_id": None, "principal": "1000"},
    ]
    response = api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=more)
    assert response.status_code == 201, response.json
    people = incident["people"] + more
    ids = [incident["hebei_outlet_1"], incident["hebei_outlet_2"], incident["guangdong"], *response.json["ids"]]
    # statuses through the API, so the status counts are the application's own
    for complainant_id, status in ((ids[0], "contacted"), (ids[2], "contacted"), (ids[3], "withdrawn")):
        changed = api("lead", "PATCH", f"/api/v1/complainants/{complainant_id}", json={"status": status})
        assert changed.status_code == 200, changed.json
    update = api(
        "branch_outlet",
        "POST",
        f"/api/v1/incidents/{incident_id}/updates",
        json={"people_on_site": 12, "mood": "tense", "banners": True, "actions_taken": "开放接待室，逐一登记诉求", "needs": NEEDS_HEBEI},
    )
    assert update.status_code == 201, update.json
    update = api(
        "branch_guangdong",
        "POST",
        f"/api/v1/incidents/{incident_id}/updates",
        json={"branch_code": "GD-GZ-01", "people_on_site": 4, "mood": "calm", "needs": NEEDS_GUANGDONG},
    )
    assert update.status_code == 201, update.json
    status = api("lead", "POST", f"/api/v1/incidents/{incident_id}/status", json={"status": "stood_down", "reason": "现场已平稳"})
    assert status.status_code == 200, status.json

    now = utcnow() + timedelta(minutes=5)
    hour = timedelta(hours=1)
    task = "INSERT INTO task (incident_id, playbook, key, trigger, stream, title, owner_role, due_at, status, completed_at, created_at) VALUES (?, 'mass', ?, 'activation', ?, ?, ?, ?, ?, ?, ?)"
    with db.conn:
        db.execute(
            task,
            [
                incident_id,
                "regulator_phone",
                "regulator",
                "电话报告属地监管局",
                "lead",
                to_iso(now - 3 * hour),
                "done",
                to_iso(now - 4 * hour),
                to_iso(now - 5 * hour),
            ],
        )
        db.execute(
            task, [incident_id, "police", "police", "通报属地派出所", "branch", to_iso(now - 3 * hour), "done", to_iso(now - 2 * hour), to_iso(now - 5 * hour)]
        )
        db.execute(task, [incident_id, "media_line", "media", "起草统一口径并送法务审核", "team", to_iso(now - hour), "open", None, to_iso(now - 5 * hour)])
        db.execute(
            task,
            [incident_id, "cpa_packet", "consumer_association", "向消协提交情况通报材料", "team", to_iso(now + 6 * hour), "open", None, to_iso(now - 5 * hour)],
        )
        db.execute(
            "INSERT INTO referral (incident_id, party, recipient, what_sent, sent_at, sent_by, ack_due_at, acknowledged_by_name, acknowledged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                incident_id,
                "regulator",
                "河北监管局消保处",
                "电话报告事件概况",
                to_iso(now - 4 * hour),
                accounts["lead"],
                to_iso(now - 2 * hour),
                "王科长",
                to_iso(now - 3 * hour),
            ],
        )
        db.execute(
            "INSERT INTO agreed_line (incident_id, text, drafted_by, drafted_at) VALUES (?, ?, ?, ?)",
            [incident_id, "草稿：尚未审核的口径", accounts["team"], to_iso(now - 2 * hour)],
        )
    return {**incident, "now": now, "ids": ids, "all_people": people, "g1": g1, "g2": g2}


def approve_line(db, scene, text=LINE, approved_at=None):
    now = scene["now"]
    with db.conn:
        db.execute(
            "INSERT INTO agreed_line (incident_id, text, drafted_by, drafted_at, approved_by, approved_at) VALUES (?, ?, NULL, ?, NULL, ?)",
            [scene["id"], text, to_iso(now - timedelta(hours=2)), to_iso(approved_at or now - timedelta(hours=1))],
        )


def personal_data(db, incident_id):
    return [
        v
        for r in db.query("SELECT name, phone, id_number FROM complainant WHERE incident_id = ?", [incident_id])
        for v in (r["name"], r["phone"], r["id_number"])
        if v
    ]


def report(db, scene, **kwargs):
    args = dict(signing_officer="周国强", contact_person="吴敏", contact_phone="010-88886666")
    args.update(kwargs)
    return documents.regulator_report(db, scene["id"], scene["now"], SETTINGS, **args)


# --- the regulator's report ----------------------------------------------------------------------


def sql_by(db, incident_id, key_sql):
    return {
        r["k"]: (r["n"], r["p"])
        for r in db.query(
            f"SELECT {key_sql} AS k, count(*) AS n, sum(principal_fen) AS p FROM complainant c "
            "LEFT JOIN complainant_group g ON g.id = c.group_id JOIN province ON province.code = c.province_code "
            "WHERE c.incident_id = ? GROUP BY 1",
            [incident_id],
        )
    }


def section(text, start, end):
    begin = text.index(start)
    return text[begin : text.index(end, begin + len(start))]


def assert_rows(part, expected):
    """Each label's table row starts with its count and principal."""
    for label, (count, principal) in expected.items():
        pattern = rf"^\s*{re.escape(label)}\s+{count}\s+{re.escape(yuan(principal))}\s"
        assert re.search(pattern, part, re.M), f"no row {label} {count} {yuan(principal)} in:\n{part}"


def test_the_regulator_report_states_every_item_the_rules_ask_for(db, scene, tmp_path):
    content = report(db, scene)
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path, layout=True)
    compact = flat(text)
    assert f"关于{TITLE}的报告" in compact
    incident_id = scene["id"]

    by_group = sql_by(db, incident_id, "coalesce(g.name, '未分组')")
    by_region = sql_by(db, incident_id, "province.name_zh")
    by_status = {vocabulary.zh(vocabulary.FORMAL_COMPLAINANT_STATUSES, k): v for k, v in sql_by(db, incident_id, "c.status").items()}
    assert set(by_group) == {"河北邮政分红险2019", "广东银保渠道", "未分组"}
    assert set(by_region) == {"河北省", "广东省"}
    assert len(by_status) == 3
    assert_rows(section(text, "（一）按客户分组", "（二）按地区"), by_group)
    assert_rows(section(text, "（二）按地区", "（三）按处理状态"), by_region)
    assert_rows(section(text, "（三）按处理状态", "四、维稳情况"), by_status)

    count, principal, interest, expenses = db.execute(
        "SELECT count(*), sum(principal_fen), sum(interest_claimed_fen), sum(expenses_claimed_fen) FROM complainant WHERE incident_id = ?", [incident_id]
    ).fetchone()
    assert principal == 39_200_116  # the fixture's and the test's amounts, in fen
    assert f"共涉及客户{count}人，涉及本金{yuan(principal)}元，主张利息{yuan(interest)}元，主张费用{yuan(expenses)}元" in compact
    assert re.search(rf"^\s*合计\s+{count}\s+{re.escape(yuan(principal))}\s", section(text, "（一）按客户分组", "（二）按地区"), re.M)

    # where and when, nature and level
    for words in ("事件起因：misselling", "涉及产品：分红险", "石家庄中山路网点", "广州天河网点", "严重（违规或造成资金损失）", "是否已构成群体性事件：是"):
        assert words in compact, words
    # stability and trend: people on site per branch, the last 24 h against the 24 h before
    assert "现场共16人" in compact
    assert re.search(r"石家庄中山路网点.*\s12\s+紧张\s+有", text)
    assert "近24小时新增5人，此前24小时新增2人，趋势上升" in compact
    # measures taken (done, with completion time) and planned (open, with due time; overdue marked)
    measures = flat(section(text, "五、已采取的措施", "六、下一步工作安排"))
    assert "电话报告属地监管局" in measures and "通报属地派出所" in measures and "开放接待室" in measures
    assert "起草统一口径" not in measures
    planned = flat(section(text, "六、下一步工作安排", "七、需要协调解决的事项"))
    assert "起草统一口径并送法务审核" in planned and "（已逾期）" in planned and "向消协提交情况通报材料" in planned
    # help needed: the latest branch updates' needs
    needed = flat(section(text, "七、需要协调解决的事项", "八、报送信息"))
    assert NEEDS_HEBEI in needed and NEEDS_GUANGDONG in needed
    # reporting unit, signing officer, contact person and phone
    for words in ("报送单位某某人寿保险股份有限公司", "签发人周国强", "联系人吴敏", "联系电话010-88886666", "报告类型首报"):
        assert words in compact, words
    for value in personal_data(db, incident_id):
        assert value not in compact, value


def test_the_report_renders_chinese_with_the_embedded_font(db, scene, tmp_path):
    content = report(db, scene)
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    font_lines = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert font_lines and all(" yes " in line for line in font_lines), fonts  # embedded (subset)
    subprocess.run(["pdftoppm", "-png", "-r", "110", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages, "pdftoppm made no page"
    assert pages[0].stat().st_size > 20_000
    screenshots = ROOT / "screenshots"
    screenshots.mkdir(exist_ok=True)
    shutil.copyfile(pages[0], screenshots / "regulator-report.png")


def test_the_report_needs_its_signatures_and_counts_earlier_reports(db, scene, accounts, tmp_path):
    with pytest.raises(Invalid) as refused:
        report(db, scene, signing_officer=" ")
    assert "signing_officer" in refused.value.message
    first = report(db, scene)
    assert first == report(db, scene)  # the same data gives the same bytes
    documents.store_issued(
        db,
        scene["id"],
        "regulator_report",
        f"关于{TITLE}的报告",
        "河北监管局",
        "report.pdf",
        "application/pdf",
        first,
        accounts["lead"],
        scene["now"],
        tmp_path / "issued",
    )
    later = {**scene, "now": scene["now"] + timedelta(hours=1)}
    assert "报告类型续报（第2报）" in flat(pdf_text(report(db, later), tmp_path, layout=True))


def test_a_missing_font_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(documents.pdf, "FONT_PATHS", ("/nonexistent/wqy-microhei.ttc",))
    with pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        documents.font_path()


# --- the consumer association's packet -----------------------------------------------------------


def test_the_consumer_association_packet_holds_the_pdf_and_the_counts(db, scene, tmp_path):
    content = documents.consumer_association_packet(db, scene["id"], scene["now"], SETTINGS, "吴敏", "010-88886666")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == ["counts.csv", "packet.pdf"]
        pdf = archive.read("packet.pdf")
        raw_csv = archive.read("counts.csv")
    assert raw_csv.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert rows[0] == ["客户分组", "省份", "处理状态", "人数", "本金（元）"]
    expected = {
        (r["g"], r["p"], vocabulary.zh(vocabulary.FORMAL_COMPLAINANT_STATUSES, r["s"])): [str(r["n"]), f"{r['fen'] // 100}.{r['fen'] % 100:02d}"]
        for r in db.query(
            "SELECT coalesce(g.name, '未分组') AS g, province.name_zh AS p, c.status AS s, count(*) AS n, sum(c.principal_fen) AS fen "
            "FROM complainant c LEFT JOIN complainant_group g ON g.id = c.group_id JOIN province ON province.code = c.province_code "
            "WHERE c.incident_id = ? GROUP BY 1, 2, 3",
            [scene["id"]],
        )
    }
    assert {tuple(r[:3]): r[3:] for r in rows[1:]} == expected
    assert len(rows) - 1 == len(expected)

    text = flat(pdf_text(pdf, tmp_path, layout=True))
    assert f"关于{TITLE}的情况通报" in text
    for words in (
        "涉及产品：分红险",
        "本金+利息",
        "逐一协商",
        "（方案制定中）",
        "事件登记",
        "认定为群体性事件",
        "状态由“应急处置中”变为“已解除应急状态”；原因：现场已平稳",
        "联系人吴敏",
        "联系电话010-88886666",
    ):
        assert words in text, words
    for value in personal_data(db, scene["id"]):
        assert value not in text and value not in raw_csv.decode("utf-8-sig"), value


# --- the media statement -------------------------------------------------------------------------


def test_the_media_statement_needs_a_line_approved_by_legal(db, scene, tmp_path):
    with pytest.raises(Invalid, match="approved agreed line"):
        documents.media_statement(db, scene["id"], scene["now"], SETTINGS)  # only an unapproved draft so far
    approve_line(db, scene, text="较早批准的口径", approved_at=scene["now"] - timedelta(hours=3))
    approve_line(db, scene)
    content = documents.media_statement(db, scene["id"], scene["now"], SETTINGS)
    text = flat(pdf_text(content, tmp_path, layout=True))
    assert LINE in text
    assert "较早批准的口径" not in text and "草稿" not in text
    assert "某某人寿保险股份有限公司" in text
    assert not re.search(r"\d", text.replace(LINE, ""))  # no figures of its own
    for value in personal_data(db, scene["id"]):
        assert value not in text


# --- the post-incident review --------------------------------------------------------------------


def test_the_review_has_the_timeline_medians_and_tasks(db, scene, accounts, tmp_path):
    hour = 3600
    # first contact 2 h and 4 h after receipt in Hebei's group (median 3.0 h), 1 h in Guangdong's;
    # settled after 3 days in Hebei
    offsets = {scene["ids"][0]: (2, 72), scene["ids"][1]: (4, None), scene["ids"][2]: (1, None)}
    with db.conn:
        for complainant_id, (contact_h, settle_h) in offsets.items():
            received = from_iso(db.execute("SELECT received_at FROM complainant WHERE id = ?", [complainant_id]).fetchone()[0])
            db.execute(
                "UPDATE complainant SET first_contact_at = ?, settled_at = ? WHERE id = ?",
                [
                    to_iso(received + timedelta(seconds=contact_h * hour)),
                    to_iso(received + timedelta(seconds=settle_h * hour)) if settle_h else None,
                    complainant_id,
                ],
            )
    documents.store_issued(
        db,
        scene["id"],
        "regulator_report",
        "关于事件的首次报告",
        "河北监管局",
        "report.pdf",
        "application/pdf",
        b"%PDF-1.4 test",
        accounts["lead"],
        scene["now"] - timedelta(hours=1),
        tmp_path / "issued",
    )
    change = "群体性事件认定后应在30分钟内电话报告监管，预案中应增加属地公安联络人。"
    content = documents.incident_review(db, scene["id"], scene["now"], SETTINGS, change)
    text = pdf_text(content, tmp_path, layout=True)
    compact = flat(text)
    assert f"关于{TITLE}的事后复盘报告" in compact
    timeline = flat(section(text, "二、完整时间线", "三、响应速度"))
    for words in (
        "事件登记",
        "认定为群体性事件",
        "完成任务：电话报告属地监管局",
        "向监管机构（河北监管局消保处）报送：电话报告事件概况",
        "监管机构（河北监管局消保处）确认收到，确认人：王科长",
        "出具监管报告：关于事件的首次报告（送河北监管局）",
        "原因：现场已平稳",
    ):
        assert words in timeline, words
    speed = section(text, "（一）按客户分组", "（二）按地区")
    assert re.search(r"河北邮政分红险2019\s+4\s+2\s+3\.0 小时\s+1\s+3\.0 天", speed), speed
    assert re.search(r"广东银保渠道\s+2\s+1\s+1\.0 小时\s+0\s+—", speed), speed
    region = section(text, "（二）按地区", "四、任务完成情况")
    contact_hebei = statistics.median([2, 4])
    assert re.search(rf"河北省\s+4\s+2\s+{contact_hebei:.1f} 小时", region), region
    tasks = flat(section(text, "四、任务完成情况", "五、应急预案修订建议"))
    # the scene's four tasks plus any the playbook made on activation, counted here by SQL
    ((total, on_time, late, overdue, not_due),) = db.execute(
        "SELECT count(*), sum(status = 'done' AND completed_at <= due_at), sum(status = 'done' AND completed_at > due_at), "
        "sum(status = 'open' AND due_at < ?), sum(status = 'open' AND due_at >= ?) FROM task WHERE incident_id = ?",
        [to_iso(scene["now"]), to_iso(scene["now"]), scene["id"]],
    ).fetchall()
    assert on_time >= 1 and late >= 1 and overdue >= 1 and not_due >= 1
    assert f"共{total}项任务：按时完成{on_time}项，逾期完成{late}项" in tasks
    assert f"仍未完成且已过期限{overdue}项，未到期限{not_due}项" in tasks
    assert "通报属地派出所" in tasks and "起草统一口径并送法务审核" in tasks
    assert flat(change) in compact
    for value in personal_data(db, scene["id"]):
        assert value not in compact, value
    unwritten = flat(pdf_text(documents.incident_review(db, scene["id"], scene["now"], SETTINGS, "  "), tmp_path, layout=True))
    assert "五、应急预案修订建议（应急处置负责人尚未填写）" in unwritten


# --- speed ---------------------------------------------------------------------------------------


def test_each_document_builds_in_under_two_seconds_with_thousands_of_complainants(api, db, scene):
    bulk = [
        {
            "name": f"客户{i}",
            "phone": f"139{i:08d}",
            "province_code": ("130000", "440000", "110000")[i % 3],
            "group_id": (scene["g1"], scene["g2"], None)[i % 3],
            "principal": str(1000 + i),
        }
        for i in range(5000)
    ]
    assert api("lead", "POST", f"/api/v1/incidents/{scene['id']}/complainants", json=bulk).status_code == 201
    approve_line(db, scene)
    builds = {
        "regulator_report": lambda: report(db, scene),
        "packet": lambda: documents.consumer_association_packet(db, scene["id"], scene["now"], SETTINGS, "吴敏", "010-88886666"),
        "media_statement": lambda: documents.media_statement(db, scene["id"], scene["now"], SETTINGS),
        "review": lambda: documents.incident_review(db, scene["id"], scene["now"], SETTINGS, "无"),
    }
    for name, build in builds.items():
        started = time.perf_counter()
        build()
        took = time.perf_counter() - started
        assert took < 2, f"{name} took {took:.2f} s"


# --- issued documents are kept as issued ---------------------------------------------------------


def test_store_issued_keeps_a_read_only_file_named_by_its_hash(db, scene, accounts, tmp_path):
    content = report(db, scene)
    folder = tmp_path / "issued" / "2026"
    document_id = documents.store_issued(
        db,
        scene["id"],
        "regulator_report",
        f"关于{TITLE}的报告",
        "河北监管局",
        "report.pdf",
        "application/pdf",
        content,
        accounts["lead"],
        scene["now"],
        folder,
    )
    digest = hashlib.sha256(content).hexdigest()
    path = folder / f"{digest}-report.pdf"
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    [row] = [dict(r) for r in db.query("SELECT * FROM issued_document WHERE id = ?", [document_id])]
    assert row["sha256"] == digest and row["size"] == len(content)
    assert row["stored_path"] == path.name and row["filename"] == "report.pdf" and row["issued_by"] == accounts["lead"]
    assert row["issued_at"] == to_iso(scene["now"])
    read_row, read_content = documents.read_issued(db, document_id, folder)
    assert read_content == content and read_row["id"] == document_id

    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        db.execute("UPDATE issued_document SET recipient = '别处' WHERE id = ?", [document_id])
    with pytest.raises(sqlite3.DatabaseError, match="cannot be removed"):
        db.execute("DELETE FROM issued_document WHERE id = ?", [document_id])
    db.conn.rollback()
    assert db.execute("SELECT recipient FROM issued_document WHERE id = ?", [document_id]).fetchone()[0] == "河北监管局"

    with pytest.raises(Invalid):
        documents.store_issued(db, scene["id"], "review", "x", "y", "../escape.pdf", "application/pdf", b"x", None, scene["now"], folder)


def test_read_issued_detects_a_changed_file(db, scene, accounts, tmp_path):
    folder = tmp_path / "issued"
    content = documents.consumer_association_packet(db, scene["id"], scene["now"], SETTINGS, "吴敏", "010-88886666")
    document_id = documents.store_issued(
        db,
        scene["id"],
        "consumer_association_packet",
        "情况通报",
        "河北省消费者协会",
        "packet.zip",
        "application/zip",
        content,
        accounts["team"],
        scene["now"],
        folder,
    )
    path = folder / db.execute("SELECT stored_path FROM issued_document WHERE id = ?", [document_id]).fetchone()[0]
    os.chmod(path, 0o644)
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    with pytest.raises(documents.DocumentIntegrityError, match="sha256 mismatch") as caught:
        documents.read_issued(db, document_id, folder)
    assert hashlib.sha256(content).hexdigest() in caught.value.message
    path.unlink()
    with pytest.raises(documents.DocumentIntegrityError, match="missing"):
        documents.read_issued(db, document_id, folder)
