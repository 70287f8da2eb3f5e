"""What a monitor is."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable


@dataclass(frozen=True)
class Monitor:
    id: str
    every: timedelta
    run: Callable  # run(db, now, settings, outbox) -> dict
    description: str

    @property
    def misfire_grace_seconds(self):
        """A run may start late by up to one period; later ones are skipped (the next run catches up)."""
        return int(self.every.total_seconds())
