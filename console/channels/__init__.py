"""Alert channels: the group chats and mailboxes crisis teams already read.

The policy, in one place:
- A **channel** is a WeCom group robot, a DingTalk custom robot, a Feishu
  custom bot, an SMTP mailbox or a signed webhook, configured by the crisis
  lead. Credentials are kept in the ``secret`` column and only ever shown
  masked (the last four characters), by the pages and by the API.
- A **rule** sends a channel the alerts of some kinds (none listed: every
  kind), at or above a level, optionally only those about one province or
  branch. An alert matching several rules of a channel goes there once.
- Raising an alert queues one ``channel_delivery`` per matching channel in
  the alert's own transaction (the outbox, unique per (alert, channel)); the
  ``deliveries`` monitor sends them (console/channels/delivery.py).
- The ``WEBHOOK_URL`` setting stays what it was: an implicit signed-webhook
  channel that gets every alert, delivered by console/webhooks.py, whose log
  the channels page shows beside the others.
"""

import json

from flask_babel import gettext as _

from .. import vocabulary
from ..clock import to_iso
from ..errors import Invalid, NotFound

KINDS = ("wecom", "dingtalk", "feishu", "email", "webhook")
LEVELS = tuple(vocabulary.ALERT_LEVELS)

# Per kind: which of a channel's fields are credentials (kept in ``secret``).
SECRET_FIELDS = {
    "wecom": ("key",),
    "dingtalk": ("access_token", "secret"),
    "feishu": ("hook_id", "secret"),
    "email": ("password",),
    "webhook": ("secret",),
}


def mask_secret(value):
    """A credential as the console shows it: its last four characters at most, and
    none of a short one."""
    if not value:
        return ""
    value = str(value)
    return "••••" + (value[-4:] if len(value) >= 12 else "")


def _split(kind, fields):
    """(config, secret) of a validated channel's fields."""
    secret_names = SECRET_FIELDS[kind]
    config = {k: v for k, v in fields.items() if k not in secret_names and k not in ("kind", "name", "enabled") and v is not None}
    secret = {k: v for k, v in fields.items() if k in secret_names and v is not None}
    return config, secret


def public(row):
    """A channel as the API and pages show it: settings with credentials masked."""
    config = json.loads(row["config"])
    secret = json.loads(row["secret"])
    shown = dict(config)
    for name in SECRET_FIELDS[row["kind"]]:
        shown[name] = mask_secret(secret.get(name))
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "enabled": bool(row["enabled"]),
        "settings": shown,
        "failures": row["failures"],
        "retry_at": row["retry_at"],
        "pending": row.get("pending", 0),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def get(db, channel_id):
    rows = [
        dict(r)
        for r in db.query(
            "SELECT c.*, (SELECT count(*) FROM channel_delivery d WHERE d.channel_id = c.id AND d.delivered_at IS NULL AND d.failed_at IS NULL) AS pending "
            "FROM channel c WHERE c.id = ?",
            [channel_id],
        )
    ]
    if not rows:
        raise NotFound(_("No channel %(id)s.", id=channel_id))
    return rows[0]


def list_channels(db):
    return [
        dict(r)
        for r in db.query(
            "SELECT c.*, (SELECT count(*) FROM channel_delivery d WHERE d.channel_id = c.id AND d.delivered_at IS NULL AND d.failed_at IS NULL) AS pending "
            "FROM channel c ORDER BY c.id"
        )
    ]


def create(db, fields, actor, now):
    """Add a channel from validated fields (a schemas.*ChannelIn dumped); returns its id."""
    from .. import audit
    from ..db import write

    config, secret = _split(fields["kind"], fields)
    row = {
        "name": fields["name"],
        "kind": fields["kind"],
        "config": json.dumps(config, ensure_ascii=False),
        "secret": json.dumps(secret, ensure_ascii=False),
        "enabled": int(fields.get("enabled", True)),
        "created_at": to_iso(now),
        "created_by": actor.user_id,
        "updated_at": to_iso(now),
    }
    with write(db):
        channel_id = db["channel"].insert(row).last_pk
        audit.record(db, actor, "channel", channel_id, "create", after={**row, "secret": sorted(secret)}, at=now)
    return channel_id


def current_fields(row):
    """Every field of a stored channel, credentials included (for re-validation on update)."""
    return {"kind": row["kind"], "name": row["name"], "enabled": bool(row["enabled"]), **json.loads(row["config"]), **json.loads(row["secret"])}


def update(db, channel_id, changes, validate, actor, now):
    """Change a channel: ``changes`` (fields given) over the stored ones, checked
    again by ``validate(fields) -> fields`` for its kind; a credential left out is kept."""
    from .. import audit
    from ..db import write

    with write(db):
        row = get(db, channel_id)
        if "kind" in changes and changes["kind"] != row["kind"]:
            raise Invalid(_("A channel's kind cannot change: add a new channel."), details=[{"field": "kind", "message": "cannot change"}])
        fields = validate({**current_fields(row), **{k: v for k, v in changes.items() if v is not None}})
        config, secret = _split(row["kind"], fields)
        after = {
            "name": fields["name"],
            "enabled": int(fields.get("enabled", True)),
            "config": json.dumps(config, ensure_ascii=False),
            "secret": json.dumps(secret, ensure_ascii=False),
            "updated_at": to_iso(now),
        }
        if after["enabled"] and not row["enabled"]:
            after.update(failures=0, retry_at=None)
        db["channel"].update(channel_id, after)
        audit.record(
            db,
            actor,
            "channel",
            channel_id,
            "update",
            before={"name": row["name"], "enabled": row["enabled"], "config": row["config"]},
            after={**after, "secret": sorted(secret)},
            at=now,
        )
    return get(db, channel_id)


def delete(db, channel_id, actor, now):
    """Remove a channel with its rules, queue and log."""
    from .. import audit
    from ..db import write

    with write(db):
        row = get(db, channel_id)
        for table in ("channel_rule", "channel_attempt", "channel_delivery"):
            db.execute(f"DELETE FROM {table} WHERE channel_id = ?", [channel_id])
        db.execute("DELETE FROM channel WHERE id = ?", [channel_id])
        audit.record(db, actor, "channel", channel_id, "delete", before={"name": row["name"], "kind": row["kind"]}, at=now)


# Rules -----------------------------------------------------------------


def public_rule(row):
    return {
        "id": row["id"],
        "channel_id": row["channel_id"],
        "kinds": json.loads(row["kinds"]),
        "min_level": row["min_level"],
        "scope_kind": row["scope_kind"],
        "scope_code": row["scope_code"],
        "created_at": row["created_at"],
    }


def list_rules(db, channel_id=None):
    where, params = ("channel_id = ?", [channel_id]) if channel_id is not None else ("1 = 1", [])
    return [dict(r) for r in db.query(f"SELECT * FROM channel_rule WHERE {where} ORDER BY id", params)]


def get_rule(db, rule_id):
    rows = [dict(r) for r in db.query("SELECT * FROM channel_rule WHERE id = ?", [rule_id])]
    if not rows:
        raise NotFound(_("No routing rule %(id)s.", id=rule_id))
    return rows[0]


def add_rule(db, channel_id, kinds, min_level, scope_code, actor, now):
    """Send ``channel_id`` the alerts of ``kinds`` (all when empty) at ``min_level`` or
    above, about ``scope_code`` (a province or branch code) or anywhere when None."""
    from .. import audit
    from ..access import resolve_scope
    from ..db import write

    with write(db):
        try:
            get(db, channel_id)
        except NotFound:
            raise Invalid(_("No channel %(id)s.", id=channel_id), details=[{"field": "channel_id", "message": "no such channel"}]) from None
        scope_kind = None
        if scope_code:
            try:
                scope_kind, scope_code = resolve_scope(db, scope_code)
            except ValueError as exc:
                raise Invalid(
                    _("%(code)s is neither a province code nor a known branch code.", code=scope_code), details=[{"field": "scope_code", "message": str(exc)}]
                ) from None
        row = {
            "channel_id": channel_id,
            "kinds": json.dumps(sorted(set(kinds))),
            "min_level": min_level,
            "scope_kind": scope_kind,
            "scope_code": scope_code or None,
            "created_at": to_iso(now),
            "created_by": actor.user_id,
        }
        rule_id = db["channel_rule"].insert(row).last_pk
        audit.record(db, actor, "channel_rule", rule_id, "create", after=row, at=now)
    return rule_id


def delete_rule(db, rule_id, actor, now):
    from .. import audit
    from ..db import write

    with write(db):
        row = get_rule(db, rule_id)
        db.execute("DELETE FROM channel_rule WHERE id = ?", [rule_id])
        audit.record(db, actor, "channel_rule", rule_id, "delete", before=row, at=now)


def rule_matches(rule, kind, level, province_code, branch_code):
    """Whether an alert of this kind, level and place goes to the rule's channel."""
    kinds = json.loads(rule["kinds"]) if isinstance(rule["kinds"], str) else rule["kinds"]
    if kinds and kind not in kinds:
        return False
    if LEVELS.index(level) < LEVELS.index(rule["min_level"]):
        return False
    if rule["scope_kind"] == "province":
        return province_code == rule["scope_code"]
    if rule["scope_kind"] == "branch":
        return branch_code == rule["scope_code"]
    return True


def route_alert(db, alert_id, kind, level, province_code, branch_code, now):
    """Queue a just-raised alert for every enabled channel one of whose rules it
    matches; call inside the alert's transaction. Returns the channel ids."""
    rules = [dict(r) for r in db.query("SELECT r.* FROM channel_rule r JOIN channel c ON c.id = r.channel_id WHERE c.enabled = 1")]
    channels = sorted({r["channel_id"] for r in rules if rule_matches(r, kind, level, province_code, branch_code)})
    for channel_id in channels:
        db.execute("INSERT OR IGNORE INTO channel_delivery (channel_id, alert_id, created_at) VALUES (?, ?, ?)", [channel_id, alert_id, to_iso(now)])
    return channels


def queue_test(db, channel_id, now):
    """Queue a test message for a channel; returns the delivery id."""
    from ..db import write

    with write(db):
        get(db, channel_id)
        return db.execute("INSERT INTO channel_delivery (channel_id, alert_id, test, created_at) VALUES (?, NULL, 1, ?)", [channel_id, to_iso(now)]).lastrowid
