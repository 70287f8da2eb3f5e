"""CSV import through the HTML routes: upload and preview, then confirm.
A file with any bad row writes nothing."""

import html
import io
import json
import os
import re

import pytest

from .conftest import row_counts

HEADER = "name,phone,id_number,province_code,city_code,branch_code,group,flags,principal,demands,received_at"
GOOD_ROWS = [
    '赵淑兰,13611112222,130102195802021111,130000,130100,HB-SJZ-01,河北邮政分红险2019,vulnerable;repeat,"50,000.00",退还本金,2026-11-01 09:00',
    "钱志强,13633334444,,130000,130100,HB-SJZ-02,河北邮政分红险2019,,80000,,",
    "孙美玲,13655556666,440126198505053333,440000,440100,GD-GZ-01,广东银保渠道,journalist,120000.5,要求赔偿利息,",
]
TOKEN_URL = re.compile(r"/incidents/(\d+)/import/([0-9a-f]{32})")


def _csv(*rows, header=HEADER, newline="\r\n"):
    return newline.join([header, *rows]) + newline


def _upload(client, incident_id, raw, filename="complainants.csv"):
    return client.post(f"/incidents/{incident_id}/import", data={"file": (io.BytesIO(raw), filename)}, content_type="multipart/form-data")


def _page(response):
    return html.unescape(response.data.decode())


def _token(response):
    match = TOKEN_URL.search(response.data.decode())
    return match.group(2) if match else None


def _pending_files(app):
    folder = os.path.join(app.instance_path, "imports")
    return os.listdir(folder) if os.path.isdir(folder) else []


def _complainants(db, incident_id):
    return {r["name"]: dict(r) for r in db.query("SELECT * FROM complainant WHERE incident_id = ?", [incident_id])}


def _audited_creations(db):
    """Complainant ids the audit log records as created: one row each, or one row per call naming its ids."""
    ids = set()
    for row in db.query("SELECT row_id, after FROM audit_log WHERE table_name = 'complainant' AND action = 'create'"):
        after = json.loads(row["after"]) if row["after"] else {}
        if "count" in after and "ids" in after:
            first, last = after["ids"][0], after["ids"][-1]
            assert last - first + 1 == after["count"]
            ids.update(range(first, last + 1))
        else:
            ids.add(row["row_id"])
    return ids


def test_the_upload_page_lists_the_columns(login, incident):
    response = login("team").get(f"/incidents/{incident['id']}/import")
    assert response.status_code == 200
    page = _page(response)
    assert 'type="file"' in page and "name,phone,id_number,province_code" in page


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-8"])
def test_a_good_file_previews_every_row_then_imports_them(app, login, db, incident, encoding):
    raw = _csv(*GOOD_ROWS).encode(encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # really not UTF-8, so the fallback is exercised
    client = login("team")
    before = row_counts(db)
    preview = _upload(client, incident["id"], raw)
    assert preview.status_code == 200, _page(preview)[-1500:]
    page = _page(preview)
    assert "All 3 rows are valid." in page
    for name in ["赵淑兰", "钱志强", "孙美玲"]:
        assert name in page
    # the preview masks personal data too
    assert "136****2222" in page and "13611112222" not in page and "130102195802021111" not in page
    assert row_counts(db) == before, "the preview must not write"
    token = _token(preview)
    assert token
    assert len(_pending_files(app)) == 1

    confirmed = client.post(f"/incidents/{incident['id']}/import/{token}")
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith(f"/incidents/{incident['id']}/complainants")
    after = row_counts(db)
    assert after["complainant"] == before["complainant"] + 3
    people = _complainants(db, incident["id"])
    assert {p["id"] for p in people.values()} - {incident["hebei_outlet_1"], incident["hebei_outlet_2"], incident["guangdong"]} <= _audited_creations(db)
    g1, g2 = incident["groups"]
    zhao, qian, sun = people["赵淑兰"], people["钱志强"], people["孙美玲"]
    assert (zhao["group_id"], qian["group_id"], sun["group_id"]) == (g1, g1, g2)
    assert (zhao["province_code"], zhao["city_code"], zhao["branch_code"]) == ("130000", "130100", "HB-SJZ-01")
    assert zhao["phone"] == "13611112222" and zhao["id_number"] == "130102195802021111"
    assert qian["id_number"] is None
    assert zhao["principal_fen"] == 5_000_000 and sun["principal_fen"] == 12_000_050
    assert zhao["flags"] == '["vulnerable", "repeat"]'
    assert zhao["demands"] == "退还本金" and sun["demands"] == "要求赔偿利息"
    # a time without a zone is read in the console's zone (Asia/Shanghai, UTC+8)
    assert zhao["received_at"] == "2026-11-01T01:00:00+00:00"
    assert zhao["decision_due_at"] == "2026-11-16T16:00:00+00:00"  # the end of 16 November in Shanghai
    assert all(p["status"] == "new" for p in (zhao, qian, sun))
    assert _pending_files(app) == []


def test_confirming_twice_imports_once(login, db, incident):
    client = login("team")
    preview = _upload(client, incident["id"], _csv(*GOOD_ROWS).encode("utf-8-sig"))
    token = _token(preview)
    assert client.post(f"/incidents/{incident['id']}/import/{token}").status_code == 302
    after_first = row_counts(db)
    again = client.post(f"/incidents/{incident['id']}/import/{token}")
    assert again.status_code == 422
    assert "already" in _page(again)
    assert row_counts(db) == after_first
    assert len(_complainants(db, incident["id"])) == 3 + 3


def test_another_user_cannot_confirm_someone_elses_upload(login, db, incident):
    preview = _upload(login("team"), incident["id"], _csv(*GOOD_ROWS).encode())
    token = _token(preview)
    before = row_counts(db)
    response = login("lead").post(f"/incidents/{incident['id']}/import/{token}")
    assert response.status_code == 422
    assert row_counts(db) == before


def test_a_token_for_another_incident_imports_nothing_there(api, login, db, incident):
    other = api("lead", "POST", "/api/v1/incidents", json={"title": "另一事件", "cause": "c", "product": "p", "severity": "light"}).json["id"]
    client = login("team")
    token = _token(_upload(client, incident["id"], _csv(*GOOD_ROWS).encode()))
    before = row_counts(db)
    # the groups named in the file belong to the first incident, so the file does not fit the other one
    response = client.post(f"/incidents/{other}/import/{token}")
    assert response.status_code == 422
    assert row_counts(db) == before


@pytest.mark.parametrize(("token", "status"), [("0" * 32, 422), ("g" * 32, 404), ("ABC", 404)])  # well-formed but unknown; not a token at all
def test_unknown_or_malformed_token_writes_nothing(login, db, incident, token, status):
    before = row_counts(db)
    response = login("team").post(f"/incidents/{incident['id']}/import/{token}")
    assert response.status_code == status
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "bad_row,field,words",
    [
        ("周大福,12ab,,130000,,,,,,,", "phone", "must be a phone number"),
        ("周大福,13600000000,,990000,,,,,,,", "province_code", "not a province code"),
        ("周大福,13600000000,,130000,440100,,,,,,", "city_code", "not in province"),
        ("周大福,13600000000,,130000,,,没有这个组,,,,", "group", "no group named"),
        ("周大福,13600000000,,130000,,,,ceo,,,", "flags", "must be one of"),
        ("周大福,13600000000,,130000,,,,,abc,,", "principal", "valid"),
        ("周大福,13600000000,,130000,,,,,,,next tuesday", "received_at", "not a date and time"),
        (",13600000000,,130000,,,,,,,", "name", "is required"),
        ("周大福,13600000000,,130000,,,,,,,,extra", "", "more cells than the header"),
    ],
)
def test_one_bad_row_among_good_ones_writes_nothing_and_reports_it(app, login, db, incident, bad_row, field, words):
    raw = _csv(GOOD_ROWS[0], bad_row, GOOD_ROWS[1]).encode("utf-8-sig")
    before = row_counts(db)
    response = _upload(login("team"), incident["id"], raw)
    assert response.status_code == 422
    page = _page(response)
    assert "1 of 3 rows have problems. Nothing was imported." in page
    bad_rows = re.findall(r'<tr class="bad"><td>(\d+)</td>(.*?)</tr>', page, re.S)
    assert [line for line, _cells in bad_rows] == ["3"], "line 3 (the header is line 1) is the bad one"
    problems = re.findall(r"<div><code>([^<]*)</code> ([^<]*)</div>", bad_rows[0][1])
    assert any((f == field or f.startswith(field + ".")) and words in m for f, m in problems), problems
    # the good rows carry no problems
    assert len(re.findall(r"<div><code>", page)) == len(problems)
    assert _token(response) is None, "a bad file must offer no confirm"
    assert _pending_files(app) == []
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "text,words",
    [
        ("name,province_code\n张三,130000\n", ["missing columns: phone"]),
        ("name,phone,province_code,email\n张三,13600000000,130000,a@b.cn\n", ["unknown columns: email"]),
        ("姓名,电话,省份\n张三,13600000000,130000\n", ["missing columns: name, phone, province_code", "unknown columns: 姓名, 电话, 省份"]),
        ("", ["The file is empty"]),
        ("\ufeff", ["The file is empty"]),
        ("name,phone,province_code\n", ["no rows"]),
    ],
    ids=["missing-column", "unknown-column", "chinese-header", "empty", "bom-only", "header-only"],
)
def test_a_bad_file_gets_a_clear_error(app, login, db, incident, text, words):
    before = row_counts(db)
    response = _upload(login("team"), incident["id"], text.encode("utf-8"))
    assert response.status_code == 422
    page = _page(response)
    for w in words:
        assert w in page, page[-1500:]
    if "columns" in words[0]:
        assert "Expected columns: name, phone" in page
    assert _token(response) is None
    assert _pending_files(app) == []
    assert row_counts(db) == before


def test_a_file_that_is_not_text_is_refused(login, db, incident):
    before = row_counts(db)
    response = _upload(login("team"), incident["id"], "name,phone,province_code\n张三,13600000000,130000\n".encode("utf-16"))
    assert response.status_code == 422
    assert row_counts(db) == before


def test_no_file_chosen_is_400(login, db, incident):
    before = row_counts(db)
    response = login("team").post(f"/incidents/{incident['id']}/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV or Excel file" in _page(response)
    assert row_counts(db) == before


def test_branch_contact_importing_rows_outside_their_province_gets_per_row_errors(app, login, db, incident):
    rows = [
        "赵淑兰,13611112222,,130000,130100,HB-SJZ-01,,,,,",
        "孙美玲,13655556666,,440000,440100,GD-GZ-01,,,,,",
        "周大福,13677778888,,110000,,,,,,,",
    ]
    before = row_counts(db)
    response = _upload(login("branch_hebei"), incident["id"], _csv(*rows).encode("utf-8-sig"))
    assert response.status_code == 422
    page = _page(response)
    bad = dict(re.findall(r'<tr class="bad"><td>(\d+)</td>(.*?)</tr>', page, re.S))
    assert sorted(bad) == ["3", "4"]
    for line in ["3", "4"]:
        assert "<code>province_code</code> is outside your region" in bad[line]
    assert _token(response) is None
    assert row_counts(db) == before


def test_branch_contact_imports_rows_inside_their_province(login, db, incident):
    client = login("branch_hebei")
    preview = _upload(client, incident["id"], _csv(GOOD_ROWS[0], GOOD_ROWS[1]).encode("gb18030"))
    assert preview.status_code == 200
    before = row_counts(db)
    assert client.post(f"/incidents/{incident['id']}/import/{_token(preview)}").status_code == 302
    assert row_counts(db)["complainant"] == before["complainant"] + 2


def test_executive_and_legal_may_not_import(login, db, incident):
    before = row_counts(db)
    for username in ["executive", "legal"]:
        response = _upload(login(username), incident["id"], _csv(*GOOD_ROWS).encode())
        assert response.status_code == 403
    assert row_counts(db) == before


def test_more_rows_than_max_bulk_is_refused(app, login, db, incident):
    limit = app.config["MAX_BULK"]
    rows = [f"人{i},136{i:08d},,130000,,,,,,," for i in range(limit + 1)]
    before = row_counts(db)
    response = _upload(login("team"), incident["id"], _csv(*rows).encode())
    assert response.status_code == 422
    assert str(limit) in _page(response)
    assert _token(response) is None
    assert row_counts(db) == before
