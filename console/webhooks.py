"""The outgoing webhook: each alert POSTed once it is raised, signed, retried
with backoff, every attempt logged.

Headers: ``X-Console-Delivery`` (the delivery id: receivers drop repeats),
``X-Console-Timestamp`` (Unix seconds) and ``X-Console-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` with
``WEBHOOK_SECRET``.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from .clock import from_iso, to_iso

log = logging.getLogger(__name__)


def sign(secret, timestamp, body):
    """The signature a receiver recomputes to check a delivery came from us."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def enqueue(db, alert_id, url, payload, now):
    """Queue the alert for delivery; call inside the alert's transaction."""
    db.execute(
        "INSERT OR IGNORE INTO webhook_delivery (alert_id, url, body, next_attempt_at) VALUES (?, ?, ?, ?)",
        [alert_id, url, json.dumps(payload, ensure_ascii=False, sort_keys=True), to_iso(now)],
    )


def http_post(url, body, headers, timeout):
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))


def deliver_due(db, now, settings, timeout=5.0):
    """Try every delivery that is due; returns (delivered, failed_attempts)."""
    secret = settings.get("WEBHOOK_SECRET") or ""
    due = [
        dict(r)
        for r in db.query(
            "SELECT * FROM webhook_delivery WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT 100",
            [to_iso(now)],
        )
    ]
    delivered = failed = 0
    for delivery in due:
        body = delivery["body"].encode()
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Console-Delivery": str(delivery["id"]),
            "X-Console-Timestamp": timestamp,
            "X-Console-Signature": sign(secret, timestamp, body),
        }
        status, error = http_post(delivery["url"], body, headers, timeout)
        attempts = delivery["attempts"] + 1
        ok = status is not None and 200 <= status < 300
        with db.atomic():
            db["webhook_attempt"].insert({"delivery_id": delivery["id"], "at": to_iso(now), "status": status, "error": error})
            if ok:
                db["webhook_delivery"].update(delivery["id"], {"attempts": attempts, "delivered_at": to_iso(now), "last_error": None})
                delivered += 1
            else:
                failed += 1
                changes = {"attempts": attempts, "last_error": error or f"HTTP {status}"}
                if attempts >= settings["WEBHOOK_MAX_ATTEMPTS"]:
                    changes["failed_at"] = to_iso(now)
                    log.error("webhook delivery %s gave up after %s attempts: %s", delivery["id"], attempts, changes["last_error"])
                else:
                    wait = settings["WEBHOOK_BACKOFF_SECONDS"] * 2 ** (attempts - 1)
                    changes["next_attempt_at"] = to_iso(from_iso(to_iso(now)) + timedelta(seconds=wait))
                db["webhook_delivery"].update(delivery["id"], changes)
    return delivered, failed


def delivery_log(db, limit=50):
    """The WEBHOOK_URL log: {attempts: the latest ``limit`` attempts with their alert, pending: deliveries not yet done nor given up}."""
    attempts = [
        dict(r)
        for r in db.query("SELECT a.*, d.alert_id FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id ORDER BY a.id DESC LIMIT ?", [limit])
    ]
    pending = db.execute("SELECT count(*) FROM webhook_delivery WHERE delivered_at IS NULL AND failed_at IS NULL").fetchone()[0]
    return {"attempts": attempts, "pending": pending}
