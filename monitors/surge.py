"""Surge: many complaints with one cause or product in one place -> an incident."""

from datetime import timedelta

from console.audit import Actor
from console.catalogue import surge_settings
from console.intake import run_surge_rule

from .base import Monitor

ACTOR = Actor(user_id=None, username="surge monitor", route="monitor surge")


def run(db, now, settings, outbox):
    return run_surge_rule(db, now, surge_settings(db, settings), ACTOR, outbox)  # the catalogue's rule per cause


MONITOR = Monitor("surge", timedelta(minutes=1), run, "Detects surges of intake complaints and opens or feeds incidents.")
