"""The scheduled watchers, declared in one list.

Each module defines ``MONITOR``: its id, how often it runs, and
``run(db, now, settings, outbox) -> summary``. A run decides from stored
state ("due at or before now and not yet told"), never from counting ticks,
so a missed run loses nothing and a repeated one raises nothing twice.
``monitors.runner`` runs them under a lease per period, so with several
processes each monitor runs once per period.
"""

from . import backup, crowd, deliveries, missed_updates, rollups, surge, tasks, timers, webhooks

MONITORS = [
    surge.MONITOR,
    missed_updates.MONITOR,
    timers.MONITOR,
    crowd.MONITOR,
    tasks.MONITOR,
    rollups.MONITOR,
    webhooks.MONITOR,
    deliveries.MONITOR,
    backup.MONITOR,
]
