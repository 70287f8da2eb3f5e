"""The crowd rule over time: an outlet that stays closed crosses the 4 h / 2 h
lines with no new update, so the latest updates are re-read every minute.
Each incident is decided in its own transaction (``base.each``)."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.figures import OPEN_INCIDENT_STATUSES, incident_status_sql
from console.updates import check_crowd

from .base import Monitor, each


def run(db, now, settings, outbox):
    incidents = [dict(r) for r in db.query(f"SELECT id FROM incident WHERE {incident_status_sql(OPEN_INCIDENT_STATUSES)}")]
    raised, failed = each(db, "crowd", incidents, lambda incident: len(check_crowd(db, incident["id"], now, settings, outbox)), now, settings, outbox)
    return {"alerts": sum(raised), "failed": failed}


MONITOR = Monitor("crowd", timedelta(minutes=1), run, _l("Group visits, major complaints in person, and the mass-incident rule."))
