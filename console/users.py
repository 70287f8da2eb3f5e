"""People: accounts, passwords and API tokens."""

import hashlib
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from . import access
from .clock import to_iso, utcnow
from .db import write
from .errors import Conflict, Invalid


def add_user(db, username, role, password, scope_code=None, display_name=None, hash_method="scrypt"):
    """Create an account; a branch contact needs a province or branch scope."""
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
    if not password or len(password) < 8:
        raise Invalid("The password needs at least 8 characters.")
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


_no_such_user_hash = None


def check_password(db, username, password):
    """The user row if the password is right and the account active, else None.

    An unknown name is checked against a dummy scrypt hash, so the answer
    takes as long as for a real account and its timing does not tell which
    names exist.
    """
    global _no_such_user_hash
    user = find_user(db, username)
    if user is None:
        if _no_such_user_hash is None:
            _no_such_user_hash = generate_password_hash(secrets.token_hex(16), method="scrypt")
        check_password_hash(_no_such_user_hash, password or "")
        return None
    if user["active"] and check_password_hash(user["password_hash"], password or ""):
        return user
    return None


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db, username):
    """A new bearer token for the user; only its hash is stored, so print it now."""
    user = find_user(db, username)
    if not user:
        raise Invalid(f"No user named {username!r}.")
    token = secrets.token_urlsafe(32)
    with write(db):
        db["api_token"].insert({"user_id": user["id"], "token_sha256": _digest(token), "created_at": to_iso(utcnow())})
    return token


def user_for_token(db, token):
    rows = list(
        db.query(
            "SELECT user.* FROM api_token JOIN user ON user.id = api_token.user_id "
            "WHERE api_token.token_sha256 = ? AND api_token.revoked_at IS NULL AND user.active = 1",
            [_digest(token)],
        )
    )
    return rows[0] if rows else None


def viewer_for(db, user):
    """The access.Viewer for a user row."""
    kind = code = None
    if user["scope_code"]:
        kind, code = access.resolve_scope(db, user["scope_code"])
    return access.Viewer(id=user["id"], username=user["username"], role=user["role"], scope_kind=kind, scope_code=code)
