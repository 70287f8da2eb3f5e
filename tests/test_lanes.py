"""The fast lane's shortcuts (tests/speed.py) change nothing a test sees."""

import sqlite3

from console import create_app, migrations
from console.db import connect

from .conftest import _test_config
from .speed import uncached_builder


def _contents(path):
    """Every object of the schema and every row (of the migrations table, the names)."""
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        rows = {}
        for kind, name, _, _ in schema:
            if kind == "table":
                columns = "name" if name == "_sqlite_migrations" else "*"  # applied_at differs
                rows[name] = sorted(conn.execute(f'SELECT {columns} FROM "{name}"').fetchall(), key=repr)
        return schema, rows
    finally:
        conn.close()


def test_the_template_copy_is_what_migrating_a_new_file_makes(app, tmp_path):
    """The app fixture's file (a copy of the session's template) against a file migrated from nothing."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    create_app(_test_config(fresh))
    copied_schema, copied_rows = _contents(app.config["DATABASE"])
    fresh_schema, fresh_rows = _contents(fresh / "console.db")
    assert copied_schema == fresh_schema
    assert copied_rows == fresh_rows
    assert len(copied_rows["province"]) == 34  # the reference data the first migration loads is there
    db = connect(app.config["DATABASE"])
    try:
        assert migrations.schema_version(db) == [m.name for m in migrations.migrations._migrations]
        assert db.journal_mode == "wal"
    finally:
        db.close()


def _value(converter):
    items = getattr(converter, "items", None)  # <any(csv, xlsx):...>
    return sorted(items)[0] if items else "7"


def test_cached_route_builders_build_what_werkzeug_builds(app):
    """Every route, built with the builder shared across apps and with the one Werkzeug compiles for it."""
    checked = 0
    for rule in app.url_map.iter_rules():
        values = {name: _value(rule._converters[name]) for name in rule.arguments}
        for append_unknown in (False, True):
            extra = {"page": "2", "q": "张 三"} if append_unknown else {}
            ours = (rule._build_unknown if append_unknown else rule._build)(**values, **extra)
            theirs = uncached_builder(rule, append_unknown)(**values, **extra)
            assert ours == theirs, rule.rule
            checked += 1
    assert checked > 300
    with app.test_request_context():
        from flask import url_for

        assert url_for("static", filename="a b.css") == "/static/a%20b.css"
