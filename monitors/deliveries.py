"""Send queued alerts to the channels their rules name (WeCom, DingTalk, Feishu, e-mail, webhooks)."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.channels.delivery import deliver_due

from .base import Monitor


def run(db, now, settings, outbox):
    if settings.get("DRILL"):  # a drill console sends nothing outside (console/drills.py)
        return {"skipped": "drill"}
    return deliver_due(db, now, settings)


MONITOR = Monitor("deliveries", timedelta(seconds=15), run, _l("Sends alerts to the configured channels: rate-limited, batched, retried with backoff."))
