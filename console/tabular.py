"""Reading an uploaded table (CSV or XLSX) into a header and numbered rows,
and the report every bulk import shares.

Every import in the console (the organisation directory, users, the cause
catalogue, the complainant bulk update) goes the same way: read the file
whole, check every row, show a per-row report (the preview), and write all
rows in one transaction or none. A file-level problem (too large, not CSV or
XLSX, no header) raises before any row is read; a row-level problem is one
entry in that row's ``problems``.
"""

import csv
import io
import zipfile

from flask_babel import gettext as _

from .errors import CONTROL, Invalid
from .uploads import UnsupportedUpload, UploadTooLarge, max_upload_bytes, sniff


def decode(raw):
    """Text of an uploaded file: UTF-8 first, then GB18030 (what Excel writes in China)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid(_("The file is neither UTF-8 nor GB18030 text. Save it from Excel as 'CSV UTF-8'."))


def read_table(filename, content, max_rows=100000):
    """(header, rows) of a CSV or XLSX file; rows are (line number, list of cell texts).

    Refuses, naming the whole file: an empty file (422), one larger than
    MAX_UPLOAD_BYTES (413), one that is neither CSV text nor an XLSX
    workbook (415), one without a header row or with too many rows (422).
    """
    if not content:
        raise Invalid(_("The file is empty."))
    limit = max_upload_bytes()
    if len(content) > limit:
        raise UploadTooLarge(_("The file is too large: at most %(mb)s MB.", mb=round(limit / 1024 / 1024, 1)))
    kind = sniff(content)
    name = (filename or "").lower()
    if kind == "xlsx" and not name.endswith(".csv"):
        header, rows = _read_xlsx(content)
    elif kind == "text" or (kind is None and not content.startswith(b"PK")):
        header, rows = _read_csv(content)
    else:
        raise UnsupportedUpload(_("Send a CSV (UTF-8 or GB18030) or an Excel .xlsx file."))
    header = [h.strip().lstrip("\ufeff").lower() for h in header]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise Invalid(_("The file has no header row."))
    rows = [(line, cells) for line, cells in rows if any(c.strip() for c in cells)]
    if not rows:
        raise Invalid(_("The file has a header but no rows."))
    if len(rows) > max_rows:
        raise Invalid(_("The file has more than %(n)s rows; split it.", n=max_rows))
    return header, rows


def _read_csv(content):
    text = decode(content)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        rows = [(reader.line_num, [c.strip() for c in cells]) for cells in reader]
    except csv.Error as exc:
        raise Invalid(_("The CSV file cannot be read: %(problem)s.", problem=str(exc))) from None
    return header, rows


def _read_xlsx(content):
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnsupportedUpload(_("The Excel file cannot be read: %(problem)s.", problem=str(exc)[:200])) from None
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [_cell(c) for c in next(lines, ())]
        rows = []
        for number, cells in enumerate(lines, start=2):
            texts = [_cell(c) for c in cells]
            while texts and texts[-1] == "":
                texts.pop()
            rows.append((number, texts))
    finally:
        book.close()
    return header, rows


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def from_rows(columns, items):
    """(header, rows) from JSON rows (dicts): line N is the Nth row; a column no row sends is left out."""
    header = [c for c in columns if any(item.get(c) is not None for item in items)]

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, list):
            return ";".join(str(v) for v in value)
        return str(value).strip()

    return header, [(index + 1, [text(item.get(c)) for c in header]) for index, item in enumerate(items)]


def check_header(header, columns, required):
    """Refuse a header row with unknown columns or without a required one (Invalid, naming both)."""
    unknown = [h for h in header if h not in columns]
    missing = [c for c in columns if c in required and c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(_("missing columns: %(cols)s", cols=", ".join(missing)))
        if unknown:
            parts.append(_("unknown columns: %(cols)s", cols=", ".join(unknown)))
        raise Invalid(_("The header row is wrong (%(parts)s). Expected columns: %(cols)s.", parts="; ".join(parts), cols=", ".join(columns)))


def records(header, rows, columns, required):
    """Each row as {column: text}, with problems for a wrong header or extra cells.

    Returns (records, header problems): records are (line, values, problems).
    """
    check_header(header, columns, required)
    if len(set(header)) != len(header):
        raise Invalid(_("The header row names a column twice."))
    out = []
    for line, cells in rows:
        problems = []
        if len(cells) > len(header):
            problems.append({"field": "", "message": _("has more cells (%(n)s) than the header (%(m)s)", n=len(cells), m=len(header))})
        values = {column: (cells[i] if i < len(cells) else "") for i, column in enumerate(header)}
        for column, value in values.items():
            if CONTROL.search(value):
                problems.append({"field": column, "message": _("must not contain control characters (such as NUL)")})
        out.append((line, values, problems))
    return out


def report(rows):
    """The shared report: {rows: [{line, values, problems, action}], ok, bad, counts}."""
    bad = sum(1 for r in rows if r["problems"])
    counts = {}
    for r in rows:
        counts[r.get("action", "")] = counts.get(r.get("action", ""), 0) + 1
    return {"rows": rows, "ok": bad == 0, "bad": bad, "total": len(rows), "counts": counts}


def refuse(rep):
    """Invalid naming each bad row, for a report with problems."""
    details = [{"field": f"line {r['line']}" + (f".{p['field']}" if p["field"] else ""), "message": p["message"]} for r in rep["rows"] for p in r["problems"]]
    return Invalid(_("Nothing was imported: %(n)s row(s) have problems.", n=rep["bad"]), details=details)


def template_csv(columns, example_rows, allowed):
    """A CSV template: the header, example rows, and after a blank line the allowed values (as comments a person reads)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in example_rows:
        writer.writerow([row.get(c, "") for c in columns])
    return "\ufeff" + out.getvalue()


def template_xlsx(columns, example_rows, allowed):
    """An XLSX template: sheet 1 the header and examples, sheet 2 the allowed values per column."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "import"
    sheet.append(columns)
    for row in example_rows:
        sheet.append([str(row.get(c, "")) for c in columns])
    values = book.create_sheet("allowed")
    values.append([_("column"), _("allowed values")])
    for column, text in allowed:
        values.append([column, text])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
