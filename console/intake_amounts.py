"""Amounts claimed that arrive with an intake complaint: kept in fen with it,
and handed to the complainant a surge makes of it."""

from . import money
from .complainants import MONEY_FIELDS


def amount_problems(item, prefix=""):
    """Problems with the amounts of a schemas.ComplaintIn (more than two decimals)."""
    found = []
    for field in MONEY_FIELDS:
        amount = getattr(item, field)
        if amount and (refused := money.problem(amount)):
            found.append({"field": prefix + field, "message": refused})
    return found


def amounts_in_fen(row):
    """The yuan fields of a dumped ComplaintIn, replaced by the table's fen columns."""
    return {field + "_fen": money.parse(row.pop(field, 0) or 0, field) for field in MONEY_FIELDS}


def claimed_amounts(complaint):
    """ComplainantIn amounts (yuan) from a stored intake_complaint row."""
    return {field: float(money.to_yuan(complaint.get(field + "_fen") or 0)) for field in MONEY_FIELDS}
