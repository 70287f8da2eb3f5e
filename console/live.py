"""The Socket.IO server the live board runs on.

Pinned to threading mode with simple-websocket: the maintainer's advice for
new projects, and eventlet (which the server would pick silently if present)
is not a dependency.
"""

from flask_socketio import SocketIO

socketio = SocketIO()


def init_app(app):
    socketio.init_app(app, async_mode="threading", message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"))
