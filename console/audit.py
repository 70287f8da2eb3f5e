"""The audit log: who wrote what, when, through which route, before and after."""

import json
from dataclasses import dataclass
from typing import Optional

from .clock import to_iso, utcnow
from .masking import mask_id_number, mask_phone


@dataclass(frozen=True)
class Actor:
    """Who is acting, and through which route ('POST /api/v1/...' or 'cli demo')."""

    user_id: Optional[int]
    username: str
    route: str


SENSITIVE = {"phone": mask_phone, "id_number": mask_id_number, "customer_phone": mask_phone, "customer_id_number": mask_id_number}


def _json(value):
    """JSON of a change, with phone and ID numbers masked: the audit log records
    that they changed, it does not keep a second copy (PIPL Art. 6)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = {k: (SENSITIVE[k](v) if k in SENSITIVE and v else v) for k, v in value.items()}
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(db, actor, table, row_id, action, before=None, after=None, at=None):
    """Write one audit row. Call inside the same transaction as the change."""
    db.execute(
        "INSERT INTO audit_log (at, user_id, username, route, table_name, row_id, action, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [to_iso(at or utcnow()), actor.user_id, actor.username, actor.route, table, row_id, action, _json(before), _json(after)],
    )


def changed(before, after):
    """Only the fields that differ, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def entries(db, table=None, row_id=None, limit=200):
    where, params = [], []
    if table:
        where.append("table_name = ?")
        params.append(table)
    if row_id is not None:
        where.append("row_id = ?")
        params.append(row_id)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    return [dict(r) for r in db.query(sql, params + [limit])]
