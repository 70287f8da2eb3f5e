"""Backups of the live database, taken while the console goes on writing, and
putting one back.

A backup is made with SQLite's online backup API, never by copying the file:
a file copy taken during a write, or without its ``-wal`` file, can be torn.
The copy is written to a hidden temporary file beside the destination,
checked with ``PRAGMA integrity_check``, then renamed into place, so a
backup file that exists is always whole.
"""

import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from flask_babel import gettext as _

from . import migrations
from .clock import utcnow
from .errors import ConsoleError

# stem-20261123T100000Z.db: the database file's name and the UTC time of the copy.
NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)\.db$")
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(ConsoleError):
    """A backup or restore that could not be made; nothing was replaced."""


@dataclass(frozen=True)
class Backup:
    """A backup written: where, how big, how long it took, and the newest
    audit entry it holds (its id and hash: kept elsewhere, they show later
    whether the live audit log was rewritten before that entry)."""

    path: Path
    size: int
    seconds: float
    audit_last_id: Optional[int]
    audit_hash: Optional[str]


def folder(config):
    """BACKUP_FOLDER as a path: a relative one is inside the instance folder
    (the root of the app's config, and of run.py's)."""
    path = Path(config["BACKUP_FOLDER"])
    return path if path.is_absolute() else Path(config.root_path) / path


def backup_name(db_path, moment):
    """The file name a backup of ``db_path`` taken at ``moment`` gets in a folder."""
    return f"{Path(db_path).stem}-{moment.astimezone(timezone.utc).strftime(STAMP)}.db"


def _fsync(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check(path):
    """``PRAGMA integrity_check`` of a database file: 'ok', or what is wrong."""
    if not Path(path).is_file():
        raise BackupError(_("No database file at %(path)s.", path=str(path)))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return "ok" if rows == ["ok"] else "; ".join(rows)


def _audit_head(conn):
    try:
        row = conn.execute("SELECT last_id, hash FROM audit_head WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # a database from before the audit chain
        return None, None
    return row if row else (None, None)


def backup(db_path, dest_path, now=None, busy_timeout_ms=10000):
    """Copy the database at ``db_path`` to ``dest_path`` (a file, or a folder in
    which the copy is named ``backup_name``) while other processes write.

    The copy holds exactly what was committed when it began. The console's
    database is in WAL mode, where a reader never blocks a writer, so the
    pages are copied in one step inside one read transaction: writers go on
    committing meanwhile. (Copying a few pages per step would let them in
    between steps too, but SQLite restarts a stepped backup whenever another
    connection writes, so under a steady stream of writes it might never end.)
    The copy is switched to rollback-journal mode so it is one self-contained
    file; the console switches it back to WAL when it opens it.
    """
    source_path = Path(db_path)
    if not source_path.is_file():
        raise BackupError(_("No database file at %(path)s.", path=str(db_path)))
    dest = Path(dest_path)
    if dest.is_dir() or str(dest_path).endswith(os.sep):
        dest = dest / backup_name(source_path, now or utcnow())
    if dest.resolve() == source_path.resolve():
        raise BackupError(_("A backup cannot overwrite the database it copies."))
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_abandoned(dest.parent)
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    started = time.monotonic()
    source = sqlite3.connect(str(source_path), timeout=busy_timeout_ms / 1000)
    try:
        copy = sqlite3.connect(str(temporary))
        try:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")
            audit_last_id, audit_hash = _audit_head(copy)
        finally:
            copy.close()
        problems = check(temporary)
        if problems != "ok":
            raise BackupError(_("The copy failed its integrity check: %(problems)s", problems=problems))
        _fsync(temporary)
        os.replace(temporary, dest)
        _fsync(dest.parent, directory=True)
    finally:
        source.close()
        for leftover in (temporary, Path(f"{temporary}-journal")):
            if leftover.exists():
                leftover.unlink()
    return Backup(dest, dest.stat().st_size, time.monotonic() - started, audit_last_id, audit_hash)


def backups(folder, stem=None):
    """The backups in ``folder`` (of the database named ``stem``, if given) as
    (taken_at, path), oldest first. Other files there are never touched."""
    found = []
    folder = Path(folder)
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        match = NAME.match(path.name)
        if match and path.is_file() and (stem is None or match["stem"] == stem):
            taken = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=timezone.utc)
            found.append((taken, path))
    return sorted(found)


def prune(folder, keep, stem=None):
    """Delete all but the newest ``keep`` backups in ``folder`` (keep 0 keeps
    all), and the temporary files of backups whose process died mid-copy.
    Returns the paths deleted."""
    old = _abandoned(folder)
    if keep > 0:
        old += [path for _taken, path in backups(folder, stem)[:-keep]]
    for path in old:
        path.unlink(missing_ok=True)
    return old


# .<name>.<pid>.tmp, and the journals SQLite leaves beside it (-journal, -wal, -shm).
TEMPORARY = re.compile(r"^\..+\.(?P<pid>\d+)\.tmp(-journal|-wal|-shm)?$")


def _abandoned(folder):
    """Temporary files (``.<name>.<pid>.tmp`` and their ``-journal``) of
    backups whose process is gone (killed during a backup)."""
    found = []
    for path in sorted(Path(folder).iterdir()) if Path(folder).is_dir() else []:
        match = TEMPORARY.match(path.name)
        if match and path.is_file() and not _alive(int(match["pid"])):
            found.append(path)
    return found


def clean_abandoned(folder):
    """Delete what killed backups left in ``folder``; every backup run calls
    this first (the CLI's and the monitor's), so a kill leaves nothing behind
    for longer than until the next backup. Returns the paths deleted."""
    gone = _abandoned(folder)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# The smallest backup of this console: its empty schema with the region tables
# is about 370 KB; anything under 64 KB is a stub (an empty .tmp, a header).
MIN_BYTES = 64 * 1024
# Tables every console database has had since its first migrations.
CORE_TABLES = ("province", "user", "incident", "complainant", "audit_log")


def _header_size(path):
    """The size the SQLite header says the file has (page size x page count),
    or None when the file does not start like an SQLite database."""
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    return page_size * int.from_bytes(header[28:32], "big")


def refusal(path):
    """Why the file at ``path`` is not a complete backup of this console, or
    None when it is one: big enough, whole (as long as its header says),
    intact, with the console's tables and migrations, and an audit head that
    matches the newest audit entry."""
    path = Path(path)
    if not path.is_file():
        return _("there is no file there")
    size = path.stat().st_size
    if size < MIN_BYTES:
        return _(
            "it holds %(size)s bytes, less than the %(minimum)s of even an empty console database (an unfinished or empty copy)",
            size=f"{size:,}",
            minimum=f"{MIN_BYTES:,}",
        )
    expected = _header_size(path)
    if expected is None:
        return _("it is not an SQLite database")
    if expected != size:
        return _("it is cut short: its header says %(expected)s bytes, the file has %(size)s", expected=f"{expected:,}", size=f"{size:,}")
    problems = check(path)
    if problems != "ok":
        return _("it failed its integrity check: %(problems)s", problems=problems)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if migrations.migrations.migrations_table not in tables:
            return _("it has no migrations table (_sqlite_migrations): it is not a database of this console")
        applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", [migrations.migrations.name])]
        known = [m.name for m in migrations.migrations._migrations]
        if not applied or applied[0] != known[0]:
            return _("its migrations table does not record this console's migrations: it is not a database of this console")
        unknown = [name for name in applied if name not in known]
        if unknown:
            return _("it was made by a newer version of the console (migration %(name)s is unknown here)", name=unknown[0])
        missing = [t for t in CORE_TABLES if t not in tables]
        if missing:
            return _("the table %(table)s is missing", table=missing[0])
        if "audit_head" in tables:
            head = conn.execute("SELECT last_id, hash FROM audit_head WHERE id = 1").fetchone()
            newest = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
            if head is None:
                return _("its audit head (audit_head) is missing")
            if newest is None and head[0] != 0 or newest is not None and tuple(head) != tuple(newest):
                return _("its audit head (entry %(head)s) does not match its newest audit entry (%(newest)s)", head=head[0], newest=newest[0] if newest else 0)
    except sqlite3.DatabaseError as exc:
        return _("it could not be read: %(problem)s", problem=str(exc))
    finally:
        conn.close()
    return None


def _keep_name(target, now):
    """A name for the copy of ``target`` a restore keeps that no earlier copy
    has (two restores in one second must not overwrite the first's undo): the
    time to the microsecond, then a counter. The name is taken by creating
    the file exclusively, so the copy then replaces an empty placeholder."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    for n in range(1000):
        kept = target.with_name(f"{target.name}.before-restore-{stamp}{f'-{n}' if n else ''}.db")
        try:
            os.close(os.open(kept, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return kept
    raise BackupError(_("No free name for the copy of the database a restore keeps beside %(path)s.", path=str(target)))


def restore(backup_path, db_path, now=None):
    """Put a backup back as the database at ``db_path``. Stop the console first.

    Only a complete backup of this console is put back (``refusal``): an
    empty or cut-short file, another SQLite database or one whose audit head
    does not match is refused, naming the file and why, and the database is
    not touched. The database being replaced is first backed up beside
    itself (``<name>.before-restore-<time>.db``, a name no earlier copy has),
    so a restore can be undone. The pages are written with the backup API, which
    also takes care of the old database's ``-wal`` file (copying a file over a
    WAL database whose ``-wal`` is left behind corrupts it). A database too
    damaged to copy that way (often the reason for a restore) is kept as its
    raw files instead and replaced by a fresh file. Returns the path of the
    kept copy, or None when there was no database.
    """
    why = refusal(backup_path)
    if why is not None:
        raise BackupError(_("Refused to restore %(path)s: %(reason)s. The database was not touched.", path=str(backup_path), reason=why))
    target = Path(db_path)
    if target.resolve() == Path(backup_path).resolve():
        raise BackupError(_("A backup cannot overwrite the database it copies."))
    kept = None
    if target.is_file():
        kept = _keep_name(target, now or utcnow())
        try:
            backup(target, kept)
        except (BackupError, sqlite3.DatabaseError):
            for suffix in ("", "-wal"):
                if Path(f"{target}{suffix}").exists():
                    shutil.copy2(f"{target}{suffix}", f"{kept}{suffix}")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(str(target), timeout=10)
        try:
            source.backup(destination, pages=-1)
        finally:
            destination.close()
    finally:
        source.close()
    return kept
