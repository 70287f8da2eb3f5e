"""Issue 14: aggregates that identify nobody. The regulator report, which
executives may download, had one-person rows whose amounts were that person's
money. Now every amount shown to executives sums at least MIN_CELL_PEOPLE (3)
people; a smaller cell shows its count and "—", with a note. The copy issued
to the regulator is unchanged. Counts of people stay exact."""

import csv
import io
import re
import zipfile

import openpyxl
import pytest

from console import disclosure, documents, issuing, rollups
from console.audit import Actor
from console.clock import utcnow

from .test_documents import flat, pdf_text

# conftest's incident: 河北 2 people (50,000.00 + 80,000.50), 广东 1 person (120,000.00); all three 'new'
GUANGDONG_ONE = "120,000.00"  # one person's principal: must not reach an executive
HEBEI_TWO = "130,000.50"  # two people's principal
TOTAL_THREE = "250,000.50"  # three people: may be shown
NOTE = disclosure.NOTE_ZH.format(n=3)


@pytest.mark.parametrize(
    "counts, hidden",
    [
        ([10, 5], set()),
        ([10, 1, 5], {1, 2}),
        ([10, 1, 1, 7], {1, 2, 3}),
        ([2, 2], {0, 1}),
        ([3, 3, 3], set()),
        ([1], {0}),
    ],
)
def test_secondary_suppression(counts, hidden):
    assert disclosure.suppressed_rows(counts, 3) == hidden
    assert disclosure.suppressed_rows(counts, 0) == set()


def _issue(api, incident, kind):
    body = {"kind": kind, "recipient": "河北监管局", "signing_officer": "王明", "contact_person": "吴敏", "contact_phone": "010-88886666"}
    response = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/documents", json=body)
    assert response.status_code == 201, response.json
    return response.json["document_id"]


def test_regulator_report_executives_download_the_suppressed_rendering(api, db, app, incident, login, tmp_path):
    document_id = _issue(api, incident, "regulator_report")
    row, issued = documents.read_issued(db, document_id, app.config["DOCUMENT_FOLDER"])

    as_lead = login("lead").get(f"/documents/{document_id}")
    assert as_lead.status_code == 200 and as_lead.data == issued  # the copy issued, byte for byte
    lead_text = flat(pdf_text(as_lead.data, tmp_path))
    assert GUANGDONG_ONE in lead_text and HEBEI_TWO in lead_text

    as_exec = login("executive").get(f"/documents/{document_id}")
    assert as_exec.status_code == 200 and as_exec.data.startswith(b"%PDF") and as_exec.data != issued
    text = flat(pdf_text(as_exec.data, tmp_path))
    assert GUANGDONG_ONE not in text and HEBEI_TWO not in text and "80,000.50" not in text
    assert TOTAL_THREE in text  # three people: shown
    assert "—" in text and flat(NOTE) in text
    # counts stay exact: 广东 1 person, 河北 2, in the by-region table
    assert re.search(r"广东省1—", text) and re.search(r"河北省2—", text), text


def test_consumer_association_packet_for_executives(api, db, app, incident, login, tmp_path):
    document_id = _issue(api, incident, "consumer_association_packet")
    _row, issued = documents.read_issued(db, document_id, app.config["DOCUMENT_FOLDER"])
    assert login("lead").get(f"/documents/{document_id}").data == issued
    content = login("executive").get(f"/documents/{document_id}").data
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        pdf, counts = archive.read("packet.pdf"), archive.read("counts.csv")
    rows = list(csv.reader(io.StringIO(counts.decode("utf-8-sig"))))[1:]
    assert sorted((r[3], r[4]) for r in rows) == [("1", "—"), ("2", "—")]  # group x province x status: 2 and 1 people
    text = flat(pdf_text(pdf, tmp_path))
    assert GUANGDONG_ONE not in text and HEBEI_TWO not in text and flat(NOTE) in text
    # the issued packet kept its amounts
    with zipfile.ZipFile(io.BytesIO(issued)) as archive:
        issued_rows = list(csv.reader(io.StringIO(archive.read("counts.csv").decode("utf-8-sig"))))[1:]
    assert sorted(r[4] for r in issued_rows) == ["120000.00", "130000.50"]


def test_post_incident_review_for_executives(app, db, api, incident, accounts, login, tmp_path):
    # by status: 2 new (河北), 1 contacted (广东): both rows too small for executives
    assert api("lead", "PATCH", f"/api/v1/complainants/{incident['guangdong']}", json={"status": "contacted"}).status_code == 200
    with app.test_request_context():
        document_id = issuing.post_incident_review(db, incident["id"], "", Actor(accounts["lead"], "lead", "test"), utcnow(), app.config)
    lead_text = flat(pdf_text(login("lead").get(f"/documents/{document_id}").data, tmp_path))
    exec_text = flat(pdf_text(login("executive").get(f"/documents/{document_id}").data, tmp_path))
    assert GUANGDONG_ONE in lead_text and GUANGDONG_ONE not in exec_text and HEBEI_TWO not in exec_text
    assert TOTAL_THREE in exec_text and flat(NOTE) in exec_text


@pytest.fixture
def two_people(api):
    created = api("lead", "POST", "/api/v1/incidents", json={"title": "小额事件", "cause": "billing", "product": "话费", "severity": "light"})
    incident_id = created.json["id"]
    people = [
        {
            "name": "赵一",
            "phone": "13600001111",
            "id_number": "130107198001011111",
            "province_code": "130000",
            "city_code": "130100",
            "branch_code": "HB-SJZ-01",
            "principal": "7777.77",
        },
        {
            "name": "钱二",
            "phone": "13600002222",
            "id_number": "440104198001012222",
            "province_code": "440000",
            "city_code": "440100",
            "branch_code": "GD-GZ-01",
            "principal": "1111.11",
        },
    ]
    assert api("lead", "POST", f"/api/v1/incidents/{incident_id}/complainants", json=people).status_code == 201
    return incident_id


def test_rollup_over_two_people_shows_executives_no_amount(app, db, api, accounts, login, two_people, tmp_path):
    now = utcnow()
    actor = Actor(accounts["lead"], "lead", "test")
    with app.test_request_context():
        rollup_id = rollups.make(db, two_people, now, now, app.config, "lead", actor)
        rollups.edit_text(db, rollup_id, "钱二来电 13600002222", "", "", actor, now)

    lead = api("lead", "GET", f"/api/v1/rollups/{rollup_id}").json["content"]["amounts"]
    assert lead["principal_fen"] == 888888
    assert api("lead", "GET", f"/api/v1/rollups/{rollup_id}").json["amounts_suppressed_below"] is None
    executive = api("executive", "GET", f"/api/v1/rollups/{rollup_id}").json
    amounts = executive["content"]["amounts"]
    assert executive["amounts_suppressed_below"] == 3
    assert all(amounts[k] is None for k in ("claimed_fen", "principal_fen", "interest_claimed_fen", "expenses_claimed_fen"))
    assert executive["content"]["totals"]["complainants"] == 2  # counts stay exact
    assert executive["summary"] == "钱二来电 136****2222"  # and the lead's free text is masked for them

    client = login("executive")
    for kind in ("csv", "xlsx", "pdf"):
        response = client.get(f"/rollups/{rollup_id}.{kind}")
        assert response.status_code == 200, kind
        if kind == "csv":
            text = response.data.decode("utf-8-sig")
        elif kind == "xlsx":
            text = " ".join(
                str(v) for sheet in openpyxl.load_workbook(io.BytesIO(response.data)).worksheets for row in sheet.iter_rows(values_only=True) for v in row
            )  # every sheet
        else:
            text = pdf_text(response.data, tmp_path)
        assert "8888.88" not in text and "8,888.88" not in text and "7777.77" not in text, kind
        assert "—" in text and flat(NOTE) in flat(text), kind
    page = client.get(f"/rollups/{rollup_id}").get_data(as_text=True)
    assert "8888.88" not in page and NOTE in page and "13600002222" not in page
    # the lead's export keeps the figures
    assert "8888.88" in login("lead").get(f"/rollups/{rollup_id}.csv").data.decode("utf-8-sig")


def test_a_document_issued_before_renderings_were_kept_is_refused_to_executives(app, db, incident, login):
    document_id = documents.store_issued(
        db, incident["id"], "regulator_report", "旧报告", "监管局", "old.pdf", "application/pdf", b"%PDF-1.4 old", None, utcnow(), app.config["DOCUMENT_FOLDER"]
    )
    assert login("lead").get(f"/documents/{document_id}").data == b"%PDF-1.4 old"
    refused = login("executive").get(f"/documents/{document_id}")
    assert refused.status_code == 404 and b"%PDF" not in refused.data


def test_the_executives_rendering_masks_free_text_the_issued_copy_keeps(api, db, app, incident, login, tmp_path):
    posted = api(
        "branch_outlet",
        "POST",
        f"/api/v1/incidents/{incident['id']}/updates",
        json={"people_on_site": 3, "mood": "tense", "needs": "请总部回电客户 13812345678", "actions_taken": "已登记身份证130105195501011234"},
    )
    assert posted.status_code == 201, posted.json
    document_id = _issue(api, incident, "regulator_report")
    lead_text = flat(pdf_text(login("lead").get(f"/documents/{document_id}").data, tmp_path))
    exec_text = flat(pdf_text(login("executive").get(f"/documents/{document_id}").data, tmp_path))
    assert "13812345678" in lead_text and "130105195501011234" in lead_text
    assert "13812345678" not in exec_text and "130105195501011234" not in exec_text
    assert "138****5678" in exec_text and "130***********1234" in exec_text
