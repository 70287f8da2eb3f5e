"""The file to fill for the intake import (/complaints/import): ordinary complaints
from the hotline or another complaint system. The header row and an example row
(CSV and XLSX); the XLSX lists, on a second sheet, the values each coded column
accepts. Reading XLSX and Excel's dates is console/import_formats.py's, shared
with the complainant import."""

from flask_babel import gettext as _
from pydantic import ValidationError

from . import regions, schemas, spreadsheets, vocabulary
from .errors import pydantic_details
from .import_formats import csv_records, parse_time

COLUMNS = list(schemas.ComplaintIn.model_fields)
REQUIRED = {c for c, f in schemas.ComplaintIn.model_fields.items() if f.is_required()}

EXAMPLE = {
    "source": "hotline-95511",
    "external_id": "HL-20261130-0001",
    "channel": "hotline",
    "product": "分红险",
    "cause_code": "misselling",
    "province_code": "130000",
    "city_code": "130100",
    "branch_code": "HB-SJZ-01",
    "customer_name": "张建国",
    "customer_phone": "13900001111",
    "text": "称购买时被告知是存款，要求退还本金",
    "received_at": "2026/11/30 8:10",
    "principal": "50000",
    "severity": "medium",
}


def allowed_values(db):
    """(column, value, meaning) of every coded column the intake import checks."""
    rows = [("cause_code", r["code"], r["name"]) for r in db.query("SELECT code, name FROM catalogue_entry WHERE kind = 'cause' ORDER BY code")]
    rows += [("severity", key, str(label)) for key, label in vocabulary.SEVERITIES.items()]
    rows += [("province_code", code, name) for code, name in sorted(regions.province_names(db, "zh_CN").items())]
    rows += [("branch_code", b["code"], b["name"]) for b in regions.branches(db)]
    rows.append(("received_at", "2026/11/30 8:10", _("a date and time as Excel shows it, or 2026-11-30 08:10")))
    rows += [("channel", key, str(label)) for key, label in vocabulary.COMPLAINT_CHANNELS.items()]
    if not any(r[0] == "cause_code" for r in rows):
        rows.insert(0, ("cause_code", "misselling", _("the cause as your complaint system codes it (the catalogue has none yet)")))
    return rows


def template_csv():
    return spreadsheets.to_csv(COLUMNS, [[EXAMPLE.get(c, "") for c in COLUMNS]])


def template_xlsx(db):
    return spreadsheets.to_xlsx_book(
        [
            (_("Complaints"), COLUMNS, [[EXAMPLE.get(c, "") for c in COLUMNS]], [16] * len(COLUMNS), {}),
            (_("Allowed values"), [_("Column"), _("Value"), _("Meaning")], allowed_values(db), (18, 22, 40), {}),
        ]
    )


def check(text, timezone, max_rows):
    """Check every row of an intake file (CSV text; see import_formats.upload_text).

    Returns the report {columns, rows: [{line, values, problems}], items, ok, bad};
    ``items`` are the validated ComplaintIn of all rows when every row is good.
    Raises Invalid for a file that cannot be read as a whole (header, no rows, too many).
    """
    header, records = csv_records(text, COLUMNS, REQUIRED, max_rows)
    rows, items = [], []
    for number, values, problems in records:
        item = None
        if not problems:  # a row with more cells than the header is not read further
            data = {k: v for k, v in values.items() if v != ""}
            if "received_at" in data:
                try:
                    data["received_at"] = parse_time(data["received_at"], timezone).isoformat()
                except ValueError:
                    problems.append({"field": "received_at", "message": _("is not a date and time (use 2026-11-23 18:00)")})
            try:
                item = schemas.ComplaintIn.model_validate(data)
            except ValidationError as exc:
                problems += pydantic_details(exc)
        rows.append({"line": number, "values": values, "problems": problems})
        items.append(item)
    ok = all(not r["problems"] for r in rows)
    return {"columns": header, "rows": rows, "items": items if ok else [], "ok": ok, "bad": sum(1 for r in rows if r["problems"])}
