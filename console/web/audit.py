"""The audit log, for the crisis lead."""

from flask import Blueprint, render_template, request

from .. import audit
from ..auth import requires
from ..db import get_db

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@requires("audit.read")
def audit_log():
    table = request.args.get("table") or None
    row_id = request.args.get("row_id", type=int)
    # Walking the whole chain takes about a second per 100,000 entries: on request, not on every view.
    verification = audit.verify(get_db()) if request.args.get("verify") else None
    return render_template("audit.html", entries=audit.entries(get_db(), table, row_id), verification=verification)
