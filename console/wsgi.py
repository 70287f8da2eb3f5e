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
``CONSOLE_*`` variables, ``CONSOLE_DB`` for the database file, and a session
key kept in ``instance/secret_key`` unless ``CONSOLE_SECRET_KEY`` is set.
With ``CONSOLE_SCHEDULER=on`` (the default) this process also runs the
monitors; their leases make each run once even when several processes do.
The scheduler starts in the worker when gunicorn imports this module, so do
not use ``--preload`` (its threads would stay behind in the master).
"""

import os
import secrets
import sys
from pathlib import Path

from . import ROOT, create_app


def _secret_key(instance_path):
    """The session key in the instance folder (the same file run.py keeps), made once."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def build_app(environ=os.environ):
    """The app with production settings, and the monitors when SCHEDULER is on."""
    config = {}
    if environ.get("CONSOLE_DB"):
        config["DATABASE"] = os.path.abspath(environ["CONSOLE_DB"])
    if not environ.get("CONSOLE_SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(ROOT / "instance")
    app = create_app(config)
    if app.config["SCHEDULER"] == "on":
        from monitors.runner import start_scheduler

        start_scheduler(app)
    # The serving process only: see SERVER_SWITCH_INTERVAL_MS.
    sys.setswitchinterval(app.config["SERVER_SWITCH_INTERVAL_MS"] / 1000)
    return app


app = build_app()
