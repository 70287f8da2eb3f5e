"""Who is asking: browser sessions (Flask-Login over server-side session
records, console/sessions.py), API bearer tokens, and the per-route
permission check every view carries."""

import functools

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf

from . import login_throttle, sessions, users
from .access import PERMISSIONS
from .audit import Actor
from .caller import Caller
from .clock import utcnow
from .db import get_db

login_manager = LoginManager()


class User(UserMixin):
    """A logged-in person: their user row and their access.Viewer."""

    def __init__(self, row, viewer):
        self.row = row
        self.viewer = viewer
        self.id = row["id"]

    @property
    def role(self):
        return self.viewer.role

    @property
    def name(self):
        return self.row["display_name"]


def _user(row):
    db = get_db()
    return User(row, users.viewer_for(db, row)) if row else None


SESSION_KEY = "console_session"  # the cookie's key of its user_session row


@login_manager.user_loader
def load_user(user_id):
    """The session's user, if its server-side record is open and not idle:
    a cookie saved before logging out, or kept past the idle time, gives none."""
    g.auth_via = "session"
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    row, why = sessions.user_for_session(get_db(), session.get(SESSION_KEY), user_id, utcnow(), current_app.config["SESSION_IDLE_MINUTES"])
    if row is None:
        g.session_ended = why
        return None
    return _user(row)


def start_session(row):
    """Log a user in: a new server-side session, its key in the cookie."""
    db = get_db()
    key = sessions.start(db, row["id"], request.remote_addr, utcnow())
    session[SESSION_KEY] = key
    login_user(User(row, users.viewer_for(db, row)))


def end_session():
    """Log out: this session's record ends (a saved copy of the cookie stops
    working) and its open sockets are dropped."""
    from . import live

    key = session.pop(SESSION_KEY, None)
    if key:
        sessions.end(get_db(), key, "logout", utcnow())
        live.drop_sockets(session_hash=sessions.digest(key))
    logout_user()


@login_manager.request_loader
def load_user_from_token(req):
    """The token's user. An invalid token counts as a failure of the caller's
    address, and a locked address is refused (429) before the token is looked up."""
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or g.get("address_locked"):
        return None  # (the 429 page, rendered after a refusal, shows as logged out)
    g.auth_via = "token"
    try:
        row = login_throttle.token_user(get_db(), header[7:].strip(), req.remote_addr or "unknown", current_app.config, f"{req.method} {req.path}")
    except login_throttle.Locked as refusal:
        g.address_locked, g.retry_after = True, refusal.retry_after
        raise
    return _user(row)


def wants_json():
    return request.path.startswith("/api/")


@login_manager.unauthorized_handler
def unauthorized():
    if wants_json():
        return jsonify(error=_("Log in first: send 'Authorization: Bearer <token>'."), details=None), 401
    if g.get("session_ended") == "idle":
        flash(_("Your session ended after %(minutes)s minutes without use: log in again.", minutes=current_app.config["SESSION_IDLE_MINUTES"]))
    elif g.get("session_ended") == "ended":
        flash(_("Your session has ended: log in again."))
    return redirect(url_for("auth.login", next=request.full_path))


def forbidden():
    if wants_json():
        return jsonify(error=_("Your role may not do this."), details=None), 403
    return render_template("error.html", code=403, message=_("Your role may not do this.")), 403


def requires(permission):
    """Let only logged-in users whose role has ``permission`` through.

    The permission is also recorded on the view, so a test can check that
    every route in the app has one.
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.viewer.may(permission):
                return forbidden()
            if wants_json() and g.get("auth_via") == "session" and request.method not in ("GET", "HEAD", "OPTIONS"):
                # A browser calling the API with its cookie must prove it is our page.
                try:
                    validate_csrf(request.headers.get("X-CSRFToken", ""))
                except Exception:
                    raise CSRFError(_("The CSRF token is missing or wrong: send it in the X-CSRFToken header."))
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorate


def public(view):
    """Mark a view as open to everyone (login page, static files, the API description)."""
    view.permission = None
    return view


def current_actor():
    """The audit Actor for this request."""
    return Actor(user_id=current_user.id, username=current_user.row["username"], route=f"{request.method} {request.path}")


def current_viewer():
    return current_user.viewer


def current_caller():
    """The Caller of this request: the signed-in viewer, the audit Actor, and now by the app's clock."""
    return Caller(current_viewer(), current_actor(), utcnow())


def init_app(app):
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @app.after_request
    def retry_after(response):
        # A 429 for a locked address, whichever error handler (API or HTML) rendered it.
        if g.get("retry_after") and response.status_code == 429:
            response.headers["Retry-After"] = str(g.retry_after)
        return response
