"""Deliver queued alerts to the configured webhook, with retries and backoff."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.webhooks import deliver_due

from .base import Monitor


def run(db, now, settings, outbox):
    if settings.get("DRILL"):  # a drill console sends nothing outside (console/drills.py)
        return {"skipped": "drill"}
    delivered, failed = deliver_due(db, now, settings)
    return {"delivered": delivered, "failed_attempts": failed}


MONITOR = Monitor("webhooks", timedelta(seconds=15), run, _l("Posts alerts to WEBHOOK_URL, signed, retried with backoff."))
