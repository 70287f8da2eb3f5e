"""Shared field types of the API's models: enums from vocabulary.py, moments, text, phones, ID numbers, amounts; the strict base."""

import re
from datetime import date, datetime
from typing import Annotated, Literal, Optional

from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from .. import money
from .. import vocabulary as v
from ..errors import PLAIN, PLAIN_NOT_BLANK
from ..identity import id_check_character


def literal(mapping):
    return Literal[tuple(mapping)]


Severity = literal(v.SEVERITIES)
IncidentStatus = literal(v.INCIDENT_STATUSES)
ComplainantStatus = literal(v.COMPLAINANT_STATUSES)
EscalationChannel = literal(v.ESCALATION_CHANNELS)
Temperament = literal(v.TEMPERAMENTS)
Motive = literal(v.MOTIVES)
RiskFlag = literal(v.RISK_FLAGS)
ContactChannel = literal(v.CONTACT_CHANNELS)
NoticeProof = literal(v.NOTICE_PROOFS)
ComplaintChannel = literal(v.COMPLAINT_CHANNELS)
TaskStatus = literal(v.TASK_STATUSES)
AlertLevel = literal(v.ALERT_LEVELS)


def _aware(moment):
    if moment is not None and moment.tzinfo is None:
        raise ValueError("needs a time zone, for example 2026-11-23T18:00:00+08:00")
    return moment


def unique(values):
    if len(set(values)) != len(values):
        raise ValueError("lists a value twice")
    return values


def _iso_text(pattern, parse, message):
    """A before-validator taking ISO 8601 text only: pydantic alone reads 0 or
    "1700000000" as Unix time, and 0 or "0" as 1970-01-01."""

    def check(value):
        if isinstance(value, (int, float)):
            raise ValueError(message)
        if isinstance(value, str):
            try:
                if not re.match(pattern, value):
                    raise ValueError(value)
                return parse(value)
            except ValueError:
                raise ValueError(message) from None
        return value

    return check


Moment = Annotated[
    datetime,
    BeforeValidator(
        _iso_text(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}",
            datetime.fromisoformat,
            "must be a date and time with a zone, for example 2026-11-23T18:00:00+08:00",
        )
    ),
    AfterValidator(_aware),
]


Day = Annotated[date, BeforeValidator(_iso_text(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", date.fromisoformat, "must be a date, for example 2026-11-23"))]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
# Text a person typed has no control characters (NUL, escape, ...; tab and line
# breaks are fine); PLAIN_NOT_BLANK is also not blank (a name of spaces is no name).
Text = Annotated[str, Field(max_length=5000, pattern=PLAIN)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN_NOT_BLANK)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_NOT_BLANK)]
Reason = Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN_NOT_BLANK)]
Reference = Annotated[str, Field(min_length=1, max_length=100, pattern=PLAIN_NOT_BLANK)]


def _phone_number(value):
    """A number a complainant can be called back on: a mainland mobile (11
    digits, 1[3-9]...), a landline with its area code (0...), or an
    international number (+ and a country code other than 86). A number that
    cannot be called back weakens every contact clock."""
    if len(value) == 11 and value.isdigit() and value[0] == "1" and value[1] in "3456789":
        return value  # a plain mobile number, as bulk imports send them: nothing more to check (2 us -> 0.2 us)
    digits = re.sub(r"[ \-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("+"):
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", digits):
            raise ValueError("must be an international number: + and the country code, 8 to 15 digits")
        return value
    if digits.startswith("1"):
        if not re.fullmatch(r"1[3-9][0-9]{9}", digits):
            raise ValueError("must be a mobile number of 11 digits starting 13 to 19, for example 13812345678")
    elif digits.startswith("0"):
        if not re.fullmatch(r"0[1-9][0-9]{1,2}[2-9][0-9]{6,7}", digits):
            raise ValueError("must be a landline with its area code, for example 010-88886666 or 0311-8888123")
    else:
        raise ValueError("must be a mobile number (11 digits starting 13 to 19) or a landline with its area code, for example 010-88886666")
    return value


Phone = Annotated[
    str,
    Field(
        pattern=r"^\+?[0-9][0-9 \-]{4,19}$",
        description="A mainland mobile (11 digits starting 13-19), a landline with its area code (010-88886666), or +country code and number; spaces and dashes allowed.",
    ),
    AfterValidator(_phone_number),
]


def _id_check(value):
    """GB 11643: the 18th character is the check of the other 17 (a typo is refused, not stored).
    The field's pattern has checked the shape: 15 digits, or 17 and a check character."""
    if len(value) == 18 and (expected := id_check_character(value)) != value[17].upper():
        raise ValueError(
            _(
                "has a wrong check character: the 18th character of this number must be %(expected)s (GB 11643); check the number for a mistyped digit",
                expected=expected,
            )
        )
    return value


IdNumber = Annotated[
    str,
    Field(pattern=r"^([0-9]{15}|[0-9]{17}[0-9Xx])$", description="Resident ID: 18 characters, the last the GB 11643 check character (0-9 or X), or 15 digits."),
    AfterValidator(_id_check),
]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="Six-digit GB/T 2260 code.")]
BranchCode = Annotated[str, Field(min_length=1, max_length=40)]
# Yuan as a number (or numeric string); at most two decimals, checked when
# converted to fen (console/money.py). A float here validates ~2x faster than
# Decimal in bulk imports, and 13 significant digits convert to fen exactly.
YUAN_TEXT = money.TEXT
MAX_YUAN = money.MAX_YUAN


Amount = Annotated[
    float,
    Field(ge=0, le=MAX_YUAN, allow_inf_nan=False),
    BeforeValidator(money.json_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": MAX_YUAN}, {"type": "string", "pattern": YUAN_TEXT}],
            "description": "Yuan, at most two decimals: a number, or the same as text.",
        },
        mode="validation",
    ),
]


class Strict(BaseModel):
    # No str_strip_whitespace: it costs a third of bulk validation time; forms
    # and CSV rows are stripped when read, API clients send what they mean.
    model_config = ConfigDict(extra="forbid")


# --- responses -------------------------------------------------------------


class Error(BaseModel):
    error: str
    details: Optional[object] = None


class Created(BaseModel):
    ids: list[int]
    count: int


class NewId(BaseModel):
    id: int
