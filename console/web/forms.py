"""Reading HTML forms through the same pydantic models the API uses."""

import typing
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from pydantic import ValidationError

from .. import money
from ..clock import parse_local
from ..errors import pydantic_details

LIST_FIELDS = {"flags", "representative_ids"}


def _is(annotation, kind):
    """Whether a field's type is ``kind``, or an Optional/union holding it."""
    if annotation is kind:
        return True
    return any(_is(a, kind) for a in typing.get_args(annotation))


def read_form(model, form, only=None):
    """Validate a submitted form against ``model``.

    Returns (instance, {}) or (None, {field: message}). Empty fields count as
    not given; times typed without a zone are read in the console's zone.
    """
    data = {}
    errors = {}
    for name, field in model.model_fields.items():
        if only is not None and name not in only:
            continue
        if name in LIST_FIELDS:
            if name in form or f"{name}__present" in form:
                values = [v for v in form.getlist(name) if v != ""]
                data[name] = values
            continue
        raw = form.get(name)
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip()
        if _is(field.annotation, datetime):
            try:
                raw = parse_local(raw, current_app.config["TIMEZONE"]).isoformat()
            except ValueError:
                errors[name] = _("is not a date and time")
                continue
        elif _is(field.annotation, float):  # every float a form takes is an amount in yuan: '¥12,000.00' is fine
            raw = money.clean_text(raw)
        data[name] = raw
    if errors:
        return None, errors
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, {p["field"].split(".")[0]: p["message"] for p in pydantic_details(exc)}


def PERSONAL_NUMBER_WARNING():  # noqa: N802  (a message, translated when shown)
    """The composer's warning when their free text holds a phone or ID number."""
    return _(
        "Your text holds a phone or ID number. It is saved as written, but executives, and branch contacts of other places, see it masked: leave personal data in the complainant's record instead."
    )
