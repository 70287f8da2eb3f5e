"""The WSGI entry point for production: one gunicorn worker, many threads.

    gunicorn -w 1 --threads 600 -b 127.0.0.1:5000 'console.wsgi:app'

Flask-SocketIO in threading mode serves WebSockets with simple-websocket under
gunicorn's threaded worker (gthread); each open board holds one thread for as
long as it is open, so ``--threads`` must exceed the browsers that watch at
once plus the requests in flight. One worker only: gunicorn cannot send a
client's requests back to the same worker (no sticky sessions); for more
processes run several gunicorns, each with ``-w 1``, behind nginx with
``ip_hash`` and ``CONSOLE_SOCKETIO_MESSAGE_QUEUE`` (README "Production").

Settings are read as ``python run.py`` reads them: ``instance/config.py``,
``CONSOLE_*`` variables, and ``CONSOLE_DB`` for the database file; without
``SECRET_KEY`` set, create_app keeps one in ``instance/secret_key``.
With ``CONSOLE_SCHEDULER=on`` (the default) this process also runs the
monitors; their leases make each run once even when several processes do.
The scheduler starts in the worker when gunicorn imports this module, so do
not use ``--preload`` (its threads would stay behind in the master).
"""

import os

from . import create_app
from .process_tuning import settle_serving_process


def build_app(environ=os.environ):
    """The app with production settings, and the monitors when SCHEDULER is on."""
    config = {}
    if environ.get("CONSOLE_DB"):
        config["DATABASE"] = os.path.abspath(environ["CONSOLE_DB"])
    app = create_app(config)
    if app.config["SCHEDULER"] == "on":
        from monitors.runner import start_scheduler

        start_scheduler(app)
    settle_serving_process(app.config["SERVER_SWITCH_INTERVAL_MS"])  # threads and garbage collector: console/process_tuning.py
    return app


app = build_app()
