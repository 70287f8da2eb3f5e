"""The users page, for the crisis lead: who has access, and ending it.

Every action is a POST with the CSRF token and a ticked confirmation box;
the domain functions (console/users.py) write and audit, then this process's
open boards of that user are dropped at once (other processes within
LIVE_ACCESS_CHECK_SECONDS, see console/live.py).
"""

import secrets

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import live, users
from ..auth import current_actor, requires
from ..clock import utcnow
from ..db import get_db
from ..errors import Conflict, ConsoleError

bp = Blueprint("users", __name__)


def _confirmed():
    if request.form.get("confirm") != "yes":
        raise ConsoleError(_("Tick the box to confirm, then press the button again."))


@bp.get("/admin/users")
@requires("user.admin")
def user_list():
    people = users.list_users(get_db(), utcnow(), current_app.config["SESSION_IDLE_MINUTES"])
    return render_template("users.html", people=people)


@bp.post("/admin/users/<int:user_id>/deactivate")
@requires("user.admin")
def deactivate(user_id):
    _confirmed()
    if user_id == current_user.id:
        raise Conflict(_("You cannot deactivate your own account; ask another crisis lead."))
    db = get_db()
    ended = users.deactivate_user(db, user_id, current_actor(), utcnow())
    live.drop_sockets(user_id=user_id)
    flash(
        _(
            "Account deactivated: %(sessions)s sessions ended, %(tokens)s tokens revoked, its open boards closed.",
            sessions=ended["sessions"],
            tokens=ended["tokens"],
        )
    )
    return redirect(url_for("users.user_list"))


@bp.post("/admin/users/<int:user_id>/password")
@requires("user.admin")
def reset_password(user_id):
    """A new random password, shown once on the answer page (never put in the cookie)."""
    _confirmed()
    db = get_db()
    person = users.user_by_id(db, user_id)
    password = secrets.token_urlsafe(12)
    ended = users.set_password(db, user_id, password, current_actor(), utcnow())
    live.drop_sockets(user_id=user_id)
    if user_id == current_user.id:
        return redirect(url_for("auth.login"))  # the lead's own session ended with the others
    response = make_response(render_template("user_password.html", person=person, password=password, ended=ended))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/users/<int:user_id>/sessions/end")
@requires("user.admin")
def end_sessions(user_id):
    """Log someone out everywhere (a lost laptop): every browser session ends, tokens stay."""
    _confirmed()
    db = get_db()
    users.user_by_id(db, user_id)
    ended = users.end_access(db, user_id, "ended_by_lead", current_actor(), utcnow(), tokens=False)
    live.drop_sockets(user_id=user_id)
    if user_id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(_("%(sessions)s sessions ended: the person must log in again.", sessions=ended["sessions"]))
    return redirect(url_for("users.user_list"))


@bp.post("/admin/users/<int:user_id>/tokens/<int:token_id>/revoke")
@requires("user.admin")
def revoke_token(user_id, token_id):
    _confirmed()
    users.revoke_token(get_db(), token_id, current_actor(), utcnow(), user_id=user_id)
    live.drop_sockets(token_id=token_id)
    flash(_("Token revoked: it is refused from now on."))
    return redirect(url_for("users.user_list"))
