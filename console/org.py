"""The organisation directory: head office, province branches, city branches
and outlets, with their names, addresses and managers; imported in bulk.

- Provinces and cities carry their GB/T 2260 codes (a province branch of
  Hebei is ``130000``, the Shijiazhuang city branch ``130100``); head office
  and outlets have the organisation's own codes (``HQ``, ``HB-SJZ-01``).
- Outlets are the ``branch`` rows every complainant, update and alert points
  at; the other levels are ``org_unit`` rows. Managers are user names, told
  when an outlet goes silent or a crowd gathers there (``managers_for``).
- An import checks every row, reports per row (new / changed / unchanged, or
  its problems), and writes all rows in one transaction or none. It is an
  upsert by code, so importing the directory again after the users exist
  adds the managers. A closed outlet is deactivated (``active`` 0), never
  deleted: history keeps pointing at it, and it takes no new complainants
  or updates.
- ``place_name`` is the one place that turns a code into the name people read.
"""

import json
import re

from flask_babel import gettext as _

from . import audit, tabular, vocabulary
from .clock import to_iso
from .db import write
from .errors import Invalid, NotFound

KINDS = tuple(vocabulary.ORG_KINDS)
COLUMNS = ["kind", "code", "name", "province_code", "city_code", "address", "managers", "active"]
REQUIRED = ["kind", "code", "name"]
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
GB_CODE = re.compile(r"^[1-8][0-9]{5}$")
TRUE, FALSE = {"1", "yes", "true", "是", "y"}, {"0", "no", "false", "否", "n"}


def _managers_text(value):
    return [m.strip() for m in re.split(r"[;；,，|]", value or "") if m.strip()]


class _Known:
    """What the database holds, read once per import."""

    def __init__(self, db):
        self.provinces = {r["code"]: r["name_zh"] for r in db.query("SELECT code, name_zh FROM province")}
        self.cities = {r["code"]: dict(r) for r in db.query("SELECT code, province_code, name_zh FROM city")}
        self.units = {r["code"]: dict(r) for r in db.query("SELECT * FROM org_unit")}
        self.outlets = {r["code"]: dict(r) for r in db.query("SELECT code, name, city_code, province_code, address, active FROM branch")}
        self.users = {r["username"] for r in db.query("SELECT username FROM user WHERE active = 1")}
        self.managers = {}
        for r in db.query("SELECT unit_code, username FROM org_manager ORDER BY username"):
            self.managers.setdefault(r["unit_code"], []).append(r["username"])


def check(db, header, rows):
    """Check every row of a directory file; returns the report (tabular.report) with
    each row's ``item`` (the cleaned unit) when the whole file is good."""
    known = _Known(db)
    parsed = tabular.records(header, rows, COLUMNS, REQUIRED)
    # cities of this file, so an outlet may sit in a city added by the same file
    file_cities = {}
    for _line, values, _problems in parsed:
        if values.get("kind", "").strip().lower() == "city" and GB_CODE.match(values.get("code", "")):
            file_cities.setdefault(values["code"], values.get("province_code", "").strip())
    seen = {}
    out = []
    for line, values, problems in parsed:
        problems = list(problems)
        add = lambda field, message: problems.append({"field": field, "message": message})  # noqa: E731
        kind = values.get("kind", "").strip().lower()
        code = values.get("code", "").strip()
        name = values.get("name", "").strip()
        province = values.get("province_code", "").strip()
        city = values.get("city_code", "").strip()
        address = values.get("address", "").strip()
        if kind not in KINDS:
            add("kind", _("must be one of %(kinds)s", kinds=", ".join(KINDS)))
        if not code:
            add("code", _("is required"))
        elif code in seen:
            add("code", _("code %(code)s appears twice in this file (also line %(line)s)", code=code, line=seen[code]))
        else:
            seen[code] = line
        if not name:
            add("name", _("is required"))
        elif len(name) > 100:
            add("name", _("is too long: at most %(n)s characters", n=100))
        if len(address) > 200:
            add("address", _("is too long: at most %(n)s characters", n=200))
        if code and kind == "head_office":
            if not CODE.match(code):
                add("code", _("may hold letters, digits, '-', '_' and '.', at most 40"))
            if province or city:
                add("province_code", _("head office has no province or city"))
        elif code and kind == "province":
            if code not in known.provinces:
                add("code", _("%(code)s is not a province code in GB/T 2260 (e.g. 130000)", code=code))
            if province and province != code:
                add("province_code", _("a province branch's province is its own code"))
            province = code
        elif code and kind == "city":
            if not GB_CODE.match(code) or code.endswith("0000"):
                add("code", _("%(code)s is not a city code in GB/T 2260 (e.g. 130100)", code=code))
            if province not in known.provinces:
                add("province_code", _("is required: the city's GB/T 2260 province code"))
            elif code[:2] != province[:2]:
                add(
                    "province_code",
                    _("city %(city)s is not in province %(province)s (GB/T 2260 codes share the first two digits)", city=code, province=province),
                )
            elif code in known.cities and known.cities[code]["province_code"] != province:
                add("province_code", _("city %(city)s is in province %(other)s", city=code, other=known.cities[code]["province_code"]))
        elif code and kind == "outlet":
            if not CODE.match(code):
                add("code", _("may hold letters, digits, '-', '_' and '.', at most 40"))
            if code in known.units or code in known.provinces or code in known.cities:
                add("code", _("%(code)s is already the code of a province, city or head office", code=code))
            if province not in known.provinces:
                add("province_code", _("is required: the outlet's GB/T 2260 province code"))
            city_province = known.cities[city]["province_code"] if city in known.cities else file_cities.get(city)
            if not city:
                add("city_code", _("is required: the outlet's city code"))
            elif city_province is None:
                add("city_code", _("city %(city)s is neither known nor in this file", city=city))
            elif province and city_province != province:
                add("city_code", _("city %(city)s is in province %(other)s, not %(province)s", city=city, other=city_province, province=province))
            before = known.outlets.get(code)
            if before and city and before["city_code"] != city:
                add(
                    "city_code",
                    _("outlet %(code)s is in city %(city)s; an outlet does not move: deactivate it and add a new code", code=code, city=before["city_code"]),
                )
        if kind in ("head_office", "province", "city") and code in known.outlets:
            add("code", _("%(code)s is already an outlet's code", code=code))
        managers = None
        if "managers" in values:
            managers = _managers_text(values["managers"])
            for username in managers:
                if username not in known.users:
                    add("managers", _("unknown manager '%(name)s': no active user of that name (import the users first)", name=username))
            if len(set(managers)) != len(managers):
                add("managers", _("names a manager twice"))
        active = None
        if values.get("active", "").strip():
            text = values["active"].strip().lower()
            if text in TRUE:
                active = 1
            elif text in FALSE:
                active = 0
            else:
                add("active", _("must be 1 (active) or 0 (closed)"))
            if kind != "outlet" and active == 0:
                add("active", _("only outlets are deactivated"))
        item = {
            "kind": kind,
            "code": code,
            "name": name,
            "province_code": province or None,
            "city_code": city or None,
            "address": address,
            "managers": managers,
            "active": active,
        }
        action = ""
        if not problems:
            action = _action(known, item)
        out.append({"line": line, "values": values, "problems": problems, "action": action, "item": item})
    return tabular.report(out)


def _action(known, item):
    code, kind = item["code"], item["kind"]
    if kind == "outlet":
        before = known.outlets.get(code)
        if before is None:
            return "new"
        same = before["name"] == item["name"] and before["address"] == item["address"] and (item["active"] is None or before["active"] == item["active"])
    else:
        before = known.units.get(code)
        if before is None:
            return "new"
        same = before["name"] == item["name"] and before["address"] == item["address"]
    if item["managers"] is not None and sorted(item["managers"]) != sorted(known.managers.get(code, [])):
        same = False
    return "unchanged" if same else "changed"


def commit(db, rep, actor, now):
    """Write a clean report's rows in one transaction; refuses one with any bad row.
    Returns the counts {new, changed, unchanged}."""
    if not rep["ok"]:
        raise tabular.refuse(rep)
    stamp = to_iso(now)
    order = {"head_office": 0, "province": 1, "city": 2, "outlet": 3}
    with write(db):
        known = _Known(db)  # read again inside the transaction: the preview may be stale
        for row in sorted(rep["rows"], key=lambda r: order[r["item"]["kind"]]):
            item = row["item"]
            row["action"] = action = _action(known, item)
            if action == "unchanged":
                continue
            code = item["code"]
            if item["kind"] == "outlet":
                before = known.outlets.get(code)
                if before is None:
                    db["branch"].insert(
                        {
                            "code": code,
                            "name": item["name"],
                            "city_code": item["city_code"],
                            "province_code": item["province_code"],
                            "address": item["address"],
                            "active": 1 if item["active"] is None else item["active"],
                            "deactivated_at": stamp if item["active"] == 0 else None,
                        }
                    )
                else:
                    change = {"name": item["name"], "address": item["address"]}
                    if item["active"] is not None and item["active"] != before["active"]:
                        change.update(active=item["active"], deactivated_at=stamp if item["active"] == 0 else None)
                    db["branch"].update(code, change)
            else:
                if item["kind"] == "city" and code not in known.cities:
                    db["city"].insert({"code": code, "province_code": item["province_code"], "name_zh": item["name"], "name_en": item["name"]})
                before = known.units.get(code)
                db["org_unit"].upsert(
                    {
                        "code": code,
                        "kind": item["kind"],
                        "name": item["name"],
                        "address": item["address"],
                        "province_code": item["province_code"],
                        "updated_at": stamp,
                    },
                    pk="code",
                )
            if item["managers"] is not None:
                db.execute("DELETE FROM org_manager WHERE unit_code = ?", [code])
                for username in item["managers"]:
                    db["org_manager"].insert({"unit_code": code, "username": username})
            audit.record(
                db,
                actor,
                "org_unit",
                None,
                "create" if action == "new" else "update",
                before=(known.outlets.get(code) or known.units.get(code)),
                after={k: v for k, v in item.items()},
                at=now,
            )
    return tabular.report(rep["rows"])["counts"]


def import_file(db, filename, content, actor, now, dry_run=False):
    """Read, check and (unless ``dry_run``) write a directory file. Returns the report;
    raises Invalid naming every bad row when the file has any."""
    header, rows = tabular.read_table(filename, content)
    return import_table(db, header, rows, actor, now, dry_run)


def import_table(db, header, rows, actor, now, dry_run=False, without=()):
    """The import of an already-read table; columns named in ``without`` are left out
    (the demo imports its directory before its managers' accounts exist)."""
    if without:
        keep = [i for i, column in enumerate(header) if column not in without]
        header = [header[i] for i in keep]
        rows = [(line, [cells[i] for i in keep if i < len(cells)]) for line, cells in rows]
    if dry_run:
        rep = check(db, header, rows)
        if not rep["ok"]:
            raise tabular.refuse(rep)
        return rep
    with write(db):  # checked again inside the write, so nothing changed between check and write
        rep = check(db, header, rows)
        if not rep["ok"]:
            raise tabular.refuse(rep)
        commit(db, rep, actor, now)
    return tabular.report(rep["rows"])


def set_outlet_active(db, code, active, actor, now):
    """Deactivate (a closed outlet) or reactivate an outlet; never deletes it."""
    with write(db):
        rows = list(db.query("SELECT * FROM branch WHERE code = ?", [code]))
        if not rows:
            raise NotFound(_("No outlet %(code)s.", code=code))
        before = dict(rows[0])
        if before["active"] == int(active):
            return before
        change = {"active": int(active), "deactivated_at": None if active else to_iso(now)}
        db["branch"].update(code, change)
        audit.record(
            db,
            actor,
            "branch",
            None,
            "deactivate" if not active else "reactivate",
            before={"code": code, "active": before["active"]},
            after={"code": code, **change},
            at=now,
        )
    return {**before, **change}


def refuse_inactive(db, branch_code, field="branch_code"):
    """Invalid when the outlet is deactivated: it takes no new complainants or updates."""
    if not branch_code:
        return
    row = db.execute("SELECT name, active FROM branch WHERE code = ?", [branch_code]).fetchone()
    if row is not None and not row[1]:
        message = _("Outlet %(name)s (%(code)s) is closed (deactivated): it takes no new complainants or updates.", name=row[0], code=branch_code)
        raise Invalid(message, details=[{"field": field, "message": message}])


def inactive_outlets(db):
    """Codes of deactivated outlets."""
    return {r[0] for r in db.execute("SELECT code FROM branch WHERE active = 0").fetchall()}


def directory(db):
    """Every unit, head office first, with its managers: for the directory page and the API."""
    managers = {}
    for r in db.query("SELECT unit_code, username FROM org_manager ORDER BY username"):
        managers.setdefault(r["unit_code"], []).append(r["username"])
    units = [
        {
            "kind": r["kind"],
            "code": r["code"],
            "name": r["name"],
            "address": r["address"],
            "province_code": r["province_code"],
            "city_code": r["code"] if r["kind"] == "city" else None,
            "active": True,
            "managers": managers.get(r["code"], []),
        }
        for r in db.query("SELECT * FROM org_unit ORDER BY CASE kind WHEN 'head_office' THEN 0 WHEN 'province' THEN 1 ELSE 2 END, code")
    ]
    outlets = [
        {
            "kind": "outlet",
            "code": r["code"],
            "name": r["name"],
            "address": r["address"],
            "province_code": r["province_code"],
            "city_code": r["city_code"],
            "active": bool(r["active"]),
            "managers": managers.get(r["code"], []),
        }
        for r in db.query("SELECT * FROM branch ORDER BY province_code, city_code, code")
    ]
    return units + outlets


def managers_for(db, branch_code, levels=("outlet", "city", "province")):
    """User names to tell about an outlet: its own managers, then its city's and
    its province branch's (as ``levels`` asks), without repeats."""
    rows = list(db.query("SELECT city_code, province_code FROM branch WHERE code = ?", [branch_code]))
    if not rows:
        return []
    codes = {"outlet": branch_code, "city": rows[0]["city_code"], "province": rows[0]["province_code"]}
    names = []
    for level in levels:
        for r in db.execute("SELECT username FROM org_manager WHERE unit_code = ? ORDER BY username", [codes[level]]).fetchall():
            if r[0] not in names:
                names.append(r[0])
    return names


def names(db, locale="zh_CN"):
    """code -> the name people read, for every province, city, unit and outlet."""
    zh = str(locale).startswith("zh")
    table = {r["code"]: r["name_zh"] if zh else r["name_en"] for r in db.query("SELECT code, name_zh, name_en FROM province")}
    table.update({r["code"]: r["name_zh"] if zh else r["name_en"] for r in db.query("SELECT code, name_zh, name_en FROM city")})
    table.update({r["code"]: r["name"] for r in db.query("SELECT code, name FROM org_unit")})
    table.update({r["code"]: r["name"] for r in db.query("SELECT code, name FROM branch")})
    return table


def place_name(db, code, locale="zh_CN"):
    """The name people read for a province, city, unit or outlet code (the code itself if unknown)."""
    if not code:
        return ""
    for sql in ("SELECT name FROM org_unit WHERE code = ?", "SELECT name FROM branch WHERE code = ?"):
        row = db.execute(sql, [code]).fetchone()
        if row:
            return row[0]
    column = "name_zh" if str(locale).startswith("zh") else "name_en"
    for table in ("province", "city"):
        row = db.execute(f"SELECT {column} FROM {table} WHERE code = ?", [code]).fetchone()
        if row:
            return row[0]
    return code


def template_rows():
    """Example rows for the downloadable template."""
    return [
        {"kind": "head_office", "code": "HQ", "name": "总行", "address": "北京市西城区金融大街1号"},
        {"kind": "province", "code": "130000", "name": "河北省分行", "province_code": "130000", "address": "石家庄市长安区中山东路1号"},
        {"kind": "city", "code": "130100", "name": "石家庄市分行", "province_code": "130000"},
        {
            "kind": "outlet",
            "code": "HB-SJZ-01",
            "name": "石家庄中山路网点",
            "province_code": "130000",
            "city_code": "130100",
            "address": "石家庄市桥西区中山西路88号",
            "managers": "",
            "active": "1",
        },
    ]


def allowed_values(db):
    """(column, what it takes) for the template's second sheet and the import page."""
    provinces = ", ".join(f"{r['code']} {r['name_zh']}" for r in db.query("SELECT code, name_zh FROM province ORDER BY code"))
    return [
        ("kind", "head_office, province, city, outlet"),
        ("code", _("head office and outlets: your own code (letters, digits, -, _); provinces and cities: GB/T 2260")),
        ("name", _("the name people read, e.g. 河北省分行 (at most 100 characters)")),
        ("province_code", provinces),
        ("city_code", _("GB/T 2260 city code (e.g. 130100): a known city or a city row of the same file")),
        ("address", _("at most 200 characters")),
        ("managers", _("user names separated by ';': told when the outlet goes silent or a crowd gathers")),
        ("active", _("1 active, 0 closed (outlets only; a closed outlet is kept, never deleted)")),
    ]


def dumps(value):
    return json.dumps(value, ensure_ascii=False)


def first_lead_missing(db):
    """Whether the console has no active crisis lead yet (a first start)."""
    return db.execute("SELECT count(*) FROM user WHERE role = 'lead' AND active = 1").fetchone()[0] == 0


def first_lead_command(database, instance_path):
    """The exact command that creates the first crisis lead of this console's database."""
    import os

    default = os.path.join(instance_path, "console.db")
    db_option = "" if os.path.abspath(database) == os.path.abspath(default) else f" --db {database}"
    return f"bash scripts/run{db_option} user add NAME --role lead"


def outlet_exists(db, code):
    """Whether the directory has a branch (outlet) of this code, active or not."""
    return db.execute("SELECT 1 FROM branch WHERE code = ?", [code]).fetchone() is not None
