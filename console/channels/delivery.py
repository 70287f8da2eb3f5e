"""Sending the queued deliveries: a channel at a time, under its lease, within
its vendor's rate limit, a burst batched into one message, failures backed off.

Exactly once per alert per channel: the deliveries are rows of the outbox
``channel_delivery`` (unique per alert and channel), and only the process
holding a channel's lease (``channel.lease_holder`` until ``lease_until``,
taken with BEGIN IMMEDIATE) sends to it; a delivery is marked delivered in the
same transaction that logs the attempt. A process that dies mid-send leaves
the lease to expire (CHANNEL_TIMEOUT_SECONDS per message, plus a minute) and
another process takes over: only a message sent but not yet recorded when the
process died can go out twice, which no vendor's API lets us rule out.

Rate limits are counted from the attempt log (every message tried counts, as
the vendors count requests), so they hold across processes and restarts. When
a channel's budget is spent, its deliveries wait and go out together in the
next message. A failed message backs the whole channel off
(CHANNEL_BACKOFF_SECONDS, doubling, at most CHANNEL_BACKOFF_MAX_SECONDS): it is
the channel that is down, not an alert; a delivery that was in
CHANNEL_MAX_ATTEMPTS failed messages is marked failed.
"""

import json
import logging
import os
import socket
import uuid
from datetime import timedelta

from ..clock import from_iso, to_iso
from ..db import write
from . import senders
from .messages import batches, lines, render

log = logging.getLogger(__name__)


def _holder():
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _take_lease(db, channel_id, now, settings, holder, force):
    lease = timedelta(seconds=settings["CHANNEL_TIMEOUT_SECONDS"] * 2 + 60)
    with write(db):
        taken = (
            db.execute(
                "UPDATE channel SET lease_holder = ?, lease_until = ? WHERE id = ? AND enabled = 1 AND (lease_until IS NULL OR lease_until <= ?)",
                [holder, to_iso(now + lease), channel_id, to_iso(now)],
            ).rowcount
            == 1
        )
    if not taken:
        return None
    row = dict(db["channel"].get(channel_id))
    if not force and row["retry_at"] and from_iso(row["retry_at"]) > now:
        _release(db, channel_id, holder)
        return None
    return row


def _release(db, channel_id, holder):
    with write(db):
        db.execute("UPDATE channel SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND lease_holder = ?", [channel_id, holder])


def budget(db, channel_id, kind, now):
    """Messages the channel may still be sent now under each of its limits."""
    left = []
    for count, seconds in senders.LIMITS[kind]:
        used = db.execute(
            "SELECT count(*) FROM channel_attempt WHERE channel_id = ? AND at > ?", [channel_id, to_iso(now - timedelta(seconds=seconds))]
        ).fetchone()[0]
        left.append(count - used)
    return max(0, min(left))


def _alerts(db, ids):
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {
        r["id"]: dict(r)
        for r in db.query(
            "SELECT a.*, i.title AS incident_title, p.name_zh AS province_name, b.name AS branch_name FROM alert a "
            "LEFT JOIN incident i ON i.id = a.incident_id LEFT JOIN province p ON p.code = a.province_code "
            f"LEFT JOIN branch b ON b.code = a.branch_code WHERE a.id IN ({marks})",
            ids,
        )
    }


def _webhook_payload(alert):
    """The same JSON the WEBHOOK_URL gets (console/alerts.py)."""
    if alert is None:
        return {"test": True, "message": "test"}
    return {key: alert[key] for key in ("id", "kind", "level", "message", "province_code", "branch_code", "raised_at", "incident_id")} | {
        "audience": json.loads(alert["audience"]),
        "data": json.loads(alert["data"] or "{}"),
    }


def _messages(db, channel, pending, settings):
    """[(delivery_ids, send(now) -> Result)] for the pending deliveries, in order."""
    found = _alerts(db, [d["alert_id"] for d in pending if d["alert_id"] is not None])
    items = [{"delivery_id": d["id"], "alert": found.get(d["alert_id"])} for d in pending if d["test"] or d["alert_id"] in found]
    kind = channel["kind"]
    if kind == "webhook":
        return [
            ([item["delivery_id"]], lambda now, item=item: senders.send_webhook(channel, _webhook_payload(item["alert"]), item["delivery_id"], now))
            for item in items
        ]
    markdown = senders.MARKDOWN[kind]
    out = []
    for ids, chunk in batches(lines(items, settings, markdown), senders.MAX_BYTES[kind], max_lines=200):
        title, text = render(chunk, markdown)
        out.append((ids, lambda now, title=title, text=text: senders.SENDERS[kind](channel, title, text, now, settings)))
    return out


def _record(db, channel_id, ids, result, now, settings, holder):
    """Log the attempt and mark its deliveries, in one transaction."""
    marks = ",".join("?" * len(ids))
    with write(db):
        attempt_id = (
            db["channel_attempt"]
            .insert(
                {
                    "channel_id": channel_id,
                    "at": to_iso(now),
                    "deliveries": json.dumps(ids),
                    "ok": int(result.ok),
                    "status": result.status,
                    "error": result.error,
                    "holder": holder,
                }
            )
            .last_pk
        )
        if result.ok:
            db.execute(
                f"UPDATE channel_delivery SET attempts = attempts + 1, delivered_at = ?, attempt_id = ?, last_error = NULL "
                f"WHERE id IN ({marks}) AND delivered_at IS NULL",
                [to_iso(now), attempt_id, *ids],
            )
            db.execute("UPDATE channel SET failures = 0, retry_at = NULL WHERE id = ?", [channel_id])
            return attempt_id
        db.execute(f"UPDATE channel_delivery SET attempts = attempts + 1, last_error = ? WHERE id IN ({marks}) AND delivered_at IS NULL", [result.error, *ids])
        gave_up = db.execute(
            f"UPDATE channel_delivery SET failed_at = ? WHERE id IN ({marks}) AND delivered_at IS NULL AND attempts >= ?",
            [to_iso(now), *ids, settings["CHANNEL_MAX_ATTEMPTS"]],
        ).rowcount
        if gave_up:
            log.error("channel %s: %s deliveries gave up after %s attempts: %s", channel_id, gave_up, settings["CHANNEL_MAX_ATTEMPTS"], result.error)
        failures = db.execute("SELECT failures FROM channel WHERE id = ?", [channel_id]).fetchone()[0] + 1
        wait = min(settings["CHANNEL_BACKOFF_SECONDS"] * 2 ** (failures - 1), settings["CHANNEL_BACKOFF_MAX_SECONDS"])
        db.execute("UPDATE channel SET failures = ?, retry_at = ? WHERE id = ?", [failures, to_iso(now + timedelta(seconds=wait)), channel_id])
    return attempt_id


def deliver_channel(db, channel_id, now, settings, force=False):
    """Send what is queued for one channel, as far as its rate limit allows.

    Returns {'messages', 'delivered', 'failed_attempts', 'waiting', 'attempt_ids'}.
    ``force`` tries a channel that is backing off (the test-send button).
    """
    summary = {"messages": 0, "delivered": 0, "failed_attempts": 0, "waiting": 0, "attempt_ids": []}
    holder = _holder()
    channel = _take_lease(db, channel_id, now, settings, holder, force)
    if channel is None:
        return summary
    try:
        channel["config"], channel["secret"] = json.loads(channel["config"]), json.loads(channel["secret"])
        channel["timeout"] = settings["CHANNEL_TIMEOUT_SECONDS"]
        pending = [
            dict(r)
            for r in db.query(
                "SELECT * FROM channel_delivery WHERE channel_id = ? AND delivered_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 2000", [channel_id]
            )
        ]
        messages = _messages(db, channel, pending, settings)
        allowed = budget(db, channel_id, channel["kind"], now)
        for ids, send in messages[:allowed]:
            result = send(now)
            summary["attempt_ids"].append(_record(db, channel_id, ids, result, now, settings, holder))
            summary["messages"] += 1
            if not result.ok:
                summary["failed_attempts"] += 1
                log.warning("channel %s (%s): message of %s alert(s) failed: %s", channel_id, channel["kind"], len(ids), result.error)
                break
            summary["delivered"] += len(ids)
        summary["waiting"] = db.execute(
            "SELECT count(*) FROM channel_delivery WHERE channel_id = ? AND delivered_at IS NULL AND failed_at IS NULL", [channel_id]
        ).fetchone()[0]
    finally:
        _release(db, channel_id, holder)
    return summary


def deliver_due(db, now, settings):
    """Every enabled channel with something queued; one failing channel is logged and the rest go on."""
    total = {"messages": 0, "delivered": 0, "failed_attempts": 0, "waiting": 0}
    channel_ids = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT d.channel_id FROM channel_delivery d JOIN channel c ON c.id = d.channel_id "
            "WHERE c.enabled = 1 AND d.delivered_at IS NULL AND d.failed_at IS NULL ORDER BY d.channel_id"
        ).fetchall()
    ]
    for channel_id in channel_ids:
        try:
            result = deliver_channel(db, channel_id, now, settings)
        except Exception:
            log.exception("channel %s: delivery run failed; it is tried again next run", channel_id)
            continue
        for key in total:
            total[key] += result[key]
    return total


def attempts(db, channel_id=None, limit=100):
    """The newest attempts, with the number of alerts each carried."""
    where, params = ("a.channel_id = ?", [channel_id]) if channel_id is not None else ("1 = 1", [])
    rows = [
        dict(r)
        for r in db.query(
            f"SELECT a.*, c.name AS channel_name, c.kind AS channel_kind FROM channel_attempt a JOIN channel c ON c.id = a.channel_id "
            f"WHERE {where} ORDER BY a.id DESC LIMIT ?",
            [*params, limit],
        )
    ]
    for row in rows:
        row["deliveries"] = json.loads(row["deliveries"])
        row["ok"] = bool(row["ok"])
    return rows
