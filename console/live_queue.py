"""The message queue between server processes (Redis), and what the boards
are told when it drops out and comes back.

With ``SOCKETIO_MESSAGE_QUEUE`` set, an event reaches a board only through
Redis, even on the process that published it (python-socketio's pub/sub
manager publishes and delivers what it hears back). While Redis is down every
change is still committed, with its live event rows, but no board hears of
it; and python-socketio's ``RedisManager`` retries listening after 1, 2, 4 …
up to 60 s, so after Redis returned the boards stayed frozen until the next
event happened to arrive (41 s after a 7 s outage in the fault drill).

``QueueManager`` is the library's manager with three changes:
- the listener retries every ``RETRY_SECONDS`` (1 s), never backing off
  further, on its own connection (the publisher's reconnects cannot swap it);
- while it cannot listen it tells this process's boards ``live_queue_lost``
  (again on every retry, so a board that connects meanwhile learns it too):
  they show that they may be behind;
- once it listens again it tells them ``live_queue_restored``: they join
  again and get a fresh snapshot from the database, which holds everything
  committed during the outage. No board stays stale more than about a second
  after Redis is back.
Both events go to this process's own clients only, never through Redis.

Redis's client reconnects a dropped pub/sub connection silently (and
re-subscribes), which would hide a short outage and the messages lost in it:
the listener's connection is made with no retries, so every drop is seen.
"""

import logging
import threading
import time

import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

from .events import QUEUE_EVENTS

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
LOST, RESTORED = "live_queue_lost", "live_queue_restored"  # declared in events.QUEUE_EVENTS
assert {LOST, RESTORED} == set(QUEUE_EVENTS)
NAMESPACE = "/"


class QueueManager(socketio.RedisManager):
    """python-socketio's RedisManager that notices outages of its listener and tells the boards."""

    name = "console-redis"

    def __init__(self, url, channel="flask-socketio", write_only=False, retry_seconds=RETRY_SECONDS):
        # No retries inside the Redis client (the library's publish tries twice
        # itself, and the listener below retries on its own): its default
        # retries with backoff would hold every request that publishes for
        # seconds while Redis is down.
        options = {"retry": Retry(NoBackoff(), 0), "socket_keepalive": True, "socket_connect_timeout": 2}
        super().__init__(url, channel=channel, write_only=write_only, redis_options=options)
        self.retry_seconds = retry_seconds
        self.listening = threading.Event()  # set while subscribed
        self.outages = 0  # outages seen since the process started

    def _listener_pubsub(self):
        module = self._get_redis_module()
        connection = module.Redis.from_url(self.redis_url, **self.redis_options)
        pubsub = connection.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        return pubsub

    def _redis_listen_with_retries(self):  # replaces the library's (backoff to 60 s, shared connection)
        lost_since = None
        while True:
            pubsub = None
            try:
                pubsub = self._listener_pubsub()
                self.listening.set()
                if lost_since is not None:
                    log.warning("message queue back after %.1f s: telling this process's boards to resync", time.monotonic() - lost_since)
                    lost_since = None
                    self._tell_boards(RESTORED)
                yield from pubsub.listen()
                raise ConnectionError("the subscription ended")
            except Exception as exc:
                self.listening.clear()
                if lost_since is None:
                    lost_since = time.monotonic()
                    self.outages += 1
                    log.error("cannot receive from the message queue (%s): boards are told they may be behind; retrying every %s s", exc, self.retry_seconds)
                self._tell_boards(LOST)
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass
                time.sleep(self.retry_seconds)

    def _tell_boards(self, event):
        """Emit to every client of this process, not through the queue."""
        try:
            socketio.Manager.emit(self, event, {"at": time.time()}, NAMESPACE)
        except Exception:  # a board that just went away must not stop the listener
            log.exception("could not tell the boards %s", event)


def client_manager(url):
    """The Socket.IO client manager for ``SOCKETIO_MESSAGE_QUEUE`` (None: this
    process only): a fresh one per app, so apps made one after another in a
    process never share one."""
    if not url:
        return socketio.Manager()
    if not url.startswith(("redis://", "rediss://")):
        raise ValueError(f"SOCKETIO_MESSAGE_QUEUE must be a redis:// URL, not {url!r}")
    return QueueManager(url)
