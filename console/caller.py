"""Who is calling a domain function, as whom, and when: one value instead of
the ``viewer, actor, now`` tail.

``viewer`` (access.Viewer) is whose scope the call reads and writes inside;
``actor`` (audit.Actor) is who the audit log names and through which route;
``now`` is the time the call stamps (console.clock.utcnow in a request, the
monitor's run time in a monitor, a fixed time in tests). A view gets one from
``auth.current_caller()``; a monitor or the demo builds one with
``Caller(SYSTEM, actor, now)``.
"""

from dataclasses import dataclass
from datetime import datetime

from .access import Viewer
from .audit import Actor


@dataclass(frozen=True)
class Caller:
    viewer: Viewer
    actor: Actor
    now: datetime
