"""Logging in and out."""

from urllib.parse import urlparse

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import login_throttle, users
from ..auth import end_session, public, requires, start_session
from ..db import get_db

bp = Blueprint("auth", __name__)


def _safe_next(target):
    parts = urlparse(target or "")
    if parts.scheme or parts.netloc or not (target or "").startswith("/"):
        return url_for("incidents.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Check the password unless the name or the address is locked (429); count each failure."""
    error, status, headers = None, 200, {}
    if request.method == "POST":
        db = get_db()
        settings = current_app.config
        username, address = request.form.get("username", "").strip(), request.remote_addr or "unknown"
        now = login_throttle.now(settings)
        until = login_throttle.locked_until(db, username, address, now)
        if until is None:
            row = users.check_password(db, username, request.form.get("password", ""))
            if row:
                login_throttle.record_success(db, username)
                start_session(row)
                return redirect(_safe_next(request.args.get("next")))
            until = login_throttle.record_failure(db, username, address, now, login_throttle.Limits.from_settings(settings))
            error, status = _("Wrong user name or password."), 401
        if until is not None:
            locked = login_throttle.Locked(until, now)
            error, status, headers = locked.message, locked.status, {"Retry-After": str(locked.retry_after)}
    return render_template("login.html", error=error), status, headers


@bp.post("/logout")
@requires("account")
def logout():
    end_session()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))
