"""Branches that have gone silent: 60 minutes plus a grace without an update
nudges the branch contact; a second missed hour alerts the province's manager
and the crisis lead. The clock restarts at each update."""

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from console.alerts import manager_audience, raise_alert
from console.clock import local
from console.figures import RESPONDING_INCIDENT_STATUSES, incident_status_sql
from console.org import managers_for
from console.updates import reporting_status

from .base import Monitor, each


def run(db, now, settings, outbox):
    def shown(moment):
        return local(moment, settings["TIMEZONE"]).strftime("%Y-%m-%d %H:%M")

    def handle(incident):
        raised = 0
        for branch in reporting_status(db, incident, now, settings):
            place = dict(incident_id=incident["id"], province_code=branch["province_code"], branch_code=branch["branch_code"])
            outlet_managers = managers_for(db, branch["branch_code"], ("outlet",))  # the outlet's own managers are told first
            all_managers = managers_for(db, branch["branch_code"])  # then its city's and province branch's too
            if branch["missed"] >= 1:
                raised += (
                    raise_alert(
                        db,
                        key=f"missed_update:{incident['id']}:{branch['branch_code']}:{branch['clock_from']}:1",
                        kind="missed_update",
                        level="warning",
                        message=_(
                            "%(branch)s has not posted its hourly update since %(since)s. Please post one now.",
                            branch=branch["name"],
                            since=shown(branch["clock_from"]),
                        ),
                        now=now,
                        audience={f"branch:{branch['branch_code']}", "team", *manager_audience(outlet_managers)},
                        data={**branch, "managers": outlet_managers},
                        outbox=outbox,
                        settings=settings,
                        **place,
                    )
                    is not None
                )
            if branch["missed"] >= 2:
                raised += (
                    raise_alert(
                        db,
                        key=f"missed_update:{incident['id']}:{branch['branch_code']}:{branch['clock_from']}:2",
                        kind="missed_update",
                        level="critical",
                        message=_(
                            "%(branch)s has missed two hourly updates (silent since %(since)s).", branch=branch["name"], since=shown(branch["clock_from"])
                        ),
                        now=now,
                        audience={"lead", f"province:{branch['province_code']}", *manager_audience(all_managers)},
                        data={**branch, "managers": all_managers},
                        outbox=outbox,
                        settings=settings,
                        **place,
                    )
                    is not None
                )
        return raised

    incidents = [dict(r) for r in db.query(f"SELECT * FROM incident WHERE {incident_status_sql(RESPONDING_INCIDENT_STATUSES)}")]
    raised, failed = each(db, "missed_updates", incidents, handle, now, settings, outbox)
    return {"alerts": sum(raised), "failed": failed}


MONITOR = Monitor("missed_updates", timedelta(minutes=1), run, _l("Nudges silent branches, then alerts their province manager and the crisis lead."))
