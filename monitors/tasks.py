"""Playbook tasks whose trigger fired since the last run: each day's tasks, the
follow-up call after each settlement, each new group's handling line.
Each incident is handled in its own transaction (``base.each``)."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.figures import RESPONDING_INCIDENT_STATUSES, incident_status_sql
from console.tasks import sync_tasks

from .base import Monitor, each


def run(db, now, settings, outbox):
    incidents = [dict(r) for r in db.query(f"SELECT id FROM incident WHERE {incident_status_sql(RESPONDING_INCIDENT_STATUSES)} AND playbook IS NOT NULL")]
    made, failed = each(db, "tasks", incidents, lambda incident: sync_tasks(db, incident["id"], now, settings, outbox), now, settings, outbox)
    return {"tasks": sum(made), "failed": failed}


MONITOR = Monitor("tasks", timedelta(minutes=1), run, _l("Makes the playbook tasks of daily, settlement and group triggers."))
