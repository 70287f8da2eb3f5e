"""Playbook tasks whose trigger fired since the last run: each day's tasks, the
follow-up call after each settlement, each new group's handling line."""

from datetime import timedelta

from console.tasks import sync_tasks

from .base import Monitor


def run(db, now, settings, outbox):
    made = 0
    for incident in db.query("SELECT id FROM incident WHERE status = 'active' AND playbook IS NOT NULL"):
        made += sync_tasks(db, incident["id"], now, settings, outbox)
    return {"tasks": made}


MONITOR = Monitor("tasks", timedelta(minutes=1), run, "Makes the playbook tasks of daily, settlement and group triggers.")
