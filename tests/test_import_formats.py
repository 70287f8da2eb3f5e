"""Imports people can make from Excel: a template listing the allowed values,
XLSX files, and Excel's usual date formats."""

import io
from datetime import datetime, timezone

import openpyxl
import pytest

from console import csv_import
from console.import_formats import parse_time


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026/11/30 8:10", "2026-11-30T00:10:00+00:00"),
        ("2026/11/30 08:10:05", "2026-11-30T00:10:05+00:00"),
        ("2026/11/30", "2026-11-29T16:00:00+00:00"),
        ("2026-11-30 8:10", "2026-11-30T00:10:00+00:00"),
        ("2026.11.30 8:10", "2026-11-30T00:10:00+00:00"),
        ("2026年11月30日 8:10", "2026-11-30T00:10:00+00:00"),
        ("2026-11-30T08:10:00+08:00", "2026-11-30T00:10:00+00:00"),
    ],
)
def test_excel_dates_are_read_in_the_console_zone(text, expected):
    assert parse_time(text, "Asia/Shanghai").astimezone(timezone.utc).isoformat() == expected


@pytest.mark.parametrize("text", ["30/11/2026", "2026/13/01 8:10", "明天", "2026/11/30 25:00"])
def test_what_is_no_date_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text, "Asia/Shanghai")


def test_the_templates_list_the_columns_and_the_allowed_values(login, incident):
    lead = login("lead")
    page = lead.get(f"/incidents/{incident['id']}/import").get_data(as_text=True)
    assert f"/incidents/{incident['id']}/import/template.xlsx" in page and "2026/11/30 8:10" in page
    csv_file = lead.get(f"/incidents/{incident['id']}/import/template.csv")
    assert csv_file.status_code == 200
    header = csv_file.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == csv_import.COLUMNS
    book = openpyxl.load_workbook(io.BytesIO(lead.get(f"/incidents/{incident['id']}/import/template.xlsx").data))
    first, allowed = book.worksheets
    assert [c.value for c in first[1]] == csv_import.COLUMNS
    values = {(r[0], r[1]) for r in allowed.iter_rows(min_row=2, values_only=True)}
    assert {("severity", "severe"), ("flags", "vulnerable"), ("temperament", "rational"), ("province_code", "130000"), ("branch_code", "HB-SJZ-01")} <= values
    assert login("executive").get(f"/incidents/{incident['id']}/import/template.csv").status_code == 403


def _xlsx(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_imports_with_its_dates_and_number_cells(app, db, login, incident):
    content = _xlsx(
        [
            ["name", "phone", "province_code", "received_at", "principal", "severity"],
            ["王海燕", 13900002222, 130000, datetime(2026, 11, 22, 8, 10), 30000, "light"],
            ["周立新", "13700003333", "130000", "2026/11/22 9:05", "12,000.50", ""],
        ]
    )
    lead = login("lead")
    checked = lead.post(f"/incidents/{incident['id']}/import", data={"file": (io.BytesIO(content), "名单.xlsx")}, content_type="multipart/form-data")
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200, page
    token = page.split(f"/incidents/{incident['id']}/import/")[1][:32]
    done = lead.post(f"/incidents/{incident['id']}/import/{token}")
    assert done.status_code == 302
    rows = {
        r["name"]: dict(r) for r in db.query("SELECT name, phone, received_at, principal_fen, severity FROM complainant WHERE name IN ('王海燕', '周立新')")
    }
    assert rows["王海燕"]["phone"] == "13900002222" and rows["王海燕"]["received_at"].startswith("2026-11-22T00:10")
    assert rows["王海燕"]["principal_fen"] == 3_000_000 and rows["王海燕"]["severity"] == "light"
    assert rows["周立新"]["received_at"].startswith("2026-11-22T01:05") and rows["周立新"]["principal_fen"] == 1_200_050


def test_a_file_that_is_no_workbook_is_refused_with_a_message(login, incident):
    checked = login("lead").post(
        f"/incidents/{incident['id']}/import", data={"file": (io.BytesIO(b"PK\x03\x04not a zip"), "x.xlsx")}, content_type="multipart/form-data"
    )
    assert checked.status_code == 422
    assert "not an Excel workbook" in checked.get_data(as_text=True)
