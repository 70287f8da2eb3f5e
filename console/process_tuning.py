"""The serving process's thread switch interval and garbage collector, set once the app is built.

CPython's cyclic collector runs a young collection every 700 new container
objects and, every so often, a full one that walks every object in the
process. A bulk import of 10,000 complainants makes millions of short-lived
objects (the request's JSON, the validated models, the rows), so the
collector ran hundreds of times per batch and, in its full collections,
walked the whole app as well: modules, Flask, Babel's catalogues, pydantic's
schemas, the region tables (bench/bench_identity.py: about a fifth of the
import's CPU; the rows themselves hold no cycles to find).

For the serving process only (run.py serve, console/wsgi.py), Python's thread
switch interval is set to SERVER_SWITCH_INTERVAL_MS (console/settings.py), and
the collector gets two settings:

- ``gc.freeze()`` once startup is done: what the app loaded lives as long as
  the process anyway; frozen, the full collections no longer walk it.
- a young-generation threshold of GEN0_THRESHOLD instead of 700: a tenth of
  the young collections; garbage with cycles is still collected, a little
  later (a few MB at most in between).
"""

import gc
import sys

GEN0_THRESHOLD = 10_000


def settle_serving_process(switch_interval_ms):
    """Set the thread switch interval, freeze what startup loaded and collect
    young objects less often (serving process only)."""
    sys.setswitchinterval(switch_interval_ms / 1000)
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
