"""Every CSV and XLSX the console writes goes through here, so no cell a
person typed can become a formula in the spreadsheet of whoever opens it
(CSV/formula injection: OWASP's rule).

- Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets a leading single quote (``'=HYPERLINK(...)``), in CSV and XLSX alike:
  a CSV opened in Excel, or an XLSX re-saved as CSV, stays inert.
- XLSX text cells are written as text (a shared string), never a formula:
  openpyxl would otherwise store any string starting with ``=`` as ``<f>``.
- Numbers (``int``, ``float``, ``Decimal``), dates and booleans are values the
  console computed: they stay numbers, negative ones included. A figure that
  arrives as text is text, and is neutralised like any other text.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_number(value):
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def cell(value):
    """``value`` as a spreadsheet cell may safely hold it."""
    if value is None:
        return ""
    if is_number(value) or isinstance(value, (bool, datetime, date)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def row(values):
    return [cell(v) for v in values]


def to_csv(header, rows, lineterminator="\r\n"):
    """CSV bytes with a byte-order mark, so Excel reads the Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(row(header))
    for values in rows:
        writer.writerow(row(values))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(title, header, rows, widths=()):
    """One sheet named ``title`` (at most 31 characters, as Excel allows); text
    cells are text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for values in [header, *rows]:
        sheet.append(row(values))
        for c in sheet[sheet.max_row]:
            if isinstance(c.value, str):
                c.data_type = "s"  # a string starting with '=' would otherwise be stored as a formula
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def to_xlsx_book(sheets):
    """Several sheets: ``[(title, header, rows, widths, number_formats), ...]``
    where ``number_formats`` maps a 1-based column to an Excel number format.
    Titles are cut to Excel's 31 characters and made unique; cells as in ``to_xlsx``."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    used = set()
    for title, header, rows, widths, formats in sheets:
        name = str(title).translate(SHEET_NAME_FORBIDDEN)[:31] or "Sheet"
        n = 2
        while name in used:
            suffix = f" {n}"
            name = name[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name)
        sheet = book.create_sheet(name)
        for values in [header, *rows]:
            sheet.append(row(values))
            for c in sheet[sheet.max_row]:
                if isinstance(c.value, str):
                    c.data_type = "s"  # a string starting with '=' would otherwise be stored as a formula
                elif c.row > 1 and c.column in formats and is_number(c.value):
                    c.number_format = formats[c.column]
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
