"""Surge: many complaints with one cause or product in one place -> an incident."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from console.audit import Actor
from console.catalogue import surge_settings
from console.intake import run_surge_rule

from .base import Monitor, each

ACTOR = Actor(user_id=None, username="surge monitor", route="monitor surge")


def run(db, now, settings, outbox):
    """Each open incident and each surge in its own transaction: a bad complaint
    is quarantined, a failing cause is logged and alerted, the others go on.
    The rule per cause comes from the catalogue."""

    def one_by_one(items, handle, subject):
        return each(db, "surge", items, handle, now, settings, outbox, subject=subject)

    return run_surge_rule(db, now, surge_settings(db, settings), ACTOR, outbox, each=one_by_one)


MONITOR = Monitor("surge", timedelta(minutes=1), run, _l("Detects surges of intake complaints and opens or feeds incidents."))
