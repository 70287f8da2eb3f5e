"""Logging in and out."""

from urllib.parse import urlparse

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from .. import users
from ..auth import User, public, requires
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
    error = None
    if request.method == "POST":
        db = get_db()
        row = users.check_password(db, request.form.get("username", "").strip(), request.form.get("password", ""))
        if row:
            login_user(User(row, users.viewer_for(db, row)))
            return redirect(_safe_next(request.args.get("next")))
        error = _("Wrong user name or password.")
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
@requires("account")
def logout():
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))
