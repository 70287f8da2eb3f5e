"""The file to fill for the intake import (/complaints/import): ordinary complaints
from the hotline or another complaint system. The header row and an example row
(CSV and XLSX); the XLSX lists, on a second sheet, the values each coded column
accepts. Reading XLSX and Excel's dates is console/import_formats.py's, shared
with the complainant import."""

from flask_babel import gettext as _

from . import regions, schemas, spreadsheets, vocabulary

COLUMNS = list(schemas.ComplaintIn.model_fields)

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
