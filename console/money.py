"""Money: the one way to read, keep and print an amount.

Amounts are kept as whole fen (integers, 1 yuan = 100 fen) in the database.
``parse`` reads what a person or a client gives (a number, or text such as
"¥12,000.00"), ``to_yuan`` gives the exact yuan of a stored amount for the API
and the exports that need a number, and ``format`` prints it for pages, PDFs
and documents ("¥12,000.00", or "12,000.00" where the unit is said beside it).
"""

import math
import re
from decimal import Decimal

from flask_babel import gettext as _

from .errors import Invalid

# The largest amount the console takes, in yuan (the schemas' bound too).
MAX_YUAN = 100_000_000_000
# An amount as text in a JSON body: digits with an optional decimal part (no sign, no separators).
TEXT = r"^[0-9]+(\.[0-9]+)?$"
_TEXT = re.compile(TEXT)  # compiled once: a 10,000-row import reads up to 30,000 amounts

_CURRENCY = re.compile(r"^(?:[¥￥]|CNY)\s*|\s*CNY$", re.IGNORECASE)
_GROUPED = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")  # 12,000 or 1,234,567.50: thousands only
_NUMBER = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def clean_text(text):
    """Typed text as a plain number: the currency mark (¥, ￥, CNY) and thousands
    separators taken off ("¥12,000.00" -> "12000.00"). Text that is not an amount
    written that way comes back as it was, for the validator to refuse in its words."""
    stripped = _CURRENCY.sub("", text.strip()).strip()
    if _GROUPED.match(stripped):
        return stripped.replace(",", "")
    if _NUMBER.match(stripped):
        return stripped
    return text


def json_text(value):
    """The JSON API's lax step: an amount may come as text ("80000.50"), the way
    clients that keep money as decimals send it; JSON bodies are otherwise read
    strictly (no "5" for 5). Anything else is left for the schema to judge."""
    if isinstance(value, str) and _TEXT.match(value):
        return float(value)
    return value


def _decimal(value):
    """The exact decimal an amount stands for, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as this float: what was typed, for the amounts the console takes
        return Decimal(repr(float(value))) if math.isfinite(value) else None  # float(): numpy's repr names its type
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, str):
        text = clean_text(value)
        return Decimal(text) if _NUMBER.match(text) else None
    return None


def read(value):
    """(fen, None) for an amount the console takes, else (None, the reason as a
    message factory). Floats and ints, what the bulk imports validate, take a
    path without Decimal arithmetic: bulk imports spend this once per amount."""
    if type(value) is float and 0 <= value <= MAX_YUAN:
        fen = round(value * 100)
        # exact: fen / 100 is the float nearest to the two-decimal amount, so this holds
        # exactly when the float stands for an amount with at most two decimals (its repr)
        return (fen, None) if fen / 100 == value else (None, _more_than_two)
    if type(value) is int and 0 <= value <= MAX_YUAN:
        return value * 100, None
    amount = _decimal(value)
    if amount is None:
        return None, _not_a_number
    if amount < 0:
        return None, _negative
    if amount > MAX_YUAN:
        return None, _too_large
    fen = amount * 100
    if fen != fen.to_integral_value():
        return None, _more_than_two
    return int(fen), None


def _not_a_number():  # the reasons, translated when asked for
    return _("must be a valid number, such as 12000.50")


def _negative():
    return _("must be %(n)s or more", n=0)


def _too_large():
    return _("must be %(n)s or less", n=MAX_YUAN)


def _more_than_two():
    return _("has more than two decimals")


def problem(value):
    """Why ``value`` is not an amount the console takes (a translated message), or None."""
    _amount, why = read(value)
    return None if why is None else why()


def parse(value, field="amount"):
    """An amount in yuan (int, float, Decimal, or text such as "¥12,000.00") as whole fen.
    Refuses (errors.Invalid, naming ``field``) what is not a number, is negative,
    is above MAX_YUAN or has more than two decimals; nothing is rounded."""
    fen, why = read(value)
    if why is not None:
        message = why()
        raise Invalid(
            _("Nothing was changed: %(field)s %(problem)s.", field=field, problem=message),
            details=[{"field": field, "message": message}],
        )
    return fen


def to_yuan(fen, cents=False):
    """Stored fen as exact yuan (Decimal): 1250050 -> Decimal('12500.5'). With
    ``cents`` always two places (Decimal('12500.50')), for CSV and XLSX cells.
    None stays None."""
    if fen is None:
        return None
    if cents:
        return Decimal(int(fen)).scaleb(-2)
    return Decimal(int(fen)) / 100


def format(fen, plain=False):  # shadows the builtin inside this module only: callers write money.format
    """Fen as people read an amount: 1200000 -> "¥12,000.00"; ``plain`` leaves out
    the mark ("12,000.00") where the unit is written beside it (元). None -> ""."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{'' if plain else '¥'}{fen // 100:,}.{fen % 100:02d}"


def format_yuan(amount, plain=False):
    """An amount already in yuan (as ``to_yuan`` and the API give it) printed as
    ``format`` does; the templates' ``yuan`` filter. Text that is not a number
    (a suppression dash) is shown as it is; None -> ""."""
    if amount is None:
        return ""
    exact = _decimal(amount)
    if exact is None:
        return str(amount)
    return format(int((exact * 100).quantize(Decimal(1))), plain)
