"""The SQLite database: opening it, one handle per request, and write transactions."""

import contextlib
import sqlite3
import threading

import sqlite_utils
from flask import current_app, g

_process_write_lock = threading.RLock()


def connect(path, busy_timeout_ms=10000):
    """Open the database file with WAL, a busy timeout and foreign keys on.

    The schema is not touched here; call ``migrations.migrate`` for that.
    """
    conn = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
    db.execute("PRAGMA cache_size = -65536")  # 64 MiB: indexes of 100,000s of rows stay in memory
    if str(path) != ":memory:" and db.journal_mode != "wal":
        db.enable_wal()
    return db


@contextlib.contextmanager
def write(db):
    """A write transaction that takes the write lock at once (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails with
    'database is locked' under concurrency; taking the lock up front makes the
    busy timeout apply instead. Nested calls become savepoints. Everything in
    the block commits together or not at all.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    # Writers of this process queue on a lock first: SQLite's busy handler
    # polls with growing sleeps and lets some of 200 waiting threads starve
    # past the timeout, while this lock hands the database over in turn.
    with _process_write_lock:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        else:
            try:
                db.conn.execute("COMMIT")
            except BaseException:
                db.rollback()
                raise


@contextlib.contextmanager
def read_snapshot(db):
    """One consistent read: every query in the block sees the same committed
    state (a deferred transaction that only reads). Inside a write
    transaction, the writer's own view."""
    if db.conn.in_transaction:
        yield db
        return
    db.conn.execute("BEGIN")
    try:
        yield db
    finally:
        db.conn.execute("ROLLBACK")  # nothing was written: ending the read is all it does


class Pool:
    """Idle connections of one app, reused across requests.

    Opening a connection and setting its pragmas costs about 0.6 ms, a sixth
    of a small write request. A handle goes back only outside a transaction
    (one left open is rolled back first); at most ``size`` wait idle.
    """

    def __init__(self, path, busy_timeout_ms, size=16):
        self.path, self.busy_timeout_ms, self.size = path, busy_timeout_ms, size
        self.idle = []
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return connect(self.path, self.busy_timeout_ms)

    def give_back(self, db):
        try:
            if db.conn.in_transaction:
                db.conn.rollback()
        except sqlite3.Error:
            db.close()
            return
        with self.lock:
            if len(self.idle) < self.size:
                self.idle.append(db)
                return
        db.close()


def get_db():
    """The request's database handle, taken on first use and given back at teardown."""
    if "db" not in g:
        g.db = current_app.extensions["console_db_pool"].take()
    return g.db


def close_db(exc=None):
    db = g.pop("db", None)
    if db is not None:
        current_app.extensions["console_db_pool"].give_back(db)


def init_app(app):
    """Create or migrate the schema once, and close the handle after each request."""
    from . import identity, migrations

    db = connect(app.config["DATABASE"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
    try:
        migrations.migrate(db)
        identity.rehash_if_needed(db, identity.matching_key(app.config["SECRET_KEY"]))
    finally:
        db.close()
    app.extensions["console_db_pool"] = Pool(app.config["DATABASE"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
    app.teardown_appcontext(close_db)
