"""The daily roll-up at each cut-off (ROLLUP_TIME, Asia/Shanghai by default).

Decided from stored state: every passed cut-off of an active incident without
its roll-up gets one, so a server that was down at 18:00 makes the missed one
when it comes back (marked late), once; a unique index on (incident, cut-off)
keeps two processes from making two.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.audit import Actor
from console.figures import RESPONDING_INCIDENT_STATUSES, incident_status_sql
from console.rollups import due_scheduled, make

from .base import Monitor, each

ACTOR = Actor(user_id=None, username="roll-up monitor", route="monitor rollups")


def run(db, now, settings, outbox):
    def handle(incident):
        made = []
        for cut in due_scheduled(db, incident, now, settings):
            rollup_id = make(db, incident["id"], cut, now, settings, "monitor", ACTOR, outbox=outbox)
            if rollup_id is not None:
                made.append(rollup_id)
        return made

    incidents = [dict(r) for r in db.query(f"SELECT * FROM incident WHERE {incident_status_sql(RESPONDING_INCIDENT_STATUSES)}")]
    made, failed = each(db, "rollups", incidents, handle, now, settings, outbox)
    return {"rollups": [r for batch in made for r in batch], "failed": failed}


MONITOR = Monitor("rollups", timedelta(minutes=1), run, _l("Makes each active incident's daily roll-up at the cut-off, late ones on restart."))
