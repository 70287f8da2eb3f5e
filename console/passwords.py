"""What a password must be: long enough, not one of the well-known ones.

The policy, in one place: at least ``PASSWORD_MIN_LENGTH`` characters (10
by default; NIST SP 800-63B asks for at least 8 and for a check against lists
of common and compromised passwords instead of composition rules), not a
password from ``data/common_passwords.txt`` (compared lower-cased, also with
trailing digits and punctuation taken off, so ``Password2026!`` counts as
``password``), not one or two characters repeated, and not the user name itself. No rules
about upper case or symbols: they make passwords harder to remember, not to
guess. The list is shipped with the console (no network look-up: the console
runs inside a bank's network).
"""

import functools
import re
from pathlib import Path

from flask_babel import gettext as _

from .errors import Invalid

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 200  # scrypt hashes any length; this only stops megabyte "passwords"
COMMON_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
_TAIL = re.compile(r"[\d\W_]+$")


@functools.lru_cache(maxsize=1)
def common_passwords():
    """The shipped list of common passwords, lower-cased."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def problem(password, username=None, min_length=DEFAULT_MIN_LENGTH):
    """Why this password is refused (a translated sentence), or None when it is acceptable."""
    password = password or ""
    if len(password) < min_length:
        return _("The password needs at least %(count)s characters.", count=min_length)
    if len(password) > MAX_LENGTH:
        return _("The password may have at most %(count)s characters.", count=MAX_LENGTH)
    lowered = password.lower()
    if len(set(lowered)) < 3:
        return _("The password is too simple: it repeats one or two characters.")
    stem = _TAIL.sub("", lowered)
    common = common_passwords()
    if lowered in common or (stem and stem in common):
        return _("This password is one of the most common ones and is guessed first: choose another.")
    if username and lowered == username.lower():
        return _("The password must not be the user name.")
    return None


def check(password, username=None, min_length=DEFAULT_MIN_LENGTH):
    """Raise Invalid (422) with the reason when the password breaks the policy."""
    reason = problem(password, username, min_length)
    if reason:
        raise Invalid(reason, details=[{"field": "password", "message": reason}])
