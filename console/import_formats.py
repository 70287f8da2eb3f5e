"""What people bring to the complainant import: Excel's files and Excel's dates.

- An XLSX file is read (its first sheet) into the same table a CSV gives, so
  one check applies to both; dates Excel stores as dates come out as
  'YYYY-MM-DD HH:MM', whole numbers (a phone number typed into a number cell)
  without a trailing '.0'.
- Times are accepted as Excel shows them in China: '2026/11/30 8:10',
  '2026/11/30', '2026-11-30 08:10:00', '2026年11月30日 8:10', besides ISO-8601.
- The template to fill: the header row and an example row, and (XLSX) the
  allowed values of each coded column on a second sheet.
"""

import csv
import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from . import regions, spreadsheets, tabular, vocabulary
from .errors import Invalid

_EXCEL_TIME = re.compile(
    r"^\s*(\d{4})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?)?\s*$"
)


def parse_time(text, tz_name):
    """A time as people type it or Excel writes it, in ``tz_name`` when it names no zone.
    Raises ValueError when it is none of the forms above."""
    text = text.strip()
    match = _EXCEL_TIME.match(text)
    if match:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
        moment = datetime(y, mo, d, h, mi, s)
    else:
        moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz_name))
    return moment


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv_text(raw):
    """The first sheet of an XLSX file as CSV text (for csv_import.check). Invalid if it is no XLSX."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # a zip that is not a workbook, a damaged file: openpyxl raises many kinds
        raise Invalid(_("The file is not an Excel workbook (.xlsx) the console can read.")) from None
    sheet = book.worksheets[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in sheet.iter_rows(values_only=True):
        cells = [_text(v).strip() for v in row]
        if any(cells):
            writer.writerow(cells)
    book.close()
    return out.getvalue()


def is_xlsx(filename, raw):
    return (filename or "").lower().endswith(".xlsx") or raw[:4] == b"PK\x03\x04"


def upload_text(filename, raw):
    """An uploaded import file as CSV text: the first sheet of an XLSX, or CSV decoded (UTF-8, then GB18030)."""
    return xlsx_to_csv_text(raw) if is_xlsx(filename, raw) else tabular.decode(raw)


def csv_records(text, columns, required, max_rows):
    """The CSV rows of an import file checked against its columns, shared by the
    complainant import (csv_import) and the intake import (intake_formats).

    Returns (header, records): records are (line, values, problems), with a
    problem for a row holding more cells than the header. Raises Invalid for
    an empty file, a wrong header, no rows or more than ``max_rows`` rows.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise Invalid(_("The file is empty."))
    tabular.check_header(header, columns, required)
    reader.fieldnames = header
    records = []
    for number, record in enumerate(reader, start=2):
        if number - 1 > max_rows:
            raise Invalid(_("The file has more than %(n)s rows; split it.", n=max_rows))
        values = {k: (v or "").strip() for k, v in record.items() if k is not None}
        problems = [{"field": "", "message": _("has more cells than the header")}] if None in record else []
        records.append((number, values, problems))
    if not records:
        raise Invalid(_("The file has a header but no rows."))
    return header, records


EXAMPLE = {
    "name": "张建国",
    "phone": "13900001111",
    "province_code": "130000",
    "city_code": "130100",
    "temperament": "rational",
    "motive": "solve_problem",
    "flags": "vulnerable",
    "principal": "50000",
    "demands": "退还本金并补偿利息",
    "received_at": "2026/11/30 8:10",
    "severity": "medium",
}


def allowed_values(db):
    """(column, value, meaning) of every coded column: what the import accepts."""
    rows = []
    for column, table in (
        ("temperament", vocabulary.TEMPERAMENTS),
        ("motive", vocabulary.MOTIVES),
        ("flags", vocabulary.RISK_FLAGS),
        ("severity", vocabulary.SEVERITIES),
    ):
        rows += [(column, key, str(label)) for key, label in table.items()]
    rows += [("province_code", code, name) for code, name in sorted(regions.province_names(db, "zh_CN").items())]
    rows += [("branch_code", b["code"], b["name"]) for b in regions.branches(db)]
    rows.append(("received_at", "2026/11/30 8:10", _("a date and time as Excel shows it, or 2026-11-30 08:10")))
    return rows


def template_csv(columns):
    return spreadsheets.to_csv(columns, [[EXAMPLE.get(c, "") for c in columns]])


def template_xlsx(db, columns):
    return spreadsheets.to_xlsx_book(
        [
            (_("Complainants"), columns, [[EXAMPLE.get(c, "") for c in columns]], [16] * len(columns), {}),
            (_("Allowed values"), [_("Column"), _("Value"), _("Meaning")], allowed_values(db), (18, 22, 40), {}),
        ]
    )
