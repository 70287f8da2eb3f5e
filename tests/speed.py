"""What keeps the in-process lane fast without changing what a test sees.

Profiling the lane (cProfile on tests/test_status.py) showed each test's
``app`` fixture paying for two things the test does not examine:

- **Migrations** on a new, empty file (about 0.1 s): the ``app`` fixture now
  copies a file the app migrated once per session (``fresh_database``); every
  test still gets its own real SQLite file, and the app's start-up still runs
  ``migrate`` on it (which finds nothing left to do).
- **Werkzeug compiling a URL builder for each route** (about half of
  ``create_app``: two ``ast`` trees compiled to Python per rule, 190 rules,
  for every app made). ``cache_route_builders`` memoises
  ``Rule._compile_builder``: the builder it returns is a plain function of
  the rule's text, parsed trace and defaults (it reaches the rule's own
  converters through the ``self`` it is bound to), so two rules with the same
  key get the same code. ``tests/test_lanes.py`` builds every route of the
  app both ways and compares.
"""

import os
import shutil

from werkzeug.routing import rules


def fresh_database(template, path):
    """A new database file at ``path``: a copy of the migrated ``template``."""
    template = str(template)
    for suffix in ("-wal", "-shm"):
        # closed by the app that made it, the template is one self-contained file
        assert not os.path.exists(template + suffix), f"{template}{suffix} left open"
    shutil.copyfile(template, path)
    return path


_uncached = rules.Rule._compile_builder
_builders = {}


def _builder_key(rule, append_unknown):
    defaults = tuple(sorted((k, repr(v)) for k, v in (rule.defaults or {}).items()))
    host = rule.host if rule.map.host_matching else rule.subdomain
    return (rule.rule, host, rule.merge_slashes, tuple(rule._trace), defaults, append_unknown)


def _cached_compile_builder(self, append_unknown=True):
    key = _builder_key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _uncached(self, append_unknown)
    return builder


def cache_route_builders():
    """Reuse Werkzeug's compiled URL builders across the apps a test run makes."""
    rules.Rule._compile_builder = _cached_compile_builder


def uncached_builder(rule, append_unknown=True):
    """The builder Werkzeug itself compiles for ``rule`` (for the test that compares)."""
    return _uncached(rule, append_unknown).__get__(rule, None)
