"""Alert channels and their routing rules over JSON: the crisis lead's."""

from flask import current_app
from pydantic import ValidationError

from .. import channels
from ..auth import current_actor
from ..channels import delivery
from ..channels import schemas as cs
from ..clock import utcnow
from ..db import get_db
from ..errors import Invalid, pydantic_details, summary
from . import operation


def _channel(channel_id, **_path):
    channels.get(get_db(), channel_id)


def _rule(rule_id, **_path):
    channels.get_rule(get_db(), rule_id)


def validate_fields(fields):
    """A channel's fields checked by its kind's model; Invalid (422) with each problem if not."""
    model = cs.CHANNEL_MODELS[fields["kind"]]
    try:
        return model.model_validate(fields).model_dump()
    except ValidationError as exc:
        problems = pydantic_details(exc)
        raise Invalid(summary(problems), details=problems) from None


@operation("/channels", "GET", "channel.manage", "Alert channels (credentials masked)", response=cs.ChannelList, tag="channels")
def list_channels():
    return {"channels": [channels.public(r) for r in channels.list_channels(get_db())]}


@operation(
    "/channels",
    "POST",
    "channel.manage",
    "Add a WeCom, DingTalk, Feishu, e-mail or webhook channel",
    body=cs.ChannelIn,
    status=201,
    response=cs.Channel,
    tag="channels",
)
def create_channel(body):
    db = get_db()
    channel_id = channels.create(db, body.model_dump(), current_actor(), utcnow())
    return channels.public(channels.get(db, channel_id))


@operation("/channels/<int:channel_id>", "GET", "channel.manage", "One channel (credentials masked)", response=cs.Channel, tag="channels", visible=_channel)
def get_channel(channel_id):
    return channels.public(channels.get(get_db(), channel_id))


@operation(
    "/channels/<int:channel_id>",
    "PATCH",
    "channel.manage",
    "Change a channel; a credential left out is kept",
    body=cs.ChannelPatch,
    response=cs.Channel,
    tag="channels",
    visible=_channel,
)
def update_channel(channel_id, body):
    changes = body.model_dump(exclude_none=True)
    return channels.public(channels.update(get_db(), channel_id, changes, validate_fields, current_actor(), utcnow()))


@operation("/channels/<int:channel_id>", "DELETE", "channel.manage", "Remove a channel with its rules and log", tag="channels", visible=_channel)
def delete_channel(channel_id):
    channels.delete(get_db(), channel_id, current_actor(), utcnow())
    return {"id": channel_id, "deleted": True}


@operation(
    "/channels/<int:channel_id>/test",
    "POST",
    "channel.manage",
    "Send a test message now (within the channel's rate limit)",
    response=cs.TestSend,
    tag="channels",
    visible=_channel,
)
def test_channel(channel_id):
    return test_send(get_db(), channel_id, current_app.config)


def test_send(db, channel_id, settings):
    """Queue a test message and try the channel at once; what happened."""
    now = utcnow()
    delivery_id = channels.queue_test(db, channel_id, now)
    result = delivery.deliver_channel(db, channel_id, now, settings, force=True)
    row = db["channel_delivery"].get(delivery_id)
    tried = [a for a in delivery.attempts(db, channel_id, limit=50) if a["id"] in result["attempt_ids"]]
    return {"delivery_id": delivery_id, "delivered": row["delivered_at"] is not None, "waiting": result["waiting"], "attempts": tried}


@operation(
    "/channels/<int:channel_id>/attempts",
    "GET",
    "channel.manage",
    "Every message tried on the channel, newest first",
    response=cs.ChannelAttemptList,
    tag="channels",
    visible=_channel,
)
def channel_attempts(channel_id):
    return {"attempts": delivery.attempts(get_db(), channel_id, limit=500)}


@operation("/channel-rules", "GET", "channel.manage", "Routing rules: which alerts go to which channel", response=cs.ChannelRuleList, tag="channels")
def list_rules():
    return {"rules": [channels.public_rule(r) for r in channels.list_rules(get_db())]}


@operation("/channel-rules", "POST", "channel.manage", "Add a routing rule", body=cs.ChannelRuleIn, status=201, response=cs.ChannelRule, tag="channels")
def create_rule(body):
    db = get_db()
    rule_id = channels.add_rule(db, body.channel_id, body.kinds, body.min_level, body.scope_code, current_actor(), utcnow())
    return channels.public_rule(channels.get_rule(db, rule_id))


@operation("/channel-rules/<int:rule_id>", "DELETE", "channel.manage", "Remove a routing rule", tag="channels", visible=_rule)
def delete_rule(rule_id):
    channels.delete_rule(get_db(), rule_id, current_actor(), utcnow())
    return {"id": rule_id, "deleted": True}
