"""CSV import of complainants: read, check every row, then write all or nothing.

Columns (header row required, order free): name, phone, id_number,
province_code, city_code, branch_code, group (a group name of the incident),
temperament, motive, flags (separated by ';'), principal, interest_claimed,
expenses_claimed, demands, received_at, next_contact_due_at, severity (light,
medium or severe; empty: the incident's), channel (hotline, outlet,
account_manager, website, regulator_transfer, consumer_association, media,
court, petition), reference, transferring_body, transfer_reference,
reply_due_at. A row whose ID or phone number matches a complainant of the
incident (or an earlier row) becomes another complaint of that person.
Times without a
zone are read in the console's zone. UTF-8 (with or without BOM) or GB18030,
as Excel writes it in China.
"""

from flask_babel import gettext as _
from pydantic import ValidationError

from . import money
from .complainants import References, create_complainants
from .complaints import arrival_problems
from .errors import Invalid, pydantic_details
from .import_formats import csv_records, parse_time
from .schemas import ComplainantIn

COLUMNS = [
    "name",
    "phone",
    "id_number",
    "province_code",
    "city_code",
    "branch_code",
    "group",
    "temperament",
    "motive",
    "flags",
    "principal",
    "interest_claimed",
    "expenses_claimed",
    "demands",
    "received_at",
    "next_contact_due_at",
    "severity",
    "channel",
    "reference",
    "transferring_body",
    "transfer_reference",
    "reply_due_at",
]
REQUIRED = {"name", "phone", "province_code"}
TIME_COLUMNS = {"received_at", "next_contact_due_at", "reply_due_at"}


def check(db, incident_id, text, viewer, timezone, max_rows):
    """Check every row. Returns a report: {columns, rows: [{line, values, problems}], items, ok}.

    ``items`` are the validated ComplainantIn of all rows, for ``commit``.
    """
    header, records = csv_records(text, COLUMNS, REQUIRED, max_rows)
    group_ids = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM complainant_group WHERE incident_id = ?", [incident_id])}
    refs = References(db, incident_id)
    rows, items = [], []
    for number, values, problems in records:
        if problems:
            rows.append({"line": number, "values": values, "problems": problems})
            continue
        data = {}
        for column, value in values.items():
            if value == "":
                continue
            if column == "group":
                if value in group_ids:
                    data["group_id"] = group_ids[value]
                else:
                    problems.append({"field": "group", "message": _("no group named '%(name)s' in this incident", name=value)})
            elif column == "flags":
                data["flags"] = [f.strip() for f in value.replace("|", ";").split(";") if f.strip()]
            elif column in TIME_COLUMNS:
                try:
                    data[column] = parse_time(value, timezone).isoformat()
                except ValueError:
                    problems.append({"field": column, "message": _("is not a date and time (use 2026-11-23 18:00 or 2026/11/23 18:00)")})
            elif column in ("principal", "interest_claimed", "expenses_claimed"):
                data[column] = money.clean_text(value)
            else:
                data[column] = value
        item = None
        try:
            item = ComplainantIn.model_validate(data)
        except ValidationError as exc:
            problems += pydantic_details(exc)
        if item is not None:
            problems += refs.problems(item.model_dump(), viewer, "")
            if item.channel or item.transfer_reference or item.reply_due_at:
                problems += arrival_problems(item.channel, item.transfer_reference, item.reply_due_at, item.received_at)
        rows.append({"line": number, "values": values, "problems": problems})
        items.append(item)
    ok = all(not r["problems"] for r in rows)
    return {"columns": header, "rows": rows, "items": items if ok else [], "ok": ok, "bad": sum(1 for r in rows if r["problems"])}


def commit(db, incident_id, report, caller, settings, outbox=None):
    """Write the rows of a clean report in one transaction; refuses a report with any bad row."""
    if not report["ok"]:
        raise Invalid(_("Nothing was imported: %(n)s row(s) have problems.", n=report["bad"]))
    return create_complainants(db, incident_id, report["items"], caller, settings, outbox)
