"""The channels page: where alerts are sent, the routing rules, test-send,
and every attempt logged. The crisis lead's."""

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError

from .. import channels, webhooks
from ..api.channels import test_send
from ..auth import current_actor, requires
from ..channels import delivery
from ..channels import schemas as cs
from ..channels.messages import kind_label
from ..clock import utcnow
from ..db import get_db
from ..errors import ConsoleError, pydantic_details
from ..vocabulary import ALERT_KINDS

bp = Blueprint("channels", __name__)


def _implicit_webhook(db):
    """The WEBHOOK_URL setting, shown as the channel it is, with its log."""
    url = current_app.config.get("WEBHOOK_URL")
    if not url:
        return None
    log = webhooks.delivery_log(db)
    return {"url": re.sub(r"([?&](key|access_token|token)=)[^&]+", r"\1••••", url), **log}


@bp.get("/channels")
@requires("channel.manage")
def page(errors=None, status=200, form_kind=None):
    db = get_db()
    rows = channels.list_channels(db)
    return render_template(
        "channels.html",
        channels=[channels.public(r) for r in rows],
        rules=[channels.public_rule(r) for r in channels.list_rules(db)],
        attempts=delivery.attempts(db, limit=100),
        implicit=_implicit_webhook(db),
        errors=errors or {},
        form_kind=form_kind,
        kinds={k: kind_label(k) for k in ALERT_KINDS if k != "severe"},
        names={r["id"]: r["name"] for r in rows},
    ), status


def _form_fields(model):
    """The submitted form as the model's fields: blanks left out, recipients split."""
    data = {}
    for name in model.model_fields:
        if name == "enabled":
            continue
        raw = (request.form.get(name) or "").strip()
        if not raw:
            continue
        data[name] = [r for r in re.split(r"[\s,;]+", raw) if r] if name == "recipients" else raw
    return data


@bp.post("/channels")
@requires("channel.manage")
def create():
    kind = request.form.get("kind")
    model = cs.CHANNEL_MODELS.get(kind)
    if model is None:
        return page(errors={"kind": _("Choose the kind of channel.")}, status=422)
    try:
        fields = model.model_validate({**_form_fields(model), "kind": kind}).model_dump()
    except ValidationError as exc:
        return page(errors={p["field"].split(".")[0]: p["message"] for p in pydantic_details(exc)}, status=422, form_kind=kind)
    channels.create(get_db(), fields, current_actor(), utcnow())
    flash(_("Channel %(name)s added.", name=fields["name"]))
    return redirect(url_for("channels.page"))


@bp.post("/channels/<int:channel_id>/test")
@requires("channel.manage")
def test(channel_id):
    result = test_send(get_db(), channel_id, current_app.config)
    if result["delivered"]:
        flash(_("Test message sent."))
    elif result["attempts"]:
        flash(_("The test message failed: %(error)s. It is retried with the channel's backoff.", error=result["attempts"][-1]["error"] or ""))
    else:
        flash(_("The test message is queued: the channel's rate limit is used up for now."))
    return redirect(url_for("channels.page"))


@bp.post("/channels/<int:channel_id>/enabled")
@requires("channel.manage")
def set_enabled(channel_id):
    from ..api.channels import validate_fields

    enabled = request.form.get("enabled") == "1"
    channels.update(get_db(), channel_id, {"enabled": enabled}, validate_fields, current_actor(), utcnow())
    flash(_("Channel switched on.") if enabled else _("Channel switched off."))
    return redirect(url_for("channels.page"))


@bp.post("/channels/<int:channel_id>/delete")
@requires("channel.manage")
def remove(channel_id):
    channels.delete(get_db(), channel_id, current_actor(), utcnow())
    flash(_("Channel removed."))
    return redirect(url_for("channels.page"))


@bp.post("/channel-rules")
@requires("channel.manage")
def add_rule():
    data = {
        "channel_id": request.form.get("channel_id") or None,
        "kinds": request.form.getlist("kinds"),
        "min_level": request.form.get("min_level") or "info",
        "scope_code": (request.form.get("scope_code") or "").strip() or None,
    }
    try:
        rule = cs.ChannelRuleIn.model_validate(data)
        channels.add_rule(get_db(), rule.channel_id, rule.kinds, rule.min_level, rule.scope_code, current_actor(), utcnow())
    except ValidationError as exc:
        return page(errors={"rule_" + p["field"].split(".")[0]: p["message"] for p in pydantic_details(exc)}, status=422)
    except ConsoleError as exc:
        return page(errors={"rule_" + (exc.details or [{}])[0].get("field", "channel_id"): exc.message}, status=exc.status)
    flash(_("Routing rule added."))
    return redirect(url_for("channels.page"))


@bp.post("/channel-rules/<int:rule_id>/delete")
@requires("channel.manage")
def remove_rule(rule_id):
    channels.delete_rule(get_db(), rule_id, current_actor(), utcnow())
    flash(_("Routing rule removed."))
    return redirect(url_for("channels.page"))
