"""Causes and products as a catalogue: the Chinese name people read in place
of the code a complaint system sends, and the surge rule's settings per cause.

A cause's rule settings left empty fall back to ``SURGE_RULES`` (its own
entry there, else ``'*'``), so the catalogue starts as exactly the settings
and an existing configuration behaves as before. ``surge_settings`` hands the
surge monitor the settings with the catalogue's rules laid over them.
"""

from flask_babel import gettext as _

from . import audit, tabular, vocabulary
from .clock import to_iso
from .db import write
from .errors import Invalid

KINDS = ("cause", "product")
RULE_FIELDS = {
    # field: (type, lowest, highest)
    "window_minutes": (int, 1, 43200),
    "threshold": (int, 1, 1000000),
    "baseline_days": (int, 1, 366),
    "baseline_factor": (float, 0.1, 1000.0),
    "baseline_min": (int, 1, 1000000),
}
COLUMNS = ["kind", "code", "name", *RULE_FIELDS, "severity"]
SEVERITIES = tuple(vocabulary.SEVERITIES)
REQUIRED = ["kind", "code", "name"]


def _settings_rule(settings, code):
    rules = settings["SURGE_RULES"]
    return {**rules["*"], **rules.get(code, {})}


def surge_rule(db, settings, cause_code):
    """The surge rule of one cause: the catalogue's settings over SURGE_RULES."""
    rule = _settings_rule(settings, cause_code)
    row = db.execute(f"SELECT {', '.join(RULE_FIELDS)} FROM catalogue_entry WHERE kind = 'cause' AND code = ?", [cause_code]).fetchone()
    if row:
        rule.update({field: value for field, value in zip(RULE_FIELDS, row) if value is not None})
    return rule


def surge_settings(db, settings):
    """The settings the surge rule reads, with each catalogued cause's own rule in SURGE_RULES."""
    rules = {code: dict(rule) for code, rule in settings["SURGE_RULES"].items()}
    for row in db.execute(f"SELECT code, {', '.join(RULE_FIELDS)} FROM catalogue_entry WHERE kind = 'cause'").fetchall():
        own = {field: value for field, value in zip(RULE_FIELDS, row[1:]) if value is not None}
        if own:
            rules[row[0]] = {**rules.get(row[0], {}), **own}
    return {**settings, "SURGE_RULES": rules}


def default_severity(db, cause_code):
    """The severity a complaint of this cause takes when it arrives without one (None: the incident's)."""
    row = db.execute("SELECT severity FROM catalogue_entry WHERE kind = 'cause' AND code = ?", [cause_code]).fetchone()
    return row[0] if row else None


def name_of(db, kind, code):
    """The catalogue name of a cause or product, or the code itself when it has none."""
    if not code:
        return code
    row = db.execute("SELECT name FROM catalogue_entry WHERE kind = ? AND code = ?", [kind, code]).fetchone()
    return row[0] if row else code


def entries(db, settings):
    """Every catalogue entry with its rule as it applies (own settings marked)."""
    out = []
    for row in [dict(r) for r in db.query("SELECT * FROM catalogue_entry ORDER BY kind, code")]:
        entry = {
            "kind": row["kind"],
            "code": row["code"],
            "name": row["name"],
            "own": [f for f in RULE_FIELDS if row[f] is not None],
            "severity": row["severity"],
        }
        if row["kind"] == "cause":
            entry["rule"] = surge_rule(db, settings, row["code"])
        out.append(entry)
    return out


def default_rule(settings):
    return _settings_rule(settings, "*")


def _clean_rule(values, add):
    rule = {}
    for field, (kind, low, high) in RULE_FIELDS.items():
        text = values.get(field)
        if text in (None, ""):
            rule[field] = None
            continue
        try:
            value = kind(str(text).strip()) if not isinstance(text, (int, float)) else kind(text)
            if kind is int and str(text).strip() not in (str(value),) and not isinstance(text, int):
                raise ValueError(text)
        except ValueError:
            add(field, _("must be a whole number") if kind is int else _("must be a number"))
            continue
        if not low <= value <= high:
            add(field, _("must be between %(low)s and %(high)s", low=low, high=high))
            continue
        rule[field] = value
    severity = (values.get("severity") or "").strip().lower() if isinstance(values.get("severity"), str) else values.get("severity")
    if severity and severity not in SEVERITIES:
        add("severity", _("must be one of %(kinds)s", kinds=", ".join(SEVERITIES)))
        severity = None
    rule["severity"] = severity or None
    return rule


def check(db, header, rows):
    """The per-row report of a catalogue file."""
    seen = {}
    existing = {(r[0], r[1]): r[2] for r in db.execute("SELECT kind, code, name FROM catalogue_entry").fetchall()}
    out = []
    for line, values, problems in tabular.records(header, rows, COLUMNS, REQUIRED):
        problems = list(problems)
        add = lambda field, message: problems.append({"field": field, "message": message})  # noqa: E731
        kind, code, name = values.get("kind", "").strip().lower(), values.get("code", "").strip(), values.get("name", "").strip()
        if kind not in KINDS:
            add("kind", _("must be one of %(kinds)s", kinds=", ".join(KINDS)))
        if not code or len(code) > 100:
            add("code", _("is required (at most 100 characters)"))
        elif (kind, code) in seen:
            add("code", _("%(code)s appears twice in this file (also line %(line)s)", code=code, line=seen[(kind, code)]))
        seen.setdefault((kind, code), line)
        if not name or len(name) > 100:
            add("name", _("is required (at most 100 characters)"))
        rule = _clean_rule(values, add)
        if kind == "product" and any(v is not None for v in rule.values()):
            add("kind", _("surge rule settings and severity belong to causes only"))
        action = "" if problems else ("changed" if (kind, code) in existing else "new")
        out.append({"line": line, "values": values, "problems": problems, "action": action, "item": {"kind": kind, "code": code, "name": name, **rule}})
    return tabular.report(out)


def commit(db, rep, actor, now):
    if not rep["ok"]:
        raise tabular.refuse(rep)
    with write(db):
        for row in rep["rows"]:
            _save(db, row["item"], actor, now)
    return rep["counts"]


def _save(db, item, actor, now):
    before = db.execute("SELECT name FROM catalogue_entry WHERE kind = ? AND code = ?", [item["kind"], item["code"]]).fetchone()
    db["catalogue_entry"].upsert({**item, "updated_at": to_iso(now)}, pk=("kind", "code"))
    audit.record(db, actor, "catalogue_entry", None, "update" if before else "create", after=item, at=now)


def save_entry(db, kind, code, data, actor, now):
    """Set one entry's name and rule settings (``data``: name and the RULE_FIELDS, None for 'as the settings')."""
    problems = []
    add = lambda field, message: problems.append({"field": field, "message": message})  # noqa: E731
    if kind not in KINDS:
        add("kind", _("must be one of %(kinds)s", kinds=", ".join(KINDS)))
    if not code or len(code) > 100:
        add("code", _("is required (at most 100 characters)"))
    name = (data.get("name") or "").strip()
    if not name or len(name) > 100:
        add("name", _("is required (at most 100 characters)"))
    rule = _clean_rule(data, add)
    if kind == "product" and any(v is not None for v in rule.values()):
        add("window_minutes", _("surge rule settings and severity belong to causes only"))
    if problems:
        raise Invalid(_("Nothing was changed: %(n)s problem(s) found.", n=len(problems)), details=problems)
    item = {"kind": kind, "code": code, "name": name, **rule}
    with write(db):
        _save(db, item, actor, now)
    return item


def import_file(db, filename, content, actor, now, dry_run=False):
    header, rows = tabular.read_table(filename, content)
    return import_table(db, header, rows, actor, now, dry_run)


def import_table(db, header, rows, actor, now, dry_run=False):
    """The same from an already-read table (the API's rows)."""
    if dry_run:
        rep = check(db, header, rows)
        if not rep["ok"]:
            raise tabular.refuse(rep)
        return rep
    with write(db):  # checked again inside the write
        rep = check(db, header, rows)
        if not rep["ok"]:
            raise tabular.refuse(rep)
        commit(db, rep, actor, now)
    return rep


def template_rows(settings):
    rule = default_rule(settings)
    return [
        {"kind": "cause", "code": "misleading_sale_dividend_insurance", "name": "分红险误导销售（当作存款）", **{k: rule[k] for k in RULE_FIELDS}},
        {"kind": "product", "code": "dividend_insurance", "name": "分红型两全保险"},
    ]


def allowed_values(settings):
    rule = default_rule(settings)
    return [
        ("kind", "cause, product"),
        ("code", _("the code the complaint systems send (at most 100 characters)")),
        ("name", _("the name people read in titles, alerts and documents")),
        *[(f, _("empty: as the settings (%(value)s)", value=rule[f])) for f in RULE_FIELDS],
    ]


def named(db, incident):
    """An incident row with its cause and product replaced by their catalogue names (for documents)."""
    return {**dict(incident), "cause": name_of(db, "cause", incident["cause"]), "product": name_of(db, "product", incident["product"])}
