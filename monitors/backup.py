"""Scheduled backups: every BACKUP_EVERY_MINUTES, keeping the newest BACKUP_KEEP."""

from datetime import timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l

from console import backup

from .base import Monitor


def run(db, now, settings, outbox):
    """Take a backup when the newest one in BACKUP_FOLDER is BACKUP_EVERY_MINUTES
    old or more, then prune. Decided from the backups on disk, not from ticks:
    a run missed while the console was down is made up at the next start, and
    with several processes the lease per minute lets only one take it."""
    every = settings["BACKUP_EVERY_MINUTES"]
    if every <= 0:
        return {"backup": "off"}
    folder, stem = backup.folder(settings), Path(settings["DATABASE"]).stem
    now = now.replace(microsecond=0)
    existing = backup.backups(folder, stem)
    if existing and existing[-1][0] + timedelta(minutes=every) > now:
        return {"backup": "not due", "newest": str(existing[-1][1])}
    made = backup.backup(
        settings["DATABASE"], folder / backup.backup_name(settings["DATABASE"], now), now=now, busy_timeout_ms=settings["SQLITE_BUSY_TIMEOUT_MS"]
    )
    pruned = backup.prune(folder, settings["BACKUP_KEEP"], stem)
    return {"backup": str(made.path), "bytes": made.size, "seconds": round(made.seconds, 3), "pruned": [str(p) for p in pruned]}


MONITOR = Monitor("backup", timedelta(minutes=1), run, _l("Backs the database up every BACKUP_EVERY_MINUTES, keeping the newest BACKUP_KEEP."))
