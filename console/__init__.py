"""The crisis and group-complaint command console."""

import os
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from . import settings

ROOT = Path(__file__).resolve().parent.parent


class SqliteInt(IntegerConverter):
    """<int:...> that SQLite can hold: a larger number becomes -1, an id that never exists (404)."""

    def to_python(self, value):
        number = super().to_python(value)
        return number if number <= 2**63 - 1 else -1


csrf = CSRFProtect()


def create_app(config=None, instance_path=None):
    """Build the app: settings, database, languages, login, CSRF, routes.

    Nothing slow and no background work starts here: the scheduler and the
    server are started by run.py. ``instance_path`` defaults to instance/
    beside the package (config.py, the database, the session key).
    """
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(settings.parse_env(os.environ))
    if config:
        app.config.from_mapping(config)
    _finish_config(app)
    app.url_map.converters["int"] = SqliteInt

    from . import auth, db, i18n, live, security, storage, templating
    from .api import api
    from .web import blueprints

    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api)  # the API checks its own: bearer tokens, or X-CSRFToken with a cookie
    templating.init_app(app)
    live.init_app(app)
    security.init_app(app)  # after live: ProxyFix wraps the Socket.IO middleware too
    app.register_blueprint(api)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    _register_error_handlers(app)
    storage.init_app(app)  # a full or read-only disk: 503 on every write
    _check_every_view_has_a_permission(app)
    return app


def _finish_config(app):
    database = app.config["DATABASE"]
    if database != ":memory:" and not os.path.isabs(database):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE"] = os.path.join(app.instance_path, database)
    if not os.path.isabs(app.config["DOCUMENT_FOLDER"]):
        app.config["DOCUMENT_FOLDER"] = os.path.join(app.instance_path, app.config["DOCUMENT_FOLDER"])
    if not app.config.get("SECRET_KEY"):
        # Kept on disk so logins survive a restart and every process agrees.
        from .security import secret_key

        app.config["SECRET_KEY"] = secret_key(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]


def _register_error_handlers(app):
    from flask_babel import gettext as _

    from .errors import ConsoleError

    def wants_json():
        return request.path.startswith("/api/")

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        message = _("The form expired or did not come from this console (CSRF check failed). Go back, reload and try again.")
        if wants_json():
            return jsonify(error=message, details=exc.description), 400
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(ConsoleError)
    def console_error(exc):
        if wants_json():
            return jsonify(error=exc.message, details=exc.details), exc.status
        return render_template("error.html", code=exc.status, message=exc.message, details=exc.details), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc):
        messages = {
            404: _("Not found, or not in your region."),
            405: _("This address does not take that method."),
            413: _("The upload is too large."),
        }
        message = messages.get(exc.code, exc.description)
        if wants_json():
            return jsonify(error=message, details=None), exc.code
        return render_template("error.html", code=exc.code, message=message), exc.code


def _check_every_view_has_a_permission(app):
    """Refuse to start if a route was added without @requires or @public."""
    missing = [rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], "permission")]
    if missing:
        raise RuntimeError(f"routes without an access check: {', '.join(sorted(missing))}")
