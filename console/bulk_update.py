"""Many complainants changed at once: from a CSV or XLSX file, or an API array.

Each row names one complainant of the incident, by its console ``id`` or by
the ``external_id`` (and optionally ``source``) of the intake complaint it
came from, and carries the fields to change: amounts claimed, group, flags,
contact details, temperament, motive, demands, severity (with the ``reason``
the change needs, audited). A ``version`` guards against
overwriting a change made since the sender read the record (409 for that
row). Every row goes through ``complainants.update_complainant``, so scope,
references, the audit log, versions and the boards' events are exactly those
of a single change; the whole batch is one transaction, all or nothing, with
a report naming each bad row.
"""

from flask_babel import gettext as _
from pydantic import ValidationError

from . import money, tabular
from .complainants import update_complainant
from .db import write
from .errors import ConsoleError, Invalid, pydantic_details
from .incidents import get_incident
from .schemas import ComplainantUpdate

KEY_COLUMNS = ["id", "external_id", "source", "version"]
FIELDS = [
    "name",
    "phone",
    "id_number",
    "group",
    "flags",
    "principal",
    "interest_claimed",
    "expenses_claimed",
    "temperament",
    "motive",
    "demands",
    "severity",
    "reason",
]
COLUMNS = KEY_COLUMNS + FIELDS


def _resolve(db, incident_id, key, add):
    """The complainant id a row names, or None (with a problem added)."""
    if key.get("id") is not None:
        row = db.execute("SELECT incident_id FROM complainant WHERE id = ?", [key["id"]]).fetchone()
        if row is None or row[0] != incident_id:
            add("id", _("no complainant %(id)s in this incident", id=key["id"]))
            return None
        return key["id"]
    if key.get("external_id"):
        params = [incident_id, key["external_id"]]
        sql = "SELECT complainant_id FROM intake_complaint WHERE incident_id = ? AND external_id = ? AND complainant_id IS NOT NULL"
        if key.get("source"):
            sql += " AND source = ?"
            params.append(key["source"])
        found = [r[0] for r in db.execute(sql, params).fetchall()]
        if not found:
            add("external_id", _("no complaint %(ref)s of this incident came in through intake", ref=key["external_id"]))
            return None
        if len(set(found)) > 1:
            add("source", _("%(ref)s came from more than one system: say which in 'source'", ref=key["external_id"]))
            return None
        return found[0]
    add("id", _("give the complainant's id or the intake's external_id"))
    return None


def apply(db, incident_id, rows, caller, outbox=None, *, settings):
    """Apply ``rows`` [(label, key dict, ComplainantUpdate or problems)] in one
    transaction. Returns the changed ids; raises Invalid naming every bad row."""
    problems = []
    ids = []
    with write(db):
        incident = get_incident(db, incident_id)
        if incident["status"] == "closed":
            raise Invalid(_("A closed incident's complainants are not changed in bulk."))
        seen = {}
        resolved = []
        for label, key, update in rows:
            local = []
            add = lambda field, message: local.append({"field": f"{label}.{field}" if label != "" else field, "message": message})  # noqa: E731
            if isinstance(update, list):  # problems found while reading the row
                local += [{"field": f"{label}.{p['field']}" if p["field"] else str(label), "message": p["message"]} for p in update]
                update = None
            complainant_id = _resolve(db, incident_id, key, add)
            if complainant_id is not None:
                if complainant_id in seen:
                    add("id", _("complainant %(id)s is changed twice in this batch (also %(other)s)", id=complainant_id, other=seen[complainant_id]))
                seen.setdefault(complainant_id, label)
            problems += local
            resolved.append((label, complainant_id, update, not local))
        for label, complainant_id, update, clean in resolved:
            if not clean or update is None:
                continue
            try:
                update_complainant(db, complainant_id, update, caller, outbox, settings=settings)
                ids.append(complainant_id)
            except ConsoleError as exc:
                details = exc.details or [{"field": "", "message": exc.message}]
                problems += [{"field": f"{label}.{d.get('field', '')}".rstrip("."), "message": d.get("message", exc.message)} for d in details]
                if exc.status == 409:
                    problems[-1]["message"] = exc.message
        if problems:
            raise Invalid(_("Nothing was changed: %(n)s problem(s) found.", n=len(problems)), details=problems)
    return ids


def _changes(db, incident_id, values):
    """A row's values as (key, ComplainantUpdate | problems)."""
    problems = []
    key = {}
    raw_id = values.get("id", "").strip()
    if raw_id:
        if raw_id.isdigit():
            key["id"] = int(raw_id)
        else:
            problems.append({"field": "id", "message": _("must be a whole number")})
    key["external_id"] = values.get("external_id", "").strip() or None
    key["source"] = values.get("source", "").strip() or None
    data = {}
    version = values.get("version", "").strip()
    if version:
        if version.isdigit():
            data["version"] = int(version)
        else:
            problems.append({"field": "version", "message": _("must be a whole number")})
    for column in FIELDS:
        value = values.get(column, "").strip()
        if value == "":
            continue  # an empty cell leaves the field as it is
        if column == "group":
            row = db.execute("SELECT id FROM complainant_group WHERE incident_id = ? AND name = ?", [incident_id, value]).fetchone()
            if row is None:
                problems.append({"field": "group", "message": _("no group named '%(name)s' in this incident", name=value)})
            else:
                data["group_id"] = row[0]
        elif column == "flags":
            data["flags"] = [] if value == "-" else [f.strip() for f in value.replace("|", ";").split(";") if f.strip()]
        elif column in ("principal", "interest_claimed", "expenses_claimed"):
            data[column] = money.clean_text(value)
        else:
            data[column] = value
    if problems:
        return key, problems
    try:
        return key, ComplainantUpdate.model_validate(data)
    except ValidationError as exc:
        return key, pydantic_details(exc)


def import_file(db, incident_id, filename, content, caller, outbox=None, dry_run=False, *, settings):
    """Read a bulk-update file and apply it (all or nothing). A dry run checks
    every row inside the transaction and rolls it back. Returns the report."""
    header, table = tabular.read_table(filename, content)
    parsed = tabular.records(header, table, COLUMNS, [])
    if "id" not in header and "external_id" not in header:
        raise Invalid(_("The header row needs an 'id' or an 'external_id' column to say which complainant each row changes."))
    rows, report_rows = [], []
    for line, values, problems in parsed:
        key, update = _changes(db, incident_id, values)
        if problems:
            update = problems + (update if isinstance(update, list) else [])
        rows.append((f"line {line}", key, update))
        report_rows.append({"line": line, "values": values, "problems": [], "action": "changed"})
    pending = len(outbox.pending) if outbox is not None else 0
    try:
        if dry_run:
            _dry_run(db, incident_id, rows, caller, settings)
        else:
            apply(db, incident_id, rows, caller, outbox, settings=settings)
    except Invalid as exc:
        if outbox is not None:
            del outbox.pending[pending:]  # rolled back: nothing of it reaches a board
        by_line = {r["line"]: r for r in report_rows}
        for problem in exc.details or []:
            label, _sep, field = problem["field"].partition(".")
            if label.startswith("line "):
                line = int(label[5:])
                by_line[line]["problems"].append({"field": field, "message": problem["message"]})
                by_line[line]["action"] = ""
        rep = tabular.report(report_rows)
        rep["error"] = exc
        return rep
    return tabular.report(report_rows)


class _Rollback(Exception):
    pass


def _dry_run(db, incident_id, rows, caller, settings):
    """Every check apply makes, with nothing kept."""
    try:
        with write(db):
            apply(db, incident_id, rows, caller, None, settings=settings)
            raise _Rollback()
    except _Rollback:
        pass


def template_rows():
    return [
        {"id": "12", "version": "3", "principal": "80000.00", "interest_claimed": "3200.50", "group": "河北邮政分红险2019", "flags": "vulnerable;repeat"},
        {"external_id": "HL-20261123-0001", "source": "hotline-95511", "phone": "13800001111"},
    ]


def allowed_values():
    from . import vocabulary as v

    return [
        ("id / external_id", _("which complainant: its id in the console, or the intake complaint's external_id (with source if two systems share ids)")),
        ("version", _("optional: the version you read; a newer one refuses the row")),
        ("group", _("a group name of this incident")),
        ("flags", ", ".join(v.RISK_FLAGS) + " " + _("(separated by ';'; '-' clears them)")),
        ("temperament", ", ".join(v.TEMPERAMENTS)),
        ("motive", ", ".join(v.MOTIVES)),
        ("principal / interest_claimed / expenses_claimed", _("yuan, at most two decimals")),
        ("", _("An empty cell leaves the field as it is.")),
    ]
