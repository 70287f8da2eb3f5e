"""The intake import (/complaints/import) as people fill it: a template to
download (CSV, and XLSX listing the allowed values), an Excel file uploaded as
it is, and Excel's dates."""

import io
from datetime import datetime

import openpyxl

from console.intake_formats import COLUMNS


def test_the_intake_templates_list_the_columns_and_the_allowed_values(login, db):
    db.execute("INSERT INTO catalogue_entry (kind, code, name, updated_at) VALUES ('cause', 'zero_yield', '理财零收益', '2026-11-30T00:00:00+00:00')")
    db.conn.commit()
    team = login("team")
    page = team.get("/complaints/import").get_data(as_text=True)
    assert "/complaints/import/template.xlsx" in page and "/complaints/import/template.csv" in page
    csv_file = team.get("/complaints/import/template.csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["Content-Disposition"].endswith("complaints-template.csv")
    lines = csv_file.data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == COLUMNS
    book = openpyxl.load_workbook(io.BytesIO(team.get("/complaints/import/template.xlsx").data))
    first, allowed = book.worksheets
    assert [c.value for c in first[1]] == COLUMNS
    values = {(r[0], r[1]) for r in allowed.iter_rows(min_row=2, values_only=True)}
    assert {("cause_code", "zero_yield"), ("severity", "severe"), ("province_code", "130000"), ("branch_code", "HB-SJZ-01"), ("channel", "hotline")} <= values
    # the example row is itself a row the import takes
    sent = team.post("/complaints/import", data={"file": (io.BytesIO(csv_file.data), "template.csv")}, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM intake_complaint WHERE external_id = 'HL-20261130-0001'").fetchone()[0] == 1
    for who in ("executive", "branch_hebei"):
        assert login(who).get("/complaints/import/template.xlsx").status_code == 403


def _xlsx(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_of_complaints_is_received_with_its_dates_and_number_cells(db, login):
    content = _xlsx(
        [
            ["source", "external_id", "channel", "product", "cause_code", "province_code", "customer_name", "customer_phone", "received_at", "principal"],
            ["hotline-95511", "X-1", "hotline", "分红险", "misselling", 130000, "王海燕", 13900002222, datetime(2026, 11, 22, 8, 10), 30000],
            ["hotline-95511", "X-2", "counter", "分红险", "misselling", "130000", "周立新", "13700003333", "2026/11/22 9:05", ""],
        ]
    )
    sent = login("team").post("/complaints/import", data={"file": (io.BytesIO(content), "投诉.xlsx")}, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    rows = {r["external_id"]: dict(r) for r in db.query("SELECT * FROM intake_complaint WHERE external_id IN ('X-1', 'X-2')")}
    assert rows["X-1"]["customer_phone"] == "13900002222" and rows["X-1"]["province_code"] == "130000"
    assert rows["X-1"]["received_at"].startswith("2026-11-22T00:10")
    assert rows["X-2"]["received_at"].startswith("2026-11-22T01:05")


def test_a_bad_excel_file_or_row_is_refused_with_a_message_and_nothing_received(db, login):
    team = login("team")
    before = db["intake_complaint"].count
    broken = team.post(
        "/complaints/import",
        data={"file": (io.BytesIO(b"PK\x03\x04not a zip"), "x.xlsx")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "zh-CN"},
    )
    assert broken.status_code == 422
    assert "Excel" in broken.get_data(as_text=True) and "not an Excel workbook" not in broken.get_data(as_text=True)
    content = _xlsx(
        [
            ["channel", "product", "cause_code", "province_code", "customer_name", "customer_phone", "received_at"],
            ["hotline", "分红险", "misselling", "130000", "王海燕", "13900002222", "2026/11/22 8:10"],
            ["hotline", "分红险", "misselling", "130000", "周立新", "13700003333", "明天上午"],
        ]
    )
    bad = team.post("/complaints/import", data={"file": (io.BytesIO(content), "投诉.xlsx")}, content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "received_at" in bad.get_data(as_text=True)
    assert db["intake_complaint"].count == before


def test_the_intake_file_is_read_like_the_complainant_file(db, login):
    """One parser for both imports: a wrong header and a row with more cells than the
    header are refused the same way in each, with nothing received."""
    team = login("team")
    before = db["intake_complaint"].count
    wrong = team.post("/complaints/import", data={"file": (io.BytesIO("product,colour\n分红险,红\n".encode()), "x.csv")}, content_type="multipart/form-data")
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "missing columns" in page and "unknown columns: colour" in page
    header = "source,external_id,channel,product,cause_code,province_code,customer_name,customer_phone\n"
    extra = header + "hotline-95511,Y-1,hotline,分红险,misselling,130000,王海燕,13900002222,多出来的一格\n"
    sent = team.post("/complaints/import", data={"file": (io.BytesIO(extra.encode()), "x.csv")}, content_type="multipart/form-data")
    assert sent.status_code == 422
    assert "has more cells than the header" in sent.get_data(as_text=True)
    assert db["intake_complaint"].count == before
