"""Idempotency keys: a POST retried with the same ``Idempotency-Key`` header
is done once; the retry gets the first answer back.

The key is stored in the same transaction as the write it guards, so two
concurrent posts with one key cannot both write.
"""

import hashlib
import json

from flask_babel import gettext as _

from .clock import to_iso
from .db import write
from .errors import Invalid

MAX_KEY_LENGTH = 200


def run_once(db, user_id, key, route, body, action, now):
    """Run ``action()`` -> (status, response dict) once per (user, key).

    Returns (status, response, replayed). Reusing a key with a different body
    is refused: it is almost always a client bug.
    """
    if key is None:
        status, response = action()
        return status, response, False
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(_("Idempotency-Key must be 1 to %(n)s printable characters.", n=MAX_KEY_LENGTH))
    digest = hashlib.sha256(body).hexdigest()
    with write(db):
        rows = list(db.query("SELECT * FROM idempotency_key WHERE user_id = ? AND key = ?", [user_id, key]))
        if rows:
            if rows[0]["request_sha256"] != digest or rows[0]["route"] != route:
                raise Invalid(_("This Idempotency-Key was already used for a different request; use a new key for a new request."))
            return rows[0]["status"], json.loads(rows[0]["response"]), True
        status, response = action()
        db["idempotency_key"].insert(
            {
                "user_id": user_id,
                "key": key,
                "route": route,
                "request_sha256": digest,
                "status": status,
                "response": json.dumps(response, ensure_ascii=False, default=str),
                "created_at": to_iso(now),
            }
        )
    return status, response, False
