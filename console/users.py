"""People: accounts, passwords, API tokens, and ending someone's access.

Access ends everywhere at once (issue 14): ``end_access`` ends every browser
session (``user_session`` rows, console/sessions.py) and revokes every API
token of a user in one transaction, and is called by deactivation, a password
change and a role or scope change. Every request and every Socket.IO handler
looks its session or token up again, so the next one is refused; open sockets
are dropped by ``console.live`` (at once in the process that ended the access,
within ``LIVE_ACCESS_CHECK_SECONDS`` in every other one).
"""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from . import access, audit, passwords, settings
from .clock import from_iso, to_iso, utcnow
from .db import write
from .errors import Conflict, Invalid, NotFound

DEFAULT_TOKEN_DAYS = settings.DEFAULTS["TOKEN_DAYS"]
TOKEN_NAME_MAX = 80
# Writing last_used_at on every API call would turn each read into a write;
# once a minute per token is as precise as anyone reads it.
TOKEN_TOUCH_SECONDS = 60


def _check_role_and_scope(db, role, scope_code):
    if role not in access.ALL:
        raise Invalid(f"Unknown role {role!r}: use one of {', '.join(sorted(access.ALL))}.")
    if role == "branch" and not scope_code:
        raise Invalid("A branch contact needs --scope: a province code (e.g. 130000) or a branch code.")
    if role != "branch" and scope_code:
        raise Invalid("Only branch contacts have a scope; head-office roles see every region.")
    if scope_code:
        try:
            access.resolve_scope(db, scope_code)
        except ValueError as exc:
            raise Invalid(str(exc)) from None


def add_user(db, username, role, password, scope_code=None, display_name=None, hash_method="scrypt"):
    """Create an account; a branch contact needs a province or branch scope."""
    _check_role_and_scope(db, role, scope_code)
    passwords.check(password, username)
    with write(db):
        if db["user"].count_where("username = ?", [username]):
            raise Conflict(f"A user named {username!r} already exists.")
        table = db["user"]
        table.insert(
            {
                "username": username,
                "display_name": display_name or username,
                "role": role,
                "scope_code": scope_code,
                "password_hash": generate_password_hash(password, method=hash_method),
                "active": 1,
                "created_at": to_iso(utcnow()),
            }
        )
        return table.last_pk


def get_user(db, user_id):
    rows = list(db.query("SELECT * FROM user WHERE id = ? AND active = 1", [user_id]))
    return rows[0] if rows else None


def find_user(db, username):
    rows = list(db.query("SELECT * FROM user WHERE username = ?", [username]))
    return rows[0] if rows else None


def user_by_id(db, user_id):
    """The user row, active or not; NotFound if there is none."""
    rows = list(db.query("SELECT * FROM user WHERE id = ?", [user_id]))
    if not rows:
        raise NotFound(_("No such user."))
    return rows[0]


_no_such_user_hash = None


def check_password(db, username, password):
    """The user row if the password is right and the account active, else None.

    The hash check always runs, with a dummy scrypt hash for an unknown name
    and before looking at ``active`` for a deactivated account, so the answer
    takes as long whoever asks: its timing tells neither which names exist
    nor which accounts were deactivated (it took 3-7 ms against ~150 ms).
    """
    global _no_such_user_hash
    user = find_user(db, username)
    if user is None:
        if _no_such_user_hash is None:
            _no_such_user_hash = generate_password_hash(secrets.token_hex(16), method="scrypt")
        check_password_hash(_no_such_user_hash, password or "")
        return None
    right = check_password_hash(user["password_hash"], password or "")
    if right and user["active"]:
        return user
    return None


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def end_access(db, user_id, reason, actor, now=None, tokens=True):
    """End every browser session of a user and (unless ``tokens`` is False)
    revoke every token, in one transaction; write it to the audit log.

    For deactivation, a password change, a role or scope change, and any
    caller (a bulk import) that changes who someone is. Returns
    ``{"sessions": n, "tokens": m}``: how many were still open.
    """
    now = now or utcnow()
    stamp = to_iso(now)
    with write(db):
        sessions = db.execute(
            "UPDATE user_session SET ended_at = ?, ended_reason = ? WHERE user_id = ? AND ended_at IS NULL",
            [stamp, reason, user_id],
        ).rowcount
        revoked = 0
        if tokens:
            revoked = db.execute(
                "UPDATE api_token SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
                [stamp, reason, user_id],
            ).rowcount
        audit.record(db, actor, "user", user_id, "end_access", after={"reason": reason, "sessions": sessions, "tokens": revoked}, at=now)
    return {"sessions": sessions, "tokens": revoked}


def deactivate_user(db, user_id, actor, now=None):
    """Deactivate an account: it can no longer log in, and its sessions, tokens and sockets end."""
    now = now or utcnow()
    with write(db):
        user = user_by_id(db, user_id)
        if not user["active"]:
            raise Conflict(_("This account is already deactivated."))
        db.execute("UPDATE user SET active = 0, deactivated_at = ? WHERE id = ?", [to_iso(now), user_id])
        audit.record(db, actor, "user", user_id, "deactivate", before={"active": 1}, after={"active": 0}, at=now)
        return end_access(db, user_id, "deactivated", actor, now)


def set_password(db, user_id, password, actor, now=None, hash_method="scrypt"):
    """Give an account a new password (policy applies); every session and token it had ends."""
    now = now or utcnow()
    user = user_by_id(db, user_id)
    passwords.check(password, user["username"])
    password_hash = generate_password_hash(password, method=hash_method)
    with write(db):
        db.execute("UPDATE user SET password_hash = ? WHERE id = ?", [password_hash, user_id])
        audit.record(db, actor, "user", user_id, "set_password", at=now)  # never the hash
        return end_access(db, user_id, "password_changed", actor, now)


def set_role(db, user_id, role, scope_code, actor, now=None):
    """Change an account's role or scope; if anything changed its sessions and tokens end,
    so no socket or token keeps the access it had."""
    now = now or utcnow()
    scope_code = scope_code or None
    _check_role_and_scope(db, role, scope_code)
    with write(db):
        user = user_by_id(db, user_id)
        before = {"role": user["role"], "scope_code": user["scope_code"]}
        after = {"role": role, "scope_code": scope_code}
        if before == after:
            return {"sessions": 0, "tokens": 0}
        db.execute("UPDATE user SET role = ?, scope_code = ? WHERE id = ?", [role, scope_code, user_id])
        audit.record(db, actor, "user", user_id, "set_role", before=before, after=after, at=now)
        return end_access(db, user_id, "role_changed", actor, now)


def issue_token(db, username, name=None, days=DEFAULT_TOKEN_DAYS, now=None, actor=None):
    """A new bearer token for the user, named and expiring after ``days``;
    only its hash is stored, so print it now. Older tokens stay until revoked
    or expired: an integration can be moved to a new one first."""
    now = now or utcnow()
    user = find_user(db, username)
    if not user or not user["active"]:
        raise Invalid(_("No active user named %(name)s.", name=username))
    name = (name or "").strip() or "api"
    if len(name) > TOKEN_NAME_MAX:
        raise Invalid(_("A token name has at most %(count)s characters.", count=TOKEN_NAME_MAX))
    if not isinstance(days, int) or days < 1:
        raise Invalid(_("A token lasts at least one day."))
    token = secrets.token_urlsafe(32)
    actor = actor or audit.Actor(user_id=None, username="cli", route="cli token")
    with write(db):
        db["api_token"].insert(
            {
                "user_id": user["id"],
                "token_sha256": _digest(token),
                "name": name,
                "created_at": to_iso(now),
                "expires_at": to_iso(now + timedelta(days=days)),
            }
        )
        token_id = db["api_token"].last_pk
        audit.record(db, actor, "api_token", token_id, "issue", after={"user": username, "name": name, "days": days}, at=now)
    return token


def list_tokens(db, user_id, now=None, include_ended=False):
    """The user's tokens, newest first, each with ``state``: active, expired or revoked."""
    now_iso = to_iso(now or utcnow())
    rows = list(
        db.query(
            "SELECT id, user_id, name, created_at, expires_at, last_used_at, revoked_at, revoked_reason FROM api_token WHERE user_id = ? ORDER BY id DESC",
            [user_id],
        )
    )
    for row in rows:
        row["state"] = "revoked" if row["revoked_at"] else ("expired" if (row["expires_at"] or "") <= now_iso else "active")
    return rows if include_ended else [r for r in rows if r["state"] == "active"]


def revoke_token(db, token_id, actor, now=None, user_id=None):
    """Revoke one token: it gets 401 from the next request on. ``user_id``
    (when given) must own it. Returns the token's row."""
    now = now or utcnow()
    with write(db):
        rows = list(db.query("SELECT * FROM api_token WHERE id = ?", [token_id]))
        if not rows or (user_id is not None and rows[0]["user_id"] != user_id):
            raise NotFound(_("No such token."))
        if rows[0]["revoked_at"]:
            raise Conflict(_("This token is already revoked."))
        db.execute("UPDATE api_token SET revoked_at = ?, revoked_reason = 'revoked' WHERE id = ?", [to_iso(now), token_id])
        audit.record(db, actor, "api_token", token_id, "revoke", after={"name": rows[0]["name"]}, at=now)
        return rows[0]


def token_access(db, token, now=None):
    """The user row of a valid token, with ``token_id`` added, or None when
    the token is unknown, revoked, expired, or its user deactivated.
    Records the token's last use (at most once a minute)."""
    now = now or utcnow()
    rows = list(
        db.query(
            "SELECT user.*, api_token.id AS token_id, api_token.last_used_at AS token_last_used_at "
            "FROM api_token JOIN user ON user.id = api_token.user_id "
            "WHERE api_token.token_sha256 = ? AND api_token.revoked_at IS NULL AND api_token.expires_at > ? AND user.active = 1",
            [_digest(token), to_iso(now)],
        )
    )
    if not rows:
        return None
    row = rows[0]
    last = from_iso(row.pop("token_last_used_at"))
    if last is None or (now - last).total_seconds() >= TOKEN_TOUCH_SECONDS:
        from .storage import bookkeeping

        bookkeeping(db, "UPDATE api_token SET last_used_at = ? WHERE id = ?", [to_iso(now), row["token_id"]])
    return row


def user_for_token(db, token):
    """The user row of a valid token, or None (see token_access)."""
    return token_access(db, token)


def valid_tokens(db, token_ids, now=None):
    """Which of these token ids still give access (not revoked, not expired, user active)."""
    ids = list(token_ids)
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT api_token.id FROM api_token JOIN user ON user.id = api_token.user_id WHERE api_token.id IN ({marks}) "
        "AND api_token.revoked_at IS NULL AND api_token.expires_at > ? AND user.active = 1",
        [*ids, to_iso(now or utcnow())],
    ).fetchall()
    return {r[0] for r in rows}


def list_users(db, now, idle_minutes):
    """Every account for the users page: role, scope, last log-in, open sessions and active tokens."""
    from . import sessions

    people = list(
        db.query(
            "SELECT id, username, display_name, role, scope_code, active, created_at, last_login_at, deactivated_at FROM user ORDER BY active DESC, username"
        )
    )
    for person in people:
        person["tokens"] = list_tokens(db, person["id"], now)
        person["open_sessions"] = sessions.open_sessions(db, person["id"], now, idle_minutes)
    return people


def viewer_for(db, user):
    """The access.Viewer for a user row."""
    kind = code = None
    if user["scope_code"]:
        kind, code = access.resolve_scope(db, user["scope_code"])
    return access.Viewer(id=user["id"], username=user["username"], role=user["role"], scope_kind=kind, scope_code=code)


def active_users(db, roles=None):
    """Active users [{id, display_name}] by display name, of ``roles`` when given (the people a task or case can go to)."""
    where, params = "active = 1", []
    if roles:
        where += f" AND role IN ({', '.join('?' for _ in roles)})"
        params = list(roles)
    return [dict(r) for r in db.query(f"SELECT id, display_name FROM user WHERE {where} ORDER BY display_name", params)]
