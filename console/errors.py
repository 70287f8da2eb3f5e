"""Errors the domain raises, each with the HTTP status it maps to.

Domain functions raise these; the API turns them into
``{"error": ..., "details": ...}`` and the HTML views into a flashed message.
"""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class ConsoleError(Exception):
    status = 400

    def __init__(self, message, details=None):
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(ConsoleError):
    """Input that is well-formed but not acceptable (unknown reference, rule broken)."""

    status = 422


class NotFound(ConsoleError):
    """Unknown, or outside the caller's scope: both look the same from outside."""

    status = 404


class Forbidden(ConsoleError):
    status = 403


class Conflict(ConsoleError):
    """The record changed since the caller read it, or would be duplicated."""

    status = 409


def pydantic_details(exc, prefix=()):
    """Readable problems from a pydantic ValidationError: a list of {field, message}."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in (*prefix, *err["loc"])]
        field = ".".join(loc) or "body"
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind == "missing":
            message = _("is required")
        elif kind == "extra_forbidden":
            message = _("is not a field this accepts")
        elif kind == "literal_error":
            message = _("must be one of %(values)s", values=ctx.get("expected", ""))
        elif kind == "string_too_long":
            message = _("is too long: at most %(n)s characters", n=ctx.get("max_length"))
        elif kind == "string_too_short":
            message = _("must not be empty") if ctx.get("min_length") == 1 else _("needs at least %(n)s characters", n=ctx.get("min_length"))
        elif kind == "string_pattern_mismatch" and ctx.get("pattern") in (PLAIN, PLAIN_NOT_BLANK):
            text = err.get("input") if isinstance(err.get("input"), str) else ""
            message = _("must not contain control characters (such as NUL)") if CONTROL.search(text) else _("must not be blank")
        elif kind == "string_pattern_mismatch":
            hint = _PATTERN_HINTS.get(loc[-1] if loc else "") or _REGEX_HINTS.get(ctx.get("pattern"))
            message = str(hint) if hint else _("has the wrong format")
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"]))
        elif kind in _BOUNDS:
            limit = next((ctx[k] for k in ("ge", "gt", "le", "lt", "min_length", "max_length") if k in ctx), "")
            message = str(_BOUNDS[kind]) % {"n": limit}
        elif kind in _TYPES:
            message = str(_TYPES[kind])
        else:
            message = err["msg"][:1].lower() + err["msg"][1:]
        problems.append({"field": field, "message": message})
    return problems


# What console/schemas/types.py asks of typed text (kept here, where the refusals are worded).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
PLAIN_NOT_BLANK = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PATTERN_HINTS = {
    "phone": _l("must be a phone number: digits, optionally with +, spaces or dashes, 5 to 20 characters"),
    "id_number": _l("must be a resident ID number: 18 characters (the last may be X) or 15 digits"),
    "province_code": _l("must be a six-digit GB/T 2260 code, for example 130000"),
    "city_code": _l("must be a six-digit GB/T 2260 code, for example 130100"),
}

# Limits and types pydantic checks, worded for a person (and translated).
_BOUNDS = {
    "greater_than_equal": _l("must be %(n)s or more"),
    "greater_than": _l("must be more than %(n)s"),
    "less_than_equal": _l("must be %(n)s or less"),
    "less_than": _l("must be less than %(n)s"),
    "too_short": _l("needs at least %(n)s items"),
    "too_long": _l("takes at most %(n)s items"),
}
_TYPES = {
    "int_parsing": _l("must be a whole number (an integer)"),
    "int_from_float": _l("must be a whole number (an integer)"),
    "int_type": _l("must be a whole number (an integer)"),
    "float_parsing": _l("must be a valid number, such as 12000.50"),
    "float_type": _l("must be a valid number, such as 12000.50"),
    "decimal_parsing": _l("must be a valid number, such as 12000.50"),
    "bool_parsing": _l("must be true or false"),
    "bool_type": _l("must be true or false"),
    "datetime_parsing": _l("must be a date and time, for example 2026-11-30 08:10"),
    "datetime_from_date_parsing": _l("must be a date and time, for example 2026-11-30 08:10"),
    "date_parsing": _l("must be a date, for example 2026-11-30"),
    "date_from_datetime_parsing": _l("must be a date, for example 2026-11-30"),
    "string_type": _l("must be text"),
    "dict_type": _l("must be an object"),
    "list_type": _l("must be a list"),
}


_REGEX_HINTS = {
    r"^[a-z][a-z0-9_]{1,60}$": _l("must be 2 to 61 lower-case letters, digits or _, starting with a letter"),
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": _l("must be a time of day as HH:MM, for example 18:00"),
}


def summary(problems):
    """One line a person can read, from a list of problems."""
    first = problems[0]
    text = f"{first['field']} {first['message']}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return text
