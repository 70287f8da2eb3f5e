"""Errors the domain raises, each with the HTTP status it maps to.

Domain functions raise these; the API turns them into
``{"error": ..., "details": ...}`` and the HTML views into a flashed message.
"""

import re


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
            message = "is required"
        elif kind == "extra_forbidden":
            message = "is not a field this accepts"
        elif kind == "literal_error":
            message = f"must be one of {ctx.get('expected', '')}"
        elif kind == "string_too_long":
            message = f"is too long: at most {ctx.get('max_length')} characters"
        elif kind == "string_too_short":
            message = "must not be empty" if ctx.get("min_length") == 1 else f"needs at least {ctx.get('min_length')} characters"
        elif kind == "string_pattern_mismatch" and ctx.get("pattern") in (PLAIN, PLAIN_NOT_BLANK):
            text = err.get("input") if isinstance(err.get("input"), str) else ""
            message = "must not contain control characters (such as NUL)" if CONTROL.search(text) else "must not be blank"
        elif kind == "string_pattern_mismatch":
            message = _PATTERN_HINTS.get(loc[-1] if loc else "") or _REGEX_HINTS.get(ctx.get("pattern"), "has the wrong format")
        elif kind == "value_error":
            message = str(ctx.get("error", err["msg"]))
        else:
            message = err["msg"][:1].lower() + err["msg"][1:]
        problems.append({"field": field, "message": message})
    return problems


# What schemas.py asks of typed text (kept here, where the refusals are worded).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
PLAIN_NOT_BLANK = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_PATTERN_HINTS = {
    "phone": "must be a phone number: digits, optionally with +, spaces or dashes, 5 to 20 characters",
    "id_number": "must be a resident ID number: 18 characters (the last may be X) or 15 digits",
    "province_code": "must be a six-digit GB/T 2260 code, for example 130000",
    "city_code": "must be a six-digit GB/T 2260 code, for example 130100",
}


_REGEX_HINTS = {
    r"^[a-z][a-z0-9_]{1,60}$": "must be 2 to 61 lower-case letters, digits or _, starting with a letter",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "must be a time of day as HH:MM, for example 18:00",
}


def summary(problems):
    """One line a person can read, from a list of problems."""
    first = problems[0]
    text = f"{first['field']} {first['message']}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return text
