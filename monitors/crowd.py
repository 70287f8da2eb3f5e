"""The crowd rule over time: an outlet that stays closed crosses the 4 h / 2 h
lines with no new update, so the latest updates are re-read every minute."""

from datetime import timedelta

from console.updates import check_crowd

from console.db import write

from .base import Monitor


def run(db, now, settings, outbox):
    raised = []
    for incident in db.query("SELECT id FROM incident WHERE status IN ('monitoring', 'active')"):
        with write(db):
            raised += check_crowd(db, incident["id"], now, settings, outbox)
    return {"alerts": len(raised)}


MONITOR = Monitor("crowd", timedelta(minutes=1), run, "Group visits, major complaints in person, and the mass-incident rule.")
