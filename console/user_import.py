"""Users in bulk: a CSV or XLSX of accounts with their role and scope, checked
row by row, previewed, and added all together or not at all.

Columns: username, display_name, role (lead, team, branch, executive, legal),
scope (a branch contact's province code or outlet code; empty for head-office
roles), password (optional: the password policy of console/passwords.py; an empty one gets a random
password, shown once in the answer to the import and never stored in clear).
A user name that exists already is a problem of its row: changing people is
the users page's job, not an import's.
"""

import re
import secrets

from flask_babel import gettext as _
from werkzeug.security import generate_password_hash

from . import access, audit, passwords, tabular
from .clock import to_iso
from .db import write
from .errors import Conflict, Invalid

COLUMNS = ["username", "display_name", "role", "scope", "password"]
REQUIRED = ["username", "role"]
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,59}$")


def check(db, header, rows):
    """The per-row report of a users file (tabular.report), each good row with its ``item``."""
    existing = {r[0] for r in db.execute("SELECT username FROM user").fetchall()}
    provinces = {r[0] for r in db.execute("SELECT code FROM province").fetchall()}
    outlets = {r[0]: r[1] for r in db.execute("SELECT code, active FROM branch").fetchall()}
    seen = {}
    out = []
    for line, values, problems in tabular.records(header, rows, COLUMNS, REQUIRED):
        problems = list(problems)
        add = lambda field, message: problems.append({"field": field, "message": message})  # noqa: E731
        username = values.get("username", "").strip()
        role = values.get("role", "").strip().lower()
        scope = values.get("scope", "").strip()
        password = values.get("password", "")
        display = values.get("display_name", "").strip() or username
        if not USERNAME.match(username):
            add("username", _("must be 2 to 60 letters, digits or . _ @ -, starting with a letter or digit"))
        elif username in seen:
            add("username", _("%(name)s appears twice in this file (also line %(line)s)", name=username, line=seen[username]))
        elif username in existing:
            add("username", _("a user named %(name)s exists already", name=username))
        seen.setdefault(username, line)
        if role not in access.ALL:
            add("role", _("must be one of %(roles)s", roles=", ".join(sorted(access.ALL))))
        elif role == "branch" and not scope:
            add("scope", _("a branch contact needs a scope: a province code (e.g. 130000) or an outlet code"))
        elif role != "branch" and scope:
            add("scope", _("only branch contacts have a scope; head-office roles see every region"))
        if scope and role == "branch":
            if scope not in provinces and scope not in outlets:
                add("scope", _("%(code)s is neither a province code (GB/T 2260) nor a known outlet code", code=scope))
            elif scope in outlets and not outlets[scope]:
                add("scope", _("outlet %(code)s is closed (deactivated)", code=scope))
        if password:
            try:
                passwords.check(password, username)  # the same policy as every other password
            except Invalid as exc:
                add("password", exc.message)
        if len(display) > 100:
            add("display_name", _("is too long: at most %(n)s characters", n=100))
        item = {"username": username, "display_name": display, "role": role, "scope": scope or None, "password": password or None}
        out.append(
            {
                "line": line,
                "values": {k: ("••••••" if k == "password" and v else v) for k, v in values.items()},
                "problems": problems,
                "action": "" if problems else "new",
                "item": item,
            }
        )
    return tabular.report(out)


def commit(db, rep, actor, now, hash_method="scrypt"):
    """Add every user of a clean report in one transaction. Returns
    [(username, generated password or None)]: a generated one is shown once."""
    if not rep["ok"]:
        raise tabular.refuse(rep)
    # Hashed before the write transaction: scrypt takes ~0.1 s a password, and
    # 50 of them inside BEGIN IMMEDIATE would hold every other writer (the
    # monitors, branch updates) for seconds.
    prepared = []
    for row in rep["rows"]:
        item = row["item"]
        generated = None if item["password"] else secrets.token_urlsafe(12)
        prepared.append((item, generated, generate_password_hash(item["password"] or generated, method=hash_method)))
    made = []
    with write(db):
        taken = {r[0] for r in db.execute("SELECT username FROM user").fetchall()}
        for item, generated, password_hash in prepared:
            if item["username"] in taken:  # added by someone else since the preview
                raise Conflict(_("A user named %(name)s was added meanwhile; nothing was imported.", name=item["username"]))
            if item["scope"]:
                try:
                    access.resolve_scope(db, item["scope"])
                except ValueError:
                    raise Invalid(_("%(code)s is neither a province code (GB/T 2260) nor a known outlet code", code=item["scope"])) from None
            user_id = (
                db["user"]
                .insert(
                    {
                        "username": item["username"],
                        "display_name": item["display_name"],
                        "role": item["role"],
                        "scope_code": item["scope"],
                        "password_hash": password_hash,
                        "active": 1,
                        "created_at": to_iso(now),
                    }
                )
                .last_pk
            )
            audit.record(
                db,
                actor,
                "user",
                user_id,
                "create",
                after={"username": item["username"], "role": item["role"], "scope_code": item["scope"], "via": "import"},
                at=now,
            )
            made.append((item["username"], generated))
    return made


def import_file(db, filename, content, actor, now, dry_run=False, hash_method="scrypt"):
    """Read, check and (unless ``dry_run``) add the users of a file.
    Returns (report, [(username, generated password)])."""
    header, rows = tabular.read_table(filename, content)
    return import_table(db, header, rows, actor, now, dry_run, hash_method)


def import_table(db, header, rows, actor, now, dry_run=False, hash_method="scrypt"):
    """The same from an already-read table (the API's rows)."""
    rep = check(db, header, rows)
    if not rep["ok"]:
        raise tabular.refuse(rep)
    made = [] if dry_run else commit(db, rep, actor, now, hash_method)
    return rep, made


def template_rows():
    return [
        {"username": "zhang.wei", "display_name": "张伟（危机小组）", "role": "team", "scope": "", "password": ""},
        {"username": "li.na", "display_name": "李娜（河北省分行）", "role": "branch", "scope": "130000", "password": ""},
        {"username": "wang.fang", "display_name": "王芳（石家庄中山路网点）", "role": "branch", "scope": "HB-SJZ-01", "password": ""},
    ]


def allowed_values():
    return [
        ("username", _("2 to 60 letters, digits or . _ @ -; new names only")),
        ("display_name", _("the name people read (default: the user name)")),
        ("role", "lead, team, branch, executive, legal"),
        ("scope", _("branch contacts only: a province code (GB/T 2260, e.g. 130000) or an outlet code")),
        ("password", _("at least 10 characters, not a common one; empty: a random one is shown once after the import")),
    ]
