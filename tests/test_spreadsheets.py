"""Issue 14: spreadsheet formula injection. Every CSV and XLSX the console
writes neutralises cells that begin with = + - @ tab or carriage return, and
XLSX text is written as text: no <f> element from anything a person typed."""

import csv
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from console import documents, rollups, spreadsheets
from console.audit import Actor
from console.clock import utcnow

from .conftest import settle_through_records

EVIL_NAME = '=HYPERLINK("http://x","click")'
EVIL_GROUP = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_TEXT = "+1-2 秩序可控"


def sheet_xml(content):
    """Every worksheet and the shared strings of an XLSX, as text (the raw XML: no library in between)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"]
        return "".join(archive.read(n).decode("utf-8") for n in names)


def assert_inert_xlsx(content, *texts):
    xml = sheet_xml(content)
    assert "<f>" not in xml and "<f " not in xml, re.findall(r"<f[ >].{0,80}", xml)
    values = [v for sheet in openpyxl.load_workbook(io.BytesIO(content)).worksheets for row in sheet.iter_rows(values_only=True) for v in row]  # every sheet
    for text in texts:
        assert "'" + text in values, (text, values)
        assert text not in values


def csv_cells(content):
    return [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]


def assert_inert_csv(content, *texts):
    cells = csv_cells(content)
    for text in texts:
        assert "'" + text in cells, (text, cells)
    assert not [c for c in cells if c.startswith(spreadsheets.FORMULA_STARTS) and not re.fullmatch(r"-\d+(\.\d+)?", c)], cells


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-x", "'-x"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        (None, ""),
        (-5, -5),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-0.5, -0.5),
        (True, True),
    ],
)
def test_the_one_rule_for_every_cell(value, expected):
    assert spreadsheets.cell(value) == expected


def test_computed_negative_numbers_stay_numbers_in_xlsx():
    content = spreadsheets.to_xlsx("t", ["a", "b"], [["-3", -3], [Decimal("-1.25"), "=A1"]])
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[1:] == [("'-3", -3), (-1.25, "'=A1")]
    assert "<f>" not in sheet_xml(content)


@pytest.fixture
def evil(api, incident):
    """A group with a formula for a name, and a branch contact's complainant named as a formula, settled."""
    group = api("lead", "POST", f"/api/v1/incidents/{incident['id']}/groups", json={"name": EVIL_GROUP, "handling_line": "本金+利息"})
    assert group.status_code == 201, group.json
    person = {
        "name": EVIL_NAME,
        "phone": "13811112222",
        "id_number": "130107198001011111",
        "province_code": "130000",
        "city_code": "130100",
        "branch_code": "HB-SJZ-01",
        "group_id": group.json["id"],
        "principal": "10000",
    }
    added = api("branch_hebei", "POST", f"/api/v1/incidents/{incident['id']}/complainants", json=[person])
    assert added.status_code == 201, added.json
    settle_through_records(api, added.json["ids"][0])
    return incident


def test_settlements_register_exports_hold_no_formula(evil, login):
    legal = login("legal")
    xlsx = legal.get(f"/incidents/{evil['id']}/settlements.xlsx")
    assert xlsx.status_code == 200
    assert_inert_xlsx(xlsx.data, EVIL_NAME, EVIL_GROUP)
    # the amounts the console computed are still numbers in the sheet
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    header = rows[0]
    assert isinstance(rows[1][header.index("total")], (int, float))
    assert_inert_csv(legal.get(f"/incidents/{evil['id']}/settlements.csv").data, EVIL_NAME, EVIL_GROUP)


def test_rollup_exports_hold_no_formula(evil, app, db, accounts, login):
    now = utcnow()
    actor = Actor(accounts["lead"], "lead", "test")
    with app.test_request_context():
        rollup_id = rollups.make(db, evil["id"], now, now, app.config, "lead", actor)
        rollups.edit_text(db, rollup_id, EVIL_TEXT, "=2*3", "-法务支持", actor, now)
    for username in ("lead", "executive"):
        client = login(username)
        xlsx = client.get(f"/rollups/{rollup_id}.xlsx")
        assert xlsx.status_code == 200
        assert_inert_xlsx(xlsx.data, EVIL_GROUP, EVIL_TEXT, "=2*3", "-法务支持")
        assert_inert_csv(client.get(f"/rollups/{rollup_id}.csv").data, EVIL_GROUP, EVIL_TEXT, "=2*3", "-法务支持")


def test_consumer_association_counts_csv_holds_no_formula(evil, db):
    content = documents.counts_csv(db, evil["id"])
    assert_inert_csv(content, EVIL_GROUP)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert all(re.fullmatch(r"-?\d+\.\d\d", r[4]) for r in rows[1:])  # the principal is still a plain number
