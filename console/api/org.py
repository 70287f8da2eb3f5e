"""Going live over JSON: the organisation directory, users and the cause
catalogue in bulk, outlets closed and opened, and complainants changed in bulk.

Every import takes rows or a file (CSV or XLSX, base64), checks all of it and
writes all or nothing; ``dry_run`` is the preview. A refused import is 422
with each problem's row (``line N.column``: the file's line, or the Nth of
the rows sent) in ``details``.
"""

import base64
import binascii

from flask import current_app
from flask_babel import gettext as _

from .. import bulk_update, catalogue, org, tabular, user_import
from ..auth import current_actor, current_caller
from ..clock import utcnow
from ..db import get_db
from ..errors import Invalid, NotFound
from ..incidents import get_incident
from ..live import publishing
from ..schemas import ComplainantUpdate
from ..schemas import org as s
from . import operation


def _file(body):
    try:
        content = base64.b64decode(body.file.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(_("The file is not valid base64 text."), details=[{"field": "file.content_base64", "message": _("is not base64")}]) from None
    return body.file.filename, content


def _report(rep, dry_run):
    return {
        "ok": rep["ok"],
        "dry_run": dry_run,
        "total": rep["total"],
        "counts": rep["counts"],
        "rows": [{"line": r["line"], "action": r.get("action", ""), "problems": r["problems"]} for r in rep["rows"]],
    }


@operation(
    "/org",
    "GET",
    "org.read",
    "The organisation directory: head office, province and city branches, outlets, with managers",
    response=s.Directory,
    tag="directory",
)
def directory():
    return {"units": org.directory(get_db())}


@operation(
    "/org/import",
    "POST",
    "org.write",
    "Import the directory (rows or a CSV/XLSX file): all or nothing, per-row report",
    body=s.OrgImportIn,
    response=s.ImportReport,
    tag="directory",
)
def import_directory(body):
    """An upsert by code: import again after the users exist to set managers."""
    return _import(org, body)


def _outlet(branch_code, **_path):
    if not org.outlet_exists(get_db(), branch_code):
        raise NotFound(f"No outlet {branch_code}.")


@operation(
    "/org/outlets/<branch_code>/active",
    "PUT",
    "org.write",
    "Deactivate a closed outlet (kept, never deleted) or open it again",
    body=s.OutletActiveIn,
    response=s.OrgUnit,
    tag="directory",
    visible=_outlet,
)
def set_outlet_active(branch_code, body):
    db = get_db()
    org.set_outlet_active(db, branch_code, body.active, current_actor(), utcnow())
    return next(u for u in org.directory(db) if u["kind"] == "outlet" and u["code"] == branch_code)


@operation(
    "/users/import",
    "POST",
    "user.import",
    "Import users with role and scope (rows or a CSV/XLSX file): all or nothing",
    body=s.UsersImportIn,
    response=s.UsersImportReport,
    tag="users",
)
def import_users(body):
    """Rows without a password get a random one, returned here once."""
    db = get_db()
    if body.file is not None:
        rep, made = user_import.import_file(db, *_file(body), current_actor(), utcnow(), body.dry_run)
    else:
        header, rows = tabular.from_rows(user_import.COLUMNS, [r.model_dump() for r in body.rows])
        rep, made = user_import.import_table(db, header, rows, current_actor(), utcnow(), body.dry_run)
    return {**_report(rep, body.dry_run), "passwords": [{"username": u, "password": p} for u, p in made if p]}


@operation("/catalogue", "GET", "incident.read", "Causes and products: their names and each cause's surge rule", response=s.Catalogue, tag="catalogue")
def list_catalogue():
    settings = current_app.config
    return {"entries": catalogue.entries(get_db(), settings), "default_rule": catalogue.default_rule(settings)}


def _kind(kind, **_path):
    if kind not in catalogue.KINDS:
        raise NotFound("The catalogue holds 'cause' and 'product' entries.")


@operation(
    "/catalogue/<kind>/<code>",
    "PUT",
    "catalogue.write",
    "Name a cause or product (kind: cause or product); set a cause's surge rule",
    body=s.CatalogueEntryIn,
    response=s.CatalogueEntry,
    tag="catalogue",
    visible=_kind,
)
def save_catalogue_entry(kind, code, body):
    db = get_db()
    catalogue.save_entry(db, kind, code, body.model_dump(), current_actor(), utcnow())
    return next(e for e in catalogue.entries(db, current_app.config) if e["kind"] == kind and e["code"] == code)


@operation(
    "/catalogue/import",
    "POST",
    "catalogue.write",
    "Import causes and products (rows or a CSV/XLSX file): all or nothing",
    body=s.CatalogueImportIn,
    response=s.ImportReport,
    tag="catalogue",
)
def import_catalogue(body):
    return _import(catalogue, body)


def _import(module, body):
    """A directory or catalogue import (``module``: org or catalogue), from a file or rows, dry run or not."""
    db = get_db()
    if body.file is not None:
        rep = module.import_file(db, *_file(body), current_actor(), utcnow(), body.dry_run)
    else:
        header, rows = tabular.from_rows(module.COLUMNS, [r.model_dump() for r in body.rows])
        rep = module.import_table(db, header, rows, current_actor(), utcnow(), body.dry_run)
    return _report(rep, body.dry_run)


def _incident(incident_id, **_path):
    get_incident(get_db(), incident_id)


@operation(
    "/incidents/<int:incident_id>/complainants",
    "PATCH",
    "complainant.write",
    "Change many complainants at once (by id or intake external_id, each with its version): all or nothing",
    body=list[s.ComplainantBulkItem],
    response=s.BulkUpdated,
    tag="complainants",
    visible=_incident,
)
def bulk_update_complainants(incident_id, body):
    limit = current_app.config["MAX_BULK"]
    if not body or len(body) > limit:
        raise Invalid(_("Send between 1 and %(limit)s changes in one call; %(n)s were sent.", limit=limit, n=len(body)))
    rows = []
    for index, item in enumerate(body):
        key = {"id": item.id, "external_id": item.external_id, "source": item.source}
        changes = item.model_dump(exclude_unset=True, exclude={"id", "external_id", "source"})
        rows.append((index, key, ComplainantUpdate.model_validate(changes)))
    db = get_db()
    with publishing(db) as outbox:
        ids = bulk_update.apply(db, incident_id, rows, current_caller(), outbox, settings=current_app.config)
    return {"ids": ids, "count": len(ids)}
